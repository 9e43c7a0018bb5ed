"""Placeholder for the members area; being written."""

from __future__ import annotations

from dataclasses import dataclass

from salon.events import Event


@dataclass
class MemberBook:
    def apply(self, event: Event) -> None:
        pass
