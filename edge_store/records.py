"""A journal record's payload: its JSON, its format version and migrations, its events.

The journal (``edge_store.journal``) frames and fsyncs opaque payloads; this is what is
inside one: the JSON object ``{"v", "seq", "store", "at", "events"}`` of one committed
command, ``v`` its format version. A record of an older format is migrated as it is
read (``RECORD_MIGRATIONS``); one of a newer format is refused with a message.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from json.encoder import encode_basestring as _quoted
from typing import Any

from edge_store.codec import decode_event
from edge_store.errors import StoreError, StoreErrorCode
from edge_store.journal import JOURNAL_FORMAT, RawRecord, frame_record
from salon.events import Event

__all__ = [
    "RECORD_MIGRATIONS",
    "encode_record",
    "event_text",
    "events_of",
    "payload_of",
]

Migration = Callable[[dict[str, Any]], dict[str, Any]]
RECORD_MIGRATIONS: dict[int, Migration] = {}
"""``RECORD_MIGRATIONS[n]`` turns a format-n record payload into format n+1."""


def event_text(event: dict[str, Any]) -> str:
    """One encoded event as the JSON text a record holds (and the sales history copies)."""
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"))


def encode_record(seq: int, store_id: str, at: datetime, events: Sequence[str]) -> bytes:
    """The bytes of one record (header and payload) as the journal writes them.

    ``events`` are ``event_text`` of each event: made once per commit, for the record
    and the sales history both; the payload is put together from those texts.
    """
    # json.dumps of {"v", "seq", "store", "at"} (a test holds them equal), without its
    # keyword handling: a third of the framing's time.
    store, when = _quoted(store_id), at.isoformat()
    head = f'{{"v":{JOURNAL_FORMAT},"seq":{int(seq)},"store":{store},"at":"{when}"'
    payload = f'{head},"events":[{",".join(events)}]}}'.encode()
    return frame_record(seq, payload)


def payload_of(record: RawRecord) -> dict[str, Any]:
    """A journal record's payload, migrated from an older format if need be."""
    data = record.decoded()
    version = data.get("v")
    if not isinstance(version, int) or version < 1:
        raise StoreError(StoreErrorCode.JOURNAL_CORRUPT, {"segment": "?", "offset": record.seq})
    if version > JOURNAL_FORMAT:
        raise StoreError(
            StoreErrorCode.FORMAT_NEWER,
            {"file": f"record {record.seq}", "format": version, "known": JOURNAL_FORMAT},
        )
    while version < JOURNAL_FORMAT:
        data = RECORD_MIGRATIONS[version](data)
        version += 1
    return data


def events_of(record: RawRecord) -> tuple[Event, ...]:
    """The domain events of one journal record."""
    return tuple(decode_event(e) for e in payload_of(record)["events"])
