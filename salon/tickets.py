"""Tickets (收银单据): what a paid ticket records per line, its events, and the ticket book."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from salon.catalog import ItemKind
from salon.commissions import CommissionEntry
from salon.config import CheckoutPolicy
from salon.events import Event
from salon.indexes import INDEX, group
from salon.package_cards import PackageCardRefunded, PackageCardSold
from salon.payments import Payment, PaymentMethod
from salon.points import PointsDraw
from salon.pricing import LineDraft, PricedLine
from salon.sales_archive import SalesArchive
from salon.stored_value import LotDraw

__all__ = [
    "RECENT_TICKET_DAYS",
    "DebtAllocation",
    "DebtRepaid",
    "HeldTicketCancelled",
    "LineSettlement",
    "RechargePaid",
    "RefundPaidOut",
    "TicketBook",
    "TicketHeld",
    "TicketPaid",
    "TicketRecord",
    "TicketRefunded",
    "business_day",
]


def business_day(at: datetime, policy: CheckoutPolicy) -> date:
    """The store's business day of ``at``: local time, a day ending at the configured hour."""
    local = at + timedelta(minutes=policy.utc_offset_minutes)
    return (local - timedelta(hours=policy.business_day_end_hour)).date()


@dataclass(frozen=True, slots=True)
class LineSettlement:
    """How one line was priced and paid; a refund of the line reverses exactly this."""

    line: PricedLine
    paid: tuple[Payment, ...]
    """Money per method on this line (sums to the line's net); DEBT is owed."""
    sv_draws: tuple[LotDraw, ...]
    points_draws: tuple[PointsDraw, ...]
    points_earned: int
    commissions: tuple[CommissionEntry, ...]
    card_id: str = ""
    """For a PACKAGE line: the card it sold."""
    package_bonus: tuple[int, ...] = ()
    """For a line using package sessions: the bonus money (赠送金) part of each session's
    value (``line.package_values``), which the card was paid for with the store's gift."""

    def paid_by(self, method: PaymentMethod) -> int:
        return sum(p.amount_fen for p in self.paid if p.method is method)

    @property
    def paid_now_fen(self) -> int:
        """The line's net less what the member owes on it (挂账)."""
        return self.line.net_fen - self.paid_by(PaymentMethod.DEBT)

    @property
    def recognised_revenue_fen(self) -> int:
        """Revenue this line earns now; prepaid value is a liability until it is consumed.

        Selling a package card earns nothing yet (each session earns its value when used,
        less the part the card was paid for with bonus money); stored value earns only its
        principal share (bonus money is a discount, not income); money from outside and
        member debt (a receivable) earn in full.
        """
        if self.line.kind is ItemKind.PACKAGE:
            return 0
        if self.line.package_card_id:
            return sum(self.line.package_values) - sum(self.package_bonus)
        outside = sum(p.amount_fen for p in self.paid if p.method is not PaymentMethod.STORED_VALUE)
        return outside + sum(d.principal_fen for d in self.sv_draws)


@dataclass(frozen=True, kw_only=True)
class TicketHeld(Event):
    """挂单: a ticket parked to be resumed and paid later."""

    ticket_id: str
    member_id: str
    lines: tuple[LineDraft, ...]
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class HeldTicketCancelled(Event):
    ticket_id: str


@dataclass(frozen=True, kw_only=True)
class TicketPaid(Event):
    ticket_id: str
    member_id: str
    business_day: date
    price_list_version: int
    tier_id: str
    coupon_id: str
    redeem_points: int
    due_fen: int
    tendered: tuple[Payment, ...]
    change_fen: int
    lines: tuple[LineSettlement, ...]
    approver_id: str = ""


@dataclass(frozen=True, kw_only=True)
class TicketRefunded(Event):
    """A refund (退款) or void (作废) of some lines; ``returned`` is money back per method."""

    ticket_id: str
    refund_id: str
    line_nos: tuple[int, ...]
    returned: tuple[Payment, ...]
    debt_cancelled_fen: int
    void: bool
    reason: str
    business_day: date
    settled_line_nos: tuple[int, ...] = ()
    """Card lines a card refund (RefundPackageCard) had already settled, counted refunded
    with this refund: nothing of theirs is given back here. Older records named none."""


@dataclass(frozen=True, slots=True)
class DebtAllocation:
    """The part of a repayment that paid one line's debt: a refund of the line reverses it."""

    ticket_id: str
    line_no: int
    amount_fen: int
    paid: tuple[Payment, ...]
    """The repayment's money on this line per method (sums to ``amount_fen``)."""
    points_earned: int
    """This line's share of the points the repayment earned."""


@dataclass(frozen=True, kw_only=True)
class DebtRepaid(Event):
    """Member debt repaid, oldest first; ``payments`` are tendered (cash before change)."""

    member_id: str
    repayment_id: str
    allocations: tuple[DebtAllocation, ...]
    payments: tuple[Payment, ...]
    change_fen: int


@dataclass(frozen=True, kw_only=True)
class RechargePaid(Event):
    """The money taken for a recharge, by method (the ledger side is StoredValueRecharged)."""

    recharge_id: str
    member_id: str
    payments: tuple[Payment, ...]
    change_fen: int


@dataclass(frozen=True, kw_only=True)
class RefundPaidOut(Event):
    """Money handed back outside a ticket refund: a recharge or package card refund."""

    source_id: str
    member_id: str
    method: PaymentMethod
    amount_fen: int


@dataclass
class TicketRecord:
    paid: TicketPaid
    refunded_lines: set[int] = field(default_factory=set)
    refunds: list[TicketRefunded] = field(default_factory=list)

    @property
    def fully_refunded(self) -> bool:
        return len(self.refunded_lines) == len(self.paid.lines)

    def line(self, line_no: int) -> LineSettlement | None:
        for settlement in self.paid.lines:
            if settlement.line.line_no == line_no:
                return settlement
        return None


RECENT_TICKET_DAYS = 14
"""Business days a paid ticket stays in the book once an archive is attached.

Two weeks hold nearly every refund and void; older tickets are read back from the
archive (a month file, tens of milliseconds). The book is in every snapshot, so its
size is what a snapshot costs to write.
"""


@dataclass
class TicketBook:
    """Paid tickets, held tickets, member debt per line and what repaid it.

    Without an archive every paid ticket stays here. With one (the edge store attaches
    its sales history), a ticket whose business day is RECENT_TICKET_DAYS behind the
    newest one leaves the book and ``get`` reads it back from the archive, so memory and
    start-up do not grow with years of sales. Which tickets leave depends only on the
    events applied, so a replay of the journal rebuilds exactly the same book.
    """

    tickets: dict[str, TicketRecord] = field(default_factory=dict)
    held: dict[str, TicketHeld] = field(default_factory=dict)
    debts: dict[tuple[str, int], int] = field(default_factory=dict)
    """Outstanding debt (挂账) per (ticket, line)."""
    debt_owner: dict[tuple[str, int], str] = field(default_factory=dict)
    member_debts: dict[str, list[tuple[str, int]]] = field(default_factory=dict, metadata=INDEX)
    """Member id -> the (ticket, line) they owe on, oldest first (``debt_of`` without a scan)."""
    repayments: dict[tuple[str, int], list[tuple[str, DebtAllocation]]] = field(
        default_factory=dict
    )
    """(repayment id, allocation) of every repayment of a line's debt, oldest first."""
    paid_counts: dict[str, int] = field(default_factory=dict)
    card_lines: dict[str, tuple[str, int]] = field(default_factory=dict)
    newest_day: date | None = None
    archive: SalesArchive | None = field(
        default=None, compare=False, repr=False, metadata={"transient": True}
    )
    """Attached by the store after loading; never part of a snapshot."""

    def apply(self, event: Event) -> None:
        match event:
            case TicketHeld():
                self.held[event.ticket_id] = event
            case HeldTicketCancelled():
                self.held.pop(event.ticket_id, None)
            case TicketPaid():
                self.held.pop(event.ticket_id, None)
                self.tickets[event.ticket_id] = TicketRecord(event)
                self._let_go(event.business_day)
                if event.member_id:
                    self.paid_counts[event.member_id] = self.paid_counts.get(event.member_id, 0) + 1
                for s in event.lines:
                    debt = s.paid_by(PaymentMethod.DEBT)
                    if debt:
                        key = (event.ticket_id, s.line.line_no)
                        self.debts[key] = debt
                        self.debt_owner[key] = event.member_id
                        self.member_debts.setdefault(event.member_id, []).append(key)
            case TicketRefunded():
                record = self._resident(event.ticket_id, event.meta.event_id)
                record.refunded_lines.update(event.line_nos, event.settled_line_nos)
                record.refunds.append(event)
                for line_no in event.line_nos:
                    self._drop_debt((event.ticket_id, line_no))
                if record.fully_refunded and record.paid.member_id:
                    member = record.paid.member_id
                    self.paid_counts[member] = self.paid_counts.get(member, 1) - 1
            case DebtRepaid():
                for a in event.allocations:
                    key = (a.ticket_id, a.line_no)
                    self.repayments.setdefault(key, []).append((event.repayment_id, a))
                    self.debts[key] -= a.amount_fen
                    if self.debts[key] == 0:
                        self._drop_debt(key)
            case PackageCardSold():
                self.card_lines[event.card_id] = (event.ticket_id, event.line_no)
            case PackageCardRefunded():
                line = self.card_lines.get(event.card_id)
                if line is not None:
                    self._drop_debt(line)
            case _:
                pass

    def reindex(self) -> None:
        self.member_debts = group((owner, key) for key, owner in self.debt_owner.items())

    def _drop_debt(self, key: tuple[str, int]) -> None:
        self.debts.pop(key, None)
        owner = self.debt_owner.pop(key, None)
        if owner is not None:
            keys = self.member_debts[owner]
            keys.remove(key)
            if not keys:
                del self.member_debts[owner]

    def _let_go(self, day: date) -> None:
        if self.newest_day is None or day > self.newest_day:
            self.newest_day = day
        if self.archive is None:
            return
        cutoff = self.newest_day - timedelta(days=RECENT_TICKET_DAYS)
        while self.tickets:
            ticket_id, record = next(iter(self.tickets.items()))
            if record.paid.business_day >= cutoff:
                break
            del self.tickets[ticket_id]

    def _resident(self, ticket_id: str, applying_event_id: str) -> TicketRecord:
        """The ticket's record in the book, read back from the archive if it had left.

        A refund of an old ticket brings it back (to leave again later); it is rebuilt from
        the archived events before the one being applied, so a replay sees what was then.
        """
        record = self.tickets.get(ticket_id)
        if record is None:
            record = self._from_archive(ticket_id, stop_at=applying_event_id)
            if record is None:
                raise KeyError(f"refund of unknown ticket {ticket_id}")
            self.tickets[ticket_id] = record
        return record

    def _from_archive(self, ticket_id: str, stop_at: str = "") -> TicketRecord | None:
        if self.archive is None:
            return None
        record: TicketRecord | None = None
        for event in self.archive.events_of(ticket_id):
            if stop_at and event.meta.event_id == stop_at:
                break
            if isinstance(event, TicketPaid):
                record = TicketRecord(event)
            elif isinstance(event, TicketRefunded) and record is not None:
                record.refunded_lines.update(event.line_nos, event.settled_line_nos)
                record.refunds.append(event)
        return record

    def get(self, ticket_id: str) -> TicketRecord | None:
        """A paid ticket, recent or (through the archive) of any age; None if unknown."""
        record = self.tickets.get(ticket_id)
        return record if record is not None else self._from_archive(ticket_id)

    def repayments_of(self, ticket_id: str, line_no: int) -> tuple[tuple[str, DebtAllocation], ...]:
        """What repaid the line's debt: (repayment id, allocation), oldest first."""
        return tuple(self.repayments.get((ticket_id, line_no), ()))

    def points_by_source(
        self, ticket_id: str, lines: Iterable[LineSettlement]
    ) -> dict[str, int]:
        """The points the lines earned, per source: the ticket's, then each repayment's share.

        A repayment of a line's debt earned its points under the repayment's id, so taking
        back what a line earned must take from each of those sources.
        """
        earned: dict[str, int] = {ticket_id: 0}
        for s in lines:
            earned[ticket_id] += s.points_earned
            for repayment_id, allocation in self.repayments_of(ticket_id, s.line.line_no):
                earned[repayment_id] = earned.get(repayment_id, 0) + allocation.points_earned
        return earned

    def repaid_fen(self, ticket_id: str, line_no: int) -> int:
        """What repayments paid of the line's debt so far."""
        return sum(a.amount_fen for _, a in self.repayments_of(ticket_id, line_no))

    def paid_ticket_count(self, member_id: str) -> int:
        return self.paid_counts.get(member_id, 0)

    def debt_of(self, member_id: str) -> int:
        return sum(self.debts[k] for k in self.member_debts.get(member_id, ()))

    def debts_of(self, member_id: str) -> list[tuple[tuple[str, int], int]]:
        """Outstanding debts of a member, oldest first (dicts keep insertion order)."""
        return [(k, self.debts[k]) for k in self.member_debts.get(member_id, ())]
