"""Reminders and notices (提醒): what is due to whom, and the record of what was sent.

``due_reminders`` lists what should go out at ``now`` and has not: an appointment
reminder at each of the policy's offsets before its start (the day before, two hours
before), a birthday greeting on the member's solar or lunar birthday (as they chose),
a low-balance notice once the stored value falls below the threshold (once per
recharge; looked for among the members who paid by stored value in the tickets the
state holds), and a package card's expiry notice some days before it expires. Each has a
stable ``key``; a sent one is recorded by ``ReminderSent`` under its key and is never
due again, across restarts (the record is in the journal).

The domain does not read calendars: the lunar birthday's solar date of a year comes
from the function the hub passes in (a lunar calendar library there).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from salon.appointments import KEPT_DAYS, AppointmentStatus
from salon.commands import Command, handles
from salon.context import Context
from salon.errors import DomainError, ErrorCode
from salon.events import Event
from salon.payments import PaymentMethod
from salon.schedules import local_day, local_minutes

if TYPE_CHECKING:
    from salon.state import SalonState

__all__ = [
    "Due",
    "RecordReminderSent",
    "ReminderBook",
    "ReminderKind",
    "ReminderSent",
    "SolarOfLunar",
    "due_reminders",
]

SolarOfLunar = Callable[[int, int, int], tuple[date, ...]]
"""(solar year, lunar month, lunar day) → the solar dates in that year of that lunar month
and day (a lunar 12th month of the year before falls in January or February)."""


class ReminderKind(StrEnum):
    APPOINTMENT = "appointment"
    BIRTHDAY = "birthday"
    LOW_BALANCE = "low_balance"
    PACKAGE_EXPIRY = "package_expiry"


@dataclass(frozen=True, slots=True)
class Due:
    key: str
    kind: ReminderKind
    member_id: str
    mobile: str
    name: str
    subject_id: str
    """The appointment, member or package card it is about."""
    at: datetime | None = None
    """The appointment's start, the card's expiry."""
    service_ids: tuple[str, ...] = ()
    amount_fen: int = 0


@dataclass(frozen=True, kw_only=True)
class ReminderSent(Event):
    key: str
    kind: ReminderKind
    member_id: str
    subject_id: str


@dataclass
class ReminderBook:
    sent: dict[str, datetime] = field(default_factory=dict)
    """Key → when it was sent."""

    def apply(self, event: Event) -> None:
        if isinstance(event, ReminderSent):
            self.sent[event.key] = event.meta.at
            # Keys matter while their subject can be due again (an appointment two months
            # ahead, a birthday this year): those sent over KEPT_DAYS before this one go,
            # oldest first (they were filed in the order sent).
            cutoff = event.meta.at - timedelta(days=KEPT_DAYS)
            while self.sent:
                key, at = next(iter(self.sent.items()))
                if at >= cutoff:
                    break
                del self.sent[key]


def _appointments(state: SalonState, now: datetime) -> list[Due]:
    out: list[Due] = []
    offsets = state.config.reminders.before_min
    if not offsets:
        return out
    horizon = now + timedelta(minutes=max(offsets))
    for appt in state.appointments.live():  # not the book's years of past ones
        if appt.status is not AppointmentStatus.BOOKED or not now < appt.start <= horizon:
            continue
        # The closest offset already reached: one reminder per stage, not each missed one.
        reached = [m for m in offsets if now >= appt.start - timedelta(minutes=m)]
        if not reached:
            continue
        stage = min(reached)
        key = f"appt:{appt.appointment_id}:{stage}"
        if key in state.reminders.sent:
            continue
        if appt.member_id:
            member = state.members.members.get(appt.member_id)
            mobile, name = (member.mobile, member.name) if member else ("", "")
        else:
            mobile, name = appt.guest_mobile, appt.guest_name
        if mobile:
            out.append(Due(key, ReminderKind.APPOINTMENT, appt.member_id, mobile, name,
                           appt.appointment_id, appt.start, appt.service_ids))
    return out


def _birthdays(state: SalonState, now: datetime, solar_of_lunar: SolarOfLunar) -> list[Due]:
    policy = state.config.reminders
    today = local_day(state, now)
    if local_minutes(state, now) < policy.greeting_hour * 60:
        return []
    out = []
    for member in state.members.members.values():
        if member.birthday is None or member.blacklisted:
            continue
        b = member.birthday
        if member.birthday_lunar:
            days = solar_of_lunar(today.year, b.month, b.day)
        else:
            days = (_solar_in(today.year, b.month, b.day),)
        if today not in days:
            continue
        key = f"birthday:{member.member_id}:{today.year}"
        if key not in state.reminders.sent:
            out.append(Due(key, ReminderKind.BIRTHDAY, member.member_id, member.mobile,
                           member.name, member.member_id))
    return out


def _solar_in(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:  # 29 February in a common year: the 28th
        return date(year, month, day - 1)


def _low_balances(state: SalonState, now: datetime) -> list[Due]:
    threshold = state.config.reminders.low_balance_fen
    if not threshold:
        return []
    out = []
    # Balances fall by spending: the members who paid by stored value in the tickets the
    # book holds (14 business days), not all members at every tick.
    spenders = sorted({record.paid.member_id for record in state.tickets.tickets.values()
                       if any(p.method is PaymentMethod.STORED_VALUE
                              for p in record.paid.tendered)})
    for member_id in spenders:
        lot_ids = state.accounts.member_lots.get(member_id)
        if not lot_ids:
            continue
        balance = state.accounts.balance_fen(member_id, now)
        if balance >= threshold:
            continue
        key = f"low_balance:{member_id}:{lot_ids[-1]}"  # once per recharge
        member = state.members.members.get(member_id)
        if key not in state.reminders.sent and member is not None:
            out.append(Due(key, ReminderKind.LOW_BALANCE, member_id, member.mobile,
                           member.name, member_id, amount_fen=balance))
    return out


def _package_expiries(state: SalonState, now: datetime) -> list[Due]:
    days = state.config.reminders.package_expiry_days
    if not days:
        return []
    out = []
    for card in state.packages.cards.values():
        expires = card.expires_at
        if not now < expires <= now + timedelta(days=days) or not card.remaining_sessions:
            continue
        key = f"package_expiry:{card.card_id}"
        member = state.members.members.get(card.member_id)
        if key not in state.reminders.sent and member is not None:
            out.append(Due(key, ReminderKind.PACKAGE_EXPIRY, card.member_id, member.mobile,
                           member.name, card.card_id, expires))
    return out


def due_reminders(state: SalonState, now: datetime,
                  solar_of_lunar: SolarOfLunar = lambda y, m, d: ()) -> list[Due]:
    """Everything due at ``now`` and not yet sent, in a stable order."""
    if not state.config.reminders.enabled:
        return []
    return sorted(_appointments(state, now) + _birthdays(state, now, solar_of_lunar)
                  + _low_balances(state, now) + _package_expiries(state, now),
                  key=lambda d: d.key)


@dataclass(frozen=True, kw_only=True)
class RecordReminderSent(Command):
    """What the hub commits once the notifier took a reminder (the actor is the system)."""

    key: str
    kind: ReminderKind
    member_id: str
    subject_id: str


@handles(RecordReminderSent)
def record_reminder_sent(
    state: SalonState, cmd: RecordReminderSent, ctx: Context
) -> Sequence[Event]:
    if cmd.key in state.reminders.sent:
        raise DomainError(ErrorCode.REMINDER_ALREADY_SENT, {"key": cmd.key})
    return [ReminderSent(meta=ctx.meta(cmd.actor_id), key=cmd.key, kind=cmd.kind,
                         member_id=cmd.member_id, subject_id=cmd.subject_id)]

