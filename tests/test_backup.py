"""Backup while selling, restore only what checks out, and the nightly rotation."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edge_store import restore as restore_module
from edge_store.archive import MANIFEST, archive_name
from edge_store.backup import backup
from edge_store.errors import StoreError, StoreErrorCode
from edge_store.restore import restore
from edge_store.store import EdgeStore, StoreOptions
from edge_store.verify import verify
from hub.demo_data import DEMO_DAY, MANAGER
from salon.commands import Command
from salon.events import Event
from salon.testing import ManualClock, SequentialIds
from tests.store_support import STORE_ID, busy_store, open_store, state_json, workload

SMALL = StoreOptions(segment_bytes=16_000, snapshot_every_records=12)
AT = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)

Members = list[tuple[tarfile.TarInfo, bytes]]


def _archive(tmp_path: Path, **busy: int) -> tuple[Path, object, int]:
    """A backup of a busy store: (archive, the state it holds, its last record)."""
    with busy_store(tmp_path / "live", options=SMALL, **busy) as (store, _):
        store.acknowledge(store.last_seq - 5)
        path = backup(tmp_path / "live", tmp_path, now=AT)
        return path, state_json(store.state), store.last_seq


def _manifest(archive: Path) -> dict[str, object]:
    with tarfile.open(archive, "r:gz") as tar:
        member = tar.extractfile(MANIFEST)
        assert member is not None
        data: dict[str, object] = json.loads(member.read())
        return data


def _members(archive: Path) -> Members:
    with tarfile.open(archive, "r:gz") as tar:
        return [(info, (tar.extractfile(info) or io.BytesIO()).read()) for info in tar]


def _pack(path: Path, members: Members) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return path


def _restore(archive: Path, target: Path, **kw: object) -> object:
    return restore(archive, target, store_id=STORE_ID, now=AT, **kw)  # type: ignore[arg-type]


def _refused(code: StoreErrorCode, fn: Callable[[], object]) -> StoreError:
    with pytest.raises(StoreError) as err:
        fn()
    assert err.value.code is code, err.value
    return err.value


# ---------------------------------------------------------------- round trips


def test_a_restored_store_opens_with_exactly_the_state_backed_up(tmp_path: Path) -> None:
    archive, state, last = _archive(tmp_path)
    assert archive.name == archive_name(STORE_ID, AT, last)
    manifest = _manifest(archive)
    assert manifest["store_id"] == STORE_ID and manifest["last_seq"] == last
    assert manifest["snapshot_seq"] is not None
    names = {f["name"] for f in manifest["files"]}  # type: ignore[attr-defined]
    assert {"store.json", "outbox.json"} <= names
    assert len([n for n in names if n.startswith("journal/")]) > 2

    done = _restore(archive, tmp_path / "new")
    assert done.last_seq == last and done.replaced is None  # type: ignore[attr-defined]
    again = open_store(tmp_path / "new")
    assert state_json(again.state) == state
    assert again.last_seq == last and again.acked_seq == last - 5
    assert verify(again).ok
    again.close()


def test_a_backup_after_retention_starts_from_a_snapshot_the_journal_continues(
    tmp_path: Path,
) -> None:
    clock = ManualClock(DEMO_DAY)
    live = tmp_path / "live"
    store = open_store(live, clock, options=StoreOptions(
        segment_bytes=16_000, snapshot_every_records=12, retention_days=0))
    work = workload(store, clock)
    work.setup()
    work.register(10)
    work.sales(40)
    store.acknowledge(store.last_seq)
    clock.advance(days=1)
    assert store.prune()
    archive = backup(live, tmp_path, now=AT)
    first = _manifest(archive)["first_seq"]
    assert isinstance(first, int) and first > 1
    state, last = state_json(store.state), store.last_seq
    store.close()
    _restore(archive, tmp_path / "new")
    again = open_store(tmp_path / "new")
    assert (state_json(again.state), again.last_seq) == (state, last)
    again.close()


def test_segments_removed_by_retention_during_a_backup_make_it_start_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from edge_store import backup as backup_module

    clock = ManualClock(DEMO_DAY)
    live = tmp_path / "live"
    store = open_store(live, clock, options=StoreOptions(
        segment_bytes=16_000, snapshot_every_records=12, retention_days=0))
    work = workload(store, clock)
    work.setup()
    work.register(10)
    work.sales(40)
    store.flush()  # the snapshot thread prunes too: it is done before anything is acknowledged
    store.acknowledge(store.last_seq)
    clock.advance(days=1)
    calls: list[str] = []
    real = backup_module.valid_prefix

    def prune_after_the_first_segment(data: bytes, name: str) -> object:
        calls.append(name)
        if len(calls) == 1:  # the writer prunes while the backup is between two segments
            assert len(store.prune()) > 1
        return real(data, name)

    monkeypatch.setattr(backup_module, "valid_prefix", prune_after_the_first_segment)
    archive = backup(live, tmp_path, now=AT)
    assert calls.count(calls[0]) == 1 and len(calls) > len(store.journal.segment_spans())
    state, last = state_json(store.state), store.last_seq
    store.close()
    _restore(archive, tmp_path / "new")
    again = open_store(tmp_path / "new")
    assert (state_json(again.state), again.last_seq) == (state, last)
    again.close()


def test_a_backup_leaves_out_a_record_the_writer_is_still_appending(tmp_path: Path) -> None:
    with busy_store(tmp_path / "live") as (store, _):
        state, last = state_json(store.state), store.last_seq
        segment = store.journal.segment_spans()[-1][0]
        committed = segment.read_bytes()
        with segment.open("ab") as f:  # the first half of a record the writer is writing now
            f.write(b"SRec" + (last + 1).to_bytes(8, "big") + (900).to_bytes(4, "big") + b"{")
        archive = backup(tmp_path / "live", tmp_path, now=AT)
    assert _manifest(archive)["last_seq"] == last
    assert dict((i.name, d) for i, d in _members(archive))[f"journal/{segment.name}"] == committed
    _restore(archive, tmp_path / "new")
    again = open_store(tmp_path / "new")
    assert (state_json(again.state), again.last_seq) == (state, last)
    again.close()


def test_damage_inside_the_journal_stops_the_backup_rather_than_cutting_records_off(
    tmp_path: Path,
) -> None:
    with busy_store(tmp_path / "live", members=5, sales=5) as (store, _):
        segment = store.journal.segment_spans()[-1][0]
        data = bytearray(segment.read_bytes())
        data[len(data) // 2] ^= 0xFF  # bit rot in a record with whole records after it
        segment.write_bytes(bytes(data))
        err = _refused(StoreErrorCode.JOURNAL_CORRUPT,
                       lambda: backup(tmp_path / "live", tmp_path, now=AT))
        assert err.params["segment"] == segment.name
    assert not list(tmp_path.glob("*.tar.gz")) and not list(tmp_path.glob(".*.tmp"))


def test_a_damaged_newest_snapshot_is_left_for_an_older_one(tmp_path: Path) -> None:
    with busy_store(tmp_path / "live", options=SMALL) as (store, _):
        state = state_json(store.state)
        store.flush()  # the policy's last snapshot may still be on its writer thread
        newest, older, *_ = store.snapshots.paths()
        newest.write_bytes(newest.read_bytes()[:-9])
        archive = backup(tmp_path / "live", tmp_path, now=AT)
    assert _manifest(archive)["snapshot_seq"] == int(older.stem)
    _restore(archive, tmp_path / "new")
    again = open_store(tmp_path / "new")
    assert state_json(again.state) == state
    again.close()


class _Recording:
    """Executes on the store and keeps the state after every record (the writer thread's)."""

    def __init__(self, store: EdgeStore) -> None:
        self.store = store
        self.states = {store.last_seq: state_json(store.state)}

    def execute(self, command: Command) -> tuple[Event, ...]:
        events = self.store.execute(command)
        self.states[self.store.last_seq] = state_json(self.store.state)
        return events


def test_backups_taken_while_the_kiosk_sells_restore_to_a_state_it_had(tmp_path: Path) -> None:
    clock, live = ManualClock(DEMO_DAY), tmp_path / "live"
    options = StoreOptions(segment_bytes=12_000, snapshot_every_records=5, retention_days=0)
    store = open_store(live, clock, options=options)
    recording = _Recording(store)
    work = workload(store, clock)
    work.store = recording
    work.setup()
    work.register(15)

    def sell() -> None:
        for n in range(120):
            work.checkout(work.rng.choice(work.members))
            if n % 10 == 9:  # HQ acknowledges, retention removes segments under the backup
                store.acknowledge(store.last_seq)
                store.prune()

    seller = threading.Thread(target=sell)
    taken: list[tuple[int, Path, int]] = []
    seller.start()
    while seller.is_alive() or not taken:
        before = store.last_seq
        path = backup(live, tmp_path / f"b{len(taken)}.tar.gz", now=AT)
        # Under the store's lock: a commit whose record the backup copied has returned.
        taken.append((before, path, store.read(lambda _: store.last_seq)))
    seller.join()
    store.close()
    assert len(taken) >= 3
    for n, (before, path, after) in enumerate(taken[:: max(1, len(taken) // 8)]):
        _restore(path, tmp_path / f"r{n}")
        again = open_store(tmp_path / f"r{n}", options=options)
        assert before <= again.last_seq <= after
        assert state_json(again.state) == recording.states[again.last_seq]
        again.close()


# ---------------------------------------------------------------- refusals


def test_a_flipped_byte_anywhere_in_the_archive_is_refused_and_nothing_written(
    tmp_path: Path,
) -> None:
    archive, _, _ = _archive(tmp_path, members=5, sales=5)
    good = archive.read_bytes()
    # The first 10 bytes are gzip's fixed header (mtime, flags), which no checksum covers.
    offsets = sorted({*range(10, len(good), max(1, len(good) // 60)), *range(len(good) - 9,
                                                                             len(good))})
    for offset in offsets:
        bad = bytearray(good)
        bad[offset] ^= 0xFF
        damaged = tmp_path / "damaged.tar.gz"
        damaged.write_bytes(bytes(bad))
        target = tmp_path / f"t{offset}"
        with pytest.raises(StoreError) as err:
            _restore(damaged, target)
        assert err.value.code is StoreErrorCode.BACKUP_DAMAGED, offset
        assert err.value.params["file"] == "damaged.tar.gz"
        assert sorted(p.name for p in target.iterdir()) == ["LOCK"], offset
    assert [p.name for p in tmp_path.iterdir() if ".in-" in p.name] == []  # staging cleaned


def test_a_member_that_does_not_match_its_manifest_checksum_is_refused(tmp_path: Path) -> None:
    archive, _, _ = _archive(tmp_path, members=5, sales=5)
    members = _members(archive)
    for info, data in members:
        if info.name == "outbox.json":
            members[members.index((info, data))] = (info, json.dumps({"acked_seq": 1}).encode())
    repacked = _pack(tmp_path / "repacked.tar.gz", members)
    err = _refused(StoreErrorCode.BACKUP_DAMAGED, lambda: _restore(repacked, tmp_path / "t"))
    assert "outbox.json" in str(err.params["reason"])


@pytest.mark.parametrize("name", ["../evil", "/tmp/evil", "journal/../../evil", "journal/x.seg"])
def test_a_member_outside_the_store_layout_is_refused(tmp_path: Path, name: str) -> None:
    archive, _, _ = _archive(tmp_path, members=5, sales=5)
    members = _members(archive)
    evil = b"not a journal"
    info = tarfile.TarInfo(name)
    members.insert(0, (info, evil))
    manifest = json.loads(members[-1][1])
    manifest["files"].append(
        {"name": name, "size": len(evil), "sha256": hashlib.sha256(evil).hexdigest()})
    members[-1] = (members[-1][0], json.dumps(manifest).encode())
    crafted = _pack(tmp_path / "crafted.tar.gz", members)
    target = tmp_path / "deep" / "er" / "target"
    _refused(StoreErrorCode.BACKUP_DAMAGED, lambda: _restore(crafted, target))
    assert not list(tmp_path.rglob("evil"))
    assert sorted(p.name for p in target.iterdir()) == ["LOCK"]


def test_a_link_member_is_refused(tmp_path: Path) -> None:
    archive, _, _ = _archive(tmp_path, members=5, sales=5)
    link = tarfile.TarInfo("store.json")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    crafted = _pack(tmp_path / "link.tar.gz", [(link, b""), *_members(archive)[1:]])
    _refused(StoreErrorCode.BACKUP_DAMAGED, lambda: _restore(crafted, tmp_path / "t"))


def test_a_file_that_is_no_store_backup_is_refused(tmp_path: Path) -> None:
    plain = tmp_path / "notes.tar.gz"
    plain.write_bytes(gzip.compress(b"hello"))
    _refused(StoreErrorCode.BACKUP_DAMAGED, lambda: _restore(plain, tmp_path / "a"))
    info = tarfile.TarInfo("store.json")
    other = _pack(tmp_path / "other.tar.gz", [(info, b'{"store_id": "x"}')])
    _refused(StoreErrorCode.BACKUP_DAMAGED, lambda: _restore(other, tmp_path / "b"))


def test_another_stores_backup_is_refused_unless_forced(tmp_path: Path) -> None:
    archive, state, _ = _archive(tmp_path, members=5, sales=5)
    target = tmp_path / "new"
    err = _refused(StoreErrorCode.WRONG_STORE, lambda: restore(
        archive, target, store_id="store-other", now=AT))
    assert err.params["found"] == STORE_ID
    done = restore(archive, target, store_id="store-other", now=AT, force=True)
    assert done.store_id == STORE_ID
    again = open_store(target)  # the directory is the archive's store now
    assert state_json(again.state) == state
    again.close()


def test_a_target_holding_data_is_refused_unless_forced_and_then_moved_aside(
    tmp_path: Path,
) -> None:
    archive, state, _ = _archive(tmp_path, members=5, sales=5)
    target = tmp_path / "new"
    with busy_store(target, members=3, sales=2):
        pass
    old_journal = {p.name: p.read_bytes() for p in (target / "journal").iterdir()}
    _refused(StoreErrorCode.TARGET_NOT_EMPTY, lambda: _restore(archive, target))
    assert {p.name: p.read_bytes() for p in (target / "journal").iterdir()} == old_journal

    done = _restore(archive, target, force=True)
    aside = done.replaced  # type: ignore[attr-defined]
    assert aside == tmp_path / "new.replaced-20261124T030000Z"
    assert {p.name: p.read_bytes() for p in (aside / "journal").iterdir()} == old_journal
    assert json.loads((aside / "store.json").read_text())["store_id"] == STORE_ID
    again = open_store(target)
    assert state_json(again.state) == state
    again.close()


def test_a_restore_under_a_running_kiosk_is_refused(tmp_path: Path) -> None:
    archive, _, _ = _archive(tmp_path, members=5, sales=5)
    kiosk = open_store(tmp_path / "busy")
    _refused(StoreErrorCode.LOCKED, lambda: _restore(archive, tmp_path / "busy", force=True))
    kiosk.close()


def test_an_interrupted_restore_is_refused_at_open_until_restored_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    archive, state, _ = _archive(tmp_path, members=5, sales=5)
    target = tmp_path / "new"
    real_rename = os.rename

    def power_cut(src: object, dst: object) -> None:
        if str(src).endswith("snapshots"):
            raise OSError(5, "power cut")
        real_rename(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(restore_module.os, "rename", power_cut)
    _refused(StoreErrorCode.NOT_DURABLE, lambda: _restore(archive, target))
    monkeypatch.undo()
    err = _refused(StoreErrorCode.RESTORE_INCOMPLETE, lambda: open_store(target))
    assert err.params["archive"] == archive.name
    _restore(archive, target, force=True)
    again = open_store(target)
    assert state_json(again.state) == state
    again.close()


def test_a_failed_backup_leaves_no_archive_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from edge_store import backup as backup_module

    with busy_store(tmp_path / "live", members=3, sales=3):
        pass
    dest = tmp_path / "dest"
    dest.mkdir()

    def disk_full(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(backup_module, "_add_journal", disk_full)
    err = _refused(StoreErrorCode.NOT_DURABLE, lambda: backup(tmp_path / "live", dest, now=AT))
    assert err.params["reason"] == "ENOSPC"
    assert list(dest.iterdir()) == []


def test_a_directory_without_a_store_is_not_backed_up(tmp_path: Path) -> None:
    _refused(StoreErrorCode.NOT_A_STORE, lambda: backup(tmp_path, tmp_path, now=AT))


def test_a_new_store_with_no_records_backs_up_and_restores(tmp_path: Path) -> None:
    EdgeStore.open(tmp_path / "live", STORE_ID, ManualClock(DEMO_DAY), SequentialIds()).close()
    archive = backup(tmp_path / "live", tmp_path, now=AT)
    assert archive.name.endswith("-seq0.tar.gz")
    _restore(archive, tmp_path / "new")
    again = open_store(tmp_path / "new")
    assert again.last_seq == 0
    again.close()


def test_a_restored_store_can_still_refund_a_ticket_whose_journal_was_pruned(
    tmp_path: Path,
) -> None:
    from salon.refunds import RefundTicket
    from salon.tickets import TicketPaid

    clock = ManualClock(DEMO_DAY)
    options = StoreOptions(segment_bytes=16_000, snapshot_every_records=40)
    store = open_store(tmp_path / "live", clock, options=options)
    work = workload(store, clock)
    work.setup()
    work.register(10)
    tickets: list[str] = []
    for _ in range(150):  # five months, four sales a day
        for _ in range(4):
            events = work.checkout(work.rng.choice(work.members))
            tickets.extend(e.ticket_id for e in events if isinstance(e, TicketPaid))
        clock.advance(days=1)
    store.acknowledge(store.last_seq)
    store.snapshot()
    store.prune()  # (the snapshot thread may have been first)
    assert store.journal.first_seq > 1, "retention should have removed the oldest segments"
    store.close()
    archive = backup(tmp_path / "live", tmp_path, now=AT)
    _restore(archive, tmp_path / "new")
    again = open_store(tmp_path / "new", clock, options=options)
    oldest = tickets[0]
    assert oldest not in again.state.tickets.tickets
    assert again.state.tickets.get(oldest) is not None  # read back from the restored history
    again.execute(RefundTicket(actor_id=MANAGER, ticket_id=oldest, reason="顾客投诉"))
    again.close()
