"""Appointments (预约): booking, moving, cancelling, check-in, no-shows, free slots.

An appointment holds one staff member from its start for the sum of its services'
durations and their buffers (``Service.buffer_min``, clean-up after each). It must fit
inside the staff member's working hours on its local day (``salon.schedules``), which
lie inside the store's opening hours, and overlap no other live appointment of that
staff member (booked, checked in or in service). The check and the commit are one step:
a command is decided against the state under the store's single writer, so of two
bookings racing for one slot the second is decided after the first is applied, and
refused. A service that needs a resource (``Service.resource_kind``: a bed, a room)
holds a free one of that kind for its own part of the appointment. A refusal that a
time would cure (closed, not working, busy, nobody free, no bed free) carries the next
free slots (``AppointmentRefused.suggestions``).

Statuses: booked → checked in → in service → done, or booked → no-show / cancelled
(checked in → cancelled too, when the customer leaves before service). Done links
the ticket that paid for it.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from salon.commands import Command, handles
from salon.context import Context
from salon.errors import DomainError, ErrorCode, invalid_input
from salon.events import Event
from salon.indexes import INDEX
from salon.members import customer_of
from salon.payments import EXTERNAL_METHODS, Payment
from salon.schedules import Hours, at_local, local_day, local_minutes
from salon.staff import Permission, require

if TYPE_CHECKING:
    from salon.state import SalonState

__all__ = [
    "ANY_STAFF",
    "KEPT_DAYS",
    "Appointment",
    "AppointmentBook",
    "AppointmentBooked",
    "AppointmentCancelled",
    "AppointmentCheckedIn",
    "AppointmentCompleted",
    "AppointmentDepositKept",
    "AppointmentDepositReturned",
    "AppointmentDepositTaken",
    "AppointmentMarkedNoShow",
    "AppointmentRefused",
    "AppointmentRescheduled",
    "AppointmentStarted",
    "AppointmentStatus",
    "BookAppointment",
    "CancelAppointment",
    "CheckInAppointment",
    "CompleteAppointment",
    "MarkNoShow",
    "RescheduleAppointment",
    "ResourceHold",
    "Slot",
    "StartAppointment",
    "appointment_to_check_in",
    "day_view",
    "free_slots",
    "no_show_count",
]

ANY_STAFF = ""
"""``staff_id`` of a booking that lets the system pick a free qualified staff member."""


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    CHECKED_IN = "checked_in"
    IN_SERVICE = "in_service"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


LIVE = frozenset({AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN,
                  AppointmentStatus.IN_SERVICE})
"""Statuses that hold the staff member's time."""

KEPT_DAYS = 400
"""An appointment that is over (done, no-show, cancelled) leaves the book once one is booked
this many days after its start: the book holds what the no-show rule (at most a year
back) and the screens read, not every appointment of the years. What leaves depends on
the events alone, never on the clock, so a book rebuilt from the journal equals its
snapshot; the journal and HQ keep them all."""


@dataclass(frozen=True, slots=True)
class ResourceHold:
    """A resource (bed, room) an appointment holds for one of its services."""

    resource_id: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Appointment:
    appointment_id: str
    code: str
    """What the customer shows or types at the kiosk to check in (6 digits)."""
    member_id: str
    """"" for a walk-in guest, who is known by ``guest_name`` and ``guest_mobile``."""
    guest_name: str
    guest_mobile: str
    service_ids: tuple[str, ...]
    staff_id: str
    designated: bool
    """The customer asked for this staff member (指定), not "anyone"."""
    start: datetime
    end: datetime
    """When the staff member is free again: services and their buffers."""
    status: AppointmentStatus = AppointmentStatus.BOOKED
    booked_at: datetime | None = None
    cancel_reason: str = ""
    late_cancel: bool = False
    ticket_id: str = ""
    resources: tuple[ResourceHold, ...] = ()
    flagged: bool = False
    """The member had ``no_show_flag_count`` no-shows (late cancellations included) in the
    ``no_show_flag_days`` before it was booked: the desk may ask for a deposit or a call."""
    deposit: tuple[Payment, ...] = ()
    """定金 taken at booking, by method; kept on a no-show or a late cancellation, given
    back otherwise (a timely cancellation, or at the checkout when it is done)."""
    deposit_settled: bool = False
    """The deposit was given back or kept: it is no longer held."""


@dataclass(frozen=True, slots=True)
class Slot:
    staff_id: str
    start: datetime
    end: datetime


@dataclass(frozen=True, kw_only=True)
class AppointmentBooked(Event):
    appointment: Appointment


@dataclass(frozen=True, kw_only=True)
class AppointmentDepositTaken(Event):
    """The money of a deposit taken at booking (the till's: ``salon.shifts``)."""

    appointment_id: str
    member_id: str
    payments: tuple[Payment, ...]


@dataclass(frozen=True, kw_only=True)
class AppointmentDepositReturned(Event):
    """The deposit given back by the methods it was paid with."""

    appointment_id: str
    returned: tuple[Payment, ...]


@dataclass(frozen=True, kw_only=True)
class AppointmentDepositKept(Event):
    """The deposit kept by the store (a no-show, a late cancellation): income."""

    appointment_id: str
    amount_fen: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class AppointmentRescheduled(Event):
    appointment_id: str
    staff_id: str
    designated: bool
    start: datetime
    end: datetime
    resources: tuple[ResourceHold, ...] = ()


@dataclass(frozen=True, kw_only=True)
class AppointmentCancelled(Event):
    appointment_id: str
    reason: str
    late: bool


@dataclass(frozen=True, kw_only=True)
class AppointmentMarkedNoShow(Event):
    appointment_id: str


@dataclass(frozen=True, kw_only=True)
class AppointmentCheckedIn(Event):
    appointment_id: str


@dataclass(frozen=True, kw_only=True)
class AppointmentStarted(Event):
    appointment_id: str


@dataclass(frozen=True, kw_only=True)
class AppointmentCompleted(Event):
    appointment_id: str
    ticket_id: str


_STATUS_OF: dict[type[Event], AppointmentStatus] = {
    AppointmentMarkedNoShow: AppointmentStatus.NO_SHOW,
    AppointmentCheckedIn: AppointmentStatus.CHECKED_IN,
    AppointmentStarted: AppointmentStatus.IN_SERVICE,
}


@dataclass
class AppointmentBook:
    appointments: dict[str, Appointment] = field(default_factory=dict)
    by_staff_day: dict[str, list[str]] = field(default_factory=dict, metadata=INDEX)
    """``staff_id|YYYY-MM-DD`` (the start's UTC date) → ids of that staff's appointments."""
    by_code: dict[str, str] = field(default_factory=dict, metadata=INDEX)
    """Check-in code → appointment id, for live appointments."""
    by_resource_day: dict[str, list[str]] = field(default_factory=dict, metadata=INDEX)
    """``resource_id|YYYY-MM-DD`` (the hold's UTC start date) → ids of the appointments
    holding it."""
    kept_from: date | None = None
    """Appointments over before this (UTC) day have left the book (``KEPT_DAYS``)."""

    def reindex(self) -> None:
        self.by_staff_day = {}
        self.by_code = {}
        self.by_resource_day = {}
        for appt in self.appointments.values():
            self._file(appt)

    def _file(self, appt: Appointment) -> None:
        # By start (then id): the same order whether built one event at a time or by
        # ``reindex``, so a state read from a snapshot equals the one replayed.
        insort(self.by_staff_day.setdefault(_day_key(appt.staff_id, appt.start), []),
               appt.appointment_id, key=self._order)
        for hold in appt.resources:
            ids = self.by_resource_day.setdefault(_day_key(hold.resource_id, hold.start), [])
            if appt.appointment_id not in ids:
                insort(ids, appt.appointment_id, key=self._order)
        if appt.status in LIVE:
            self.by_code[appt.code] = appt.appointment_id
        else:
            self._unfile_code(appt)

    def _unfile_code(self, appt: Appointment) -> None:
        # A code is unique among live appointments only: one that is over may share it with
        # a later booking, whose entry stays.
        if self.by_code.get(appt.code) == appt.appointment_id:
            del self.by_code[appt.code]

    def _order(self, appointment_id: str) -> tuple[datetime, str]:
        return self.appointments[appointment_id].start, appointment_id

    def _unfile(self, appt: Appointment) -> None:
        _drop(self.by_staff_day, _day_key(appt.staff_id, appt.start), appt.appointment_id)
        for hold in appt.resources:
            _drop(self.by_resource_day, _day_key(hold.resource_id, hold.start),
                  appt.appointment_id)
        self._unfile_code(appt)

    def _put(self, appt: Appointment) -> None:
        old = self.appointments.get(appt.appointment_id)
        if old is not None:
            self._unfile(old)  # while the record is the old one: its place is by its start
        self.appointments[appt.appointment_id] = appt
        self._file(appt)

    def apply(self, event: Event) -> None:
        match event:
            case AppointmentBooked():
                self._put(event.appointment)
                self._let_go(event.appointment.start)
            case AppointmentRescheduled():
                self._put(replace(self.appointments[event.appointment_id],
                                  staff_id=event.staff_id, designated=event.designated,
                                  start=event.start, end=event.end,
                                  resources=event.resources))
            case AppointmentCancelled():
                self._put(replace(self.appointments[event.appointment_id],
                                  status=AppointmentStatus.CANCELLED,
                                  cancel_reason=event.reason, late_cancel=event.late))
            case AppointmentCompleted():
                self._put(replace(self.appointments[event.appointment_id],
                                  status=AppointmentStatus.DONE, ticket_id=event.ticket_id))
            case AppointmentDepositTaken():
                self._put(replace(self.appointments[event.appointment_id],
                                  deposit=event.payments))
            case AppointmentDepositReturned() | AppointmentDepositKept():
                self._put(replace(self.appointments[event.appointment_id],
                                  deposit_settled=True))
            case AppointmentMarkedNoShow() | AppointmentCheckedIn() | AppointmentStarted():
                self._put(replace(self.appointments[event.appointment_id],
                                  status=_STATUS_OF[type(event)]))
            case _:
                pass

    def _let_go(self, newest: datetime) -> None:
        """Drop the appointments that are over and started ``KEPT_DAYS`` before ``newest``
        (looked for once a day of bookings)."""
        keep_from = (newest - timedelta(days=KEPT_DAYS)).date()
        if self.kept_from is not None and keep_from <= self.kept_from:
            return
        self.kept_from = keep_from
        for appt in [a for a in self.appointments.values()
                     if a.status not in LIVE and a.start.date() < keep_from]:
            self._unfile(appt)
            del self.appointments[appt.appointment_id]

    def get(self, appointment_id: str) -> Appointment:
        try:
            return self.appointments[appointment_id]
        except KeyError:
            raise DomainError(ErrorCode.UNKNOWN_APPOINTMENT,
                              {"appointment_id": appointment_id}) from None

    def by_check_in_code(self, code: str) -> Appointment | None:
        found = self.by_code.get(code.strip())
        return self.appointments[found] if found is not None else None

    def filed_around(self, index: dict[str, list[str]], key: str, start: datetime,
                     end: datetime) -> Iterator[Appointment]:
        """The appointments ``index`` files under ``key`` on the days that [start, end) can
        touch: from the day before ``start`` (one that began then may last into it)."""
        day = (start - timedelta(days=1)).date()
        while day <= end.date():
            for appointment_id in index.get(f"{key}|{day.isoformat()}", ()):
                yield self.appointments[appointment_id]
            day += timedelta(days=1)

    def live_of(self, staff_id: str, start: datetime, end: datetime) -> Iterator[Appointment]:
        """The staff member's live appointments that overlap [start, end)."""
        for appt in self.filed_around(self.by_staff_day, staff_id, start, end):
            if appt.status in LIVE and appt.start < end and start < appt.end:
                yield appt

    def holding(self, resource_id: str, start: datetime, end: datetime) -> Iterator[Appointment]:
        """The live appointments holding ``resource_id`` at some time in [start, end)."""
        for appt in self.filed_around(self.by_resource_day, resource_id, start, end):
            if appt.status in LIVE and any(
                    h.resource_id == resource_id and h.start < end and start < h.end
                    for h in appt.resources):
                yield appt

    def live(self) -> list[Appointment]:
        """The live appointments (booked, checked in, in service): those with a code filed."""
        return [self.appointments[a] for a in self.by_code.values()]

    def in_service(self) -> list[Appointment]:
        """The appointments in service now."""
        return [a for a in self.live() if a.status is AppointmentStatus.IN_SERVICE]


def _drop(index: dict[str, list[str]], key: str, appointment_id: str) -> None:
    """Take ``appointment_id`` out of ``index[key]``; an empty list goes (as ``reindex``
    would never make one)."""
    ids = index.get(key)
    if ids is not None and appointment_id in ids:
        ids.remove(appointment_id)
        if not ids:
            del index[key]


def _day_key(staff_id: str, start: datetime) -> str:
    return f"{staff_id}|{start.date().isoformat()}"


class AppointmentRefused(DomainError):
    """A booking or move refused for its time; ``suggestions`` are the next free slots."""

    def __init__(self, code: ErrorCode, params: dict[str, str | int],
                 suggestions: tuple[Slot, ...]) -> None:
        shown = ",".join(f"{s.staff_id}@{s.start.isoformat()}" for s in suggestions)
        super().__init__(code, {**params, "next_free": shown})
        self.suggestions = suggestions


# ---------------------------------------------------------------- time and slots


def _length(state: SalonState, service_ids: Sequence[str]) -> timedelta:
    minutes = 0
    for service_id in service_ids:
        service = state.catalog.service(service_id)
        minutes += service.occupies_min
    return timedelta(minutes=minutes)


class _NoResource(Exception):
    def __init__(self, kind: str) -> None:
        self.kind = kind


def _holds(state: SalonState, service_ids: Sequence[str], start: datetime,
           ignore: str = "") -> tuple[ResourceHold, ...]:
    """A free resource of its kind for each service that needs one, for that service's
    part of the appointment (its duration and buffer); ``_NoResource`` if none is."""
    holds: list[ResourceHold] = []
    at = start
    for service_id in service_ids:
        service = state.catalog.service(service_id)
        end = at + timedelta(minutes=service.occupies_min)
        if service.resource_kind:
            free = next((r for r in state.schedules.resources_of(service.resource_kind)
                         if not any(a.appointment_id != ignore
                                    for a in state.appointments.holding(r.resource_id, at, end))),
                        None)
            if free is None:
                raise _NoResource(service.resource_kind)
            holds.append(ResourceHold(free.resource_id, at, end))
        at = end
    return tuple(holds)


def _qualified(state: SalonState, staff_id: str, service_ids: Sequence[str]) -> bool:
    person = state.staff.staff.get(staff_id)
    if person is None or not person.active:
        return False
    for service_id in service_ids:
        levels = state.catalog.service(service_id).staff_levels
        if levels and person.level not in levels:
            return False
    return True


def _candidates(state: SalonState, service_ids: Sequence[str]) -> list[str]:
    return sorted(s for s in state.staff.staff if _qualified(state, s, service_ids))


def _within(state: SalonState, hours: Iterable[Hours], start: datetime, end: datetime) -> bool:
    """Whether [start, end) lies inside one of ``hours`` of its local day."""
    first = local_minutes(state, start)
    last = first + int((end - start).total_seconds() // 60)
    return any(h.start_min <= first and last <= h.end_min for h in hours)


def _fits_hours(state: SalonState, staff_id: str, start: datetime, end: datetime) -> bool:
    return _within(state, state.schedules.working_hours(staff_id, local_day(state, start)),
                   start, end)


def _is_free(state: SalonState, staff_id: str, start: datetime, end: datetime,
             ignore: str = "") -> bool:
    return not any(a.appointment_id != ignore
                   for a in state.appointments.live_of(staff_id, start, end))


def _resources_free(state: SalonState, service_ids: Sequence[str], start: datetime,
                    ignore: str) -> bool:
    try:
        _holds(state, service_ids, start, ignore)
    except _NoResource:
        return False
    return True


def _day_slots(state: SalonState, staff_id: str, service_ids: Sequence[str], day: date,
               length: timedelta, step: int, not_before: datetime,
               ignore: str = "") -> Iterator[Slot]:
    """The free starts of ``length`` for ``staff_id`` on local ``day``, at ``step`` minutes
    from the start of each working span."""
    need = int(length.total_seconds() // 60)
    for hours in state.schedules.working_hours(staff_id, day):
        busy = sorted(
            (a.start, a.end) for a in state.appointments.live_of(
                staff_id, at_local(state, day, hours.start_min),
                at_local(state, day, hours.end_min))
            if a.appointment_id != ignore)
        minute = hours.start_min
        while minute + need <= hours.end_min:
            start = at_local(state, day, minute)
            end = start + length
            clash = next((b for b in busy if b[0] < end and start < b[1]), None)
            if clash is not None:
                # Jump to the first step at or after the end of what is in the way.
                after = local_minutes(state, clash[1]) if local_day(state, clash[1]) == day \
                    else hours.end_min
                minute += max(step, -(-(after - minute) // step) * step)
                continue
            if start >= not_before and _resources_free(state, service_ids, start, ignore):
                yield Slot(staff_id, start, end)
            minute += step


def free_slots(state: SalonState, service_ids: Sequence[str], day: date, now: datetime,
               staff_id: str = ANY_STAFF, ignore: str = "") -> dict[str, list[Slot]]:
    """Per qualified staff member (or just ``staff_id``), the free starts on local ``day``
    for the services in sequence; none before ``now``."""
    length = _length(state, service_ids)
    step = state.config.appointments.slot_step_min
    staff = [staff_id] if staff_id else _candidates(state, service_ids)
    return {s: list(_day_slots(state, s, service_ids, day, length, step, now, ignore))
            for s in staff}


def day_view(state: SalonState, day: date) -> dict[str, list[Appointment]]:
    """Each staff member's appointments on local ``day`` (any status), by start."""
    start, end = at_local(state, day, 0), at_local(state, day, 24 * 60)
    out: dict[str, list[Appointment]] = {}
    book = state.appointments
    for staff_id in sorted(state.staff.staff):
        found = [a for a in book.filed_around(book.by_staff_day, staff_id, start, end)
                 if start <= a.start < end]
        out[staff_id] = sorted(found, key=lambda a: a.start)
    return out


def _next_free(state: SalonState, service_ids: Sequence[str], staff_id: str,
               after: datetime, now: datetime, ignore: str = "") -> tuple[Slot, ...]:
    policy = state.config.appointments
    found: list[Slot] = []
    day = local_day(state, max(after, now))
    last = local_day(state, now) + timedelta(days=policy.book_ahead_days)
    while day <= last and len(found) < policy.suggestions:
        per_staff = free_slots(state, service_ids, day, max(after, now), staff_id, ignore)
        for slot in sorted((s for slots in per_staff.values() for s in slots),
                           key=lambda s: (s.start, s.staff_id)):
            found.append(slot)
            if len(found) == policy.suggestions:
                break
        day += timedelta(days=1)
    return tuple(found)


def _place(state: SalonState, service_ids: Sequence[str], staff_id: str, start: datetime,
           now: datetime, ignore: str = "") -> tuple[str, tuple[ResourceHold, ...]]:
    """The staff member the appointment goes to and the resources it holds, or a refusal
    with the next free slots."""
    if start < now:
        raise DomainError(ErrorCode.APPOINTMENT_IN_PAST)
    policy = state.config.appointments
    if local_day(state, start) > local_day(state, now) + timedelta(days=policy.book_ahead_days):
        raise DomainError(ErrorCode.APPOINTMENT_TOO_FAR, {"days": policy.book_ahead_days})
    end = start + _length(state, service_ids)
    day = local_day(state, start)

    def refused(code: ErrorCode, params: dict[str, str | int]) -> AppointmentRefused:
        return AppointmentRefused(code, params,
                                  _next_free(state, service_ids, staff_id, start, now, ignore))

    if not _within(state, state.schedules.store_hours(day), start, end):
        raise refused(ErrorCode.STORE_CLOSED, {"day": day.isoformat()})
    chosen = _staff_for(state, service_ids, staff_id, start, end, ignore, refused)
    try:
        holds = _holds(state, service_ids, start, ignore)
    except _NoResource as missing:
        raise refused(ErrorCode.NO_RESOURCE_FREE, {"kind": missing.kind}) from None
    return chosen, holds


def _staff_for(state: SalonState, service_ids: Sequence[str], staff_id: str, start: datetime,
               end: datetime, ignore: str,
               refused: Callable[[ErrorCode, dict[str, str | int]], AppointmentRefused]) -> str:
    """``staff_id`` if they can take [start, end), else the refusal; for ANY_STAFF, the
    free qualified one with the fewest appointments that day."""
    day = local_day(state, start)
    if staff_id:
        state.staff.active(staff_id)
        if not _qualified(state, staff_id, service_ids):
            raise DomainError(ErrorCode.STAFF_NOT_QUALIFIED,
                              {"staff_id": staff_id, "service_id": ",".join(service_ids)})
        if not _fits_hours(state, staff_id, start, end):
            raise refused(ErrorCode.STAFF_NOT_WORKING, {"staff_id": staff_id})
        if not _is_free(state, staff_id, start, end, ignore):
            raise refused(ErrorCode.STAFF_BUSY, {"staff_id": staff_id})
        return staff_id
    free = [s for s in _candidates(state, service_ids)
            if _fits_hours(state, s, start, end) and _is_free(state, s, start, end, ignore)]
    if not free:
        raise refused(ErrorCode.NO_STAFF_FREE, {})
    # The one with the fewest appointments that day, so "anyone" spreads the work.
    return min(free, key=lambda s: (len(list(state.appointments.live_of(
        s, at_local(state, day, 0), at_local(state, day, 24 * 60)))), s))


def _in_check_in_window(state: SalonState, appt: Appointment, now: datetime) -> bool:
    """From ``check_in_early_min`` before its start to ``no_show_grace_min`` after."""
    policy = state.config.appointments
    return (appt.start - timedelta(minutes=policy.check_in_early_min) <= now
            <= appt.start + timedelta(minutes=policy.no_show_grace_min))


def appointment_to_check_in(state: SalonState, now: datetime, *, member_id: str = "",
                            mobile: str = "", code: str = "") -> Appointment | None:
    """The booked appointment found by its check-in code, or of the member or the guest's
    mobile, whose check-in window holds ``now`` (the soonest); None: a walk-in."""
    def in_window(a: Appointment) -> bool:
        return a.status is AppointmentStatus.BOOKED and _in_check_in_window(state, a, now)

    if code:
        found = state.appointments.by_check_in_code(code)
        return found if found is not None and in_window(found) else None
    matches = [a for a in state.appointments.live() if in_window(a) and (
        (member_id and a.member_id == member_id) or (mobile and not a.member_id
                                                     and a.guest_mobile == mobile))]
    return min(matches, key=lambda a: a.start) if matches else None


def no_show_count(state: SalonState, member_id: str, now: datetime) -> int:
    """The member's no-shows and late cancellations in the policy's window."""
    policy = state.config.appointments
    since = now - timedelta(days=policy.no_show_flag_days)
    return sum(1 for a in state.appointments.appointments.values()
               if a.member_id == member_id and a.start >= since
               and (a.status is AppointmentStatus.NO_SHOW or a.late_cancel))


# ---------------------------------------------------------------- commands


@dataclass(frozen=True, kw_only=True)
class BookAppointment(Command):
    service_ids: tuple[str, ...]
    start: datetime
    staff_id: str = ANY_STAFF
    member_id: str = ""
    guest_name: str = ""
    guest_mobile: str = ""
    deposit: tuple[Payment, ...] = ()
    """An optional deposit, paid exactly (no change) by money from outside."""


@dataclass(frozen=True, kw_only=True)
class RescheduleAppointment(Command):
    appointment_id: str
    start: datetime
    staff_id: str | None = None
    """None: keep the staff member; ANY_STAFF: anyone free."""


@dataclass(frozen=True, kw_only=True)
class CancelAppointment(Command):
    appointment_id: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class MarkNoShow(Command):
    appointment_id: str


@dataclass(frozen=True, kw_only=True)
class CheckInAppointment(Command):
    appointment_id: str


@dataclass(frozen=True, kw_only=True)
class StartAppointment(Command):
    appointment_id: str


@dataclass(frozen=True, kw_only=True)
class CompleteAppointment(Command):
    appointment_id: str
    ticket_id: str


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise invalid_input("start", "a time without a zone")
    return at.replace(second=0, microsecond=0)


def _code(state: SalonState, seed: str) -> str:
    """A 6-digit check-in code no live appointment has, derived from the new id."""
    n = sum(ord(c) * 131 ** i for i, c in enumerate(seed)) % 900_000
    while f"{100_000 + n}" in state.appointments.by_code:
        n = (n + 7_919) % 900_000
    return f"{100_000 + n}"


def _status(appt: Appointment, *allowed: AppointmentStatus) -> None:
    if appt.status not in allowed:
        raise DomainError(ErrorCode.APPOINTMENT_STATUS,
                          {"appointment_id": appt.appointment_id, "status": appt.status.value})


@handles(BookAppointment)
def book_appointment(state: SalonState, cmd: BookAppointment, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.BOOK)
    if not cmd.service_ids:
        raise invalid_input("service_ids", "no service")
    for service_id in cmd.service_ids:
        state.catalog.service(service_id)
    member, guest_name, guest_mobile = customer_of(state, cmd.member_id, cmd.guest_name,
                                                   cmd.guest_mobile)
    if member is not None and member.blacklisted:
        raise DomainError(ErrorCode.MEMBER_BLACKLISTED, {"reason": member.blacklist_reason})
    for p in cmd.deposit:
        if p.method not in EXTERNAL_METHODS:
            raise DomainError(ErrorCode.PAY_METHOD_NOT_ALLOWED, {"method": p.method.value})
        if p.amount_fen <= 0:
            raise DomainError(ErrorCode.NEGATIVE_AMOUNT, {"field": "deposit"})
    now = ctx.clock()
    start = _aware(cmd.start)
    staff_id, holds = _place(state, cmd.service_ids, cmd.staff_id, start, now)
    appointment_id = ctx.new_id()
    policy = state.config.appointments
    flagged = bool(cmd.member_id) and policy.no_show_flag_count > 0 and (
        no_show_count(state, cmd.member_id, now) >= policy.no_show_flag_count)
    appt = Appointment(
        appointment_id=appointment_id, code=_code(state, appointment_id), flagged=flagged,
        member_id=cmd.member_id, guest_name=guest_name, guest_mobile=guest_mobile,
        service_ids=tuple(cmd.service_ids), staff_id=staff_id,
        designated=bool(cmd.staff_id), start=start,
        end=start + _length(state, cmd.service_ids), booked_at=now, resources=holds,
    )
    events: list[Event] = [AppointmentBooked(meta=ctx.meta(cmd.actor_id, now), appointment=appt)]
    if cmd.deposit:
        events.append(AppointmentDepositTaken(
            meta=ctx.meta(cmd.actor_id, now), appointment_id=appointment_id,
            member_id=cmd.member_id, payments=tuple(cmd.deposit)))
    return events


def _deposit_back(ctx: Context, actor_id: str, at: datetime, appt: Appointment,
                  keep: str = "") -> list[Event]:
    """The events that settle the appointment's deposit: kept (``keep`` is the reason) or
    given back; none when it has none."""
    if not appt.deposit or appt.deposit_settled:
        return []
    if keep:
        return [AppointmentDepositKept(meta=ctx.meta(actor_id, at),
                                       appointment_id=appt.appointment_id,
                                       amount_fen=sum(p.amount_fen for p in appt.deposit),
                                       reason=keep)]
    return [AppointmentDepositReturned(meta=ctx.meta(actor_id, at),
                                       appointment_id=appt.appointment_id,
                                       returned=appt.deposit)]


@handles(RescheduleAppointment)
def reschedule_appointment(
    state: SalonState, cmd: RescheduleAppointment, ctx: Context
) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.BOOK)
    appt = state.appointments.get(cmd.appointment_id)
    _status(appt, AppointmentStatus.BOOKED)
    now = ctx.clock()
    start = _aware(cmd.start)
    wanted = appt.staff_id if cmd.staff_id is None else cmd.staff_id
    staff_id, holds = _place(state, appt.service_ids, wanted, start, now,
                             ignore=appt.appointment_id)
    designated = appt.designated if cmd.staff_id is None else bool(cmd.staff_id)
    return [AppointmentRescheduled(
        meta=ctx.meta(cmd.actor_id, now), appointment_id=appt.appointment_id,
        staff_id=staff_id, designated=designated, start=start,
        end=start + _length(state, appt.service_ids), resources=holds)]


@handles(CancelAppointment)
def cancel_appointment(state: SalonState, cmd: CancelAppointment, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.BOOK)
    appt = state.appointments.get(cmd.appointment_id)
    _status(appt, AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN)
    reason = cmd.reason.strip()
    if not reason:
        raise invalid_input("reason", "a cancellation needs a reason")
    now = ctx.clock()
    cutoff = timedelta(minutes=state.config.appointments.cancel_cutoff_min)
    late = appt.status is AppointmentStatus.BOOKED and now > appt.start - cutoff
    return [AppointmentCancelled(meta=ctx.meta(cmd.actor_id, now),
                                 appointment_id=appt.appointment_id, reason=reason, late=late),
            *_deposit_back(ctx, cmd.actor_id, now, appt, "late_cancel" if late else "")]


@handles(MarkNoShow)
def mark_no_show(state: SalonState, cmd: MarkNoShow, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.BOOK)
    appt = state.appointments.get(cmd.appointment_id)
    _status(appt, AppointmentStatus.BOOKED)
    now = ctx.clock()
    grace = state.config.appointments.no_show_grace_min
    if now < appt.start + timedelta(minutes=grace):
        raise DomainError(ErrorCode.NO_SHOW_TOO_EARLY, {"minutes": grace})
    return [AppointmentMarkedNoShow(meta=ctx.meta(cmd.actor_id, now),
                                    appointment_id=appt.appointment_id),
            *_deposit_back(ctx, cmd.actor_id, now, appt, "no_show")]


@handles(CheckInAppointment)
def check_in_appointment(
    state: SalonState, cmd: CheckInAppointment, ctx: Context
) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.BOOK)
    appt = state.appointments.get(cmd.appointment_id)
    _status(appt, AppointmentStatus.BOOKED)
    now = ctx.clock()
    policy = state.config.appointments
    if not _in_check_in_window(state, appt, now):
        raise DomainError(ErrorCode.CHECK_IN_WINDOW, {
            "minutes_early": policy.check_in_early_min,
            "minutes_late": policy.no_show_grace_min})
    return [AppointmentCheckedIn(meta=ctx.meta(cmd.actor_id, now),
                                 appointment_id=appt.appointment_id)]


@handles(StartAppointment)
def start_appointment(state: SalonState, cmd: StartAppointment, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.BOOK)
    appt = state.appointments.get(cmd.appointment_id)
    _status(appt, AppointmentStatus.CHECKED_IN)
    return [AppointmentStarted(meta=ctx.meta(cmd.actor_id), appointment_id=appt.appointment_id)]


@handles(CompleteAppointment)
def complete_appointment(
    state: SalonState, cmd: CompleteAppointment, ctx: Context
) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.CHECKOUT)
    appt = state.appointments.get(cmd.appointment_id)
    _status(appt, AppointmentStatus.CHECKED_IN, AppointmentStatus.IN_SERVICE)
    if state.tickets.get(cmd.ticket_id) is None:
        raise DomainError(ErrorCode.UNKNOWN_TICKET, {"ticket_id": cmd.ticket_id})
    now = ctx.clock()
    return [AppointmentCompleted(meta=ctx.meta(cmd.actor_id, now),
                                 appointment_id=appt.appointment_id, ticket_id=cmd.ticket_id),
            *_deposit_back(ctx, cmd.actor_id, now, appt)]

