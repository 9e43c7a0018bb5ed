"""The edge store: commit then apply, reopen to the same state, one writer, snapshots, verify."""

from __future__ import annotations

import copy
import dataclasses
import errno
import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from tinydb import Query

from edge_store.errors import StoreError, StoreErrorCode
from edge_store.journal import FileOps
from edge_store.projections import Projections
from edge_store.records import events_of
from edge_store.store import EdgeStore, StoreOptions
from edge_store.verify import verify
from hub.demo_data import DEMO_DAY, DESK
from hub.workload import Workload, mobile_of
from salon.errors import DomainError, ErrorCode
from salon.members import RegisterMember
from salon.testing import ManualClock
from salon.tickets import TicketPaid
from tests.store_support import STORE_ID, busy_store, open_store, state_json, workload


def test_a_reopened_store_has_the_state_and_documents_it_had(tmp_path: Path) -> None:
    with busy_store(tmp_path) as (store, _):
        before = state_json(store.state)
        docs = store.projections.dump()
        last = store.last_seq
    again = open_store(tmp_path)
    assert again.last_seq == last
    assert state_json(again.state) == before
    assert again.projections.dump() == docs
    again.close()


def test_member_documents_left_to_first_use_are_those_a_full_rebuild_makes(
    tmp_path: Path,
) -> None:
    with busy_store(tmp_path) as (_, work):
        members = list(work.members)
    clock = ManualClock(DEMO_DAY + timedelta(days=400))  # balances and points as of a later day
    store = open_store(tmp_path, clock)
    try:
        assert store.projections.unbuilt_members == len(members) == 20
        # Built one by one out of order: two lookups and a sale.
        assert store.member_by_card("C00000005")["member_id"] == members[5]
        assert store.member_by_mobile(mobile_of(2))["member_id"] == members[2]
        later = workload(store, clock)
        later.members = members
        later.recharge(members[9])
        assert store.projections.unbuilt_members == 17
        found = store.query("members", Query().member_id.exists())
        assert store.projections.unbuilt_members == 0
        eager = Projections()
        eager.rebuild(store.state, clock())
        eager.table("members")  # builds every document
        expected = eager.db.table("members").all()
        assert [(d.doc_id, dict(d)) for d in found] == [(d.doc_id, dict(d)) for d in expected]
        assert [d["member_id"] for d in found] == members  # in the order they registered
        assert found[9]["principal_fen"] == store.state.accounts.principal_fen(members[9]) > 0
    finally:
        store.close()


def test_reopening_without_a_snapshot_replays_the_whole_journal(tmp_path: Path) -> None:
    with busy_store(tmp_path) as (store, _):
        before = state_json(store.state)
        store.close(snapshot=False)
        store.journal.close()
    for snap in (tmp_path / "snapshots").glob("*.snap"):
        snap.unlink()
    again = open_store(tmp_path)
    assert again.snapshot_seq == 0
    assert state_json(again.state) == before
    again.close()


def test_a_damaged_newest_snapshot_falls_back_to_an_older_one(tmp_path: Path) -> None:
    options = StoreOptions(snapshot_every_records=10)
    with busy_store(tmp_path, options=options) as (store, _):
        before = state_json(store.state)
    snaps = sorted((tmp_path / "snapshots").glob("*.snap"))
    assert len(snaps) == 3
    snaps[-1].write_bytes(snaps[-1].read_bytes()[:-20])
    again = open_store(tmp_path, options=options)
    assert again.snapshot_seq == int(snaps[-2].stem)
    assert state_json(again.state) == before
    again.close()


def test_snapshots_follow_the_record_policy_and_keep_three(tmp_path: Path) -> None:
    with busy_store(tmp_path, sales=40, options=StoreOptions(snapshot_every_records=10)) as (
        store, work
    ):
        # The policy's snapshots are written on a thread; one still being written when it
        # falls due again is not started twice (a loaded machine lags a few records), so a
        # sale after the flush is where the next one must start.
        store.flush()
        work.sales(1)
        store.flush()
        seqs = [int(p.stem) for p in (tmp_path / "snapshots").glob("*.snap")]
        assert len(seqs) == 3
        assert max(seqs) > store.last_seq - 10


def test_a_clean_shutdown_snapshots_only_after_enough_records(tmp_path: Path) -> None:
    options = StoreOptions(snapshot_at_close_records=10)
    clock = ManualClock(DEMO_DAY)
    store = open_store(tmp_path, clock, options=options)
    work = workload(store, clock)
    work.setup()
    work.register(5)
    first = store.last_seq
    assert first >= 10
    store.close()  # enough records: the next start replays none
    store = open_store(tmp_path, clock, options=options)
    assert store.snapshot_seq == first
    work = workload(store, clock)
    work.members = sorted(store.state.members.members)
    while store.last_seq < first + 5:
        work.sales(1)
    few = store.last_seq
    assert few - first < 10
    store.close()  # a nightly shutdown after a quiet day: no snapshot, a short replay
    assert max(int(p.stem) for p in (tmp_path / "snapshots").glob("*.snap")) == first
    again = open_store(tmp_path, clock, options=options)
    assert (again.snapshot_seq, again.last_seq) == (first, few)
    again.close()


def test_the_time_policy_snapshots_a_quiet_store_monthly_not_daily(tmp_path: Path) -> None:
    clock = ManualClock(DEMO_DAY)
    with busy_store(tmp_path, sales=5):
        pass
    store = open_store(tmp_path, clock)
    work = workload(store, clock)
    work.members = sorted(store.state.members.members)
    opened = store.snapshot_seq
    for _ in range(29):  # a sale a day
        clock.advance(days=1)
        work.sales(1)
    store.flush()
    assert store.snapshot_seq == opened, "no snapshot for a quiet month's days"
    clock.advance(days=1)
    work.sales(1)
    store.flush()
    assert store.snapshot_seq == store.last_seq
    store.close()


def test_a_second_opener_of_the_data_directory_is_refused(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    with pytest.raises(StoreError) as err:
        open_store(tmp_path)
    assert err.value.code is StoreErrorCode.LOCKED
    assert err.value.params["pid"] == str(os.getpid())
    code = (
        "import sys\nfrom tests.store_support import open_store\nfrom edge_store.errors import "
        "StoreError\ntry:\n    open_store(__import__('pathlib').Path(sys.argv[1]))\n"
        "except StoreError as e:\n    print(e.code.value)\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                            text=True, cwd=Path(__file__).parent.parent, check=True)
    assert result.stdout.strip() == "store.locked"
    store.close()
    open_store(tmp_path).close()  # released on close


def test_a_store_refuses_a_data_directory_of_another_store(tmp_path: Path) -> None:
    open_store(tmp_path).close()
    from edge_store.store import EdgeStore
    from salon.testing import SequentialIds

    with pytest.raises(StoreError) as err:
        EdgeStore.open(tmp_path, "another-store", ManualClock(DEMO_DAY), SequentialIds("X"))
    assert err.value.code is StoreErrorCode.WRONG_STORE


def test_a_refused_command_changes_neither_journal_nor_state(tmp_path: Path) -> None:
    with busy_store(tmp_path) as (store, _):
        before, last = state_json(store.state), store.last_seq
        with pytest.raises(DomainError) as err:
            store.execute(RegisterMember(actor_id=DESK, name="重复", mobile=mobile_of(1)))
        assert err.value.code is ErrorCode.MOBILE_TAKEN
        assert store.last_seq == last
        assert state_json(store.state) == before


def test_hot_lookups_and_queries_go_through_the_projections(tmp_path: Path) -> None:
    with busy_store(tmp_path) as (store, _):
        member = store.member_by_card("c00000003")  # UIDs are normalised like the domain does
        assert member["mobile"] == mobile_of(3)
        assert store.member_by_mobile("139 0000 0003")["member_id"] == member["member_id"]
        assert store.product_by_barcode("6901234567892")["product_id"] == "P-SH"
        rich = store.query("members", Query().principal_fen > 0)
        assert rich and all(
            store.state.accounts.principal_fen(doc["member_id"]) == doc["principal_fen"]
            for doc in rich
        )
        with pytest.raises(DomainError) as err:
            store.member_by_card("C0000FFFF")
        assert err.value.code is ErrorCode.UNKNOWN_CARD


def test_a_query_asked_again_sees_every_commit_in_between(tmp_path: Path) -> None:
    with busy_store(tmp_path) as (store, work):
        member_id = work.members[3]
        cond = Query().member_id == member_id
        (before,) = store.query("members", cond)  # TinyDB caches the answer to this query
        store.query("coupons", Query().coupon_id.exists())
        work.recharge(member_id)
        (after,) = store.query("members", cond)
        assert after["principal_fen"] == before["principal_fen"] + 100_000
        assert after["principal_fen"] == store.state.accounts.principal_fen(member_id)


def test_the_documents_follow_each_commit(tmp_path: Path) -> None:
    with busy_store(tmp_path) as (store, work):
        member_id = work.members[0]
        work.checkout(member_id)
        doc = store.projections.get("members", member_id)
        assert doc is not None
        assert doc["points"] == store.state.points.balance(member_id, work.clock())
        assert doc["principal_fen"] == store.state.accounts.principal_fen(member_id)


def test_verify_finds_nothing_in_a_clean_store_and_a_planted_difference(tmp_path: Path) -> None:
    with busy_store(tmp_path, options=StoreOptions(snapshot_every_records=25)) as (store, _):
        report = verify(store)
        assert report.ok, report.differences
        assert len(report.snapshots_checked) >= 2
        lot = next(iter(store.state.accounts.lots.values()))
        store.state.accounts.lots[lot.lot_id] = dataclasses.replace(lot, principal_fen=1)
        report = verify(store)
        assert not report.ok
        assert any(f"accounts.lots.{lot.lot_id}.principal_fen" in d for d in report.differences)


class _FullDisk:
    def __init__(self) -> None:
        self.full = False
        self.fsync_fails = False
        self.fsync_calls = 0

    def write(self, fd: int, data: bytes) -> int:
        if self.full:
            raise OSError(errno.ENOSPC, "No space left on device")
        return os.write(fd, data)

    def fsync(self, fd: int) -> None:
        self.fsync_calls += 1
        if self.fsync_fails:  # ext4 with delayed allocation finds the disk full here
            raise OSError(errno.EIO, "Input/output error")
        os.fdatasync(fd)


def test_a_commit_on_a_full_disk_fails_cleanly_and_works_when_space_returns(
    tmp_path: Path,
) -> None:
    ops = _FullDisk()
    clock = ManualClock(DEMO_DAY)
    store = open_store(tmp_path, clock, ops=ops)
    work = workload(store, clock)
    work.setup()
    work.register(5)
    before, last = state_json(store.state), store.last_seq
    ops.full = True
    with pytest.raises(StoreError) as err:
        work.checkout(work.members[0])
    assert err.value.code is StoreErrorCode.NOT_DURABLE
    assert store.last_seq == last and state_json(store.state) == before
    assert store.member_by_mobile(mobile_of(0))  # reads go on
    ops.full = False
    events = work.checkout(work.members[0])
    assert any(isinstance(e, TicketPaid) for e in events)
    store.close()


def _one_commit_checkouts(
    path: Path, ops: FileOps | None = None, members: int = 3
) -> tuple[EdgeStore, Workload, ManualClock]:
    """A store whose first member has the balance for a checkout, so that each checkout
    of theirs is one commit (a short balance would recharge first)."""
    clock = ManualClock(DEMO_DAY)
    store = open_store(path, clock, ops=ops)
    work = workload(store, clock)
    work.setup()
    work.register(members)
    work.recharge(work.members[0])
    return store, work, clock


def test_a_commit_whose_fsync_fails_after_its_events_were_applied_changes_nothing(
    tmp_path: Path,
) -> None:
    ops = _FullDisk()
    store, work, clock = _one_commit_checkouts(tmp_path, ops, members=5)
    work.sales(3)
    work.recharge(work.members[0])  # sales(3) may have spent it
    before, docs, last = state_json(store.state), store.projections.dump(), store.last_seq
    open_file = tmp_path / "history" / "open.jsonl"
    filed, filed_index = open_file.read_bytes(), copy.deepcopy(store.history._lines)
    ops.fsync_fails = True
    with pytest.raises(StoreError) as err:
        work.checkout(work.members[0])
    assert err.value.code is StoreErrorCode.NOT_DURABLE and err.value.params["reason"] == "EIO"
    # The sale had been applied between the write and the fsync, and filed in the sales
    # history; the state is the disk's again, and the history holds none of the sale.
    assert store.last_seq == last
    assert state_json(store.state) == before and store.projections.dump() == docs
    assert open_file.read_bytes() == filed and store.history._lines == filed_index
    assert store.member_by_mobile(mobile_of(0))
    ops.fsync_fails = False
    work.checkout(work.members[0])
    assert store.last_seq == last + 1
    after = state_json(store.state)
    store.close()
    again = open_store(tmp_path, clock)
    assert state_json(again.state) == after
    again.close()


def _sold_after_a_snapshot(
    path: Path,
) -> tuple[EdgeStore, Workload, ManualClock, TicketPaid, bytes]:
    """A checkout after a snapshot (its history lines wait in memory for the next sync),
    and open.jsonl as the snapshot's sync left it."""
    store, work, clock = _one_commit_checkouts(path)
    store.snapshot()
    filed = (path / "history" / "open.jsonl").read_bytes()
    events = work.checkout(work.members[0])
    paid = next(e for e in events if isinstance(e, TicketPaid))
    return store, work, clock, paid, filed


def _history_ids(store: EdgeStore, ticket_id: str) -> list[str]:
    return [e.meta.event_id for e in store.history.events_of(ticket_id)]


def test_history_lines_the_disk_will_not_take_wait_in_memory_none_left_in_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, work, clock, paid, filed = _sold_after_a_snapshot(tmp_path)
    open_file = tmp_path / "history" / "open.jsonl"
    ticket = paid.ticket_id
    assert open_file.read_bytes() == filed and store.history.events_of(ticket)
    index = copy.deepcopy(store.history._lines)
    history_fd, real_write, calls = store.history._fd, os.write, []

    def full_after_a_bit(fd: int, data: bytes) -> int:
        if fd != history_fd:
            return real_write(fd, data)
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(fd, bytes(data)[:10])  # the disk takes ten bytes, then none
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full_after_a_bit)
    with pytest.raises(OSError):
        store.snapshot()  # the sync before it writes the lines
    monkeypatch.undo()
    assert len(calls) == 2
    # No line in part is left in the open file; the lines still wait, still read.
    assert open_file.read_bytes() == filed and store.history._lines == index
    assert _history_ids(store, ticket) == [paid.meta.event_id]
    work.recharge(work.members[0])
    later = work.checkout(work.members[0])  # the history goes on
    store.snapshot()  # the disk has room again: everything is written
    assert len(open_file.read_bytes()) > len(filed)
    store.close(snapshot=False)
    again = open_store(tmp_path, clock)
    for sold in (paid, next(e for e in later if isinstance(e, TicketPaid))):
        assert _history_ids(again, sold.ticket_id) == [sold.meta.event_id]
    again.close()


def test_a_sale_whose_month_cannot_be_read_leaves_no_line_of_its_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, _, _, _, _ = _sold_after_a_snapshot(tmp_path)
    history = store.history
    before = (copy.deepcopy(history._lines), bytes(history._tail), history.mark())

    def unreadable(sale: str) -> str:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(history, "_closed_month_of", unreadable)
    with pytest.raises(OSError):  # the first sale opens, the second's month is looked up
        history._append(99, [("T-new", True, "2026-12", "{}"), ("T-old", False, "", "{}")])
    assert (history._lines, bytes(history._tail), history.mark()) == before
    store.close()


def test_lines_lost_with_the_memory_come_back_from_the_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, _, clock, paid, _ = _sold_after_a_snapshot(tmp_path)
    # As a power cut: the lines in memory never reach the file (close would write them).
    monkeypatch.setattr(store.history, "write_tail", lambda: None)
    store.close(snapshot=False)
    assert paid.ticket_id.encode() not in (tmp_path / "history" / "open.jsonl").read_bytes()
    again = open_store(tmp_path, clock)
    assert _history_ids(again, paid.ticket_id) == [paid.meta.event_id]
    again.close()


class _Interrupted(_FullDisk):
    def fsync(self, fd: int) -> None:
        if self.fsync_fails:
            raise KeyboardInterrupt  # Ctrl-C in a console while the fsync runs
        os.fdatasync(fd)


def test_an_interrupt_in_the_fsync_leaves_the_state_as_the_disk_has_it(tmp_path: Path) -> None:
    ops = _Interrupted()
    store, work, _ = _one_commit_checkouts(tmp_path, ops)
    before, last = state_json(store.state), store.last_seq
    ops.fsync_fails = True
    with pytest.raises(KeyboardInterrupt):
        work.checkout(work.members[0])
    assert store.last_seq == last and state_json(store.state) == before
    ops.fsync_fails = False
    work.checkout(work.members[0])  # the journal continues where it was
    assert store.last_seq == last + 1
    store.close()


def test_a_state_that_cannot_be_reloaded_after_a_failed_fsync_stops_the_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ops = _FullDisk()
    store, work, _ = _one_commit_checkouts(tmp_path, ops)

    def unreadable() -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(store, "_newest_state", unreadable)
    ops.fsync_fails = True
    with pytest.raises(StoreError) as err:
        work.checkout(work.members[0])
    assert err.value.code is StoreErrorCode.NOT_DURABLE
    ops.fsync_fails = False
    with pytest.raises(StoreError) as refused:  # not on top of a state the disk lacks
        work.checkout(work.members[0])
    assert refused.value.code is StoreErrorCode.READ_ONLY
    monkeypatch.undo()
    store.close()


def test_a_failed_fsync_the_disk_will_not_undo_leaves_the_store_reading_not_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ops = _FullDisk()
    store, work, clock = _one_commit_checkouts(tmp_path, ops, members=5)
    before, last = state_json(store.state), store.last_seq

    def refused(fd: int, length: int) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    ops.fsync_fails = True
    monkeypatch.setattr(os, "ftruncate", refused)
    with pytest.raises(StoreError) as err:
        work.checkout(work.members[0])
    monkeypatch.undo()
    # The record is on the disk whole or in part, or not at all: the cashier is told so.
    assert err.value.code is StoreErrorCode.COMMIT_UNCERTAIN
    assert store.last_seq == last and state_json(store.state) == before
    assert store.member_by_mobile(mobile_of(0))  # reads go on
    ops.fsync_fails = False
    with pytest.raises(StoreError) as again:
        work.checkout(work.members[0])
    assert again.value.code is StoreErrorCode.READ_ONLY
    store.close()
    # Here the page cache kept the whole record, so the restarted store has the sale.
    reopened = open_store(tmp_path, clock)
    assert reopened.last_seq == last + 1
    ticket = next(e for e in events_of(next(reopened.journal.read_after(last)))
                  if isinstance(e, TicketPaid))
    assert ticket.ticket_id in reopened.state.tickets.tickets
    reopened.close()


def test_no_reader_sees_a_sale_before_its_fsync_returned(tmp_path: Path) -> None:
    class SlowDisk:
        def __init__(self) -> None:
            self.in_fsync = threading.Event()
            self.release = threading.Event()
            self.armed = False

        def write(self, fd: int, data: bytes) -> int:
            return os.write(fd, data)

        def fsync(self, fd: int) -> None:
            if self.armed:
                self.in_fsync.set()
                assert self.release.wait(10)
            os.fdatasync(fd)

    disk = SlowDisk()
    store, work, _ = _one_commit_checkouts(tmp_path, disk, members=2)
    disk.armed = True
    seller = threading.Thread(target=work.checkout, args=(work.members[0],))
    seller.start()
    assert disk.in_fsync.wait(10)
    seen: list[int] = []
    reader = threading.Thread(target=lambda: seen.append(store.read(
        lambda state: len(state.tickets.tickets))))
    reader.start()
    reader.join(0.3)
    assert seen == []  # the sale is applied by now, but the reader waits for the fsync
    disk.release.set()
    seller.join(10)
    reader.join(10)
    assert seen == [1]
    store.close()


def test_an_error_applying_the_events_commits_nothing_and_leaves_the_state_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, work, _ = _one_commit_checkouts(tmp_path, members=2)
    before, docs, last = state_json(store.state), store.projections.dump(), store.last_seq
    size = sum(p.stat().st_size for p in (tmp_path / "journal").iterdir())

    def broken(state: object, events: object, at: object) -> None:
        raise RuntimeError("a projection bug")

    monkeypatch.setattr(store.projections, "update", broken)
    with pytest.raises(RuntimeError, match="a projection bug"):
        work.checkout(work.members[0])  # the state has the sale applied, the projection not
    monkeypatch.undo()
    assert store.last_seq == last
    assert sum(p.stat().st_size for p in (tmp_path / "journal").iterdir()) == size
    assert state_json(store.state) == before and store.projections.dump() == docs
    work.checkout(work.members[0])
    assert store.last_seq == last + 1
    store.close()


def test_readers_never_see_half_a_ticket(tmp_path: Path) -> None:
    with busy_store(tmp_path, sales=0) as (store, work):
        stop = threading.Event()
        torn: list[str] = []

        def check(state: object) -> None:
            from salon.state import SalonState

            assert isinstance(state, SalonState)
            earned = dict.fromkeys(work.members, 0)
            for record in state.tickets.tickets.values():
                earned[record.paid.member_id] += sum(s.points_earned for s in record.paid.lines)
            torn.extend(m for m, n in earned.items() if state.points.lifetime_earned(m) != n)

        def reader() -> None:
            while not stop.is_set():
                store.read(check)

        threads = [threading.Thread(target=reader) for _ in range(2)]
        for t in threads:
            t.start()
        try:
            work.sales(60)
        finally:
            stop.set()
            for t in threads:
                t.join()
        assert len(store.state.tickets.tickets) == 60
        assert torn == []


def test_store_id_is_fixed_at_creation(tmp_path: Path) -> None:
    open_store(tmp_path).close()
    assert STORE_ID in (tmp_path / "store.json").read_text()


def test_a_snapshot_of_another_state_version_is_replaced_by_a_journal_replay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from edge_store import store as store_module

    with busy_store(tmp_path) as (store, _):
        before = state_json(store.state)
    monkeypatch.setattr(store_module, "STATE_VERSION", 99)
    again = open_store(tmp_path)
    assert again.snapshot_seq == 0  # nothing loaded: every record replayed
    assert state_json(again.state) == before
    again.close()


def test_the_snapshot_thread_prepares_the_spare_the_next_segment_is_made_of(
    tmp_path: Path,
) -> None:
    options = StoreOptions(snapshot_every_records=10, segment_bytes=256 * 1024)
    spare = tmp_path / "journal" / "next.spare"
    clock = ManualClock(DEMO_DAY)
    store = open_store(tmp_path, clock, options=options)
    assert not spare.exists(), "the open writes no spare: it would slow the start"
    work = workload(store, clock)
    work.setup()
    work.register(20)
    try:
        for _ in range(200):  # made after a snapshot once a quarter is used (~15 sales)
            if spare.exists():
                break
            work.sales(1)
            store.flush()  # the snapshot thread is done
        assert store.journal.segment_spans()[-1][3] >= 64 * 1024
        assert spare.stat().st_size == 256 * 1024
        segments = len(store.journal.segment_spans())
        while len(store.journal.segment_spans()) == segments:
            work.sales(1)
        path, *_, size = store.journal.segment_spans()[-1]
        assert path.stat().st_size == 256 * 1024 > size, "begun as the spare"
        work.sales(3)
        assert path.stat().st_size == 256 * 1024
        tickets = sorted(store.state.tickets.tickets)
        last = store.last_seq
    finally:
        store.close()
    again = open_store(tmp_path, options=options)
    try:
        assert again.last_seq == last
        assert sorted(again.state.tickets.tickets) == tickets
        assert not (tmp_path / "quarantine").exists()
    finally:
        again.close()
