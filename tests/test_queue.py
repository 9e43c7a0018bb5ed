"""Clocking in, the walk-in queue and the rotation board (轮牌): turns, skips, designated
requests, estimated waits, and every refusal with its code and an unchanged state."""

from __future__ import annotations

from support import DESK, MANAGER, STYLIST, STYLIST2, assert_refused, make_salon
from test_checkout import member

from salon.appointments import BookAppointment, CheckInAppointment, StartAppointment
from salon.engine import Salon
from salon.errors import ErrorCode
from salon.queue import (
    AssignNext,
    ClockIn,
    ClockOut,
    FinishWalkIn,
    JoinQueue,
    LeaveQueue,
    SetAway,
    StaffState,
    TakeNext,
    WalkInAssigned,
    WalkInStatus,
    estimated_waits,
    staff_state,
)
from salon.schedules import Hours, SetStaffSchedule
from salon.testing import ManualClock


def _join(salon: Salon, name: str = "王先生", **kw: object) -> str:
    kw = {"guest_name": name, "guest_mobile": "13700000000", **kw} if "member_id" not in kw \
        else kw
    (event,) = salon.execute(JoinQueue(actor_id=DESK, category="hair", **kw))  # type: ignore[arg-type]
    return event.walk_in.walk_in_id  # type: ignore[attr-defined, no-any-return]


def _assign(salon: Salon) -> WalkInAssigned:
    (event,) = salon.execute(AssignNext(actor_id=DESK, category="hair"))
    assert isinstance(event, WalkInAssigned)
    return event


def _on_duty(clock: ManualClock, salon: Salon, *staff: str) -> None:
    for staff_id in staff:
        salon.execute(ClockIn(actor_id=staff_id))
        clock.advance(minutes=1)


def test_walk_ins_go_to_idle_stylists_in_turn_and_the_turn_moves_on() -> None:
    salon, clock = make_salon()
    _on_duty(clock, salon, STYLIST, STYLIST2, MANAGER)
    first, second, third = _join(salon, "甲"), _join(salon, "乙"), _join(salon, "丙")
    queue = salon.state.queue
    assert [w.number for w in queue.waiting("hair")] == [1, 2, 3]
    # In clock-in order; each one given a walk-in goes to the back.
    assert [s for s, _ in queue.board(salon.state, "hair")] == [STYLIST, STYLIST2, MANAGER]
    assert _assign(salon).staff_id == STYLIST
    assert _assign(salon).staff_id == STYLIST2
    assert staff_state(salon.state, STYLIST) is StaffState.IN_SERVICE
    # The manager steps out: skipped, keeping the place; nobody else is idle.
    salon.execute(SetAway(actor_id=MANAGER))
    assert_refused(salon, AssignNext(actor_id=DESK, category="hair"), ErrorCode.NO_STAFF_IDLE)
    salon.execute(FinishWalkIn(actor_id=DESK, walk_in_id=first))
    assert _assign(salon).staff_id == STYLIST  # the manager is away; Tony is idle again
    assert [s for s, _ in queue.board(salon.state, "hair")] == [MANAGER, STYLIST2, STYLIST]
    assert queue.walk_ins[third].status is WalkInStatus.IN_SERVICE
    assert second in queue.walk_ins and first not in queue.walk_ins


def test_a_designated_request_waits_for_its_stylist_and_moves_no_one() -> None:
    salon, clock = make_salon()
    _on_duty(clock, salon, STYLIST, STYLIST2)
    salon.execute(SetAway(actor_id=STYLIST2))
    wants_amy = _join(salon, "甲", designated_staff_id=STYLIST2)
    anyone = _join(salon, "乙")
    # Amy is away: her customer waits; the next one, for anyone, goes to Tony.
    event = _assign(salon)
    assert (event.walk_in_id, event.staff_id, event.by_rotation) == (anyone, STYLIST, True)
    salon.execute(SetAway(actor_id=STYLIST2, away=False))
    event = _assign(salon)
    assert (event.walk_in_id, event.staff_id, event.by_rotation) == (wants_amy, STYLIST2, False)
    queue = salon.state.queue
    assert queue.designated_counts == {STYLIST2: 1}
    assert queue.rotation == [STYLIST2, STYLIST]  # Amy's designated one was not her turn


def test_a_stylist_takes_the_next_customer_waiting_for_them_first() -> None:
    salon, clock = make_salon()
    _on_duty(clock, salon, STYLIST, STYLIST2)
    anyone = _join(salon, "甲")
    wants_tony = _join(salon, "乙", designated_staff_id=STYLIST)
    (event,) = salon.execute(TakeNext(actor_id=STYLIST2, category="hair"))
    assert event.walk_in_id == anyone  # type: ignore[attr-defined]
    (event,) = salon.execute(TakeNext(actor_id=STYLIST, category="hair"))
    assert event.walk_in_id == wants_tony and not event.by_rotation  # type: ignore[attr-defined]
    assert_refused(salon, TakeNext(actor_id=STYLIST, category="hair"), ErrorCode.STAFF_NOT_IDLE)


def test_estimated_waits_follow_the_services_in_progress() -> None:
    salon, clock = make_salon()
    _on_duty(clock, salon, STYLIST, STYLIST2)
    for name in ("甲", "乙"):
        _join(salon, name, service_id="cut")  # 45 minutes
    _assign(salon)
    _assign(salon)
    clock.advance(minutes=15)
    c = _join(salon, "丙", service_id="cut")
    d = _join(salon, "丁", service_id="cut")
    e = _join(salon, "戊", service_id="cut")
    waits = estimated_waits(salon.state, "hair", clock())
    # Both free in 30 minutes (45 from their start, 15 ago); the fifth waits a cut more.
    assert waits == {c: 30, d: 30, e: 75}


def test_queue_refusals_leave_the_state_unchanged() -> None:
    salon, _ = make_salon()
    assert_refused(salon, ClockOut(actor_id=STYLIST), ErrorCode.NOT_CLOCKED_IN)
    assert_refused(salon, SetAway(actor_id=STYLIST), ErrorCode.NOT_CLOCKED_IN)
    salon.execute(ClockIn(actor_id=STYLIST))
    assert_refused(salon, ClockIn(actor_id=STYLIST), ErrorCode.ALREADY_CLOCKED_IN)
    assert_refused(salon, ClockIn(actor_id="nobody"), ErrorCode.UNKNOWN_STAFF)
    assert_refused(salon, AssignNext(actor_id=DESK, category="hair"), ErrorCode.QUEUE_EMPTY)
    assert_refused(salon, JoinQueue(actor_id=DESK, category="nails", guest_name="x",
                                    guest_mobile="13700000000"), ErrorCode.INVALID_INPUT)
    assert_refused(salon, JoinQueue(actor_id=DESK, category="hair", service_id="facial",
                                    guest_name="x", guest_mobile="13700000000"),
                   ErrorCode.INVALID_INPUT)
    assert_refused(salon, JoinQueue(actor_id=DESK, category="hair", guest_name="",
                                    guest_mobile="13700000000"), ErrorCode.INVALID_NAME)
    assert_refused(salon, JoinQueue(actor_id=DESK, category="hair", guest_name="x",
                                    guest_mobile="12"), ErrorCode.INVALID_MOBILE)
    assert_refused(salon, JoinQueue(actor_id=DESK, category="hair", member_id="nope"),
                   ErrorCode.UNKNOWN_MEMBER)
    m = member(salon)
    walk_in = _join(salon, member_id=m)
    assert_refused(salon, JoinQueue(actor_id=DESK, category="hair", member_id=m),
                   ErrorCode.ALREADY_IN_QUEUE)
    assert_refused(salon, FinishWalkIn(actor_id=DESK, walk_in_id=walk_in),
                   ErrorCode.WALK_IN_STATUS)
    assert_refused(salon, FinishWalkIn(actor_id=DESK, walk_in_id="x"), ErrorCode.UNKNOWN_WALK_IN)
    _assign(salon)
    assert_refused(salon, ClockOut(actor_id=STYLIST), ErrorCode.STAFF_IN_SERVICE)
    assert_refused(salon, LeaveQueue(actor_id=DESK, walk_in_id=walk_in, reason="等太久"),
                   ErrorCode.WALK_IN_STATUS)
    assert_refused(salon, FinishWalkIn(actor_id=DESK, walk_in_id=walk_in, ticket_id="T-x"),
                   ErrorCode.UNKNOWN_TICKET)
    left = _join(salon, "乙")
    salon.execute(LeaveQueue(actor_id=DESK, walk_in_id=left, reason="等太久"))
    assert left not in salon.state.queue.walk_ins


def test_numbers_start_again_each_business_day_and_yesterdays_waiting_are_gone() -> None:
    salon, clock = make_salon()
    yesterday = _join(salon, "甲")
    assert salon.state.queue.walk_ins[yesterday].number == 1
    _join(salon, "乙")
    clock.advance(days=1)
    today = _join(salon, "丙")
    queue = salon.state.queue
    assert queue.walk_ins[today].number == 1
    assert [w.walk_in_id for w in queue.waiting("hair")] == [today]


def test_a_stylist_serving_an_appointment_is_free_when_it_ends() -> None:
    salon, clock = make_salon()
    salon.execute(SetStaffSchedule(actor_id=MANAGER, staff_id=STYLIST,
                                   week=tuple((Hours(600, 1260),) for _ in range(7))))
    _on_duty(clock, salon, STYLIST)
    (booked,) = salon.execute(BookAppointment(
        actor_id=DESK, service_ids=("cut",), start=clock(), staff_id=STYLIST,
        guest_name="李女士", guest_mobile="13900000000"))
    appointment_id = booked.appointment.appointment_id  # type: ignore[attr-defined]
    salon.execute(CheckInAppointment(actor_id=DESK, appointment_id=appointment_id))
    salon.execute(StartAppointment(actor_id=STYLIST, appointment_id=appointment_id))
    clock.advance(minutes=15)
    walk_in = _join(salon, "甲")
    # The cut (45 minutes) started 15 minutes ago: Tony is free in 30.
    assert estimated_waits(salon.state, "hair", clock()) == {walk_in: 30}
    assert_refused(salon, AssignNext(actor_id=DESK, category="hair"), ErrorCode.NO_STAFF_IDLE)
