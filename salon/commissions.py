"""Placeholder for the commissions area; being written."""

from __future__ import annotations

from dataclasses import dataclass

from salon.events import Event


@dataclass
class CommissionBook:
    def apply(self, event: Event) -> None:
        pass
