"""Stored-value accounts (储值卡): recharge offers, spend order, refunds, corrections, expiry.

The lots, events and the StoredValueBook live in salon.stored_value_ledger and the payment
PIN in salon.stored_value_pin; both are re-exported here, so ``salon.stored_value`` is the
one name the other areas import.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from salon.commands import Command, handles
from salon.config import RechargeOffer, RechargeRefundRule, SpendOrder
from salon.context import Context
from salon.errors import DomainError, ErrorCode
from salon.events import Event
from salon.money import RoundingMode, allocate, apply_bp
from salon.staff import Permission, audit, require
from salon.stored_value_ledger import (
    BonusExpired,
    Lot,
    LotDraw,
    LotKind,
    RechargeRefunded,
    StoredValueAdjusted,
    StoredValueBook,
    StoredValueRecharged,
    StoredValueRestored,
    StoredValueSpent,
)
from salon.stored_value_pin import (
    PaymentPinAccepted,
    PaymentPinRejected,
    PaymentPinSet,
    PinChange,
    ResetPaymentPin,
    SetPaymentPin,
    check_pin,
)

if TYPE_CHECKING:
    from salon.state import SalonState

__all__ = [
    "AdjustStoredValue",
    "BonusExpired",
    "ExpireBonus",
    "Lot",
    "LotDraw",
    "LotKind",
    "PaymentPinAccepted",
    "PaymentPinRejected",
    "PaymentPinSet",
    "PinChange",
    "RechargeRefundPlan",
    "RechargeRefunded",
    "ResetPaymentPin",
    "SetPaymentPin",
    "StoredValueAdjusted",
    "StoredValueBook",
    "StoredValueRecharged",
    "StoredValueRestored",
    "StoredValueSpent",
    "adjust_stored_value",
    "bonus_expiry_events",
    "check_pin",
    "expire_bonus",
    "plan_recharge_refund",
    "plan_spend",
    "recharge_principal",
    "recharge_terms",
    "spendable_fen",
]


@dataclass(frozen=True, slots=True)
class RechargeRefundPlan:
    member_id: str
    refund_fen: int
    principal_removed_fen: int
    bonus_removed_fen: int
    recharge_id: str = ""


def _offer_in_force(offer: RechargeOffer, now: datetime) -> bool:
    started = offer.valid_from is None or offer.valid_from <= now
    return started and (offer.valid_until is None or now < offer.valid_until)


def recharge_terms(
    state: SalonState, principal_fen: int, now: datetime
) -> tuple[int, str, datetime | None]:
    """(bonus_fen, offer_id or "", bonus_expires_at) of a recharge of ``principal_fen``."""
    policy = state.config.stored_value
    if principal_fen < 0:
        raise DomainError(ErrorCode.NEGATIVE_AMOUNT, {"field": "principal_fen"})
    if principal_fen < policy.min_recharge_fen:
        raise DomainError(ErrorCode.RECHARGE_TOO_SMALL, {"min_fen": policy.min_recharge_fen})
    best: RechargeOffer | None = None
    for offer in policy.offers:
        reached = offer.min_principal_fen <= principal_fen and _offer_in_force(offer, now)
        if reached and (best is None or offer.min_principal_fen > best.min_principal_fen):
            best = offer
    bonus = 0
    if best is not None:
        bonus = best.bonus_fen + apply_bp(principal_fen, best.bonus_bp, RoundingMode.DOWN)
    expires = None
    if policy.bonus_valid_days is not None:
        expires = now + timedelta(days=policy.bonus_valid_days)
    return bonus, "" if best is None else best.offer_id, expires


def recharge_principal(state: SalonState, recharge_id: str) -> int:
    """The principal paid in by one recharge (UNKNOWN_RECHARGE for anything else)."""
    lot = state.accounts.lots.get(recharge_id)
    if lot is None or lot.kind is not LotKind.RECHARGE:
        raise DomainError(ErrorCode.UNKNOWN_RECHARGE, {"recharge_id": recharge_id})
    return lot.principal_paid_fen


def spendable_fen(state: SalonState, member_id: str, now: datetime) -> int:
    state.members.get(member_id)
    return state.accounts.balance_fen(member_id, now)


def _take(amounts: dict[str, int], lots: Sequence[tuple[str, int]], total: int) -> None:
    """Take ``total`` from (lot_id, available) pairs, oldest first, into ``amounts``."""
    for lot_id, available in lots:
        if total == 0:
            return
        part = min(total, available)
        if part:
            amounts[lot_id] = amounts.get(lot_id, 0) + part
            total -= part


def _draws(
    lots: Sequence[Lot], principal_fen: int, bonus_fen: int, now: datetime
) -> tuple[LotDraw, ...]:
    principal: dict[str, int] = {}
    bonus: dict[str, int] = {}
    _take(principal, [(lot.lot_id, lot.principal_fen) for lot in lots], principal_fen)
    _take(bonus, [(lot.lot_id, lot.spendable_bonus_fen(now)) for lot in lots], bonus_fen)
    return tuple(
        LotDraw(lot.lot_id, principal.get(lot.lot_id, 0), bonus.get(lot.lot_id, 0))
        for lot in lots
        if lot.lot_id in principal or lot.lot_id in bonus
    )


def plan_spend(
    state: SalonState, member_id: str, amount_fen: int, now: datetime
) -> tuple[LotDraw, ...]:
    """The draws that pay ``amount_fen`` from the member's account, in the policy's order."""
    state.members.get(member_id)
    if amount_fen < 0:
        raise DomainError(ErrorCode.NEGATIVE_AMOUNT, {"field": "amount_fen"})
    book = state.accounts
    lots = book.lots_of(member_id)
    principal = book.principal_fen(member_id)
    bonus = book.spendable_bonus_fen(member_id, now)
    if amount_fen > principal + bonus:
        raise DomainError(
            ErrorCode.INSUFFICIENT_BALANCE,
            {"balance_fen": principal + bonus, "needed_fen": amount_fen - principal - bonus},
        )
    if state.config.stored_value.spend_order is SpendOrder.PROPORTIONAL:
        from_principal, from_bonus = allocate(amount_fen, [principal, bonus])
    else:
        from_principal = min(amount_fen, principal)
        from_bonus = amount_fen - from_principal
    return _draws(lots, from_principal, from_bonus, now)


def plan_recharge_refund(state: SalonState, recharge_id: str, now: datetime) -> RechargeRefundPlan:
    """What refunding one recharge pays back and removes, under the store's refund rule.

    A refund never pays more than the principal still in the lot (a manager's adjustment
    may have taken some); the refund rule is the one in force ``now``.
    """
    recharge_principal(state, recharge_id)
    lot = state.accounts.lots[recharge_id]
    if lot.refunded:
        raise DomainError(ErrorCode.RECHARGE_ALREADY_REFUNDED, {"recharge_id": recharge_id})
    rule = state.config.stored_value.refund_rule
    if rule is RechargeRefundRule.NOT_REFUNDABLE:
        raise DomainError(ErrorCode.RECHARGE_NOT_REFUNDABLE, {"recharge_id": recharge_id})
    if rule is RechargeRefundRule.CLAW_BACK_BONUS:
        spent = lot.spent_principal_fen + lot.spent_bonus_fen
        refund = max(0, min(lot.principal_fen, lot.principal_paid_fen - spent))
    else:
        refund = lot.principal_fen
    return RechargeRefundPlan(
        member_id=lot.member_id,
        refund_fen=refund,
        principal_removed_fen=lot.principal_fen,
        bonus_removed_fen=lot.bonus_fen,
        recharge_id=recharge_id,
    )


@dataclass(frozen=True, kw_only=True)
class AdjustStoredValue(Command):
    """A manager's correction of a balance (signed deltas), with a reason for the audit log."""

    member_id: str
    principal_delta_fen: int
    bonus_delta_fen: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class ExpireBonus(Command):
    """Sweep expired bonus out of one member's lots, or everyone's with ``member_id=None``."""

    member_id: str | None = None


@handles(AdjustStoredValue)
def adjust_stored_value(
    state: SalonState, cmd: AdjustStoredValue, ctx: Context
) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.ADJUST_BALANCE)
    state.members.get(cmd.member_id)
    if cmd.principal_delta_fen == 0 and cmd.bonus_delta_fen == 0:
        raise DomainError(ErrorCode.INVALID_INPUT, {"field": "delta", "reason": "zero"})
    at = ctx.clock()
    book = state.accounts
    principal = book.principal_fen(cmd.member_id)
    # Expired bonus is on its way out (ExpireBonus): a correction works on what is spendable.
    bonus = book.spendable_bonus_fen(cmd.member_id, at)
    if principal + cmd.principal_delta_fen < 0 or bonus + cmd.bonus_delta_fen < 0:
        raise DomainError(ErrorCode.ADJUST_BELOW_ZERO, {"balance_fen": principal + bonus})
    draws = _draws(
        book.lots_of(cmd.member_id),
        max(0, -cmd.principal_delta_fen),
        max(0, -cmd.bonus_delta_fen),
        at,
    )
    expires = None
    days = state.config.stored_value.bonus_valid_days
    if cmd.bonus_delta_fen > 0 and days is not None:
        expires = at + timedelta(days=days)
    audited = audit(
        ctx.meta(cmd.actor_id, at),
        Permission.ADJUST_BALANCE,
        cmd.member_id,
        cmd.reason,
        detail=f"principal_delta_fen={cmd.principal_delta_fen} "
        f"bonus_delta_fen={cmd.bonus_delta_fen}",
    )
    adjusted = StoredValueAdjusted(
        meta=ctx.meta(cmd.actor_id, at),
        member_id=cmd.member_id,
        adjustment_id=ctx.new_id(),
        principal_delta_fen=cmd.principal_delta_fen,
        bonus_delta_fen=cmd.bonus_delta_fen,
        bonus_expires_at=expires,
        draws=draws,
    )
    return [adjusted, audited]


@handles(ExpireBonus)
def expire_bonus(state: SalonState, cmd: ExpireBonus, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.EXPIRE_BALANCES)
    book = state.accounts
    if cmd.member_id is None:
        lots: Sequence[Lot] = tuple(book.lots.values())
    else:
        state.members.get(cmd.member_id)
        lots = book.lots_of(cmd.member_id)
    return bonus_expiry_events(lots, ctx, cmd.actor_id, ctx.clock())


def bonus_expiry_events(
    lots: Sequence[Lot], ctx: Context, actor_id: str, at: datetime,
) -> list[BonusExpired]:
    """Removal of the bonus left in every one of ``lots`` whose bonus has expired by ``at``.

    ExpireBonus sweeps on request; a checkout sweeps its member's lots as it pays.
    """
    return [
        BonusExpired(meta=ctx.meta(actor_id, at), member_id=lot.member_id,
                     recharge_id=lot.lot_id, bonus_fen=lot.bonus_fen)
        for lot in lots
        if lot.bonus_fen > 0 and lot.bonus_expired(at)
    ]
