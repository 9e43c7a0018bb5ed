"""Schedules, appointments, shifts, the walk-in queue and stock kept by the edge store:
through a snapshot and through a replay of the journal alone, the state reads back as it was."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

from store_support import open_store, state_json
from tinydb import Query

from edge_store.store import StoreOptions
from edge_store.verify import verify
from hub.demo_data import DEMO_DAY, DESK, MANAGER, STYLIST, seed
from salon.appointments import BookAppointment, CancelAppointment
from salon.errors import DomainError, ErrorCode
from salon.payments import Payment, PaymentMethod
from salon.queue import AssignNext, ClockIn, JoinQueue
from salon.schedules import AddScheduleException, ExceptionKind, Hours, SetHoliday, SetStaffSchedule
from salon.shifts import CashDirection, CloseShift, MoveCash, OpenShift
from salon.stock import CountStock, ReceiveStock, StartStockTake
from salon.testing import ManualClock


def _fill(path: Path, options: StoreOptions | None = None) -> object:
    clock = ManualClock(DEMO_DAY)
    store = open_store(path, clock, options=options)
    seed(store)  # type: ignore[arg-type]
    store.execute(SetStaffSchedule(actor_id=MANAGER, staff_id=STYLIST,
                                   week=tuple((Hours(600, 1140),) for _ in range(7))))
    store.execute(SetHoliday(actor_id=MANAGER, day=DEMO_DAY.date() + timedelta(days=3)))
    store.execute(AddScheduleException(actor_id=MANAGER, staff_id=STYLIST,
                                       day=DEMO_DAY.date() + timedelta(days=1),
                                       kind=ExceptionKind.LEAVE, hours=Hours(780, 900)))
    ids = []
    for hours in (1, 3, 5):
        (event,) = store.execute(BookAppointment(
            actor_id=DESK, service_ids=("CUT",), start=DEMO_DAY + timedelta(hours=hours),
            staff_id=STYLIST, guest_name="李女士", guest_mobile="13900000000"))
        ids.append(event.appointment.appointment_id)  # type: ignore[attr-defined]
    store.execute(CancelAppointment(actor_id=DESK, appointment_id=ids[1], reason="改天"))
    store.execute(OpenShift(actor_id=DESK, float_fen=20_000))
    store.execute(MoveCash(actor_id=DESK, direction=CashDirection.OUT, amount_fen=500,
                           reason="买水"))
    store.execute(CloseShift(actor_id=DESK, counted=(Payment(PaymentMethod.CASH, 19_500),)))
    store.execute(OpenShift(actor_id=DESK, float_fen=19_500))  # left open
    store.execute(ClockIn(actor_id=STYLIST))
    for name in ("甲", "乙"):
        store.execute(JoinQueue(actor_id=DESK, category="hair", guest_name=name,
                                guest_mobile="13700000000"))
    store.execute(AssignNext(actor_id=DESK, category="hair"))
    product = next(iter(store.state.catalog.products))
    store.execute(ReceiveStock(actor_id=MANAGER, lines=((product, 12),)))
    store.execute(StartStockTake(actor_id=MANAGER))
    store.execute(CountStock(actor_id=MANAGER, product_id=product, counted=11))  # left open
    before = state_json(store.state)
    store.close()
    return before


def test_appointments_and_schedules_read_back_from_a_snapshot(tmp_path: Path) -> None:
    before = _fill(tmp_path, StoreOptions(snapshot_at_close_records=1))
    again = open_store(tmp_path)
    assert again.snapshot_seq == again.last_seq  # read from the snapshot, nothing replayed
    assert state_json(again.state) == before
    assert len(again.state.appointments.by_code) == 2  # the indexes rebuilt: two live ones
    assert again.state.shifts.open_shift is not None and len(again.state.shifts.closed) == 1
    assert len(again.state.queue.waiting("hair")) == 1 and again.state.queue.rotation == [STYLIST]
    assert again.state.stock.take_counts and sum(again.state.stock.levels.values()) == 12
    again.close()


def test_appointments_and_schedules_replay_from_the_journal(tmp_path: Path) -> None:
    before = _fill(tmp_path, StoreOptions(snapshot_at_close_records=10**9))
    again = open_store(tmp_path)
    assert again.snapshot_seq == 0
    assert state_json(again.state) == before
    again.close()


def test_two_bookings_racing_for_one_slot_never_both_succeed(tmp_path: Path) -> None:
    clock = ManualClock(DEMO_DAY)
    store = open_store(tmp_path, clock)
    seed(store)  # type: ignore[arg-type]
    store.execute(SetStaffSchedule(actor_id=MANAGER, staff_id=STYLIST,
                                   week=tuple((Hours(600, 1140),) for _ in range(7))))
    start = DEMO_DAY + timedelta(hours=2)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def book(n: int) -> None:
        barrier.wait()
        try:
            store.execute(BookAppointment(
                actor_id=DESK, service_ids=("CUT",), start=start + timedelta(minutes=n % 3),
                staff_id=STYLIST, guest_name=f"顾客{n}", guest_mobile="13900000000"))
            outcomes.append("booked")
        except DomainError as err:
            outcomes.append(err.code.value)

    threads = [threading.Thread(target=book, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("booked") == 1
    assert outcomes.count(ErrorCode.STAFF_BUSY.value) == 7
    live = [a for a in store.state.appointments.appointments.values()]
    assert len(live) == 1
    store.close()


def test_appointments_stock_and_the_queue_are_queried_through_tinydb(tmp_path: Path) -> None:
    before = _fill(tmp_path / "a")
    store = open_store(tmp_path / "a")
    assert store.projections._appointments_unbuilt  # left to the first read
    booked = store.query("appointments", Query().status == "booked")
    assert len(booked) == 2 and {d["guest_name"] for d in booked} == {"李女士"}
    product = next(iter(store.state.catalog.products))
    (doc,) = store.query("stock", Query().product_id == product)
    assert doc["level"] == 12 and doc["on_price_list"]
    assert len(store.query("walk_ins", Query().status == "waiting")) == 1
    # Kept in step by commits: a cancel, a sale, a walk-in served.
    store.execute(CancelAppointment(actor_id=DESK, appointment_id=booked[0]["appointment_id"],
                                    reason="x"))
    assert len(store.query("appointments", Query().status == "booked")) == 1
    store.execute(ReceiveStock(actor_id=MANAGER, lines=((product, 3),)))
    assert store.query("stock", Query().product_id == product)[0]["level"] == 15
    assert verify(store).ok
    store.close()
    assert before
