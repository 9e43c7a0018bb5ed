"""Sales history: old tickets leave memory for monthly files and come back for a refund."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from edge_store.store import EdgeStore, StoreOptions
from edge_store.verify import verify
from hub.demo_data import DEMO_DAY, MANAGER, STYLIST
from salon.commissions import CommissionEarned, CommissionReversed
from salon.refunds import RefundTicket
from salon.sales import RefundRecharge
from salon.testing import ManualClock
from salon.tickets import RECENT_TICKET_DAYS, TicketPaid, TicketRefunded
from tests.store_support import open_store, state_json, workload

OPTIONS = StoreOptions(snapshot_every_records=50)


def _months_of_sales(path: Path, days: int = 150) -> tuple[EdgeStore, ManualClock, list[str]]:
    """A store selling 4 tickets a day for ``days`` days; the paid ticket ids, oldest first."""
    clock = ManualClock(DEMO_DAY)
    store = open_store(path, clock, options=OPTIONS)
    work = workload(store, clock)
    work.setup()
    work.register(15)
    tickets = []
    for _ in range(days):
        for _ in range(4):
            events = work.checkout(work.rng.choice(work.members))
            tickets.extend(e.ticket_id for e in events if isinstance(e, TicketPaid))
        clock.advance(days=1)
    return store, clock, tickets


def test_old_tickets_leave_memory_and_are_read_back_whole(tmp_path: Path) -> None:
    store, _, tickets = _months_of_sales(tmp_path)
    book = store.state.tickets
    assert len(book.tickets) <= 4 * (RECENT_TICKET_DAYS + 2)
    oldest = tickets[0]
    assert oldest not in book.tickets
    record = book.get(oldest)
    assert record is not None and record.paid.ticket_id == oldest
    months = sorted(p.name for p in (tmp_path / "history").glob("*.json") if p.stem[0] == "2")
    assert len(months) >= 4
    store.close()


def test_a_months_old_ticket_can_be_refunded_and_stays_refunded(tmp_path: Path) -> None:
    store, clock, tickets = _months_of_sales(tmp_path)
    oldest = tickets[0]
    events = store.execute(RefundTicket(
        actor_id=MANAGER, ticket_id=oldest, reason="顾客投诉"))
    assert any(isinstance(e, TicketRefunded) for e in events)
    record = store.state.tickets.get(oldest)
    assert record is not None and record.fully_refunded
    clock.advance(days=RECENT_TICKET_DAYS + 40)  # the refunded ticket leaves memory again
    work = workload(store, clock, seed=3)
    work.members = sorted(store.state.members.members)
    for _ in range(60):
        work.checkout(work.rng.choice(work.members))
    store.snapshot()  # syncs the history: the late refund folds in
    before = state_json(store.state)
    store.close()
    again = open_store(tmp_path, clock, options=OPTIONS)
    assert oldest not in again.state.tickets.tickets
    again_record = again.state.tickets.get(oldest)
    assert again_record is not None and again_record.fully_refunded
    assert state_json(again.state) == before
    report = verify(again)
    assert report.ok, report.differences
    month_file = json.loads((tmp_path / "history" / "2026-11.json").read_text())
    docs = {d["ticket_id"]: d for d in month_file["tickets"].values()}
    assert [e["type"] for e in docs[oldest]["events"]] == ["TicketPaid", "TicketRefunded"]
    again.close()


def test_history_lost_since_its_last_sync_is_rebuilt_from_the_journal(tmp_path: Path) -> None:
    store, clock, _ = _months_of_sales(tmp_path, days=20)
    store.snapshot()  # the history is durable up to here
    work = workload(store, clock, seed=5)
    work.members = sorted(store.state.members.members)
    unsynced = [e.ticket_id for _ in range(30) for e in work.checkout(work.members[0])
                if isinstance(e, TicketPaid)]
    store.close(snapshot=False)  # a power cut: what was not synced may be gone
    history = tmp_path / "history"
    synced = json.loads((history / "state.json").read_text())["open_bytes"]
    written = (history / "open.jsonl").read_bytes()  # by the commits, from the events
    (history / "open.jsonl").write_bytes(written[:synced])
    again = open_store(tmp_path, clock, options=OPTIONS)
    # Rebuilt from the journal's JSON, the lines are the very bytes the commits wrote
    # (held in memory until a sync or the close writes them).
    assert (history / "open.jsonl").read_bytes() == written[:synced]
    again.history.write_tail()
    assert len(written) > synced and (history / "open.jsonl").read_bytes() == written
    later = workload(again, clock, seed=6)
    later.members = work.members
    clock.advance(days=RECENT_TICKET_DAYS + 5)
    for _ in range(10):
        later.checkout(later.members[1])
    assert all(t not in again.state.tickets.tickets for t in unsynced)
    assert all(again.state.tickets.get(t) is not None for t in unsynced)
    report = verify(again)
    assert report.ok, report.differences
    again.close()


def test_a_replay_from_the_first_record_matches_the_running_state(tmp_path: Path) -> None:
    store, _, _ = _months_of_sales(tmp_path, days=100)
    report = verify(store)
    assert report.ok, report.differences
    assert report.records == store.last_seq
    store.close()


def test_a_months_old_recharge_is_refunded_with_the_commission_it_earned(tmp_path: Path) -> None:
    """The commission book holds no recharge; its refund reads the recharge's commission back
    from the history (a closed month file here, after a restart)."""
    clock = ManualClock(DEMO_DAY)
    store = open_store(tmp_path, clock, options=OPTIONS)
    work = workload(store, clock)
    work.setup()
    work.register(5)
    earned = next(e for e in work.recharge(work.members[0]) if isinstance(e, CommissionEarned))
    for _ in range(100):
        work.checkout(work.rng.choice(work.members[1:]))
        clock.advance(days=1)
    store.close()
    assert earned.source_id in (tmp_path / "history" / "2026-11.ids").read_text().split()
    again = open_store(tmp_path, clock, options=OPTIONS)
    assert again.state.commissions._recharges == {}
    lifetime = again.state.commissions.lifetime_fen(STYLIST)
    events = again.execute(RefundRecharge(actor_id=MANAGER, recharge_id=earned.source_id,
                                          reason="退卡"))
    (reversed_,) = [e for e in events if isinstance(e, CommissionReversed)]
    assert reversed_.entries == earned.entries  # nothing of it spent: all of it clawed back
    assert again.state.commissions.lifetime_fen(STYLIST) == lifetime - sum(
        e.amount_fen for e in earned.entries)
    # Refunded once, the recharge has no standing commission left to claw back.
    assert again.state.commissions.entries_of_source(earned.source_id) == ()
    report = verify(again)
    assert report.ok, report.differences
    again.close()


def test_lines_written_before_they_named_the_sale_s_first_event_are_still_indexed(
    tmp_path: Path,
) -> None:
    store, clock, tickets = _months_of_sales(tmp_path, days=12)
    store.snapshot()  # the history synced: its state names the open file's length
    store.close()
    history = tmp_path / "history"
    lines = [json.loads(raw) for raw in (history / "open.jsonl").read_bytes().splitlines()]
    assert lines and all(list(line)[-2:] == ["opens", "event"] for line in lines)
    older = b"".join(json.dumps({k: v for k, v in line.items() if k != "opens"},
                                ensure_ascii=False).encode() + b"\n" for line in lines)
    (history / "open.jsonl").write_bytes(older)
    state = json.loads((history / "state.json").read_text())
    (history / "state.json").write_text(json.dumps({**state, "open_bytes": len(older)}))
    again = open_store(tmp_path, clock, options=OPTIONS)
    newest = tickets[-1]
    assert [type(e) for e in again.history.events_of(newest)] == [TicketPaid]
    events = again.execute(RefundTicket(actor_id=MANAGER, ticket_id=newest, reason="退款"))
    assert any(isinstance(e, TicketRefunded) for e in events)
    # The refund is filed in its ticket's month, which the old line told the index.
    again.history.write_tail()
    paid_line, refund_line = [json.loads(raw) for raw in (history / "open.jsonl")
                              .read_bytes().splitlines() if json.loads(raw)["ticket"] == newest]
    assert refund_line["month"] == paid_line["month"] != "?"
    assert [type(e) for e in again.history.events_of(newest)] == [TicketPaid, TicketRefunded]
    report = verify(again)
    assert report.ok, report.differences
    again.close()


def test_a_month_is_filed_on_the_snapshot_thread_while_the_till_is_free(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writing a closed month's file takes seconds on a Pi: not under the writer's lock."""
    from edge_store.history import MonthClose, SalesHistory

    seen: list[tuple[str, bool]] = []  # (thread, whether it held the writer's lock)
    stores: list[EdgeStore] = []
    close_months, write_months = EdgeStore._close_months, SalesHistory.write_months

    def closing(self: EdgeStore, plan: MonthClose) -> None:
        stores.append(self)
        close_months(self, plan)

    def watched(self: SalesHistory, plan: MonthClose) -> None:
        seen.append((threading.current_thread().name, stores[-1]._lock._is_owned()))  # type: ignore[attr-defined]
        write_months(self, plan)

    monkeypatch.setattr(EdgeStore, "_close_months", closing)
    monkeypatch.setattr(SalesHistory, "write_months", watched)
    store, _, tickets = _months_of_sales(tmp_path, days=75)
    store.flush()
    assert seen and all(name == "snapshot-writer" and not held for name, held in seen)
    filed = {p.stem for p in (tmp_path / "history").glob("2*.ids")}
    assert len(filed) >= 2
    open_lines = (tmp_path / "history" / "open.jsonl").read_text(encoding="utf-8").splitlines()
    current = max(json.loads(line)["month"] for line in open_lines)
    assert all(json.loads(line)["month"] not in filed or json.loads(line)["month"] == current
               for line in open_lines)
    assert store.state.tickets.get(tickets[0]) is not None  # read back from its month file
    store.close()
    again = open_store(tmp_path, options=OPTIONS)
    assert verify(again).ok
    assert again.state.tickets.get(tickets[0]) is not None
    again.close()


def test_a_month_that_could_not_be_filed_stays_open_and_is_filed_next_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from edge_store.history import MonthClose, SalesHistory

    write_months = SalesHistory.write_months
    failures = [OSError(28, "No space left on device")]

    def full_disk(self: SalesHistory, plan: MonthClose) -> None:
        if failures:
            raise failures.pop()
        write_months(self, plan)

    monkeypatch.setattr(SalesHistory, "write_months", full_disk)
    clock = ManualClock(DEMO_DAY)
    never = StoreOptions(snapshot_every_records=10**6, snapshot_every_seconds=10**9)
    store = open_store(tmp_path, clock, options=never)  # snapshots only when the test says
    work = workload(store, clock)
    work.setup()
    work.register(5)
    first = [e.ticket_id for e in work.checkout(work.members[0]) if isinstance(e, TicketPaid)]
    clock.advance(days=40)  # the next sale is a month later: the first month can close
    work.checkout(work.members[1])
    store._start_snapshot()  # the policy's path: the month is filed on the thread
    store.flush()
    month = DEMO_DAY.strftime("%Y-%m")
    assert not (tmp_path / "history" / f"{month}.ids").exists()  # the disk was full
    opened = (tmp_path / "history" / "open.jsonl").read_text(encoding="utf-8")
    assert f'"month":"{month}"' in opened  # nothing lost: still in the open file
    assert store.state.tickets.get(first[0]) is not None
    store._start_snapshot()
    store.flush()
    assert first[0] in (tmp_path / "history" / f"{month}.ids").read_text().split()
    opened = (tmp_path / "history" / "open.jsonl").read_text(encoding="utf-8")
    assert f'"month":"{month}"' not in opened
    assert store.state.tickets.get(first[0]) is not None
    store.close()
