"""Placeholder for the points area; being written."""

from __future__ import annotations

from dataclasses import dataclass

from salon.events import Event


@dataclass
class PointsBook:
    def apply(self, event: Event) -> None:
        pass
