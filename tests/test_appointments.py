"""Schedules and appointments: every refusal with its code and an unchanged state, the
free slots, the statuses, and (a property) no two live appointments of one staff member
overlap after any sequence of book / reschedule / cancel."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import DESK, MANAGER, SERVICES, START, STYLIST, STYLIST2, assert_refused, make_salon

from salon.admin import PublishPriceList
from salon.appointments import (
    ANY_STAFF,
    KEPT_DAYS,
    LIVE,
    Appointment,
    AppointmentBook,
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentDepositKept,
    AppointmentDepositReturned,
    AppointmentRefused,
    AppointmentStatus,
    BookAppointment,
    CancelAppointment,
    CheckInAppointment,
    CompleteAppointment,
    MarkNoShow,
    RescheduleAppointment,
    StartAppointment,
    appointment_to_check_in,
    day_view,
    free_slots,
    no_show_count,
)
from salon.catalog import ItemKind, Service
from salon.checkout import Checkout
from salon.engine import Salon
from salon.errors import DomainError, ErrorCode
from salon.events import EventMeta
from salon.members import RegisterMember
from salon.payments import Payment, PaymentMethod
from salon.pricing import LineDraft
from salon.schedules import (
    AddResource,
    AddScheduleException,
    ExceptionKind,
    Hours,
    RemoveScheduleException,
    RetireResource,
    SetHoliday,
    SetStaffSchedule,
    SetStoreHours,
    at_local,
    local_day,
)
from salon.shifts import OpenShift
from salon.testing import ManualClock

MONDAY = date(2026, 3, 2)  # START is 10:00 that Monday in Shanghai


def _week(start_h: int, end_h: int) -> tuple[tuple[Hours, ...], ...]:
    return tuple((Hours(start_h * 60, end_h * 60),) for _ in range(7))


def _salon() -> tuple[Salon, ManualClock]:
    salon, clock = make_salon()
    # Cutting takes 45 minutes and 15 to clean up after; colour 120 and 30; a facial
    # needs a bed (the store has one).
    services = tuple(
        Service(s.service_id, s.name, s.category, s.price_fen, s.duration_min, s.staff_levels,
                buffer_min={"cut": 15, "color": 30}.get(s.service_id, 0),
                resource_kind="bed" if s.service_id == "facial" else "")
        for s in SERVICES)
    salon.execute(PublishPriceList(actor_id="hq", version=2, services=services,
                                   products=(), plans=()))
    salon.execute(SetStaffSchedule(actor_id=MANAGER, staff_id=STYLIST, week=_week(10, 19)))
    salon.execute(SetStaffSchedule(actor_id=MANAGER, staff_id=STYLIST2, week=_week(12, 21)))
    salon.execute(AddResource(actor_id=MANAGER, kind="bed", name="床位1"))
    return salon, clock


def _at(hour: int, minute: int = 0, day: date = MONDAY) -> datetime:
    return datetime.combine(day, datetime.min.time()).replace(
        hour=hour, minute=minute, tzinfo=START.tzinfo) - timedelta(hours=8)


def _member(salon: Salon, mobile: str = "13812345678") -> str:
    (event,) = salon.execute(RegisterMember(actor_id=DESK, name="张三", mobile=mobile))
    return event.member_id  # type: ignore[attr-defined, no-any-return]


def _book(salon: Salon, at: datetime, staff: str = STYLIST, services: tuple[str, ...] = ("cut",),
          member_id: str = "", **kw: object) -> str:
    if not member_id and "guest_name" not in kw:
        kw = {"guest_name": "李女士", "guest_mobile": "13900000000", **kw}
    event, *_ = salon.execute(BookAppointment(actor_id=DESK, service_ids=services, start=at,
                                              staff_id=staff, member_id=member_id, **kw))
    return event.appointment.appointment_id  # type: ignore[attr-defined, no-any-return]


def test_a_booking_holds_the_staff_member_for_the_services_and_their_buffers() -> None:
    salon, _ = _salon()
    member = _member(salon)
    appt_id = _book(salon, _at(11), services=("cut", "wash"), member_id=member)
    appt = salon.state.appointments.get(appt_id)
    assert appt.staff_id == STYLIST and appt.designated and appt.member_id == member
    assert appt.end - appt.start == timedelta(minutes=45 + 15 + 20)
    assert appt.status is AppointmentStatus.BOOKED and len(appt.code) == 6
    assert salon.state.appointments.by_check_in_code(appt.code) == appt
    assert [a.appointment_id for a in day_view(salon.state, MONDAY)[STYLIST]] == [appt_id]


def test_an_overlap_for_one_staff_member_is_refused_with_the_next_free_slots() -> None:
    salon, _ = _salon()
    _book(salon, _at(11))  # 11:00-12:00 with the buffer
    err = assert_refused(salon, BookAppointment(
        actor_id=DESK, service_ids=("cut",), start=_at(11, 30), staff_id=STYLIST,
        guest_name="王先生", guest_mobile="13700000000"), ErrorCode.STAFF_BUSY)
    assert isinstance(err, AppointmentRefused)
    assert [s.start for s in err.suggestions] == [_at(12), _at(12, 15), _at(12, 30)]
    assert all(s.staff_id == STYLIST for s in err.suggestions)
    assert err.params["next_free"].startswith(f"{STYLIST}@")
    # The buffer counts: 12:00 is free, 11:45 is not.
    assert_refused(salon, BookAppointment(
        actor_id=DESK, service_ids=("wash",), start=_at(11, 45), staff_id=STYLIST,
        guest_name="王先生", guest_mobile="13700000000"), ErrorCode.STAFF_BUSY)
    _book(salon, _at(12), services=("wash",))


def test_times_outside_the_schedule_or_the_store_hours_are_refused() -> None:
    salon, _ = _salon()
    guest = {"guest_name": "王先生", "guest_mobile": "13700000000"}
    # Tony works 10-19: a cut at 18:30 ends 19:30.
    assert_refused(salon, BookAppointment(actor_id=DESK, service_ids=("cut",), start=_at(18, 30),
                                          staff_id=STYLIST, **guest), ErrorCode.STAFF_NOT_WORKING)
    # The store closes at 22:00 whoever works.
    salon.execute(SetStaffSchedule(actor_id=MANAGER, staff_id=STYLIST2, week=_week(12, 23)))
    assert_refused(salon, BookAppointment(actor_id=DESK, service_ids=("wash",), start=_at(21, 50),
                                          staff_id=STYLIST2, **guest), ErrorCode.STORE_CLOSED)
    # A holiday closes the whole day; the refusal proposes the next day.
    salon.execute(SetHoliday(actor_id=MANAGER, day=MONDAY + timedelta(days=1), note="店休"))
    err = assert_refused(salon, BookAppointment(
        actor_id=DESK, service_ids=("cut",), start=_at(11, day=MONDAY + timedelta(days=1)),
        staff_id=STYLIST, **guest), ErrorCode.STORE_CLOSED)
    assert isinstance(err, AppointmentRefused)
    assert err.suggestions[0].start == _at(10, day=MONDAY + timedelta(days=2))
    # New opening hours: from 11 only.
    salon.execute(SetStoreHours(actor_id=MANAGER, week=_week(11, 20)))
    assert_refused(salon, BookAppointment(actor_id=DESK, service_ids=("cut",), start=_at(10, 15),
                                          staff_id=STYLIST, **guest), ErrorCode.STORE_CLOSED)


def test_leave_takes_hours_away_and_an_extra_shift_adds_them() -> None:
    salon, _ = _salon()
    (leave,) = salon.execute(AddScheduleException(
        actor_id=MANAGER, staff_id=STYLIST, day=MONDAY, kind=ExceptionKind.LEAVE,
        hours=Hours(13 * 60, 15 * 60), note="看病"))
    assert salon.state.schedules.working_hours(STYLIST, MONDAY) == (
        Hours(600, 780), Hours(900, 1140))
    guest = {"guest_name": "王先生", "guest_mobile": "13700000000"}
    assert_refused(salon, BookAppointment(actor_id=DESK, service_ids=("wash",), start=_at(13),
                                          staff_id=STYLIST, **guest), ErrorCode.STAFF_NOT_WORKING)
    salon.execute(RemoveScheduleException(actor_id=MANAGER,
                                          exception_id=leave.exception.exception_id))  # type: ignore[attr-defined]
    _book(salon, _at(13), services=("wash",))
    salon.execute(AddScheduleException(
        actor_id=MANAGER, staff_id=STYLIST, day=MONDAY, kind=ExceptionKind.EXTRA,
        hours=Hours(19 * 60, 21 * 60)))
    _book(salon, _at(19, 30))
    assert_refused(salon, RemoveScheduleException(actor_id=MANAGER, exception_id="nope"),
                   ErrorCode.UNKNOWN_SCHEDULE_EXCEPTION)
    # A year on, the day's changes leave the book when a new one is added.
    assert len(salon.state.schedules.exceptions) == 1
    salon.execute(AddScheduleException(
        actor_id=MANAGER, staff_id=STYLIST, day=MONDAY + timedelta(days=400),
        kind=ExceptionKind.LEAVE, hours=Hours(600, 700)))
    assert [e.day for e in salon.state.schedules.exceptions.values()] == [
        MONDAY + timedelta(days=400)]


def test_staff_not_qualified_unknown_inactive_and_bad_input_are_refused() -> None:
    salon, _ = _salon()
    guest = {"guest_name": "王先生", "guest_mobile": "13700000000"}
    # Colour needs a senior or a director; Amy is junior.
    assert_refused(salon, BookAppointment(actor_id=DESK, service_ids=("color",), start=_at(13),
                                          staff_id=STYLIST2, **guest),
                   ErrorCode.STAFF_NOT_QUALIFIED)
    assert_refused(salon, BookAppointment(actor_id=DESK, service_ids=("cut",), start=_at(13),
                                          staff_id="ghost", **guest), ErrorCode.UNKNOWN_STAFF)
    assert_refused(salon, BookAppointment(actor_id=DESK, service_ids=("perm",), start=_at(13),
                                          staff_id=STYLIST, **guest), ErrorCode.UNKNOWN_SERVICE)
    assert_refused(salon, BookAppointment(actor_id=DESK, service_ids=(), start=_at(13),
                                          staff_id=STYLIST, **guest), ErrorCode.INVALID_INPUT)
    assert_refused(salon, BookAppointment(actor_id=DESK, service_ids=("cut",), start=_at(13),
                                          staff_id=STYLIST, guest_name="王先生",
                                          guest_mobile="123"), ErrorCode.INVALID_MOBILE)
    assert_refused(salon, BookAppointment(actor_id=DESK, service_ids=("cut",), start=_at(13),
                                          staff_id=STYLIST), ErrorCode.INVALID_NAME)
    assert_refused(salon, BookAppointment(actor_id=DESK, service_ids=("cut",), start=_at(13),
                                          member_id="nobody"), ErrorCode.UNKNOWN_MEMBER)
    assert_refused(salon, BookAppointment(actor_id="stranger", service_ids=("cut",),
                                          start=_at(13), **guest), ErrorCode.UNKNOWN_STAFF)


def test_the_past_and_too_far_ahead_are_refused() -> None:
    salon, clock = _salon()
    clock.advance(hours=3)  # 13:00
    guest = {"guest_name": "王先生", "guest_mobile": "13700000000"}
    assert_refused(salon, BookAppointment(actor_id=DESK, service_ids=("cut",), start=_at(12),
                                          staff_id=STYLIST, **guest), ErrorCode.APPOINTMENT_IN_PAST)
    assert_refused(salon, BookAppointment(
        actor_id=DESK, service_ids=("cut",), start=_at(12, day=MONDAY + timedelta(days=61)),
        staff_id=STYLIST, **guest), ErrorCode.APPOINTMENT_TOO_FAR)


def test_anyone_goes_to_a_free_qualified_staff_member_spreading_the_day() -> None:
    salon, _ = _salon()
    first = salon.state.appointments.get(_book(salon, _at(13), staff=ANY_STAFF))
    second = salon.state.appointments.get(_book(salon, _at(13), staff=ANY_STAFF))
    # Two stylists, the manager (a director) and the owner can cut; the ones working at
    # 13:00 are Tony and Amy (the others have no schedule).
    assert {first.staff_id, second.staff_id} == {STYLIST, STYLIST2}
    assert not first.designated
    err = assert_refused(salon, BookAppointment(
        actor_id=DESK, service_ids=("cut",), start=_at(13, 30), guest_name="赵女士",
        guest_mobile="13600000000"), ErrorCode.NO_STAFF_FREE)
    assert isinstance(err, AppointmentRefused) and err.suggestions[0].start == _at(14)
    # Colour: only Tony is senior.
    colour = salon.state.appointments.get(_book(salon, _at(15), staff=ANY_STAFF,
                                                services=("color",)))
    assert colour.staff_id == STYLIST


def test_free_slots_leave_out_booked_time_and_the_past() -> None:
    salon, clock = _salon()
    _book(salon, _at(11))  # Tony 11:00-12:00
    slots = free_slots(salon.state, ("cut",), MONDAY, clock())
    tony = [s.start for s in slots[STYLIST]]
    assert tony[:5] == [_at(10), _at(12), _at(12, 15), _at(12, 30), _at(12, 45)]
    assert tony[-1] == _at(18)  # the last cut with its buffer ends at 19:00
    assert slots[STYLIST2][0].start == _at(12)
    clock.advance(hours=5)  # 15:00
    assert free_slots(salon.state, ("cut",), MONDAY, clock())[STYLIST][0].start == _at(15)


def test_reschedule_checks_as_booking_does_and_frees_the_old_time() -> None:
    salon, _ = _salon()
    moving = _book(salon, _at(11))
    other = _book(salon, _at(14))
    assert_refused(salon, RescheduleAppointment(actor_id=DESK, appointment_id=moving,
                                                start=_at(13, 30)), ErrorCode.STAFF_BUSY)
    # Onto its own time, shifted a little: it does not clash with itself.
    salon.execute(RescheduleAppointment(actor_id=DESK, appointment_id=moving, start=_at(11, 15)))
    salon.execute(RescheduleAppointment(actor_id=DESK, appointment_id=moving, start=_at(16),
                                        staff_id=STYLIST2))
    appt = salon.state.appointments.get(moving)
    assert (appt.staff_id, appt.start, appt.designated) == (STYLIST2, _at(16), True)
    _book(salon, _at(11))  # Tony's old time is free again
    assert salon.state.appointments.get(other).start == _at(14)
    assert_refused(salon, RescheduleAppointment(actor_id=DESK, appointment_id="x",
                                                start=_at(16)), ErrorCode.UNKNOWN_APPOINTMENT)


def test_cancel_needs_a_reason_marks_late_ones_and_frees_the_slot() -> None:
    salon, clock = _salon()
    early = _book(salon, _at(15))
    late = _book(salon, _at(11))
    assert_refused(salon, CancelAppointment(actor_id=DESK, appointment_id=early, reason=" "),
                   ErrorCode.INVALID_INPUT)
    salon.execute(CancelAppointment(actor_id=DESK, appointment_id=early, reason="临时有事"))
    salon.execute(CancelAppointment(actor_id=DESK, appointment_id=late, reason="堵车"))
    a, b = salon.state.appointments.get(early), salon.state.appointments.get(late)
    assert a.status is b.status is AppointmentStatus.CANCELLED
    assert (a.late_cancel, b.late_cancel) == (False, True)  # the cutoff is 2 hours
    assert a.cancel_reason == "临时有事"
    _book(salon, _at(15))
    assert_refused(salon, CancelAppointment(actor_id=DESK, appointment_id=early, reason="x"),
                   ErrorCode.APPOINTMENT_STATUS)
    assert clock() == START


def test_check_in_start_and_complete_link_the_ticket() -> None:
    salon, clock = _salon()
    appt_id = _book(salon, _at(12))
    assert_refused(salon, CheckInAppointment(actor_id=DESK, appointment_id=appt_id),
                   ErrorCode.CHECK_IN_WINDOW)  # 10:00: more than an hour early
    assert_refused(salon, StartAppointment(actor_id=DESK, appointment_id=appt_id),
                   ErrorCode.APPOINTMENT_STATUS)
    clock.advance(hours=1, minutes=30)
    salon.execute(CheckInAppointment(actor_id=DESK, appointment_id=appt_id))
    salon.execute(StartAppointment(actor_id=STYLIST, appointment_id=appt_id))
    assert_refused(salon, CompleteAppointment(actor_id=DESK, appointment_id=appt_id,
                                              ticket_id="T-none"), ErrorCode.UNKNOWN_TICKET)
    assert salon.state.appointments.get(appt_id).status is AppointmentStatus.IN_SERVICE


def test_a_no_show_is_marked_after_the_grace_period_and_counted() -> None:
    salon, clock = _salon()
    member = _member(salon)
    ids = [_book(salon, _at(h), member_id=member) for h in (11, 13, 15)]
    assert_refused(salon, MarkNoShow(actor_id=DESK, appointment_id=ids[0]),
                   ErrorCode.NO_SHOW_TOO_EARLY)
    clock.advance(hours=6)  # 16:00
    for appt_id in ids[:2]:
        salon.execute(MarkNoShow(actor_id=DESK, appointment_id=appt_id))
    assert no_show_count(salon.state, member, clock()) == 2
    # A third no-show: the next booking is flagged (3 in 90 days).
    assert not salon.state.appointments.get(_book(salon, _at(17), member_id=member)).flagged
    salon.execute(MarkNoShow(actor_id=DESK, appointment_id=ids[2]))
    flagged = salon.state.appointments.get(_book(salon, _at(17, 30), staff=STYLIST2,
                                                 member_id=member))
    assert flagged.flagged
    assert_refused(salon, CheckInAppointment(actor_id=DESK, appointment_id=ids[0]),
                   ErrorCode.APPOINTMENT_STATUS)
    # A no-show frees the time it held.
    assert salon.state.appointments.get(ids[0]).status not in LIVE


# ---------------------------------------------------------------- the property

OPS = st.lists(
    st.one_of(
        st.tuples(st.just("book"), st.sampled_from([STYLIST, STYLIST2, ANY_STAFF]),
                  st.integers(0, 47), st.sampled_from([("cut",), ("wash",), ("cut", "wash"),
                                                       ("color",), ("wash", "facial")])),
        st.tuples(st.just("move"), st.integers(0, 30), st.integers(0, 47),
                  st.sampled_from([None, STYLIST, STYLIST2, ANY_STAFF])),
        st.tuples(st.just("cancel"), st.integers(0, 30)),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OPS)
def test_no_two_live_appointments_of_one_staff_member_ever_overlap(
    ops: list[tuple[object, ...]],
) -> None:
    salon, _ = _salon()
    booked: list[str] = []
    for op in ops:
        try:
            if op[0] == "book":
                _, staff, slot, services = op
                booked.append(_book(salon, _at(10) + timedelta(minutes=15 * int(slot)),  # type: ignore[call-overload]
                                    staff=str(staff), services=services))  # type: ignore[arg-type]
            elif op[0] == "move" and booked:
                _, which, slot, staff = op
                salon.execute(RescheduleAppointment(
                    actor_id=DESK, appointment_id=booked[int(which) % len(booked)],  # type: ignore[call-overload]
                    start=_at(10) + timedelta(minutes=15 * int(slot)), staff_id=staff))  # type: ignore[call-overload, arg-type]
            elif op[0] == "cancel" and booked:
                salon.execute(CancelAppointment(
                    actor_id=DESK, appointment_id=booked[int(op[1]) % len(booked)],  # type: ignore[call-overload]
                    reason="test"))
        except DomainError:
            pass
        live = [a for a in salon.state.appointments.appointments.values() if a.status in LIVE]
        for a in live:
            hours = salon.state.schedules.working_hours(a.staff_id, local_day(salon.state,
                                                                              a.start))
            assert any(at_local(salon.state, MONDAY, h.start_min) <= a.start
                       and a.end <= at_local(salon.state, MONDAY, h.end_min) for h in hours)
            for b in live:
                if a is not b and a.staff_id == b.staff_id:
                    assert a.end <= b.start or b.end <= a.start, (a, b)
        holds = [(h, a) for a in live for h in a.resources]
        assert len(holds) == sum("facial" in a.service_ids for a in live)
        for h, a in holds:
            for k, b in holds:
                if a is not b and h.resource_id == k.resource_id:
                    assert h.end <= k.start or k.end <= h.start, (a, b)


def test_the_book_rebuilds_its_indexes_from_its_records() -> None:
    salon, _ = _salon()
    for h in (11, 13, 15):
        _book(salon, _at(h))
    salon.execute(CancelAppointment(actor_id=DESK, appointment_id=_book(salon, _at(17)),
                                    reason="x"))
    book = salon.state.appointments
    indexes = (dict(book.by_staff_day), dict(book.by_code))
    book.reindex()
    assert (book.by_staff_day, book.by_code) == indexes
    assert len(book.by_code) == 3


@pytest.mark.parametrize("actor", [STYLIST, DESK, MANAGER])
def test_who_may_book_and_who_may_set_schedules(actor: str) -> None:
    salon, _ = _salon()
    salon.execute(BookAppointment(actor_id=actor, service_ids=("wash",), start=_at(12),
                                  staff_id=STYLIST2, guest_name="王先生",
                                  guest_mobile="13700000000"))
    command = SetStaffSchedule(actor_id=actor, staff_id=STYLIST, week=_week(9, 18))
    if actor == MANAGER:
        salon.execute(command)
    else:
        assert_refused(salon, command, ErrorCode.PERMISSION_DENIED)


def test_a_week_must_have_seven_days_of_ordered_hours() -> None:
    salon, _ = _salon()
    for week in (_week(10, 19)[:6], ((Hours(600, 500),),) * 7,
                 ((Hours(600, 800), Hours(700, 900)),) * 7, ((Hours(0, 1441),),) * 7):
        assert_refused(salon, SetStoreHours(actor_id=MANAGER, week=week),
                       ErrorCode.INVALID_INPUT)


def test_a_service_that_needs_a_bed_holds_one_for_its_own_part() -> None:
    salon, clock = _salon()
    bed = next(iter(salon.state.schedules.resources))
    # A wash (20 min) then a facial (60): the bed is held for the facial only.
    first = salon.state.appointments.get(_book(salon, _at(13), services=("wash", "facial")))
    assert [(h.resource_id, h.start, h.end) for h in first.resources] == [
        (bed, _at(13, 20), _at(14, 20))]
    # Amy is free at 13:30, the one bed is not: refused, with the next free slots.
    err = assert_refused(salon, BookAppointment(
        actor_id=DESK, service_ids=("facial",), start=_at(13, 30), staff_id=STYLIST2,
        guest_name="王女士", guest_mobile="13700000000"), ErrorCode.NO_RESOURCE_FREE)
    assert isinstance(err, AppointmentRefused) and err.params["kind"] == "bed"
    assert err.suggestions[0].start == _at(14, 30)  # Amy, once the bed is free on a step
    assert _at(13, 30) not in [s.start for s in free_slots(
        salon.state, ("facial",), MONDAY, clock())[STYLIST2]]
    # A second bed: the same booking goes through and takes it.
    (added,) = salon.execute(AddResource(actor_id=MANAGER, kind="bed", name="床位2"))
    second = salon.state.appointments.get(_book(salon, _at(13, 30), staff=STYLIST2,
                                                services=("facial",)))
    assert second.resources[0].resource_id == added.resource.resource_id  # type: ignore[attr-defined]
    # Moving the first frees its bed for the time it leaves and holds one where it goes.
    salon.execute(RescheduleAppointment(actor_id=DESK, appointment_id=first.appointment_id,
                                        start=_at(16)))
    moved = salon.state.appointments.get(first.appointment_id)
    assert moved.resources[0].start == _at(16, 20)
    assert list(salon.state.appointments.holding(bed, _at(13), _at(15))) == []
    # A retired bed is given to no new appointment; an unknown one cannot be retired.
    salon.execute(RetireResource(actor_id=MANAGER, resource_id=bed))
    assert_refused(salon, RetireResource(actor_id=MANAGER, resource_id=bed),
                   ErrorCode.UNKNOWN_RESOURCE)
    third = salon.state.appointments.get(_book(salon, _at(17, 30), services=("facial",)))
    assert third.resources[0].resource_id != bed
    assert_refused(salon, AddResource(actor_id=MANAGER, kind="", name="x"),
                   ErrorCode.INVALID_INPUT)
    assert_refused(salon, AddResource(actor_id=MANAGER, kind="bed", name="床位2"),
                   ErrorCode.INVALID_INPUT)


def test_the_appointment_to_check_in_is_found_by_code_member_or_mobile_in_its_window() -> None:
    salon, clock = _salon()
    member_id = _member(salon)
    for_member = salon.state.appointments.get(_book(salon, _at(11), member_id=member_id))
    guest = salon.state.appointments.get(_book(salon, _at(12), staff=STYLIST2))
    now = clock()  # 10:00: 11:00 is inside the hour before, 12:00 is not
    assert appointment_to_check_in(salon.state, now, member_id=member_id) == for_member
    assert appointment_to_check_in(salon.state, now, code=for_member.code) == for_member
    assert appointment_to_check_in(salon.state, now, mobile="13900000000") is None
    clock.advance(hours=1, minutes=30)
    assert appointment_to_check_in(salon.state, clock(), mobile="13900000000") == guest
    assert appointment_to_check_in(salon.state, clock(), member_id=member_id) is None  # late
    assert appointment_to_check_in(salon.state, clock(), code="000000") is None


def test_appointments_that_are_over_leave_the_book_after_kept_days() -> None:
    salon, clock = _salon()
    over = _book(salon, _at(11))
    salon.execute(CancelAppointment(actor_id=DESK, appointment_id=over, reason="x"))
    never_checked = _book(salon, _at(13))
    moved = _book(salon, _at(15))
    salon.execute(RescheduleAppointment(actor_id=DESK, appointment_id=moved,
                                        start=_at(15, day=MONDAY + timedelta(days=1))))
    book = salon.state.appointments
    indexes = (dict(book.by_staff_day), dict(book.by_code), dict(book.by_resource_day))
    book.reindex()  # the move left no empty list behind: as a rebuilt index has none
    assert (book.by_staff_day, book.by_code, book.by_resource_day) == indexes
    clock.advance(days=KEPT_DAYS)
    _book(salon, _at(11, day=MONDAY + timedelta(days=KEPT_DAYS)))
    assert over in book.appointments  # not yet: KEPT_DAYS after its start is tomorrow
    clock.advance(days=2)
    _book(salon, _at(11, day=MONDAY + timedelta(days=KEPT_DAYS + 2)))
    assert over not in book.appointments
    assert never_checked in book.appointments  # still booked: nobody closed it
    assert all(over not in ids for ids in book.by_staff_day.values())


def test_a_deposit_is_kept_on_a_no_show_or_late_cancel_and_given_back_otherwise() -> None:
    salon, clock = _salon()
    salon.execute(OpenShift(actor_id=DESK, float_fen=0))
    wechat = (Payment(PaymentMethod.WECHAT, 5_000),)
    late, early, no_show, done = (
        _book(salon, _at(h), deposit=wechat) for h in (11, 13, 15, 17))
    assert_refused(salon, BookAppointment(
        actor_id=DESK, service_ids=("cut",), start=_at(18), staff_id=STYLIST2,
        guest_name="王先生", guest_mobile="13700000000",
        deposit=(Payment(PaymentMethod.STORED_VALUE, 5_000),)), ErrorCode.PAY_METHOD_NOT_ALLOWED)
    # 10:00: the 13:00 one is cancelled in time, the 11:00 one inside the 2-hour cutoff.
    (_, back) = salon.execute(CancelAppointment(actor_id=DESK, appointment_id=early,
                                                reason="改天"))
    assert isinstance(back, AppointmentDepositReturned)
    (_, kept) = salon.execute(CancelAppointment(actor_id=DESK, appointment_id=late,
                                                reason="临时有事"))
    assert isinstance(kept, AppointmentDepositKept) and kept.reason == "late_cancel"
    clock.advance(hours=5, minutes=20)  # 15:20: the 15:00 one never came
    (_, kept) = salon.execute(MarkNoShow(actor_id=DESK, appointment_id=no_show))
    assert isinstance(kept, AppointmentDepositKept) and kept.reason == "no_show"
    clock.advance(hours=1, minutes=30)  # 16:50
    salon.execute(CheckInAppointment(actor_id=DESK, appointment_id=done))
    ticket = salon.execute(Checkout(actor_id=DESK, price_list_version=2,
                                    lines=(LineDraft(ItemKind.SERVICE, "cut"),),
                                    payments=(Payment(PaymentMethod.CASH, 12_800),)))[0]
    (_, returned) = salon.execute(CompleteAppointment(
        actor_id=DESK, appointment_id=done, ticket_id=ticket.ticket_id))  # type: ignore[attr-defined]
    assert isinstance(returned, AppointmentDepositReturned)
    assert returned.returned == wechat
    assert all(salon.state.appointments.get(a).deposit_settled
               for a in (early, late, no_show, done))
    shift = salon.state.shifts.open_shift
    assert shift is not None
    t = shift.tally
    assert (t.deposits_fen, t.deposits_returned_fen, t.deposits_kept_fen) == (
        20_000, 10_000, 10_000)
    assert shift.expected_by()["wechat"] == 10_000  # the two kept ones are the store's


def test_an_appointment_leaving_the_book_keeps_the_code_a_later_booking_reuses() -> None:
    # Codes are unique among live appointments: a cancelled one's code may come again.
    book = AppointmentBook()
    first = Appointment("A1", "123456", "", "甲", "13900000000", ("cut",), STYLIST, False,
                        _at(11), _at(12))
    meta = EventMeta("e1", "store-001", DESK, _at(9))
    book.apply(AppointmentBooked(meta=meta, appointment=first))
    book.apply(AppointmentCancelled(meta=meta, appointment_id="A1", reason="x", late=False))
    later = replace(first, appointment_id="A2", start=_at(11) + timedelta(days=KEPT_DAYS + 2),
                    end=_at(12) + timedelta(days=KEPT_DAYS + 2))
    book.apply(AppointmentBooked(meta=meta, appointment=later))  # A1 leaves the book now
    assert "A1" not in book.appointments
    assert book.by_check_in_code("123456") == later
