"""Refunds (退款) and voids (作废): reverse lines of a paid ticket exactly as they were settled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from salon import package_cards, points, stock, tiers
from salon.catalog import ItemKind
from salon.commands import Command, handles
from salon.commissions import CommissionReversed
from salon.context import Context
from salon.coupons import CouponRestored
from salon.errors import DomainError, ErrorCode
from salon.events import Event
from salon.package_cards import (
    PackageCardRefunded,
    PackageCardUpgradeReversed,
    PackageSessionRestored,
)
from salon.package_ledger import CardClosure
from salon.payments import EXTERNAL_METHODS, Payment, PaymentMethod
from salon.settlement import merge_lot_draws
from salon.staff import Permission, audit, require
from salon.stored_value import StoredValueRestored
from salon.tickets import LineSettlement, TicketRecord, TicketRefunded, business_day

if TYPE_CHECKING:
    from salon.state import SalonState

__all__ = ["RefundTicket", "VoidTicket"]


@dataclass(frozen=True, kw_only=True)
class RefundTicket(Command):
    """Refund some lines (``line_nos``) or, when empty, every line not yet refunded."""

    ticket_id: str
    reason: str
    line_nos: tuple[int, ...] = ()


@dataclass(frozen=True, kw_only=True)
class VoidTicket(Command):
    """Void a whole ticket of today's business day; on a later day it becomes a refund."""

    ticket_id: str
    reason: str


def _record(state: SalonState, ticket_id: str) -> TicketRecord:
    record = state.tickets.get(ticket_id)
    if record is None:
        raise DomainError(ErrorCode.UNKNOWN_TICKET, {"ticket_id": ticket_id})
    return record


def _settled(state: SalonState, s: LineSettlement) -> bool:
    """A card line whose value a card refund (RefundPackageCard) already gave back."""
    return s.line.kind is ItemKind.PACKAGE and package_cards.settled_by_refund(state, s.card_id)


def _chosen_lines(
    state: SalonState, record: TicketRecord, line_nos: tuple[int, ...]
) -> list[LineSettlement]:
    """The lines named, or every line left: not refunded, nor settled by a card refund.

    When only settled lines are left they are returned, so the refusal names the card.
    """
    if record.fully_refunded:
        raise DomainError(ErrorCode.TICKET_ALREADY_REFUNDED, {"ticket_id": record.paid.ticket_id})
    if not line_nos:
        left = [s for s in record.paid.lines if s.line.line_no not in record.refunded_lines]
        return [s for s in left if not _settled(state, s)] or left
    if len(set(line_nos)) != len(line_nos):
        raise DomainError(ErrorCode.INVALID_INPUT, {"field": "line_nos", "reason": "duplicate"})
    chosen = []
    for no in line_nos:
        settlement = record.line(no)
        if settlement is None:
            raise DomainError(ErrorCode.UNKNOWN_LINE, {"line_no": no})
        if no in record.refunded_lines:
            raise DomainError(ErrorCode.LINE_ALREADY_REFUNDED, {"line_no": no})
        chosen.append(settlement)
    return chosen


def _check_reversible(state: SalonState, s: LineSettlement) -> None:
    """Refuse a line whose reversal could not put everything back exactly."""
    if s.line.kind is ItemKind.PACKAGE and state.packages.get(s.card_id).closed:
        # Refunded, upgraded or transferred away already: its money went back once.
        raise DomainError(ErrorCode.PACKAGE_CLOSED, {"card_id": s.card_id})
    if s.line.package_card_id and state.packages.get(s.line.package_card_id).closure in (
        CardClosure.REFUNDED, CardClosure.UPGRADED
    ):
        # The card was refunded or upgraded since: a session put back on it would vanish.
        raise DomainError(ErrorCode.PACKAGE_CLOSED, {"card_id": s.line.package_card_id})
    if s.line.kind is ItemKind.PACKAGE and not package_cards.is_unused(state, s.card_id):
        if s.line.upgrade_from_card_id:
            # The old card comes back only as it was; what used the new card is undone first.
            raise DomainError(ErrorCode.PACKAGE_UPGRADE_USED, {
                "card_id": s.card_id, "old_card_id": s.line.upgrade_from_card_id})
        # Once sessions were used the card is refunded pro rata by RefundPackageCard.
        raise DomainError(ErrorCode.PACKAGE_USED, {"card_id": s.card_id})


def _money_back(
    state: SalonState, ticket_id: str, lines: list[LineSettlement]
) -> tuple[dict[PaymentMethod, int], int]:
    """Money back per method, the repayments of the lines' debt included; the debt cancelled.

    Debt still owed is cancelled, not paid out. A repayment took only money from outside
    (see sales.take_money), so each part of it goes back by the method it came in.
    """
    returned: dict[PaymentMethod, int] = {}
    debt_cancelled = 0
    for s in lines:
        for p in s.paid:
            if p.method is PaymentMethod.DEBT:
                debt_cancelled += state.tickets.debts.get((ticket_id, s.line.line_no), 0)
            elif p.method in EXTERNAL_METHODS or p.method is PaymentMethod.STORED_VALUE:
                returned[p.method] = returned.get(p.method, 0) + p.amount_fen
        for _, allocation in state.tickets.repayments_of(ticket_id, s.line.line_no):
            for p in allocation.paid:
                returned[p.method] = returned.get(p.method, 0) + p.amount_fen
    return returned, debt_cancelled


def _reverse(
    state: SalonState, ctx: Context, actor_id: str, record: TicketRecord,
    lines: list[LineSettlement], *, void: bool, reason: str, at: datetime,
) -> list[Event]:
    paid = record.paid
    ticket_id, member_id = paid.ticket_id, paid.member_id
    for s in lines:
        _check_reversible(state, s)
    returned, debt_cancelled = _money_back(state, ticket_id, lines)
    chosen = {s.line.line_no for s in lines}
    # Lines a card refund settled count as refunded from now on: the coupon comes back and
    # the member's paid tickets drop once nothing else is left (see TicketRefunded).
    settled = tuple(s.line.line_no for s in paid.lines
                    if s.line.line_no not in record.refunded_lines
                    and s.line.line_no not in chosen and _settled(state, s))
    out: list[Event] = [
        TicketRefunded(
            meta=ctx.meta(actor_id, at), ticket_id=ticket_id, refund_id=ctx.new_id(),
            line_nos=tuple(s.line.line_no for s in lines),
            returned=tuple(Payment(m, a) for m, a in returned.items() if a),
            debt_cancelled_fen=debt_cancelled, void=void, reason=reason,
            business_day=business_day(at, state.config.checkout),
            settled_line_nos=settled,
        )
    ]
    draws = merge_lot_draws(d for s in lines for d in s.sv_draws)
    if draws:
        out.append(StoredValueRestored(meta=ctx.meta(actor_id, at), member_id=member_id,
                                       ticket_id=ticket_id, draws=draws))
    point_draws = tuple(d for s in lines for d in s.points_draws)
    given_back: tuple[points.PointsDraw, ...] = ()
    if point_draws:
        restore = points.restore_event(state, member_id, ticket_id, point_draws,
                                       ctx.meta(actor_id, at), at)
        out.append(restore)
        given_back = restore.given_back()
    # The ticket's points and each repayment's share; what the restore above put back in
    # the lots (not what paid points debt) is seen by them.
    earned = state.tickets.points_by_source(ticket_id, lines)
    out.extend(points.reverse_events(state, ctx, actor_id, member_id, earned, at, given_back))
    for s in lines:
        # Lines paid before bonus was kept have no parts: their sessions carried none.
        bonuses = s.package_bonus or (0,) * len(s.line.package_values)
        for value, bonus in zip(s.line.package_values, bonuses, strict=True):
            out.append(PackageSessionRestored(
                meta=ctx.meta(actor_id, at), card_id=s.line.package_card_id,
                member_id=member_id, ticket_id=ticket_id, line_no=s.line.line_no,
                value_fen=value, bonus_fen=bonus,
            ))
        if s.line.kind is ItemKind.PACKAGE:
            out.append(PackageCardRefunded(
                meta=ctx.meta(actor_id, at), card_id=s.card_id,
                # All the money given back for the line: paid at the sale and repaid since.
                refund_fen=s.paid_now_fen + state.tickets.repaid_fen(ticket_id, s.line.line_no),
                sessions_cancelled=package_cards.remaining_sessions(state, s.card_id),
                # What is still owed: a repaid part came back as money above.
                debt_cancelled_fen=state.tickets.debts.get((ticket_id, s.line.line_no), 0),
            ))
        if s.line.upgrade_from_card_id:
            out.append(PackageCardUpgradeReversed(
                meta=ctx.meta(actor_id, at), old_card_id=s.line.upgrade_from_card_id,
                new_card_id=s.card_id, credit_fen=s.line.credit_fen,
            ))
    entries = tuple(e for s in lines for e in s.commissions)
    if entries:
        out.append(CommissionReversed(meta=ctx.meta(actor_id, at), source_id=ticket_id,
                                      entries=entries))
    if paid.coupon_id and (len(record.refunded_lines) + len(lines) + len(settled)
                           == len(paid.lines)):
        out.append(CouponRestored(meta=ctx.meta(actor_id, at), coupon_id=paid.coupon_id,
                                  ticket_id=ticket_id))
    if member_id:
        spend = sum(s.paid_now_fen + state.tickets.repaid_fen(ticket_id, s.line.line_no)
                    for s in lines)
        out.extend(tiers.progress_events(state, member_id, ctx, actor_id, at,
                                         spend_fen=-spend, points=-sum(earned.values())))
    out.extend(stock.refund_movements(state, lambda: ctx.meta(actor_id, at), ticket_id, lines))
    return out


@handles(RefundTicket)
def refund_ticket(state: SalonState, cmd: RefundTicket, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.REFUND)
    record = _record(state, cmd.ticket_id)
    lines = _chosen_lines(state, record, cmd.line_nos)
    at = ctx.clock()
    detail = "lines=" + ",".join(str(s.line.line_no) for s in lines)
    audit_event = audit(ctx.meta(cmd.actor_id, at), Permission.REFUND, cmd.ticket_id,
                        cmd.reason, detail=detail)
    events = _reverse(state, ctx, cmd.actor_id, record, lines, void=False,
                      reason=cmd.reason.strip(), at=at)
    return [*events, audit_event]


@handles(VoidTicket)
def void_ticket(state: SalonState, cmd: VoidTicket, ctx: Context) -> Sequence[Event]:
    record = _record(state, cmd.ticket_id)
    at = ctx.clock()
    same_day = record.paid.business_day == business_day(at, state.config.checkout)
    act = Permission.VOID if same_day else Permission.REFUND
    require(state.staff, cmd.actor_id, act)
    lines = _chosen_lines(state, record, ())
    audit_event = audit(ctx.meta(cmd.actor_id, at), act, cmd.ticket_id, cmd.reason,
                        detail="void" if same_day else "void after the day closed: refund")
    events = _reverse(state, ctx, cmd.actor_id, record, lines, void=same_day,
                      reason=cmd.reason.strip(), at=at)
    return [*events, audit_event]
