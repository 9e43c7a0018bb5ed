"""The base of every domain event: frozen, past tense, carrying id, store, actor and time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

__all__ = ["EVENT_TYPES", "Event", "EventMeta"]


@dataclass(frozen=True, slots=True)
class EventMeta:
    """Who did it, where and when; ``event_id`` makes HQ's ingest idempotent."""

    event_id: str
    store_id: str
    actor_id: str
    at: datetime


EVENT_TYPES: dict[str, type[Event]] = {}
"""Every concrete event class by its name, for codecs and the journal."""


@dataclass(frozen=True, kw_only=True)
class Event:
    """Subclasses are frozen keyword-only dataclasses named in the past tense."""

    meta: EventMeta
    type_name: ClassVar[str] = "Event"

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__name__
        if name in EVENT_TYPES and EVENT_TYPES[name] is not cls:
            raise TypeError(f"two event classes named {name}")
        cls.type_name = name
        EVENT_TYPES[name] = cls
