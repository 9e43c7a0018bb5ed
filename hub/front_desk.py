"""Check-in at the kiosk (签到), and staff clocking in and out with their card (打卡).

The customer gives a mobile number, taps a member card, scans their member QR code or
types the appointment code.
``FrontDesk.check_in`` finds who it is without ever registering anyone: a card or a
mobile of a member is that member; an unknown mobile is a guest (the result offers
registration, which the kiosk asks for on its own screen). An appointment of theirs
inside its check-in window is checked in; anyone else joins the walk-in queue of the
category asked for, with a number and an estimated wait.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge_store.store import EdgeStore
from salon.appointments import CheckInAppointment, appointment_to_check_in
from salon.errors import DomainError, ErrorCode, invalid_input
from salon.masking import normalize_mobile
from salon.members import member_of_code
from salon.queue import ClockIn, ClockOut, JoinQueue, WalkInQueued, estimated_waits, staff_by_card

__all__ = ["CheckInResult", "FrontDesk"]


@dataclass(frozen=True)
class CheckInResult:
    appointment_id: str = ""
    """The appointment checked in; "" when the customer joined the queue."""
    walk_in_id: str = ""
    number: int = 0
    """The queue number on the slip."""
    wait_min: int = 0
    member_id: str = ""
    offer_registration: bool = False
    """An unknown mobile checked in as a guest: offer to register them."""


@dataclass
class FrontDesk:
    store: EdgeStore
    actor_id: str
    """The staff member at the desk, or the kiosk's own account."""

    def check_in(self, *, mobile: str = "", card_uid: str = "", appointment_code: str = "",
                 member_code: str = "", category: str = "", service_id: str = "",
                 guest_name: str = "", designated_staff_id: str = "") -> CheckInResult:
        """Check in by appointment code, member QR code (``salon.members.member_code``),
        card or mobile (DomainError with its code when a card is unknown or blocked, a
        code matches nothing in its window, a guest gives no name, or the queue
        refuses)."""
        now = self.store.ctx.clock()
        if appointment_code:
            found = self.store.read(lambda s: appointment_to_check_in(
                s, now, code=appointment_code))
            if found is None:
                raise DomainError(ErrorCode.UNKNOWN_APPOINTMENT,
                                  {"appointment_id": appointment_code.strip()})
            self.store.execute(CheckInAppointment(actor_id=self.actor_id,
                                                  appointment_id=found.appointment_id))
            return CheckInResult(appointment_id=found.appointment_id,
                                 member_id=found.member_id)
        member_id, typed = "", ""
        if member_code:
            member_id = self.store.read(lambda s: member_of_code(s, member_code).member_id)
        elif card_uid:
            member_id = str(self.store.member_by_card(card_uid)["member_id"])
        elif mobile:
            typed = normalize_mobile(mobile)
            member_id = self.store.read(lambda s: s.members.mobile_index.get(typed, ""))
        else:
            raise invalid_input("check_in",
                                "a mobile, a card, a member code or an appointment code")
        found = self.store.read(lambda s: appointment_to_check_in(
            s, now, member_id=member_id, mobile="" if member_id else typed))
        if found is not None:
            self.store.execute(CheckInAppointment(actor_id=self.actor_id,
                                                  appointment_id=found.appointment_id))
            return CheckInResult(appointment_id=found.appointment_id, member_id=member_id)
        events = self.store.execute(JoinQueue(
            actor_id=self.actor_id, category=category, service_id=service_id,
            member_id=member_id, guest_name="" if member_id else guest_name,
            guest_mobile="" if member_id else typed, designated_staff_id=designated_staff_id))
        walk_in = next(e for e in events if isinstance(e, WalkInQueued)).walk_in
        wait = self.store.read(lambda s: estimated_waits(s, walk_in.category, now))
        return CheckInResult(walk_in_id=walk_in.walk_in_id, number=walk_in.number,
                             wait_min=wait.get(walk_in.walk_in_id, 0), member_id=member_id,
                             offer_registration=not member_id)

    def clock_with_card(self, card_uid: str) -> tuple[str, bool]:
        """打卡: the staff member whose card was tapped clocks in, or out if on duty; their id
        and whether they are on duty now (DomainError: an unknown card, in service)."""
        staff_id = self.store.read(lambda s: staff_by_card(s, card_uid))
        on_duty = self.store.read(lambda s: staff_id in s.queue.on_duty)
        self.store.execute(ClockOut(actor_id=staff_id) if on_duty else ClockIn(actor_id=staff_id))
        return staff_id, not on_duty
