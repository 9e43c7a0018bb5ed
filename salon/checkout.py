"""Checkout (收银): price a ticket, take split payments, and commit all its events or none."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from salon import commissions, points, stock, stored_value, tiers
from salon.catalog import ItemKind
from salon.commands import Command, handles
from salon.config import CommissionTarget
from salon.context import Context
from salon.coupons import CouponRedeemed
from salon.errors import DomainError, ErrorCode
from salon.events import Event
from salon.money import allocate, apply_bp
from salon.package_cards import (
    PackageCardSold,
    PackageCardUpgraded,
    PackageSessionUsed,
    session_bonus,
)
from salon.payments import Payment, PaymentMethod
from salon.points import PointsRedeemed
from salon.pricing import LineDraft, PricedLine, Quote, price_ticket
from salon.settlement import split_lot_draws, split_payments, split_points_draws
from salon.staff import Permission, audit, require
from salon.stored_value import StoredValueSpent
from salon.stored_value_ledger import LotKind
from salon.tickets import LineSettlement, TicketPaid, business_day

if TYPE_CHECKING:
    from salon.state import SalonState

__all__ = ["TARGETS", "Checkout"]

TARGETS = {
    ItemKind.SERVICE: CommissionTarget.SERVICE,
    ItemKind.PRODUCT: CommissionTarget.PRODUCT,
    ItemKind.PACKAGE: CommissionTarget.PACKAGE_SALE,
}


@dataclass(frozen=True, kw_only=True)
class Checkout(Command):
    """Pay a ticket. ``ticket_id`` names a held ticket to resume (its lines are used when
    ``lines`` is empty) or is empty for a new one. ``approver_id`` is a manager who approved
    a price override or a discount over the actor's cap at this till; ``reason`` is kept.
    """

    price_list_version: int
    lines: tuple[LineDraft, ...] = ()
    ticket_id: str = ""
    member_id: str = ""
    coupon: str = ""
    manual_discount_fen: int = 0
    redeem_points: int = 0
    payments: tuple[Payment, ...] = ()
    pin: str | None = None
    approver_id: str = ""
    reason: str = ""


def _authorised(state: SalonState, cmd: Checkout, permission: Permission) -> str:
    """Who allows a sensitive part of the sale: the actor, else the approver, else refuse."""
    if not cmd.approver_id or state.staff.can(cmd.actor_id, permission):
        require(state.staff, cmd.actor_id, permission)
        return cmd.actor_id
    require(state.staff, cmd.approver_id, permission)
    return cmd.approver_id


def _check_discount_cap(state: SalonState, cmd: Checkout, quote: Quote) -> str:
    if not cmd.manual_discount_fen:
        return ""
    if state.staff.can(cmd.actor_id, Permission.DISCOUNT_OVER_CAP):
        # Uncapped discounts are still a sensitive act: audited, with a reason.
        return cmd.actor_id
    role = state.staff.active(cmd.actor_id).role.value
    caps = [c for c in state.config.checkout.discount_caps if c.role == role]
    before = quote.due_fen + cmd.manual_discount_fen + quote.total("points_discount_fen") + (
        quote.total("rounding_fen")
    )
    cap_fen = min([min(c.max_fen, apply_bp(before, c.max_bp)) for c in caps], default=0)
    if cmd.manual_discount_fen <= cap_fen:
        return ""
    if not cmd.approver_id:
        caps_bp = max([c.max_bp for c in caps], default=0)
        raise DomainError(ErrorCode.DISCOUNT_OVER_CAP, {"cap_bp": caps_bp, "cap_fen": cap_fen})
    require(state.staff, cmd.approver_id, Permission.DISCOUNT_OVER_CAP)
    return cmd.approver_id


def _applied_payments(
    state: SalonState, cmd: Checkout, due: int
) -> tuple[dict[PaymentMethod, int], int]:
    """Sum the tenders per method and work out the change; refuse short or odd payments."""
    tendered: dict[PaymentMethod, int] = {}
    for p in cmd.payments:
        if p.amount_fen <= 0:
            raise DomainError(ErrorCode.NEGATIVE_AMOUNT, {"field": f"payment {p.method.value}"})
        tendered[p.method] = tendered.get(p.method, 0) + p.amount_fen
    total = sum(tendered.values())
    if total < due:
        raise DomainError(ErrorCode.PAYMENT_SHORT, {"due_fen": due, "paid_fen": total})
    change = total - due
    cash = tendered.get(PaymentMethod.CASH, 0)
    if change > cash:
        if cash:
            raise DomainError(ErrorCode.CHANGE_ONLY_CASH)
        raise DomainError(ErrorCode.PAYMENT_OVER, {"due_fen": due, "paid_fen": total})
    applied = dict(tendered)
    if change:
        applied[PaymentMethod.CASH] = cash - change
    member_methods = {PaymentMethod.STORED_VALUE, PaymentMethod.DEBT}
    for method in member_methods & applied.keys():
        if not cmd.member_id:
            raise DomainError(ErrorCode.MEMBER_REQUIRED, {"method": method.value})
    if applied.get(PaymentMethod.DEBT):
        member = state.members.get(cmd.member_id)
        if not state.config.checkout.allow_debt:
            raise DomainError(ErrorCode.DEBT_NOT_ALLOWED)
        if member.blacklisted:
            raise DomainError(ErrorCode.MEMBER_BLACKLISTED, {"member_id": cmd.member_id})
    return {m: a for m, a in applied.items() if a}, change


def _resolve_ticket(state: SalonState, cmd: Checkout, ctx: Context) -> tuple[str, Checkout]:
    if not cmd.ticket_id:
        return ctx.new_id(), cmd
    held = state.tickets.held.get(cmd.ticket_id)
    if held is None:
        # A held ticket is never also paid (paying it takes it off hold); only the recent
        # book is asked, so a typo never searches years of sales history.
        paid = cmd.ticket_id in state.tickets.tickets
        code = ErrorCode.TICKET_EXISTS if paid else ErrorCode.TICKET_NOT_HELD
        raise DomainError(code, {"ticket_id": cmd.ticket_id})
    lines = cmd.lines or held.lines
    member_id = cmd.member_id or held.member_id
    return cmd.ticket_id, replace(cmd, lines=lines, member_id=member_id)


def _check_staff(state: SalonState, quote: Quote) -> None:
    for line in quote.lines:
        if not line.staff:
            continue
        commissions.validate_shares(state, line.staff, line.line_no)
        if line.kind is ItemKind.SERVICE:
            levels = state.catalog.service(line.item_id).staff_levels
            for share in line.staff:
                if levels and state.staff.get(share.staff_id).level not in levels:
                    raise DomainError(
                        ErrorCode.STAFF_NOT_QUALIFIED,
                        {"staff_id": share.staff_id, "service_id": line.item_id},
                    )


@handles(Checkout)
def checkout(state: SalonState, cmd: Checkout, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.CHECKOUT)
    state.catalog.check_version(cmd.price_list_version)
    ticket_id, cmd = _resolve_ticket(state, cmd, ctx)
    at = ctx.clock()
    quote = price_ticket(
        state, member_id=cmd.member_id, lines=cmd.lines, now=at, coupon=cmd.coupon,
        manual_discount_fen=cmd.manual_discount_fen, redeem_points=cmd.redeem_points,
    )
    _check_staff(state, quote)
    overridden = [line for line in quote.lines if line.override_fen]
    override_by = _authorised(state, cmd, Permission.PRICE_OVERRIDE) if overridden else ""
    # Selling a card (an upgrade too) takes prepaid value: not every role at the till may.
    sells_card = any(line.kind is ItemKind.PACKAGE for line in quote.lines)
    sell_by = _authorised(state, cmd, Permission.SELL_PACKAGE) if sells_card else ""
    discount_by = _check_discount_cap(state, cmd, quote)
    applied, change = _applied_payments(state, cmd, quote.due_fen)
    member_id = cmd.member_id

    events: list[Event] = []
    uses_member_value = applied.get(PaymentMethod.STORED_VALUE) or any(
        line.package_card_id for line in quote.lines
    )
    if uses_member_value:
        events.extend(stored_value.check_pin(state, member_id, cmd.pin, ctx, cmd.actor_id, at))

    money_idx = [i for i, line in enumerate(quote.lines) if line.is_money_line]
    money_lines = [quote.lines[i] for i in money_idx]
    paid_split = split_payments(applied, [line.net_fen for line in money_lines])
    sv_amounts = [sum(p.amount_fen for p in ps if p.method is PaymentMethod.STORED_VALUE)
                  for ps in paid_split]
    sv_draws_total = (
        stored_value.plan_spend(state, member_id, applied[PaymentMethod.STORED_VALUE], at)
        if applied.get(PaymentMethod.STORED_VALUE) else ()
    )
    sv_split = split_lot_draws(sv_draws_total, sv_amounts)
    points_split_counts = allocate(
        quote.redeem_points, [line.points_discount_fen for line in money_lines]
    )
    redeem_draws = (
        points.plan_redeem(state, member_id, quote.redeem_points, at)
        if quote.redeem_points else ()
    )
    points_split = split_points_draws(redeem_draws, points_split_counts)
    external = {PaymentMethod.CASH, PaymentMethod.BANK_CARD, PaymentMethod.WECHAT,
                PaymentMethod.ALIPAY}
    eligible = [
        sum(p.amount_fen for p in ps if p.method in external)
        + sum(d.principal_fen for d in draws
              if state.accounts.lot(d.recharge_id).kind is LotKind.RECHARGE)
        for ps, draws in zip(paid_split, sv_split, strict=True)
    ]
    earned_total = points.points_for(state, member_id, sum(eligible)) if member_id else 0
    earned_split = allocate(earned_total, eligible)
    bonus_split = session_bonus(state, quote.lines)

    settlements: list[LineSettlement] = []
    pending: list[commissions.CommissionEntry] = []
    money_pos = {i: k for k, i in enumerate(money_idx)}
    for i, line in enumerate(quote.lines):
        k = money_pos.get(i)
        entries: tuple[commissions.CommissionEntry, ...] = ()
        if line.staff:
            entries = commissions.compute(
                state, source_id=ticket_id, line_no=line.line_no, target=TARGETS[line.kind],
                item_id=line.item_id, category=line.category,
                base_fen=line.commission_base_fen, shares=line.staff, at=at, pending=pending,
            )
            pending.extend(entries)
        settlements.append(
            LineSettlement(
                line=line,
                paid=paid_split[k] if k is not None else (),
                sv_draws=sv_split[k] if k is not None else (),
                points_draws=points_split[k] if k is not None else (),
                points_earned=earned_split[k] if k is not None else 0,
                commissions=tuple(entries),
                card_id=ctx.new_id() if line.kind is ItemKind.PACKAGE else "",
                package_bonus=bonus_split[i],
            )
        )
    day = business_day(at, state.config.checkout)
    paid = TicketPaid(
        meta=ctx.meta(cmd.actor_id, at), ticket_id=ticket_id, member_id=member_id,
        business_day=day, price_list_version=cmd.price_list_version, tier_id=quote.tier_id,
        coupon_id=quote.coupon_id, redeem_points=quote.redeem_points, due_fen=quote.due_fen,
        tendered=cmd.payments, change_fen=change, lines=tuple(settlements),
        approver_id=next((a for a in (override_by, discount_by, sell_by)
                          if a and a != cmd.actor_id), ""),
    )
    events.append(paid)
    events.extend(_ledger_events(state, ctx, cmd.actor_id, paid, sv_draws_total, redeem_draws,
                                 earned_total, quote))
    events.extend(stock.sale_movements(state, lambda: ctx.meta(cmd.actor_id, at), paid))
    for line in overridden:
        events.append(audit(
            ctx.meta(cmd.actor_id, at), Permission.PRICE_OVERRIDE, ticket_id, cmd.reason,
            detail=f"line={line.line_no} item={line.item_id} off_fen={line.override_fen}",
            approver_id=override_by if override_by != cmd.actor_id else "",
        ))
    if discount_by:
        events.append(audit(
            ctx.meta(cmd.actor_id, at), Permission.DISCOUNT_OVER_CAP, ticket_id, cmd.reason,
            detail=f"discount_fen={cmd.manual_discount_fen}",
            approver_id=discount_by if discount_by != cmd.actor_id else "",
        ))
    return events


def _ledger_events(
    state: SalonState, ctx: Context, actor_id: str, paid: TicketPaid,
    sv_draws: Sequence[stored_value.LotDraw], redeem_draws: Sequence[points.PointsDraw],
    earned: int, quote: Quote,
) -> list[Event]:
    """The events of every ledger the ticket touches, all in the ticket's one commit."""
    now: datetime = paid.meta.at
    member_id, ticket_id = paid.member_id, paid.ticket_id
    out: list[Event] = []
    if member_id:
        # What of the member's points and bonus has expired leaves the book with this sale,
        # as ExpirePoints and ExpireBonus would take it: else it stays for years, in every
        # snapshot and start-up. The sale itself never counts on it (both are unspendable).
        out.extend(points.expiry_events(state, (member_id,), ctx, actor_id, now))
        out.extend(stored_value.bonus_expiry_events(
            state.accounts.lots_of(member_id), ctx, actor_id, now))

    if sv_draws:
        out.append(StoredValueSpent(meta=ctx.meta(actor_id, now), member_id=member_id,
                                    ticket_id=ticket_id, draws=tuple(sv_draws)))
    if redeem_draws:
        value = sum(s.line.points_discount_fen for s in paid.lines)
        out.append(PointsRedeemed(meta=ctx.meta(actor_id, now), member_id=member_id,
                                  ticket_id=ticket_id, draws=tuple(redeem_draws),
                                  value_fen=value))
    if quote.coupon_id:
        out.append(CouponRedeemed(
            meta=ctx.meta(actor_id, now), coupon_id=quote.coupon_id, member_id=member_id,
            ticket_id=ticket_id, discount_fen=quote.total("coupon_discount_fen"),
        ))
    for s in paid.lines:
        line: PricedLine = s.line
        for value, bonus in zip(line.package_values, s.package_bonus, strict=True):
            out.append(PackageSessionUsed(
                meta=ctx.meta(actor_id, now), card_id=line.package_card_id,
                member_id=member_id, ticket_id=ticket_id, line_no=line.line_no,
                value_fen=value, bonus_fen=bonus,
            ))
        if line.kind is ItemKind.PACKAGE:
            plan = state.catalog.plan(line.item_id)
            # The bonus money the card is paid with: drawn now, and what the credit holds.
            bonus = sum(d.bonus_fen for d in s.sv_draws)
            if line.upgrade_from_card_id:
                bonus += state.packages.get(line.upgrade_from_card_id).bonus_fen
                out.append(PackageCardUpgraded(
                    meta=ctx.meta(actor_id, now), old_card_id=line.upgrade_from_card_id,
                    new_card_id=s.card_id, credit_fen=line.credit_fen,
                ))
            out.append(PackageCardSold(
                meta=ctx.meta(actor_id, now), card_id=s.card_id, member_id=member_id,
                plan_id=plan.plan_id, service_ids=plan.service_ids,
                total_sessions=plan.sessions + plan.bonus_sessions,
                price_fen=line.credit_fen + line.net_fen,
                paid_fen=line.credit_fen + s.paid_now_fen,
                ticket_id=ticket_id, line_no=line.line_no,
                expires_at=now + timedelta(days=plan.valid_days), bonus_fen=bonus,
            ))
    entries = tuple(e for s in paid.lines for e in s.commissions)
    if entries:
        out.append(commissions.CommissionEarned(meta=ctx.meta(actor_id, now),
                                                source_id=ticket_id, entries=entries))
    if member_id:
        if earned:
            out.append(points.earn_event(state, member_id, ticket_id, earned,
                                         ctx.meta(actor_id, now), now))
        spend = sum(s.paid_now_fen for s in paid.lines)
        out.extend(tiers.progress_events(state, member_id, ctx, actor_id, now,
                                         spend_fen=spend, points=earned))
    return out
