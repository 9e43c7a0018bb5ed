"""Check-in, the walk-in queue and the rotation board (签到 / 排队 / 轮牌), and 打卡.

Staff clock in and out at the kiosk; a stylist on duty is idle, in service or briefly
away; one who clocked out is gone. A customer checks in (the hub finds them by mobile,
card, member QR code or appointment code): an appointment inside its check-in window is
checked in (``salon.appointments``); anyone else joins the walk-in queue of a service
category, as a member or as a guest (name and mobile: the hub offers registration; a
check-in never registers anyone).

The rotation board keeps, per category, the order in which stylists take walk-ins:
``AssignNext`` gives the first waiting customer to the first stylist in that order who
is idle (busy and absent ones are skipped and keep their place), who then goes to the
back. A customer who asked for a stylist (指定) waits for that one, is counted as a
designated request, and moves nobody on the board. A stylist can also take the next
customer themself (``TakeNext``), which is a turn like any other.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from salon.commands import Command, handles
from salon.context import Context
from salon.errors import DomainError, ErrorCode, invalid_input
from salon.events import Event
from salon.masking import normalize_card_uid
from salon.members import customer_of
from salon.staff import Permission, require
from salon.tickets import business_day as business_day_of

if TYPE_CHECKING:
    from salon.state import SalonState

__all__ = [
    "AssignNext",
    "ClockIn",
    "ClockOut",
    "FinishWalkIn",
    "JoinQueue",
    "LeaveQueue",
    "LinkStaffCard",
    "QueueBook",
    "SetAway",
    "StaffAwaySet",
    "StaffCardLinked",
    "StaffClockedIn",
    "StaffClockedOut",
    "StaffState",
    "TakeNext",
    "WalkIn",
    "WalkInAssigned",
    "WalkInFinished",
    "WalkInLeft",
    "WalkInQueued",
    "WalkInStatus",
    "estimated_waits",
    "staff_by_card",
    "staff_state",
]


class StaffState(StrEnum):
    IDLE = "idle"
    IN_SERVICE = "in_service"
    AWAY = "away"
    GONE = "gone"


class WalkInStatus(StrEnum):
    WAITING = "waiting"
    IN_SERVICE = "in_service"
    DONE = "done"
    LEFT = "left"


@dataclass(frozen=True, slots=True)
class WalkIn:
    walk_in_id: str
    number: int
    """The number called out and printed on the slip, from 1 each business day."""
    category: str
    service_id: str
    member_id: str
    guest_name: str
    guest_mobile: str
    designated_staff_id: str
    queued_at: datetime
    business_day: date
    status: WalkInStatus = WalkInStatus.WAITING
    staff_id: str = ""
    started_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class StaffCardLinked(Event):
    """A staff member's own card, tapped at the kiosk to clock in and out (打卡)."""

    staff_id: str
    card_uid: str


@dataclass(frozen=True, kw_only=True)
class StaffClockedIn(Event):
    staff_id: str


@dataclass(frozen=True, kw_only=True)
class StaffClockedOut(Event):
    staff_id: str


@dataclass(frozen=True, kw_only=True)
class StaffAwaySet(Event):
    staff_id: str
    away: bool


@dataclass(frozen=True, kw_only=True)
class WalkInQueued(Event):
    walk_in: WalkIn


@dataclass(frozen=True, kw_only=True)
class WalkInAssigned(Event):
    walk_in_id: str
    staff_id: str
    by_rotation: bool
    """Given by the board's turn (the stylist goes to the back), not a designated request."""


@dataclass(frozen=True, kw_only=True)
class WalkInFinished(Event):
    walk_in_id: str
    ticket_id: str = ""


@dataclass(frozen=True, kw_only=True)
class WalkInLeft(Event):
    walk_in_id: str
    reason: str


@dataclass
class QueueBook:
    on_duty: dict[str, datetime] = field(default_factory=dict)
    """Staff clocked in → since when."""
    away: dict[str, datetime] = field(default_factory=dict)
    walk_ins: dict[str, WalkIn] = field(default_factory=dict)
    """Today's queue and who is in service; finished and left ones are dropped."""
    rotation: list[str] = field(default_factory=list)
    """Staff on duty in the order they take walk-ins: clocking in joins at the back, a
    walk-in given by the board's turn sends one to the back. A category's board is this
    order, of those who do its services."""
    designated_counts: dict[str, int] = field(default_factory=dict)
    """Staff → walk-ins who asked for them (指定), ever."""
    next_number: int = 1
    number_day: str = ""
    staff_cards: dict[str, str] = field(default_factory=dict)
    """Card UID (normalised) → the staff member it clocks in and out."""

    def apply(self, event: Event) -> None:
        match event:
            case StaffCardLinked():
                for uid in [u for u, s in self.staff_cards.items() if s == event.staff_id]:
                    del self.staff_cards[uid]  # one card each: a new one replaces the old
                self.staff_cards[event.card_uid] = event.staff_id
            case StaffClockedIn():
                self.on_duty[event.staff_id] = event.meta.at
                self.rotation.append(event.staff_id)
            case StaffClockedOut():
                self.on_duty.pop(event.staff_id, None)
                self.away.pop(event.staff_id, None)
                self.rotation.remove(event.staff_id)
            case StaffAwaySet():
                if event.away:
                    self.away[event.staff_id] = event.meta.at
                else:
                    self.away.pop(event.staff_id, None)
            case WalkInQueued():
                walk_in = event.walk_in
                if walk_in.business_day.isoformat() != self.number_day:
                    # A new day's first walk-in: who still waited from the days before left.
                    for stale in [w for w in self.walk_ins.values()
                                  if w.status is WalkInStatus.WAITING
                                  and w.business_day < walk_in.business_day]:
                        del self.walk_ins[stale.walk_in_id]
                self.walk_ins[walk_in.walk_in_id] = walk_in
                self.next_number = walk_in.number + 1
                self.number_day = walk_in.business_day.isoformat()
            case WalkInAssigned():
                walk_in = self.walk_ins[event.walk_in_id]
                self.walk_ins[event.walk_in_id] = replace(
                    walk_in, status=WalkInStatus.IN_SERVICE, staff_id=event.staff_id,
                    started_at=event.meta.at)
                if event.by_rotation:
                    self.rotation.remove(event.staff_id)
                    self.rotation.append(event.staff_id)
                else:
                    self.designated_counts[event.staff_id] = (
                        self.designated_counts.get(event.staff_id, 0) + 1)
            case WalkInFinished() | WalkInLeft():
                self.walk_ins.pop(event.walk_in_id, None)
            case _:
                pass

    def waiting(self, category: str = "") -> list[WalkIn]:
        """Waiting walk-ins (of ``category``, or all) in the order they came."""
        return sorted((w for w in self.walk_ins.values() if w.status is WalkInStatus.WAITING
                       and (not category or w.category == category)),
                      key=lambda w: (w.queued_at, w.number))

    def board(self, state: SalonState, category: str) -> list[tuple[str, StaffState]]:
        """The rotation board of ``category``: the on-duty staff who do its services, in
        turn order, with their state."""
        return [(s, staff_state(state, s)) for s in self.rotation
                if _does_category(state, s, category)]


def _does_category(state: SalonState, staff_id: str, category: str) -> bool:
    """Whether the staff member can do some service of the category (by level)."""
    person = state.staff.staff.get(staff_id)
    if person is None or not person.active:
        return False
    return any(s.category == category and (not s.staff_levels or person.level in s.staff_levels)
               for s in state.catalog.services.values())


def staff_state(state: SalonState, staff_id: str) -> StaffState:
    book = state.queue
    if staff_id not in book.on_duty:
        return StaffState.GONE
    if any(w.staff_id == staff_id and w.status is WalkInStatus.IN_SERVICE
           for w in book.walk_ins.values()):
        return StaffState.IN_SERVICE
    if any(a.staff_id == staff_id for a in state.appointments.in_service()):
        return StaffState.IN_SERVICE
    if staff_id in book.away:
        return StaffState.AWAY
    return StaffState.IDLE


def _minutes_of(state: SalonState, walk_in: WalkIn) -> int:
    if walk_in.service_id:
        return state.catalog.service(walk_in.service_id).duration_min
    durations = [s.duration_min for s in state.catalog.services.values()
                 if s.category == walk_in.category]
    return min(durations) if durations else 30


def estimated_waits(state: SalonState, category: str, now: datetime) -> dict[str, int]:
    """Waiting walk-in → estimated minutes until a stylist of the board is free for them:
    each stylist in service is free when their walk-in's service ends (from its start and
    duration) or their appointment's, an idle one now; the waiting take them in queue
    order."""
    board = [s for s, st in state.queue.board(state, category) if st is not StaffState.GONE]
    in_service = state.appointments.in_service()
    free_at: list[tuple[datetime, str]] = []
    for staff_id in board:
        busy = [w for w in state.queue.walk_ins.values()
                if w.staff_id == staff_id and w.status is WalkInStatus.IN_SERVICE]
        at = now
        for w in busy:
            assert w.started_at is not None
            at = max(at, w.started_at + timedelta(minutes=_minutes_of(state, w)))
        for appt in in_service:
            if appt.staff_id == staff_id:
                at = max(at, appt.end)
        if staff_id in state.queue.away:
            at = max(at, now + timedelta(minutes=10))  # briefly away: back soon
        heapq.heappush(free_at, (at, staff_id))
    out: dict[str, int] = {}
    for walk_in in state.queue.waiting(category):
        if not free_at:
            break
        at, staff_id = heapq.heappop(free_at)
        out[walk_in.walk_in_id] = max(0, int((at - now).total_seconds() // 60))
        heapq.heappush(free_at, (max(at, now) + timedelta(minutes=_minutes_of(state, walk_in)),
                                 staff_id))
    return out


# ---------------------------------------------------------------- commands


@dataclass(frozen=True, kw_only=True)
class ClockIn(Command):
    """The staff member clocks in (打卡) at the kiosk with their card: ``actor_id``."""


@dataclass(frozen=True, kw_only=True)
class ClockOut(Command):
    pass


@dataclass(frozen=True, kw_only=True)
class LinkStaffCard(Command):
    staff_id: str
    card_uid: str


def staff_by_card(state: SalonState, card_uid: str) -> str:
    """The staff member whose card this is (INVALID_CARD_UID, UNKNOWN_CARD)."""
    uid = normalize_card_uid(card_uid)
    staff_id = state.queue.staff_cards.get(uid)
    if staff_id is None:
        raise DomainError(ErrorCode.UNKNOWN_CARD, {"card_uid": uid})
    return staff_id


@dataclass(frozen=True, kw_only=True)
class SetAway(Command):
    away: bool = True


@dataclass(frozen=True, kw_only=True)
class JoinQueue(Command):
    category: str
    service_id: str = ""
    member_id: str = ""
    guest_name: str = ""
    guest_mobile: str = ""
    designated_staff_id: str = ""


@dataclass(frozen=True, kw_only=True)
class AssignNext(Command):
    category: str


@dataclass(frozen=True, kw_only=True)
class TakeNext(Command):
    """The stylist ``actor_id`` takes the next customer of ``category`` waiting for them."""

    category: str


@dataclass(frozen=True, kw_only=True)
class FinishWalkIn(Command):
    walk_in_id: str
    ticket_id: str = ""


@dataclass(frozen=True, kw_only=True)
class LeaveQueue(Command):
    walk_in_id: str
    reason: str


def _staff(state: SalonState, actor_id: str) -> None:
    state.staff.active(actor_id)


@handles(LinkStaffCard)
def link_staff_card(state: SalonState, cmd: LinkStaffCard, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.MANAGE_SCHEDULE)
    state.staff.active(cmd.staff_id)
    uid = normalize_card_uid(cmd.card_uid)
    owner = state.queue.staff_cards.get(uid)
    if uid in state.members.card_index or (owner is not None and owner != cmd.staff_id):
        raise DomainError(ErrorCode.CARD_TAKEN, {"card_uid": uid})
    return [StaffCardLinked(meta=ctx.meta(cmd.actor_id), staff_id=cmd.staff_id, card_uid=uid)]


@handles(ClockIn)
def clock_in(state: SalonState, cmd: ClockIn, ctx: Context) -> Sequence[Event]:
    _staff(state, cmd.actor_id)
    if cmd.actor_id in state.queue.on_duty:
        raise DomainError(ErrorCode.ALREADY_CLOCKED_IN, {"staff_id": cmd.actor_id})
    return [StaffClockedIn(meta=ctx.meta(cmd.actor_id), staff_id=cmd.actor_id)]


@handles(ClockOut)
def clock_out(state: SalonState, cmd: ClockOut, ctx: Context) -> Sequence[Event]:
    _staff(state, cmd.actor_id)
    if cmd.actor_id not in state.queue.on_duty:
        raise DomainError(ErrorCode.NOT_CLOCKED_IN, {"staff_id": cmd.actor_id})
    if staff_state(state, cmd.actor_id) is StaffState.IN_SERVICE:
        raise DomainError(ErrorCode.STAFF_IN_SERVICE, {"staff_id": cmd.actor_id})
    return [StaffClockedOut(meta=ctx.meta(cmd.actor_id), staff_id=cmd.actor_id)]


@handles(SetAway)
def set_away(state: SalonState, cmd: SetAway, ctx: Context) -> Sequence[Event]:
    _staff(state, cmd.actor_id)
    if cmd.actor_id not in state.queue.on_duty:
        raise DomainError(ErrorCode.NOT_CLOCKED_IN, {"staff_id": cmd.actor_id})
    return [StaffAwaySet(meta=ctx.meta(cmd.actor_id), staff_id=cmd.actor_id, away=cmd.away)]


@handles(JoinQueue)
def join_queue(state: SalonState, cmd: JoinQueue, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.BOOK)
    category = cmd.category.strip()
    if not any(s.category == category for s in state.catalog.services.values()):
        raise invalid_input("category", f"no service of {category!r}")
    if cmd.service_id and state.catalog.service(cmd.service_id).category != category:
        raise invalid_input("service_id", f"not a {category} service")
    member, guest_name, guest_mobile = customer_of(state, cmd.member_id, cmd.guest_name,
                                                   cmd.guest_mobile)
    if member is not None and any(w.member_id == cmd.member_id
                                  for w in state.queue.walk_ins.values()):
        raise DomainError(ErrorCode.ALREADY_IN_QUEUE, {"member_id": cmd.member_id})
    if cmd.designated_staff_id:
        state.staff.active(cmd.designated_staff_id)
        if not _does_category(state, cmd.designated_staff_id, category):
            raise DomainError(ErrorCode.STAFF_NOT_QUALIFIED,
                              {"staff_id": cmd.designated_staff_id, "service_id": category})
    now = ctx.clock()
    book = state.queue
    day = business_day_of(now, state.config.checkout)
    number = book.next_number if book.number_day == day.isoformat() else 1
    walk_in = WalkIn(ctx.new_id(), number, category, cmd.service_id, cmd.member_id,
                     guest_name, guest_mobile, cmd.designated_staff_id, now, day)
    return [WalkInQueued(meta=ctx.meta(cmd.actor_id, now), walk_in=walk_in)]


def _next_for(state: SalonState, category: str, staff_id: str) -> WalkIn | None:
    """The first waiting walk-in ``staff_id`` may take: one who asked for them, else the
    first who asked for nobody."""
    waiting = state.queue.waiting(category)
    return (next((w for w in waiting if w.designated_staff_id == staff_id), None)
            or next((w for w in waiting if not w.designated_staff_id), None))


@handles(AssignNext)
def assign_next(state: SalonState, cmd: AssignNext, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.BOOK)
    waiting = state.queue.waiting(cmd.category)
    if not waiting:
        raise DomainError(ErrorCode.QUEUE_EMPTY, {"category": cmd.category})
    idle = [s for s, st in state.queue.board(state, cmd.category) if st is StaffState.IDLE]
    for walk_in in waiting:
        if walk_in.designated_staff_id:
            if walk_in.designated_staff_id in idle:
                return [WalkInAssigned(meta=ctx.meta(cmd.actor_id),
                                       walk_in_id=walk_in.walk_in_id,
                                       staff_id=walk_in.designated_staff_id, by_rotation=False)]
            continue  # waits for the one they asked for
        if idle:
            return [WalkInAssigned(meta=ctx.meta(cmd.actor_id), walk_in_id=walk_in.walk_in_id,
                                   staff_id=idle[0], by_rotation=True)]
    raise DomainError(ErrorCode.NO_STAFF_IDLE, {"category": cmd.category})


@handles(TakeNext)
def take_next(state: SalonState, cmd: TakeNext, ctx: Context) -> Sequence[Event]:
    _staff(state, cmd.actor_id)
    now_state = staff_state(state, cmd.actor_id)
    if now_state is not StaffState.IDLE:
        raise DomainError(ErrorCode.STAFF_NOT_IDLE, {"staff_id": cmd.actor_id,
                                                     "state": now_state.value})
    if not _does_category(state, cmd.actor_id, cmd.category):
        raise DomainError(ErrorCode.STAFF_NOT_QUALIFIED,
                          {"staff_id": cmd.actor_id, "service_id": cmd.category})
    walk_in = _next_for(state, cmd.category, cmd.actor_id)
    if walk_in is None:
        raise DomainError(ErrorCode.QUEUE_EMPTY, {"category": cmd.category})
    return [WalkInAssigned(meta=ctx.meta(cmd.actor_id), walk_in_id=walk_in.walk_in_id,
                           staff_id=cmd.actor_id,
                           by_rotation=walk_in.designated_staff_id != cmd.actor_id)]


def _walk_in(state: SalonState, walk_in_id: str) -> WalkIn:
    found = state.queue.walk_ins.get(walk_in_id)
    if found is None:
        raise DomainError(ErrorCode.UNKNOWN_WALK_IN, {"walk_in_id": walk_in_id})
    return found


@handles(FinishWalkIn)
def finish_walk_in(state: SalonState, cmd: FinishWalkIn, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.CHECKOUT)
    walk_in = _walk_in(state, cmd.walk_in_id)
    if walk_in.status is not WalkInStatus.IN_SERVICE:
        raise DomainError(ErrorCode.WALK_IN_STATUS, {"walk_in_id": walk_in.walk_in_id,
                                                     "status": walk_in.status.value})
    if cmd.ticket_id and state.tickets.get(cmd.ticket_id) is None:
        raise DomainError(ErrorCode.UNKNOWN_TICKET, {"ticket_id": cmd.ticket_id})
    return [WalkInFinished(meta=ctx.meta(cmd.actor_id), walk_in_id=walk_in.walk_in_id,
                           ticket_id=cmd.ticket_id)]


@handles(LeaveQueue)
def leave_queue(state: SalonState, cmd: LeaveQueue, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.BOOK)
    walk_in = _walk_in(state, cmd.walk_in_id)
    if walk_in.status is not WalkInStatus.WAITING:
        raise DomainError(ErrorCode.WALK_IN_STATUS, {"walk_in_id": walk_in.walk_in_id,
                                                     "status": walk_in.status.value})
    return [WalkInLeft(meta=ctx.meta(cmd.actor_id), walk_in_id=walk_in.walk_in_id,
                       reason=cmd.reason.strip())]
