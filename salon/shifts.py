"""Shifts and the business day (交班 / 日结): the till's money from open to close.

One shift is open at a time (one till per store). Opening it counts the cash float; cash
put in or taken out during it (零钱, 备用金, paying a supplier) is recorded with a reason.
While it is open every event that moves money is tallied into it: sales by method, cash
change given, refunds and voids paid back, recharges, package cards sold, debt taken and
repaid, appointment deposits taken, given back and kept. Closing it is a blind count:
the cashier enters what the till holds per method before seeing what it should hold (the
close is committed with both and the variance; ``ShiftBook.open_summary`` leaves the
expected figures out, for the screen that takes the count). A closed shift is immutable:
its report is frozen into its ``ShiftClosed`` event and nothing changes it. The day
close (日结) sums the shifts closed on one business day, once, with no shift open; money
moved while no shift was open (a sale before the first shift of the day) is not lost
from it: it is tallied by business day and the day close reports it apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from salon.appointments import (
    AppointmentDepositKept,
    AppointmentDepositReturned,
    AppointmentDepositTaken,
)
from salon.commands import Command, handles
from salon.config import CheckoutPolicy, StoreConfigured
from salon.context import Context
from salon.errors import DomainError, ErrorCode, invalid_input
from salon.events import Event
from salon.package_ledger import PackageCardSold
from salon.payments import Payment, PaymentMethod
from salon.staff import Permission, require
from salon.tickets import DebtRepaid, RechargePaid, RefundPaidOut, TicketPaid, TicketRefunded
from salon.tickets import business_day as business_day_of

if TYPE_CHECKING:
    from salon.state import SalonState

__all__ = [
    "CashDirection",
    "CashMoved",
    "CloseDay",
    "CloseShift",
    "DayClosed",
    "MoveCash",
    "OpenShift",
    "Shift",
    "ShiftBook",
    "ShiftClosed",
    "ShiftOpened",
    "ShiftTally",
]

COUNTED_METHODS = (PaymentMethod.CASH, PaymentMethod.BANK_CARD, PaymentMethod.WECHAT,
                   PaymentMethod.ALIPAY)
"""What a close counts (the drawer, the card terminal's slip, the two apps' records)."""


class CashDirection(StrEnum):
    IN = "in"
    OUT = "out"


@dataclass(frozen=True, slots=True)
class ShiftTally:
    """A shift's money, in fen; a tuple of (method, fen) pairs keeps it frozen and ordered."""

    taken: tuple[tuple[str, int], ...] = ()
    """Sales, recharges and debt repayments by method, net of cash change."""
    refunded: tuple[tuple[str, int], ...] = ()
    """Money paid back by method (ticket refunds and voids, recharge and card refunds)."""
    sales_fen: int = 0
    """Tickets' amounts due (stored value, debt and the rest)."""
    tickets: int = 0
    refunds: int = 0
    refunds_fen: int = 0
    voids: int = 0
    voids_fen: int = 0
    recharges: int = 0
    recharges_fen: int = 0
    card_sales: int = 0
    card_sales_fen: int = 0
    debt_taken_fen: int = 0
    debt_repaid_fen: int = 0
    cash_in_fen: int = 0
    cash_out_fen: int = 0
    deposits_fen: int = 0
    """Appointment deposits taken (定金); in ``taken`` by method too."""
    deposits_returned_fen: int = 0
    deposits_kept_fen: int = 0

    def taken_by(self, method: PaymentMethod) -> int:
        return dict(self.taken).get(method.value, 0)

    def refunded_by(self, method: PaymentMethod) -> int:
        return dict(self.refunded).get(method.value, 0)


@dataclass(frozen=True, slots=True)
class Shift:
    shift_id: str
    cashier_id: str
    business_day: date
    opened_at: datetime
    float_fen: int
    tally: ShiftTally = ShiftTally()
    closed_at: datetime | None = None
    counted: tuple[tuple[str, int], ...] = ()
    expected: tuple[tuple[str, int], ...] = ()
    note: str = ""

    def expected_by(self) -> dict[str, int]:
        """What the till should hold per counted method now."""
        out = {}
        for method in COUNTED_METHODS:
            net = self.tally.taken_by(method) - self.tally.refunded_by(method)
            if method is PaymentMethod.CASH:
                net += self.float_fen + self.tally.cash_in_fen - self.tally.cash_out_fen
            out[method.value] = net
        return out


@dataclass(frozen=True, kw_only=True)
class ShiftOpened(Event):
    shift_id: str
    cashier_id: str
    business_day: date
    float_fen: int


@dataclass(frozen=True, kw_only=True)
class CashMoved(Event):
    shift_id: str
    direction: CashDirection
    amount_fen: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class ShiftClosed(Event):
    """The close, with the whole report as it was: a closed shift never changes."""

    shift: Shift


@dataclass(frozen=True, kw_only=True)
class DayClosed(Event):
    business_day: date
    shift_ids: tuple[str, ...]
    tally: ShiftTally
    counted: tuple[tuple[str, int], ...]
    expected: tuple[tuple[str, int], ...]
    outside_shifts: ShiftTally = ShiftTally()
    """Money moved that day while no shift was open: in no shift's count."""


def _add(pairs: tuple[tuple[str, int], ...], payments: Iterable[tuple[str, int]],
         ) -> tuple[tuple[str, int], ...]:
    out = dict(pairs)
    for method, fen in payments:
        if fen:
            out[method] = out.get(method, 0) + fen
    return tuple(sorted(out.items()))


def _net_of_change(payments: Sequence[Payment], change_fen: int) -> list[tuple[str, int]]:
    out = [(p.method.value, p.amount_fen) for p in payments]
    if change_fen:
        out.append((PaymentMethod.CASH.value, -change_fen))
    return out


def tally_event(tally: ShiftTally, event: Event) -> ShiftTally:
    """``tally`` with the money ``event`` moved added."""
    match event:
        case TicketPaid():
            taken = _net_of_change(event.tendered, event.change_fen)
            debt = sum(f for m, f in taken if m == PaymentMethod.DEBT.value)
            return replace(tally, taken=_add(tally.taken, taken), tickets=tally.tickets + 1,
                           sales_fen=tally.sales_fen + event.due_fen,
                           debt_taken_fen=tally.debt_taken_fen + debt)
        case TicketRefunded():
            back = [(p.method.value, p.amount_fen) for p in event.returned]
            fen = sum(f for _, f in back) + event.debt_cancelled_fen
            if event.void:
                tally = replace(tally, voids=tally.voids + 1, voids_fen=tally.voids_fen + fen)
            else:
                tally = replace(tally, refunds=tally.refunds + 1,
                                refunds_fen=tally.refunds_fen + fen)
            return replace(tally, refunded=_add(tally.refunded, back))
        case RechargePaid():
            taken = _net_of_change(event.payments, event.change_fen)
            return replace(tally, taken=_add(tally.taken, taken), recharges=tally.recharges + 1,
                           recharges_fen=tally.recharges_fen + sum(f for _, f in taken))
        case DebtRepaid():
            taken = _net_of_change(event.payments, event.change_fen)
            return replace(tally, taken=_add(tally.taken, taken),
                           debt_repaid_fen=tally.debt_repaid_fen + sum(f for _, f in taken))
        case RefundPaidOut():
            return replace(tally, refunded=_add(tally.refunded,
                                                [(event.method.value, event.amount_fen)]))
        case PackageCardSold():
            return replace(tally, card_sales=tally.card_sales + 1,
                           card_sales_fen=tally.card_sales_fen + event.price_fen)
        case AppointmentDepositTaken():
            taken = [(p.method.value, p.amount_fen) for p in event.payments]
            return replace(tally, taken=_add(tally.taken, taken),
                           deposits_fen=tally.deposits_fen + sum(f for _, f in taken))
        case AppointmentDepositReturned():
            back = [(p.method.value, p.amount_fen) for p in event.returned]
            return replace(tally, refunded=_add(tally.refunded, back),
                           deposits_returned_fen=tally.deposits_returned_fen
                           + sum(f for _, f in back))
        case AppointmentDepositKept():
            return replace(tally, deposits_kept_fen=tally.deposits_kept_fen + event.amount_fen)
        case CashMoved():
            if event.direction is CashDirection.IN:
                return replace(tally, cash_in_fen=tally.cash_in_fen + event.amount_fen)
            return replace(tally, cash_out_fen=tally.cash_out_fen + event.amount_fen)
        case _:
            return tally


_EMPTY = ShiftTally()


def _sum_tallies(tallies: Iterable[ShiftTally]) -> ShiftTally:
    out = ShiftTally()
    for t in tallies:
        out = ShiftTally(
            taken=_add(out.taken, t.taken), refunded=_add(out.refunded, t.refunded),
            **{name: getattr(out, name) + getattr(t, name)
               for name in ShiftTally.__dataclass_fields__ if name not in ("taken", "refunded")},
        )
    return out


@dataclass
class ShiftBook:
    open_shift: Shift | None = None
    closed: dict[str, Shift] = field(default_factory=dict)
    """Closed shifts by id, as their close froze them."""
    days_closed: dict[date, str] = field(default_factory=dict)
    """Business day → the event id of its day close."""
    outside_shifts: dict[date, ShiftTally] = field(default_factory=dict)
    """Business day → the money moved while no shift was open."""
    policy: CheckoutPolicy = field(default_factory=CheckoutPolicy)
    """The store's business-day rule, kept from its configuration events."""

    def apply(self, event: Event) -> None:
        match event:
            case StoreConfigured():
                self.policy = event.config.checkout
            case ShiftOpened():
                self.open_shift = Shift(event.shift_id, event.cashier_id, event.business_day,
                                        event.meta.at, event.float_fen)
            case ShiftClosed():
                self.closed[event.shift.shift_id] = event.shift
                self.open_shift = None
            case DayClosed():
                self.days_closed[event.business_day] = event.meta.event_id
            case _:
                if tally_event(_EMPTY, event) is _EMPTY:
                    return  # most events move no money: no tally, no business day to find
                if self.open_shift is not None:
                    tally = tally_event(self.open_shift.tally, event)
                    if tally is not self.open_shift.tally:
                        self.open_shift = replace(self.open_shift, tally=tally)
                    return
                day = business_day_of(event.meta.at, self.policy)
                before = self.outside_shifts.get(day, _EMPTY)
                after = tally_event(before, event)
                if after is not before:
                    self.outside_shifts[day] = after

    def open_summary(self) -> dict[str, object] | None:
        """The open shift for the screen that takes the blind count: no expected figures."""
        shift = self.open_shift
        if shift is None:
            return None
        return {"shift_id": shift.shift_id, "cashier_id": shift.cashier_id,
                "opened_at": shift.opened_at, "tickets": shift.tally.tickets}

    def day_report(self, day: date) -> tuple[tuple[str, ...], ShiftTally, dict[str, int],
                                             dict[str, int]]:
        """(shift ids, summed tally, counted, expected) of the shifts closed on ``day``."""
        shifts = sorted((s for s in self.closed.values() if s.business_day == day),
                        key=lambda s: s.opened_at)
        counted: dict[str, int] = {}
        expected: dict[str, int] = {}
        for s in shifts:
            for method, fen in s.counted:
                counted[method] = counted.get(method, 0) + fen
            for method, fen in s.expected:
                expected[method] = expected.get(method, 0) + fen
        return (tuple(s.shift_id for s in shifts), _sum_tallies(s.tally for s in shifts),
                counted, expected)


# ---------------------------------------------------------------- commands


@dataclass(frozen=True, kw_only=True)
class OpenShift(Command):
    float_fen: int


@dataclass(frozen=True, kw_only=True)
class MoveCash(Command):
    direction: CashDirection
    amount_fen: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class CloseShift(Command):
    counted: tuple[Payment, ...]
    """What the cashier counted per method, before seeing the expected figures."""
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class CloseDay(Command):
    business_day: date


def _none_open(state: SalonState) -> None:
    shift = state.shifts.open_shift
    if shift is not None:
        raise DomainError(ErrorCode.SHIFT_ALREADY_OPEN,
                          {"shift_id": shift.shift_id, "cashier_id": shift.cashier_id})


def _open(state: SalonState) -> Shift:
    shift = state.shifts.open_shift
    if shift is None:
        raise DomainError(ErrorCode.NO_OPEN_SHIFT)
    return shift


@handles(OpenShift)
def open_shift(state: SalonState, cmd: OpenShift, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.CHECKOUT)
    _none_open(state)
    if cmd.float_fen < 0:
        raise DomainError(ErrorCode.NEGATIVE_AMOUNT, {"field": "float_fen"})
    now = ctx.clock()
    day = business_day_of(now, state.config.checkout)
    if day in state.shifts.days_closed:
        raise DomainError(ErrorCode.DAY_ALREADY_CLOSED, {"business_day": day.isoformat()})
    return [ShiftOpened(meta=ctx.meta(cmd.actor_id, now), shift_id=ctx.new_id(),
                        cashier_id=cmd.actor_id, business_day=day, float_fen=cmd.float_fen)]


@handles(MoveCash)
def move_cash(state: SalonState, cmd: MoveCash, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.CHECKOUT)
    shift = _open(state)
    if cmd.amount_fen <= 0:
        raise DomainError(ErrorCode.NEGATIVE_AMOUNT, {"field": "amount_fen"})
    reason = cmd.reason.strip()
    if not reason:
        raise DomainError(ErrorCode.REASON_REQUIRED, {"act": "cash_" + cmd.direction.value})
    if cmd.direction is CashDirection.OUT:
        in_till = shift.expected_by()[PaymentMethod.CASH.value]
        if cmd.amount_fen > in_till:
            raise DomainError(ErrorCode.CASH_OUT_OVER_TILL, {"cash_fen": in_till})
    return [CashMoved(meta=ctx.meta(cmd.actor_id), shift_id=shift.shift_id,
                      direction=cmd.direction, amount_fen=cmd.amount_fen, reason=reason)]


@handles(CloseShift)
def close_shift(state: SalonState, cmd: CloseShift, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.CHECKOUT)
    shift = _open(state)
    counted: dict[str, int] = {}
    for p in cmd.counted:
        if p.method not in COUNTED_METHODS:
            raise invalid_input("counted", f"{p.method.value} is not counted")
        if p.amount_fen < 0:
            raise DomainError(ErrorCode.NEGATIVE_AMOUNT, {"field": "counted"})
        if p.method.value in counted:
            raise invalid_input("counted", f"{p.method.value} twice")
        counted[p.method.value] = p.amount_fen
    if PaymentMethod.CASH.value not in counted:
        raise invalid_input("counted", "the cash must be counted")
    now = ctx.clock()
    expected = shift.expected_by()
    closed = replace(shift, closed_at=now,
                     counted=tuple(sorted({m: counted.get(m, 0) for m in expected}.items())),
                     expected=tuple(sorted(expected.items())), note=cmd.note.strip())
    return [ShiftClosed(meta=ctx.meta(cmd.actor_id, now), shift=closed)]


@handles(CloseDay)
def close_day(state: SalonState, cmd: CloseDay, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.CLOSE_DAY)
    if cmd.business_day in state.shifts.days_closed:
        raise DomainError(ErrorCode.DAY_ALREADY_CLOSED,
                          {"business_day": cmd.business_day.isoformat()})
    _none_open(state)
    shift_ids, tally, counted, expected = state.shifts.day_report(cmd.business_day)
    if not shift_ids:
        raise DomainError(ErrorCode.NO_SHIFTS_THAT_DAY,
                          {"business_day": cmd.business_day.isoformat()})
    return [DayClosed(meta=ctx.meta(cmd.actor_id), business_day=cmd.business_day,
                      shift_ids=shift_ids, tally=tally, counted=tuple(sorted(counted.items())),
                      expected=tuple(sorted(expected.items())),
                      outside_shifts=state.shifts.outside_shifts.get(cmd.business_day, _EMPTY))]
