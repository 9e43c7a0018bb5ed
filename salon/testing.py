"""Deterministic clock and id generator for tests, demos and replays (pure, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

__all__ = ["ManualClock", "SequentialIds"]


@dataclass
class ManualClock:
    """A clock that stands still until told: ``clock.advance(minutes=5)``."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: int) -> datetime:
        self.now = self.now + timedelta(**delta)
        return self.now


@dataclass
class SequentialIds:
    """Ids ``prefix-000001``, ``prefix-000002``, ... in order."""

    prefix: str = "id"
    count: int = field(default=0)

    def __call__(self) -> str:
        self.count += 1
        return f"{self.prefix}-{self.count:06d}"
