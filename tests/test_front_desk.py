"""The kiosk's check-in: by appointment code, card or mobile; an appointment in its window
is checked in, anyone else queues; an unknown mobile is a guest offered registration and
no member is ever created by a check-in."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from store_support import open_store

from edge_store.store import EdgeStore
from hub.demo_data import DEMO_DAY, DESK, MANAGER, STYLIST, seed
from hub.front_desk import FrontDesk
from salon.appointments import AppointmentStatus, BookAppointment
from salon.errors import DomainError, ErrorCode
from salon.members import MemberRegistered, RegisterMember, member_code
from salon.queue import ClockIn, ClockOut, LinkStaffCard
from salon.schedules import Hours, SetStaffSchedule
from salon.testing import ManualClock


def _store(path: Path) -> tuple[EdgeStore, ManualClock, str]:
    clock = ManualClock(DEMO_DAY)
    store = open_store(path, clock)
    seed(store)  # type: ignore[arg-type]
    store.execute(SetStaffSchedule(actor_id=MANAGER, staff_id=STYLIST,
                                   week=tuple((Hours(600, 1260),) for _ in range(7))))
    store.execute(ClockIn(actor_id=STYLIST))
    events = store.execute(RegisterMember(actor_id=DESK, name="张三丰", mobile="13812345678",
                                          card_uid="04:A1:B2:C3"))
    member_id = next(e for e in events if isinstance(e, MemberRegistered)).member_id
    return store, clock, member_id


def test_a_member_with_an_appointment_in_its_window_is_checked_in_by_card(
    tmp_path: Path,
) -> None:
    store, _, member_id = _store(tmp_path)
    (booked,) = store.execute(BookAppointment(
        actor_id=DESK, service_ids=("CUT",), start=DEMO_DAY + timedelta(minutes=30),
        staff_id=STYLIST, member_id=member_id))
    desk = FrontDesk(store, DESK)
    result = desk.check_in(card_uid="04A1B2C3", category="hair")
    appointment_id = booked.appointment.appointment_id  # type: ignore[attr-defined]
    assert result.appointment_id == appointment_id and result.member_id == member_id
    status = store.state.appointments.get(appointment_id).status
    assert status is AppointmentStatus.CHECKED_IN
    # Again, by mobile: no appointment left to check in, so the member queues.
    queued = desk.check_in(mobile="138 1234 5678", category="hair")
    assert queued.number == 1 and queued.member_id == member_id
    assert not queued.offer_registration
    store.close()


def test_an_unknown_mobile_queues_as_a_guest_offered_registration(tmp_path: Path) -> None:
    store, _, _ = _store(tmp_path)
    members = len(store.state.members.members)
    desk = FrontDesk(store, DESK)
    with pytest.raises(DomainError) as err:
        desk.check_in(mobile="13900009999", category="hair")  # a guest must give a name
    assert err.value.code is ErrorCode.INVALID_NAME
    result = desk.check_in(mobile="13900009999", category="hair", guest_name="路人甲")
    assert result.offer_registration and result.number == 1 and result.wait_min == 0
    assert len(store.state.members.members) == members  # nobody registered
    store.close()


def test_a_guest_appointment_is_found_by_mobile_or_by_its_code(tmp_path: Path) -> None:
    store, clock, _ = _store(tmp_path)
    for minutes, mobile in ((30, "13900001111"), (120, "13900002222")):
        store.execute(BookAppointment(
            actor_id=DESK, service_ids=("CUT",), start=DEMO_DAY + timedelta(minutes=minutes),
            staff_id=STYLIST, guest_name="李女士", guest_mobile=mobile))
    desk = FrontDesk(store, DESK)
    assert desk.check_in(mobile="13900001111", category="hair").appointment_id
    later = next(a for a in store.state.appointments.appointments.values()
                 if a.guest_mobile == "13900002222")
    with pytest.raises(DomainError) as err:  # two hours early: not in its window yet
        desk.check_in(appointment_code=later.code)
    assert err.value.code is ErrorCode.UNKNOWN_APPOINTMENT
    clock.advance(minutes=90)
    assert desk.check_in(appointment_code=later.code).appointment_id == later.appointment_id
    with pytest.raises(DomainError) as err:
        desk.check_in(card_uid="FF:FF:FF:FF", category="hair")
    assert err.value.code is ErrorCode.UNKNOWN_CARD
    with pytest.raises(DomainError):
        desk.check_in(category="hair")
    store.close()


def test_staff_clock_in_and_out_with_their_own_card(tmp_path: Path) -> None:
    store, _, _ = _store(tmp_path)
    store.execute(ClockOut(actor_id=STYLIST))
    store.execute(LinkStaffCard(actor_id=MANAGER, staff_id=STYLIST, card_uid="0A:0B:0C:0D"))
    desk = FrontDesk(store, DESK)
    assert desk.clock_with_card("0a0b0c0d") == (STYLIST, True)
    assert STYLIST in store.state.queue.on_duty
    assert desk.clock_with_card("0A:0B:0C:0D") == (STYLIST, False)
    assert STYLIST not in store.state.queue.on_duty
    with pytest.raises(DomainError) as err:
        desk.clock_with_card("01:02:03:04")
    assert err.value.code is ErrorCode.UNKNOWN_CARD
    # A member's card cannot be a staff card, nor a staff card a member's.
    with pytest.raises(DomainError) as err:
        store.execute(LinkStaffCard(actor_id=MANAGER, staff_id=STYLIST, card_uid="04:A1:B2:C3"))
    assert err.value.code is ErrorCode.CARD_TAKEN
    with pytest.raises(DomainError) as err:
        store.execute(RegisterMember(actor_id=DESK, name="李四", mobile="13912345678",
                                     card_uid="0A0B0C0D"))
    assert err.value.code is ErrorCode.CARD_TAKEN
    # Front desk staff may not link cards.
    with pytest.raises(DomainError) as err:
        store.execute(LinkStaffCard(actor_id=DESK, staff_id=DESK, card_uid="0E:0E:0E:0E"))
    assert err.value.code is ErrorCode.PERMISSION_DENIED
    store.close()


def test_a_member_checks_in_with_their_member_qr_code(tmp_path: Path) -> None:
    store, _, member_id = _store(tmp_path)
    desk = FrontDesk(store, DESK)
    result = desk.check_in(member_code=member_code(member_id), category="hair")
    assert result.member_id == member_id and result.number == 1
    for bad, code in (("SALON-M:nobody", ErrorCode.UNKNOWN_MEMBER),
                      ("6901234567892", ErrorCode.INVALID_INPUT),
                      ("SALON-M:", ErrorCode.INVALID_INPUT)):
        with pytest.raises(DomainError) as err:
            desk.check_in(member_code=bad, category="hair")
        assert err.value.code is code, bad
    store.close()
