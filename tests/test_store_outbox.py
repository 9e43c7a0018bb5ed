"""Outbox cursor, retention of journal segments, record format versions, disk space."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from edge_store import records as records_module
from edge_store.errors import StoreError, StoreErrorCode
from edge_store.journal import frame_record
from edge_store.outbox import SegmentAge, removable_through
from edge_store.store import StoreOptions
from hub.demo_data import DEMO_DAY
from salon.testing import ManualClock
from tests.store_support import busy_store, open_store, scans_spied, state_json, workload

SMALL_SEGMENTS = StoreOptions(segment_bytes=20_000, snapshot_every_records=15)


def test_records_after_give_the_committed_records_in_order(tmp_path: Path) -> None:
    with busy_store(tmp_path) as (store, _):
        records = store.records_after(3, limit=5)
        assert [r.seq for r in records] == [4, 5, 6, 7, 8]
        assert all(r.decoded()["store"] == store.ctx.store_id for r in records)
        assert store.records_after(store.last_seq) == []


def test_the_acknowledged_sequence_survives_a_restart_and_never_goes_back(
    tmp_path: Path,
) -> None:
    with busy_store(tmp_path) as (store, _):
        assert store.acked_seq == 0
        assert store.acknowledge(10)
        assert not store.acknowledge(4)
        with pytest.raises(ValueError):
            store.acknowledge(store.last_seq + 1)
    again = open_store(tmp_path)
    assert again.acked_seq == 10
    again.close()


def _aged_store(tmp_path: Path) -> tuple[Any, ManualClock]:
    clock = ManualClock(DEMO_DAY)
    store = open_store(tmp_path, clock, options=SMALL_SEGMENTS)
    work = workload(store, clock)
    work.setup()
    work.register(10)
    work.sales(40)
    return store, clock


def test_segments_go_only_when_acknowledged_snapshotted_and_past_retention(
    tmp_path: Path,
) -> None:
    store, clock = _aged_store(tmp_path)
    segments = store.journal.segment_spans()
    assert len(segments) >= 4
    before = state_json(store.state)
    assert store.prune() == []  # nothing acknowledged yet
    clock.advance(days=200)
    assert store.prune() == []  # old, but HQ has not confirmed any of it
    store.acknowledge(segments[2][2])  # HQ has the first three segments
    removed = store.prune()
    assert removed == [p for p, *_ in segments[: len(removed)]]
    assert 1 <= len(removed) <= 3
    assert all(not p.exists() for p in removed)
    assert store.journal.first_seq == segments[len(removed)][1]
    store.close()
    again = open_store(tmp_path, clock, options=SMALL_SEGMENTS)
    assert state_json(again.state) == before
    again.close()


def test_recent_segments_stay_even_when_acknowledged(tmp_path: Path) -> None:
    store, clock = _aged_store(tmp_path)
    store.acknowledge(store.last_seq)
    clock.advance(days=89)
    assert store.prune() == []
    store.close()


def test_a_prune_reads_no_closed_segment_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, clock = _aged_store(tmp_path)
    segments = store.journal.segment_spans()
    store.acknowledge(store.last_seq)
    store.snapshot()
    store.close()
    scanned = scans_spied(monkeypatch)
    clock.advance(days=100)
    again = open_store(tmp_path, clock, options=SMALL_SEGMENTS)
    removed = again.prune()
    # Each one's age is the next one's first record, read alone: the till waits for no scan.
    assert removed == [p for p, *_ in segments[:-1]]
    assert scanned == [segments[-1][0].name]
    again.close()


def test_the_snapshot_thread_prunes_and_the_next_segment_is_made_of_a_removed_one(
    tmp_path: Path,
) -> None:
    store, clock = _aged_store(tmp_path)
    work = workload(store, clock, seed=8)
    work.members = sorted(store.state.members.members)
    oldest = store.journal.first_seq
    # HQ acknowledges each sale and each is a retention period after the one before, so
    # every snapshot's prune (the policy starts the thread) removes the closed segments;
    # the first with no spare of zeros ready (one was just used) makes one of them the spare.
    while store.journal.spares_recycled == 0:
        assert store.last_seq < 200, "no segment was made the spare"
        store.acknowledge(store.last_seq)
        clock.advance(days=100)
        work.sales(1)
        store.flush()
    assert store.journal.first_seq > oldest
    spare = tmp_path / "journal" / "next.spare"
    size, zeros = spare.stat().st_size, store.journal.spares_written
    rolled = len(store.journal.segment_spans())
    while spare.exists():
        work.sales(1)
    spans = store.journal.segment_spans()
    assert len(spans) == rolled + 1 and spans[-1][0].stat().st_size == size
    assert store.journal.spares_written == zeros, "no zeros written for it"
    before = state_json(store.state)
    store.close()
    again = open_store(tmp_path, clock, options=SMALL_SEGMENTS)
    assert state_json(again.state) == before
    assert not (tmp_path / "quarantine").exists()
    from edge_store.verify import verify

    assert verify(again).ok
    again.close()


def test_removable_through_stops_at_the_first_segment_that_must_stay() -> None:
    now = datetime(2026, 11, 23, tzinfo=UTC)
    old, new = now - timedelta(days=100), now - timedelta(days=10)
    segs = [SegmentAge(10, old), SegmentAge(20, new), SegmentAge(30, old), SegmentAge(40, old)]
    assert removable_through(segs, acked_seq=40, snapshot_seq=40, now=now, retention_days=90) == 10
    assert removable_through(segs, acked_seq=9, snapshot_seq=40, now=now, retention_days=90) == 0
    assert removable_through(segs, acked_seq=40, snapshot_seq=5, now=now, retention_days=90) == 0
    all_old = [SegmentAge(10, old), SegmentAge(20, old), SegmentAge(30, old)]
    assert removable_through(all_old, 30, 30, now, 90) == 20  # never the active segment


def _rewrite_last_record(tmp_path: Path, change: Any) -> None:
    """Re-frame the last record of the journal with its payload changed by ``change``."""
    segment = sorted((tmp_path / "journal").iterdir())[-1]
    store = open_store(tmp_path)
    last = store.records_after(store.last_seq - 1)[0]
    store.close(snapshot=False)
    body = json.dumps(change(last.decoded()), ensure_ascii=False, separators=(",", ":"))
    framed = frame_record(last.seq, body.encode())
    raw = segment.read_bytes()
    old_len = len(raw) - raw.rindex(b"SRec")
    segment.write_bytes(raw[:-old_len] + framed)
    for snap in (tmp_path / "snapshots").glob("*.snap"):
        snap.unlink()


def test_a_record_from_a_newer_version_is_refused_with_a_message(tmp_path: Path) -> None:
    with busy_store(tmp_path, members=3, sales=2):
        pass
    _rewrite_last_record(tmp_path, lambda d: {**d, "v": 99})
    with pytest.raises(StoreError) as err:
        open_store(tmp_path)
    assert err.value.code is StoreErrorCode.FORMAT_NEWER
    assert err.value.params["format"] == 99


def test_an_older_record_version_is_migrated_on_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with busy_store(tmp_path, members=3, sales=2) as (store, _):
        expected = state_json(store.state)
    # Pretend this build writes format 2: the stored records are format 1 and must each go
    # through the registered 1 -> 2 migration before their events are read.
    monkeypatch.setattr(records_module, "JOURNAL_FORMAT", 2)
    seen: list[int] = []

    def one_to_two(data: dict[str, Any]) -> dict[str, Any]:
        seen.append(data["seq"])
        return {**data, "v": 2}

    monkeypatch.setitem(records_module.RECORD_MIGRATIONS, 1, one_to_two)
    for snap in (tmp_path / "snapshots").glob("*.snap"):
        snap.unlink()
    again = open_store(tmp_path)
    assert state_json(again.state) == expected
    assert seen and seen[-1] == again.last_seq
    again.close(snapshot=False)


def test_low_space_is_warned_once_when_crossing_the_threshold(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    huge = StoreOptions(low_space_bytes=1 << 62)
    with caplog.at_level(logging.WARNING, logger="edge_store.store"):
        store = open_store(tmp_path, options=huge)
        assert store.low_space
        store.check_space()
    assert sum("low disk space" in r.message for r in caplog.records) == 1
    store.close(snapshot=False)
    fine = open_store(tmp_path)
    assert not fine.low_space
    fine.close()


def _mount_tmpfs(path: Path, size: str) -> bool:
    if shutil.which("mount") is None:
        return False
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                            capture_output=True)
    return result.returncode == 0


def test_a_real_full_disk_refuses_the_commit_and_the_store_recovers(tmp_path: Path) -> None:
    mnt = tmp_path / "small"
    mnt.mkdir()
    if not _mount_tmpfs(mnt, "600k"):
        pytest.skip("cannot mount a tmpfs here (needs root); tests/test_edge_store.py covers "
                    "a full disk with a fault-injecting writer")
    stores: list[Any] = []
    try:
        clock = ManualClock(DEMO_DAY)
        data = mnt / "data"
        store = open_store(data, clock, options=StoreOptions(snapshot_every_records=10**9))
        stores.append(store)
        work = workload(store, clock)
        work.setup()
        work.register(5)
        ballast = mnt / "ballast"
        fd = os.open(ballast, os.O_WRONLY | os.O_CREAT)
        try:  # fill the disk to the last byte
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError:
            pass
        finally:
            os.close(fd)
        before, last = state_json(store.state), store.last_seq
        with pytest.raises(StoreError) as err:
            for _ in range(50):
                work.checkout(work.members[0])
        assert err.value.code is StoreErrorCode.NOT_DURABLE
        assert err.value.params["reason"] == "ENOSPC"
        committed = store.last_seq
        assert committed >= last and (committed > last or state_json(store.state) == before)
        ballast.unlink()
        work.checkout(work.members[0])
        assert store.last_seq == committed + 1
        snapshot_state = state_json(store.state)
        store.close()
        again = open_store(data, clock)
        stores.append(again)
        assert state_json(again.state) == snapshot_state
        assert [r.seq for r in again.records_after(0, limit=10**6)] == list(
            range(1, again.last_seq + 1))
        again.close()
    finally:
        for opened in stores:
            opened.journal.close()
            opened._dir_lock.release()
        subprocess.run(["umount", str(mnt)], check=False)
