"""edge_store.quiet: the collector and the switch interval while a snapshot is written."""

from __future__ import annotations

import gc
import sys
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge_store import quiet
from edge_store import store as store_module
from edge_store.snapshots import Snapshots
from edge_store.store import StoreOptions
from salon.state import SalonState
from tests.store_support import busy_store, open_store


@pytest.fixture(autouse=True)
def _collector_as_found() -> Iterator[None]:
    enabled, interval = gc.isenabled(), sys.getswitchinterval()
    yield
    (gc.enable if enabled else gc.disable)()
    sys.setswitchinterval(interval)


def test_the_collector_is_back_only_when_the_last_holder_lets_go() -> None:
    gc.enable()
    quiet.hold_collector()
    with quiet.collector_held():
        assert not gc.isenabled()
    assert not gc.isenabled()  # the first hold is still there
    released = threading.Thread(target=quiet.release_collector)  # another thread may release
    released.start()
    released.join()
    assert gc.isenabled()


def test_a_collector_paused_before_the_first_hold_stays_paused() -> None:
    gc.disable()
    with quiet.collector_held():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_a_release_without_a_hold_is_refused_and_changes_nothing() -> None:
    gc.enable()
    with pytest.raises(RuntimeError, match="more often than held"):
        quiet.release_collector()
    assert gc.isenabled()
    with quiet.collector_held():  # the count is not thrown off by the refused release
        assert not gc.isenabled()
    assert gc.isenabled()


def test_turns_are_shortened_while_held_and_restored_after() -> None:
    sys.setswitchinterval(0.005)
    quiet.shorten_turns()
    with quiet.turns_shortened():
        assert sys.getswitchinterval() == pytest.approx(quiet.BACKGROUND_SWITCH_INTERVAL, abs=2e-6)
    assert sys.getswitchinterval() == pytest.approx(quiet.BACKGROUND_SWITCH_INTERVAL, abs=2e-6)
    quiet.restore_turns()
    assert sys.getswitchinterval() == pytest.approx(0.005)


def test_a_shorter_interval_someone_set_is_not_lengthened() -> None:
    shorter = quiet.BACKGROUND_SWITCH_INTERVAL / 2
    sys.setswitchinterval(shorter)
    with quiet.turns_shortened():
        assert sys.getswitchinterval() == pytest.approx(shorter, abs=2e-6)
    assert sys.getswitchinterval() == pytest.approx(shorter, abs=2e-6)


def test_a_snapshot_thread_keeps_the_collector_paused_until_its_copy_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gc.enable()
    sys.setswitchinterval(0.005)
    seen: dict[str, object] = {}
    write = Snapshots.write

    def watched_write(self: Snapshots, seq: int, at: str, state: SalonState) -> Path:
        if threading.current_thread().name != "snapshot-writer" or "thread" in seen:
            return write(self, seq, at, state)  # the closing snapshot, or a later one
        seen["collector"] = gc.isenabled()
        seen["interval"] = sys.getswitchinterval()
        seen["copy"] = weakref.ref(state)
        seen["thread"] = threading.current_thread().name
        return write(self, seq, at, state)

    release = quiet.release_collector

    def watched_release() -> None:
        copy = seen.get("copy")
        if "copy alive at release" not in seen:
            seen["copy alive at release"] = isinstance(copy, weakref.ref) and copy() is not None
        release()

    monkeypatch.setattr(Snapshots, "write", watched_write)
    monkeypatch.setattr(store_module, "release_collector", watched_release)
    options = StoreOptions(snapshot_every_records=25)
    with busy_store(tmp_path, members=8, sales=40, options=options) as (store, _):
        store.flush()
        assert gc.isenabled()
        assert sys.getswitchinterval() == pytest.approx(0.005)
    assert seen["thread"] == "snapshot-writer"
    assert seen["collector"] is False
    assert seen["interval"] == pytest.approx(quiet.BACKGROUND_SWITCH_INTERVAL, abs=2e-6)
    assert seen["copy alive at release"] is False


def test_a_snapshot_thread_that_cannot_start_leaves_the_sale_and_the_collector_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gc.enable()
    sys.setswitchinterval(0.005)

    def no_thread(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    options = StoreOptions(snapshot_every_records=25)
    with busy_store(tmp_path, members=8, sales=10, options=options) as (store, work):
        monkeypatch.setattr(threading.Thread, "start", no_thread)
        before = store.last_seq
        work.sales(30)  # crosses the snapshot policy: the commits still go through
        assert store.last_seq > before + 25
        assert not store._snapshot_pending
        assert gc.isenabled()
        assert sys.getswitchinterval() == pytest.approx(0.005)
        monkeypatch.undo()


def _unfrozen_ids() -> set[int]:
    """The objects in one of the collector's generations: not frozen."""
    return {id(o) for generation in range(3) for o in gc.get_objects(generation)}


def test_an_open_store_hands_its_state_to_the_collector_frozen_without_a_collection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first collection after a load used to walk everything loaded once (0.1 s of a
    # 1.2 s start at 200,000 sales) before the freeze moved it out of reach.
    gc.enable()
    with busy_store(tmp_path, members=30, sales=60):
        pass
    loading = False
    after_load_began: list[int] = []
    load = store_module.EdgeStore._load

    def watched_load(self: store_module.EdgeStore) -> None:
        nonlocal loading
        loading = True
        load(self)

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and loading:
            after_load_began.append(info["generation"])

    monkeypatch.setattr(store_module.EdgeStore, "_load", watched_load)
    gc.callbacks.append(seen)
    try:
        store = open_store(tmp_path, prefix="Q")
    finally:
        gc.callbacks.remove(seen)
    try:
        assert after_load_began == []
        assert gc.isenabled()
        member = next(iter(store.state.members.members.values()))
        young = _unfrozen_ids()
        assert id(member) not in young and id(store.state) not in young
    finally:
        store.close(snapshot=False)


class _Node:
    def __init__(self) -> None:
        self.me = self


def test_after_a_snapshot_what_the_commits_left_is_frozen_and_earlier_garbage_collected(
    tmp_path: Path,
) -> None:
    options = StoreOptions(snapshot_every_records=25)
    with busy_store(tmp_path, members=8, sales=0, options=options) as (store, work):
        registered = store.state.members.members[work.members[0]]  # made by a commit
        gc.disable()  # no automatic collection: only the snapshot's own can free the cycle
        cycle = _Node()
        dead = weakref.ref(cycle)
        del cycle
        work.sales(30)  # crosses the snapshot policy: the snapshot thread runs
        store.flush()
        assert store.snapshot_seq > 0
        assert id(registered) not in _unfrozen_ids()
        assert dead() is None


def test_an_open_store_leaves_full_collections_to_its_snapshots_until_the_last_one_closes(
    tmp_path: Path,
) -> None:
    found = gc.get_threshold()
    gc.set_threshold(found[0], found[1], 10)  # CPython's default
    try:
        first = open_store(tmp_path / "a")
        second = open_store(tmp_path / "b")
        assert gc.get_threshold()[2] == quiet.FULL_COLLECTION_EVERY
        first.close()
        assert gc.get_threshold()[2] == quiet.FULL_COLLECTION_EVERY  # the other is open
        second.close()
        assert gc.get_threshold()[2] == 10
    finally:
        gc.set_threshold(*found)


def test_sales_between_snapshots_start_no_full_collection(tmp_path: Path) -> None:
    started: list[int] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(info["generation"])

    options = StoreOptions(snapshot_every_records=10**9, snapshot_every_seconds=10**9)
    gc.enable()
    with busy_store(tmp_path, members=20, sales=0, options=options) as (_, work):
        gc.callbacks.append(record)
        try:
            work.sales(3_000)  # more middle-generation collections than CPython waits for
        finally:
            gc.callbacks.remove(record)
    assert started.count(1) > 10  # more than CPython's default waits for before a full one
    assert 2 not in started
