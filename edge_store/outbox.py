"""The outbox cursor: how far HQ has durably applied this store's journal.

The journal is the outbox (ARCHITECTURE.md): the bridge publishes the records after the
cursor in order and HQ answers with the highest sequence it has applied; only that
answer moves the cursor, which is kept in ``<data>/outbox.json`` (replaced atomically).
A segment of the journal may be removed only when HQ has acknowledged all of it, a
snapshot already holds it, and its newest record is older than the retention period.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from edge_store.files import atomic_write
from edge_store.journal import Journal

__all__ = ["OutboxCursor", "SegmentAge", "removable_through", "segment_ages"]


class OutboxCursor:
    """The acknowledged sequence, persisted; it only moves forward."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.acked_seq = 0
        if path.exists():
            data = json.loads(path.read_bytes())
            self.acked_seq = int(data["acked_seq"])

    def acknowledge(self, seq: int, last_seq: int) -> bool:
        """Move to ``seq``; False (and no write) when it is not ahead of where it is.

        An acknowledgement beyond the journal's end is a broken or foreign HQ answer:
        ``ValueError``, so it can never let unsent records be pruned.
        """
        if seq > last_seq:
            raise ValueError(f"HQ acknowledged record {seq}, but the journal ends at {last_seq}")
        if seq <= self.acked_seq:
            return False
        atomic_write(self.path, json.dumps({"acked_seq": seq}).encode("ascii"))
        self.acked_seq = seq
        return True


@dataclass(frozen=True)
class SegmentAge:
    last_seq: int
    newest_at: datetime
    """The commit time of its newest record, or of the record after it (the next
    segment's first, which is read without scanning this one): never older."""


def segment_ages(journal: Journal) -> list[SegmentAge]:
    """Each segment's last record and a time none of its records is newer than, oldest
    segment first; it stops at a segment that holds no record yet (the last)."""
    spans = journal.segment_spans()
    ages = []
    for index, (_, _, last, _) in enumerate(spans):
        if index + 1 < len(spans):
            newest = journal.first_record(index + 1)
        else:  # the last is scanned already: its own newest record
            newest = next(iter(journal.read_after(last - 1, 1)), None)
        if newest is None:
            break
        ages.append(SegmentAge(last, datetime.fromisoformat(newest.decoded()["at"])))
    return ages


def removable_through(
    segments: list[SegmentAge], acked_seq: int, snapshot_seq: int, now: datetime,
    retention_days: int,
) -> int:
    """The highest sequence whose segments may go (0: none), oldest segments first.

    The active (last) segment is never removed; a segment stops the scan as soon as one
    condition fails, so what is kept is always a contiguous tail of the journal.
    """
    cutoff = now - timedelta(days=retention_days)
    through = 0
    for segment in segments[:-1]:
        if segment.last_seq > acked_seq or segment.last_seq > snapshot_seq:
            break
        if segment.newest_at >= cutoff:
            break
        through = segment.last_seq
    return through
