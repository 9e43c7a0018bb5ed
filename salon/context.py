"""What a command needs from outside the domain: the store id, a clock and an id generator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from salon.events import EventMeta

__all__ = ["Context"]


@dataclass(frozen=True)
class Context:
    """Passed into every decision so ``salon/`` never reads the clock or makes ids itself.

    ``clock`` returns an aware UTC datetime; ``new_id`` returns a fresh unique string.
    """

    store_id: str
    clock: Callable[[], datetime]
    new_id: Callable[[], str]

    def meta(self, actor_id: str, at: datetime | None = None) -> EventMeta:
        now = self.clock() if at is None else at
        if now.tzinfo is None:
            raise ValueError("the clock must return aware datetimes")
        return EventMeta(event_id=self.new_id(), store_id=self.store_id, actor_id=actor_id, at=now)
