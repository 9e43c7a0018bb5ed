"""Placeholder for the stored_value area; being written."""

from __future__ import annotations

from dataclasses import dataclass

from salon.events import Event


@dataclass
class StoredValueBook:
    def apply(self, event: Event) -> None:
        pass
