"""Store opening hours, holidays and staff schedules (排班): who can work when.

Times of day are minutes after the store's local midnight (``StoreConfig.checkout.
utc_offset_minutes``: China has one zone and no daylight saving), a day's hours a tuple
of ``Hours`` intervals, half open. A staff member's working hours on a day are their
weekly hours for its weekday, less the leave and plus the extra shifts booked for that
date, always inside the store's opening hours, and none on a holiday. Appointments
(``salon.appointments``) must fit inside them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from salon.commands import Command, handles
from salon.context import Context
from salon.errors import DomainError, ErrorCode, invalid_input
from salon.events import Event
from salon.staff import Permission, require

if TYPE_CHECKING:
    from salon.state import SalonState

__all__ = [
    "DAY_MINUTES",
    "AddResource",
    "AddScheduleException",
    "ExceptionKind",
    "Hours",
    "RemoveScheduleException",
    "Resource",
    "ResourceAdded",
    "ResourceRetired",
    "RetireResource",
    "ScheduleBook",
    "ScheduleException",
    "ScheduleExceptionAdded",
    "ScheduleExceptionRemoved",
    "SetHoliday",
    "SetStaffSchedule",
    "SetStoreHours",
    "StaffScheduleSet",
    "StoreHolidaySet",
    "StoreHoursSet",
    "Week",
    "at_local",
    "local_day",
    "local_minutes",
]

DAY_MINUTES = 24 * 60


@dataclass(frozen=True, slots=True)
class Hours:
    """From ``start_min`` up to (not including) ``end_min``, minutes after local midnight."""

    start_min: int
    end_min: int


Week = tuple[tuple[Hours, ...], ...]
"""Seven days of hours, Monday first (``date.weekday()``)."""

_OPEN_ALL_WEEK: Week = tuple((Hours(10 * 60, 22 * 60),) for _ in range(7))
"""A new store's opening hours until it sets its own: 10:00-22:00 every day."""


class ExceptionKind(StrEnum):
    LEAVE = "leave"  # 请假: not working then, although the week says so
    EXTRA = "extra"  # 加班: working then, although the week does not say so


@dataclass(frozen=True, slots=True)
class ScheduleException:
    exception_id: str
    staff_id: str
    day: date
    kind: ExceptionKind
    hours: Hours
    note: str = ""


@dataclass(frozen=True, slots=True)
class Resource:
    """A bed (床位), a room or a chair that a service may need (``Service.resource_kind``)."""

    resource_id: str
    kind: str
    name: str
    active: bool = True


@dataclass(frozen=True, kw_only=True)
class ResourceAdded(Event):
    resource: Resource


@dataclass(frozen=True, kw_only=True)
class ResourceRetired(Event):
    resource_id: str


@dataclass(frozen=True, kw_only=True)
class StoreHoursSet(Event):
    week: Week


@dataclass(frozen=True, kw_only=True)
class StoreHolidaySet(Event):
    """The store is closed on ``day`` (``closed``), or open again as its week says."""

    day: date
    closed: bool
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class StaffScheduleSet(Event):
    staff_id: str
    week: Week


@dataclass(frozen=True, kw_only=True)
class ScheduleExceptionAdded(Event):
    exception: ScheduleException


@dataclass(frozen=True, kw_only=True)
class ScheduleExceptionRemoved(Event):
    exception_id: str


@dataclass
class ScheduleBook:
    store_week: Week = _OPEN_ALL_WEEK
    holidays: dict[date, str] = field(default_factory=dict)
    """Closed days → the note given (春节, 装修)."""
    staff_weeks: dict[str, Week] = field(default_factory=dict)
    exceptions: dict[str, ScheduleException] = field(default_factory=dict)
    resources: dict[str, Resource] = field(default_factory=dict)

    def apply(self, event: Event) -> None:
        match event:
            case ResourceAdded():
                self.resources[event.resource.resource_id] = event.resource
            case ResourceRetired():
                self.resources[event.resource_id] = replace(
                    self.resources[event.resource_id], active=False)
            case StoreHoursSet():
                self.store_week = event.week
            case StoreHolidaySet():
                if event.closed:
                    self.holidays[event.day] = event.note
                else:
                    self.holidays.pop(event.day, None)
            case StaffScheduleSet():
                self.staff_weeks[event.staff_id] = event.week
            case ScheduleExceptionAdded():
                self.exceptions[event.exception.exception_id] = event.exception
                # Leave and extra shifts of days long past change nothing any more: those
                # over a year before the new one's day go (events alone decide it).
                past = event.exception.day - timedelta(days=366)
                for old in [e for e in self.exceptions.values() if e.day < past]:
                    del self.exceptions[old.exception_id]
            case ScheduleExceptionRemoved():
                self.exceptions.pop(event.exception_id, None)
            case _:
                pass

    def resources_of(self, kind: str) -> list[Resource]:
        """The active resources of ``kind``, by id."""
        return sorted((r for r in self.resources.values() if r.kind == kind and r.active),
                      key=lambda r: r.resource_id)

    def store_hours(self, day: date) -> tuple[Hours, ...]:
        """The store's opening hours on ``day``: none on a holiday."""
        if day in self.holidays:
            return ()
        return self.store_week[day.weekday()]

    def working_hours(self, staff_id: str, day: date) -> tuple[Hours, ...]:
        """When ``staff_id`` works on ``day``, inside the store's opening hours."""
        week = self.staff_weeks.get(staff_id)
        minutes = set(_minutes(week[day.weekday()])) if week is not None else set()
        for exc in self.exceptions.values():
            if exc.staff_id == staff_id and exc.day == day:
                span = range(exc.hours.start_min, exc.hours.end_min)
                if exc.kind is ExceptionKind.EXTRA:
                    minutes.update(span)
                else:
                    minutes.difference_update(span)
        minutes.intersection_update(_minutes(self.store_hours(day)))
        return _intervals(minutes)


def _minutes(hours: Iterable[Hours]) -> Iterable[int]:
    for h in hours:
        yield from range(h.start_min, h.end_min)


def _intervals(minutes: set[int]) -> tuple[Hours, ...]:
    out: list[Hours] = []
    for m in sorted(minutes):
        if out and out[-1].end_min == m:
            out[-1] = Hours(out[-1].start_min, m + 1)
        else:
            out.append(Hours(m, m + 1))
    return tuple(out)


def local_day(state: SalonState, at: datetime) -> date:
    """The store's local calendar date at ``at``."""
    return at.astimezone(state.config.checkout.zone()).date()


def local_minutes(state: SalonState, at: datetime) -> int:
    """Minutes after the store's local midnight at ``at`` (seconds dropped)."""
    local = at.astimezone(state.config.checkout.zone())
    return local.hour * 60 + local.minute


def at_local(state: SalonState, day: date, minutes: int) -> datetime:
    """The aware time ``minutes`` after local midnight of ``day`` (in UTC)."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=state.config.checkout.zone())
    return (midnight + timedelta(minutes=minutes)).astimezone(UTC)


# ---------------------------------------------------------------- commands


@dataclass(frozen=True, kw_only=True)
class SetStoreHours(Command):
    week: Week


@dataclass(frozen=True, kw_only=True)
class SetHoliday(Command):
    day: date
    closed: bool = True
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class SetStaffSchedule(Command):
    staff_id: str
    week: Week


@dataclass(frozen=True, kw_only=True)
class AddScheduleException(Command):
    staff_id: str
    day: date
    kind: ExceptionKind
    hours: Hours
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class RemoveScheduleException(Command):
    exception_id: str


@dataclass(frozen=True, kw_only=True)
class AddResource(Command):
    kind: str
    name: str


@dataclass(frozen=True, kw_only=True)
class RetireResource(Command):
    resource_id: str


def _check_hours(hours: Hours, field_name: str) -> None:
    if not 0 <= hours.start_min < hours.end_min <= DAY_MINUTES:
        raise invalid_input(field_name,
                            f"{hours.start_min}-{hours.end_min} is not a span of one day")


def _check_week(week: Sequence[Sequence[Hours]]) -> Week:
    if len(week) != 7:
        raise invalid_input("week", f"{len(week)} days, not 7")
    for day in week:
        spans = sorted(day, key=lambda h: h.start_min)
        for h in spans:
            _check_hours(h, "week")
        for a, b in itertools.pairwise(spans):
            if b.start_min < a.end_min:
                raise invalid_input("week", "hours of one day overlap")
    return tuple(tuple(sorted(day, key=lambda h: h.start_min)) for day in week)


@handles(SetStoreHours)
def set_store_hours(state: SalonState, cmd: SetStoreHours, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.MANAGE_SCHEDULE)
    return [StoreHoursSet(meta=ctx.meta(cmd.actor_id), week=_check_week(cmd.week))]


@handles(SetHoliday)
def set_holiday(state: SalonState, cmd: SetHoliday, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.MANAGE_SCHEDULE)
    return [StoreHolidaySet(meta=ctx.meta(cmd.actor_id), day=cmd.day, closed=cmd.closed,
                            note=cmd.note.strip())]


@handles(SetStaffSchedule)
def set_staff_schedule(state: SalonState, cmd: SetStaffSchedule, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.MANAGE_SCHEDULE)
    state.staff.active(cmd.staff_id)
    return [StaffScheduleSet(meta=ctx.meta(cmd.actor_id), staff_id=cmd.staff_id,
                             week=_check_week(cmd.week))]


@handles(AddScheduleException)
def add_schedule_exception(
    state: SalonState, cmd: AddScheduleException, ctx: Context
) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.MANAGE_SCHEDULE)
    state.staff.active(cmd.staff_id)
    _check_hours(cmd.hours, "hours")
    exc = ScheduleException(ctx.new_id(), cmd.staff_id, cmd.day, cmd.kind, cmd.hours,
                            cmd.note.strip())
    return [ScheduleExceptionAdded(meta=ctx.meta(cmd.actor_id), exception=exc)]


@handles(RemoveScheduleException)
def remove_schedule_exception(
    state: SalonState, cmd: RemoveScheduleException, ctx: Context
) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.MANAGE_SCHEDULE)
    if cmd.exception_id not in state.schedules.exceptions:
        raise DomainError(ErrorCode.UNKNOWN_SCHEDULE_EXCEPTION,
                          {"exception_id": cmd.exception_id})
    return [ScheduleExceptionRemoved(meta=ctx.meta(cmd.actor_id),
                                     exception_id=cmd.exception_id)]


@handles(AddResource)
def add_resource(state: SalonState, cmd: AddResource, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.MANAGE_SCHEDULE)
    kind, name = cmd.kind.strip(), cmd.name.strip()
    if not kind:
        raise invalid_input("kind", "a resource needs a kind (bed, room)")
    if not name:
        raise invalid_input("name", "a resource needs a name")
    if any(r.name == name and r.active for r in state.schedules.resources.values()):
        raise invalid_input("name", f"a resource named {name} exists")
    return [ResourceAdded(meta=ctx.meta(cmd.actor_id),
                          resource=Resource(ctx.new_id(), kind, name))]


@handles(RetireResource)
def retire_resource(state: SalonState, cmd: RetireResource, ctx: Context) -> Sequence[Event]:
    """Retire a resource: booked appointments keep it; no new ones are given it."""
    require(state.staff, cmd.actor_id, Permission.MANAGE_SCHEDULE)
    found = state.schedules.resources.get(cmd.resource_id)
    if found is None or not found.active:
        raise DomainError(ErrorCode.UNKNOWN_RESOURCE, {"resource_id": cmd.resource_id})
    return [ResourceRetired(meta=ctx.meta(cmd.actor_id), resource_id=cmd.resource_id)]
