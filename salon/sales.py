"""Sales beside the ticket: recharge (充值) and its refund, package card refund, debt repayment,
and parking a ticket (挂单).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from salon import card_refunds, commissions, package_cards, points, stored_value, tiers
from salon.catalog import ItemKind
from salon.commands import Command, handles
from salon.commissions import CommissionEarned, CommissionReversed
from salon.config import CommissionTarget
from salon.context import Context
from salon.errors import DomainError, ErrorCode
from salon.events import Event
from salon.money import allocate
from salon.package_cards import PackageCardPaid, PackageCardRefunded
from salon.payments import EXTERNAL_METHODS, Payment, PaymentMethod
from salon.pricing import LineDraft
from salon.settlement import split_payments
from salon.staff import Permission, StaffShare, audit, require
from salon.stored_value import RechargeRefunded, StoredValueRecharged
from salon.tickets import (
    DebtAllocation,
    DebtRepaid,
    HeldTicketCancelled,
    RechargePaid,
    RefundPaidOut,
    TicketHeld,
)

if TYPE_CHECKING:
    from salon.state import SalonState

__all__ = [
    "CancelHeldTicket",
    "HoldTicket",
    "Recharge",
    "RefundPackageCard",
    "RefundRecharge",
    "RepayDebt",
]


@dataclass(frozen=True, kw_only=True)
class Recharge(Command):
    member_id: str
    principal_fen: int
    payments: tuple[Payment, ...]
    staff: tuple[StaffShare, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RefundRecharge(Command):
    recharge_id: str
    reason: str
    method: PaymentMethod = PaymentMethod.CASH


@dataclass(frozen=True, kw_only=True)
class RefundPackageCard(Command):
    """Refund a package card's unused sessions pro rata (see package_cards.plan_card_refund).

    The money goes back the way it came in (see salon.card_refunds); ``method`` pays the
    outside part by one method instead, when the one it came in by cannot refund any more.
    Stored value always goes back onto the lots it came from.
    """

    card_id: str
    reason: str
    method: PaymentMethod | None = None


@dataclass(frozen=True, kw_only=True)
class RepayDebt(Command):
    member_id: str
    payments: tuple[Payment, ...]


@dataclass(frozen=True, kw_only=True)
class HoldTicket(Command):
    lines: tuple[LineDraft, ...]
    member_id: str = ""
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class CancelHeldTicket(Command):
    ticket_id: str


def take_money(payments: Sequence[Payment], due: int) -> int:
    """Check external tenders cover ``due`` exactly, cash giving change; return the change."""
    total = 0
    cash = 0
    for p in payments:
        if p.method not in EXTERNAL_METHODS:
            raise DomainError(ErrorCode.PAY_METHOD_NOT_ALLOWED, {"method": p.method.value})
        if p.amount_fen <= 0:
            raise DomainError(ErrorCode.NEGATIVE_AMOUNT, {"field": f"payment {p.method.value}"})
        total += p.amount_fen
        cash += p.amount_fen if p.method is PaymentMethod.CASH else 0
    if total < due:
        raise DomainError(ErrorCode.PAYMENT_SHORT, {"due_fen": due, "paid_fen": total})
    change = total - due
    if change > cash:
        raise DomainError(ErrorCode.PAYMENT_OVER, {"due_fen": due, "paid_fen": total})
    return change


def _refund_method(method: PaymentMethod) -> PaymentMethod:
    if method not in EXTERNAL_METHODS:
        raise DomainError(ErrorCode.PAY_METHOD_NOT_ALLOWED, {"method": method.value})
    return method


@handles(Recharge)
def recharge(state: SalonState, cmd: Recharge, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.RECHARGE)
    state.members.get(cmd.member_id)
    at = ctx.clock()
    bonus, offer_id, expires = stored_value.recharge_terms(state, cmd.principal_fen, at)
    change = take_money(cmd.payments, cmd.principal_fen)
    recharge_id = ctx.new_id()
    events: list[Event] = [
        StoredValueRecharged(
            meta=ctx.meta(cmd.actor_id, at), member_id=cmd.member_id, recharge_id=recharge_id,
            principal_fen=cmd.principal_fen, bonus_fen=bonus, offer_id=offer_id,
            bonus_expires_at=expires,
        ),
        RechargePaid(meta=ctx.meta(cmd.actor_id, at), recharge_id=recharge_id,
                     member_id=cmd.member_id, payments=cmd.payments, change_fen=change),
    ]
    if cmd.staff:
        commissions.validate_shares(state, cmd.staff, 1)
        entries = commissions.compute(
            state, source_id=recharge_id, line_no=1, target=CommissionTarget.RECHARGE,
            item_id="", category="recharge", base_fen=cmd.principal_fen, shares=cmd.staff, at=at,
        )
        if entries:
            events.append(CommissionEarned(meta=ctx.meta(cmd.actor_id, at),
                                           source_id=recharge_id, entries=entries))
    events.extend(tiers.progress_events(state, cmd.member_id, ctx, cmd.actor_id, at,
                                        recharge_fen=cmd.principal_fen))
    return events


@handles(RefundRecharge)
def refund_recharge(state: SalonState, cmd: RefundRecharge, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.REFUND_RECHARGE)
    method = _refund_method(cmd.method)
    at = ctx.clock()
    plan = stored_value.plan_recharge_refund(state, cmd.recharge_id, at)
    events: list[Event] = [
        RechargeRefunded(
            meta=ctx.meta(cmd.actor_id, at), member_id=plan.member_id,
            recharge_id=cmd.recharge_id, refund_fen=plan.refund_fen,
            principal_removed_fen=plan.principal_removed_fen,
            bonus_removed_fen=plan.bonus_removed_fen,
        ),
        audit(ctx.meta(cmd.actor_id, at), Permission.REFUND_RECHARGE, cmd.recharge_id,
              cmd.reason, detail=f"refund_fen={plan.refund_fen}"),
    ]
    if plan.refund_fen:
        events.append(RefundPaidOut(meta=ctx.meta(cmd.actor_id, at), source_id=cmd.recharge_id,
                                    member_id=plan.member_id, method=method,
                                    amount_fen=plan.refund_fen))
    earned = state.commissions.entries_of_source(cmd.recharge_id)
    principal = stored_value.recharge_principal(state, cmd.recharge_id)
    reversal = card_refunds.scaled_entries(earned, 0, plan.refund_fen, principal)
    if reversal:
        events.append(CommissionReversed(meta=ctx.meta(cmd.actor_id, at),
                                         source_id=cmd.recharge_id, entries=reversal))
    events.extend(tiers.progress_events(state, plan.member_id, ctx, cmd.actor_id, at,
                                        recharge_fen=-plan.principal_removed_fen))
    return events


@handles(RefundPackageCard)
def refund_package_card(
    state: SalonState, cmd: RefundPackageCard, ctx: Context
) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.REFUND_PACKAGE)
    method = None if cmd.method is None else _refund_method(cmd.method)
    at = ctx.clock()
    plan = package_cards.plan_card_refund(state, cmd.card_id, at)
    refund = card_refunds.plan_refund(state, cmd.card_id, plan, method)
    to_stored_value = sum(d.principal_fen + d.bonus_fen
                          for _, _, draws in refund.restored for d in draws)
    events: list[Event] = [
        PackageCardRefunded(
            meta=ctx.meta(cmd.actor_id, at), card_id=cmd.card_id, refund_fen=plan.refund_fen,
            sessions_cancelled=plan.sessions_cancelled,
            debt_cancelled_fen=plan.debt_cancelled_fen, traced=refund.traced,
        ),
        audit(ctx.meta(cmd.actor_id, at), Permission.REFUND_PACKAGE, cmd.card_id, cmd.reason,
              detail=f"refund_fen={plan.refund_fen} sessions={plan.sessions_cancelled} "
                     f"to_stored_value_fen={to_stored_value}"),
    ]
    events.extend(card_refunds.refund_events(state, ctx, cmd.actor_id, at, cmd.card_id,
                                             plan.member_id, refund))
    return events


def _allocate_repayment(
    debts: Sequence[tuple[tuple[str, int], int]], amount: int, payments: Sequence[Payment],
    change: int, earned: int,
) -> tuple[DebtAllocation, ...]:
    """Spread ``amount`` over the debts oldest first, with its money and points per line.

    A refund of one of those lines gives back exactly its part, by the method it came in,
    and takes back exactly its share of the points; all the parts sum to the repayment.
    """
    keys: list[tuple[str, int]] = []
    amounts: list[int] = []
    left = amount
    for key, outstanding in debts:
        if not left:
            break
        keys.append(key)
        amounts.append(min(left, outstanding))
        left -= amounts[-1]
    applied: dict[PaymentMethod, int] = {}
    for p in payments:
        applied[p.method] = applied.get(p.method, 0) + p.amount_fen
    applied[PaymentMethod.CASH] = applied.get(PaymentMethod.CASH, 0) - change
    money = split_payments({m: a for m, a in applied.items() if a}, amounts)
    shares = allocate(earned, amounts)
    return tuple(
        DebtAllocation(ticket_id, line_no, part, paid, share)
        for (ticket_id, line_no), part, paid, share in zip(keys, amounts, money, shares,
                                                            strict=True)
    )


@handles(RepayDebt)
def repay_debt(state: SalonState, cmd: RepayDebt, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.CHECKOUT)
    state.members.get(cmd.member_id)
    debts = state.tickets.debts_of(cmd.member_id)
    owed = sum(amount for _, amount in debts)
    if not owed:
        raise DomainError(ErrorCode.NO_DEBT)
    offered = sum(p.amount_fen for p in cmd.payments)
    cash = sum(p.amount_fen for p in cmd.payments if p.method is PaymentMethod.CASH)
    if offered - owed > cash:
        raise DomainError(ErrorCode.REPAY_OVER_DEBT, {"debt_fen": owed})
    amount = min(offered, owed)
    if amount <= 0:
        raise DomainError(ErrorCode.INVALID_INPUT, {"field": "payments", "reason": "empty"})
    change = take_money(cmd.payments, amount)
    at = ctx.clock()
    repayment_id = ctx.new_id()
    earned = points.points_for(state, cmd.member_id, amount)
    allocations = _allocate_repayment(debts, amount, cmd.payments, change, earned)
    events: list[Event] = [
        DebtRepaid(meta=ctx.meta(cmd.actor_id, at), member_id=cmd.member_id,
                   repayment_id=repayment_id, allocations=allocations,
                   payments=cmd.payments, change_fen=change)
    ]
    for a in allocations:
        record = state.tickets.get(a.ticket_id)
        settlement = record.line(a.line_no) if record else None
        if settlement is not None and settlement.card_id:
            events.append(PackageCardPaid(meta=ctx.meta(cmd.actor_id, at),
                                          card_id=settlement.card_id, amount_fen=a.amount_fen))
    if earned:
        events.append(points.earn_event(state, cmd.member_id, repayment_id, earned,
                                        ctx.meta(cmd.actor_id, at), at))
    events.extend(tiers.progress_events(state, cmd.member_id, ctx, cmd.actor_id, at,
                                        spend_fen=amount, points=earned))
    return events


@handles(HoldTicket)
def hold_ticket(state: SalonState, cmd: HoldTicket, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.CHECKOUT)
    if not cmd.lines:
        raise DomainError(ErrorCode.EMPTY_TICKET)
    if cmd.member_id:
        state.members.get(cmd.member_id)
    for no, line in enumerate(cmd.lines, 1):
        if line.quantity <= 0:
            raise DomainError(ErrorCode.NEGATIVE_QUANTITY, {"field": f"line {no} quantity"})
        # Only what the catalog sells may be parked (prices are taken when it is paid).
        if line.kind is ItemKind.SERVICE:
            state.catalog.service(line.item_id)
        elif line.kind is ItemKind.PRODUCT:
            state.catalog.product(line.item_id)
        else:
            state.catalog.plan(line.item_id)
    return [TicketHeld(meta=ctx.meta(cmd.actor_id), ticket_id=ctx.new_id(),
                       member_id=cmd.member_id, lines=cmd.lines, note=cmd.note)]


@handles(CancelHeldTicket)
def cancel_held_ticket(state: SalonState, cmd: CancelHeldTicket, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.CHECKOUT)
    if cmd.ticket_id not in state.tickets.held:
        raise DomainError(ErrorCode.TICKET_NOT_HELD, {"ticket_id": cmd.ticket_id})
    return [HeldTicketCancelled(meta=ctx.meta(cmd.actor_id), ticket_id=cmd.ticket_id)]
