"""Helpers for edge-store tests: open a seeded store in a temp directory and drive it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from edge_store.codec import encode
from edge_store.journal import FileOps, Journal
from edge_store.store import EdgeStore, StoreOptions
from hub.demo_data import DEMO_DAY
from hub.workload import Workload
from salon.state import SalonState
from salon.testing import ManualClock, SequentialIds

STORE_ID = "store-test-001"


def open_store(
    path: Path, clock: ManualClock | None = None, *, options: StoreOptions | None = None,
    ops: FileOps | None = None, prefix: str = "E",
) -> EdgeStore:
    return EdgeStore.open(path, STORE_ID, clock or ManualClock(DEMO_DAY), SequentialIds(prefix),
                          options=options, ops=ops)


def workload(store: EdgeStore, clock: ManualClock, seed: int = 7) -> Workload:
    return Workload(store, lambda: store.state, clock, seed)


@contextmanager
def busy_store(
    path: Path, members: int = 20, sales: int = 30, *, options: StoreOptions | None = None,
) -> Iterator[tuple[EdgeStore, Workload]]:
    """A seeded store with members and sales, closed after a last snapshot (a shutdown
    with few records since the last one writes none: ``snapshot_at_close_records``)."""
    clock = ManualClock(DEMO_DAY)
    store = open_store(path, clock, options=options)
    work = workload(store, clock)
    work.setup()
    work.register(members)
    work.sales(sales)
    try:
        yield store, work
    finally:
        if not store.closed and store.last_seq > store.snapshot_seq:
            store.snapshot()
        store.close()


def scans_spied(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the journal segments scanned in full from now on (the list fills)."""
    scanned: list[str] = []
    scan = Journal._scan

    def spy(self: Journal, path: Path, expected: int | None) -> object:
        scanned.append(path.name)
        return scan(self, path, expected)

    monkeypatch.setattr(Journal, "_scan", spy)
    return scanned


def state_json(state: SalonState) -> object:
    return encode(state, SalonState)
