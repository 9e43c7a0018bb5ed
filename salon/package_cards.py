"""Placeholder for the package_cards area; being written."""

from __future__ import annotations

from dataclasses import dataclass

from salon.events import Event


@dataclass
class PackageBook:
    def apply(self, event: Event) -> None:
        pass
