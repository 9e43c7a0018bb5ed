"""Placeholder for the coupons area; being written."""

from __future__ import annotations

from dataclasses import dataclass

from salon.events import Event


@dataclass
class CouponBook:
    def apply(self, event: Event) -> None:
        pass
