"""Points (积分): how many a payment earns, redeeming and reversing them, and their commands.

The ledger itself (lots, debt, events, the book) lives in ``salon.points_ledger``; this
module is the contract the checkout calls and re-exports those names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from salon.commands import Command, handles
from salon.context import Context
from salon.errors import DomainError, ErrorCode
from salon.events import Event, EventMeta
from salon.money import RoundingMode, apply_bp, mul_div
from salon.points_ledger import (
    PointsAdjusted,
    PointsBook,
    PointsDraw,
    PointsEarned,
    PointsExpired,
    PointsLot,
    PointsRedeemed,
    PointsRestored,
    PointsReversed,
)
from salon.staff import Permission, audit, require

if TYPE_CHECKING:
    from salon.state import SalonState

__all__ = [
    "AdjustPoints",
    "ExpirePoints",
    "PointsAdjusted",
    "PointsBook",
    "PointsDraw",
    "PointsEarned",
    "PointsExpired",
    "PointsLot",
    "PointsRedeemed",
    "PointsRestored",
    "PointsReversed",
    "RedeemPointsForGift",
    "adjust_event",
    "check_redeem",
    "earn_event",
    "expiry_events",
    "expiry_for",
    "plan_redeem",
    "plan_reverse",
    "points_for",
    "redeem_value_fen",
    "restore_event",
    "reverse_event",
    "reverse_events",
]


def points_for(state: SalonState, member_id: str, eligible_fen: int) -> int:
    """Points a payment earns: floor(eligible_fen × the member's tier points_per_yuan / 100).

    ``eligible_fen`` must be only money actually paid from outside the store's ledgers —
    cash, bank card, WeChat, Alipay — and stored-value PRINCIPAL. Never bonus money
    (赠送金), points, a coupon or any reward: those would earn points on points. Returns 0
    when points are switched off or nothing eligible was paid.
    """
    # Imported here, not at the top: tiers may read the points ledger, and a cycle at
    # import time would depend on which module happened to load first.
    from salon.tiers import tier_of

    if not state.config.points.enabled or eligible_fen <= 0:
        return 0
    rate = tier_of(state, member_id).points_per_yuan
    return max(0, mul_div(eligible_fen, rate, 100, RoundingMode.DOWN))


def expiry_for(state: SalonState, now: datetime) -> datetime | None:
    """When points earned at ``now`` expire: the end of year Y + N in store time, in UTC.

    Y is the store-local year of ``now``; the end is local midnight of 1 January Y+N+1.
    """
    years = state.config.points.expire_after_years
    if years is None:
        return None
    zone = state.config.checkout.zone()
    local_year = now.astimezone(zone).year
    return datetime(local_year + years + 1, 1, 1, tzinfo=zone).astimezone(UTC)


def earn_event(
    state: SalonState, member_id: str, source_id: str, points: int, meta: EventMeta,
    now: datetime,
) -> PointsEarned:
    """The event of ``points`` earned by ``source_id``: points debt is paid first.

    The lot's id is the event's id, so one event makes exactly one lot.
    """
    if points < 0:
        raise ValueError("points earned cannot be negative")
    repaid = min(points, state.points.debt(member_id))
    return PointsEarned(
        meta=meta,
        member_id=member_id,
        source_id=source_id,
        lot_id=meta.event_id,
        points=points,
        debt_repaid=repaid,
        expires_at=expiry_for(state, now),
    )


def redeem_value_fen(state: SalonState, points: int) -> int:
    """What ``points`` pay off a ticket, in fen."""
    return points * state.config.points.fen_per_point


def check_redeem(
    state: SalonState, member_id: str, points: int, due_fen: int, now: datetime
) -> int:
    """Refuse a redemption of ``points`` against ``due_fen`` unless allowed; its value_fen.

    The cap is both a share of the amount due (rounded down, in whole points) and, when
    set, a number of points; POINTS_OVER_CAP tells the largest number allowed.
    """
    policy = state.config.points
    if not policy.enabled or points <= 0 or policy.fen_per_point <= 0:
        raise DomainError(ErrorCode.POINTS_NOT_ALLOWED)
    balance = state.points.balance(member_id, now)
    if points > balance:
        raise DomainError(ErrorCode.INSUFFICIENT_POINTS, {"balance": balance, "needed": points})
    cap_fen = apply_bp(max(due_fen, 0), policy.max_redeem_bp, RoundingMode.DOWN)
    max_points = cap_fen // policy.fen_per_point
    if policy.max_redeem_points is not None:
        max_points = min(max_points, policy.max_redeem_points)
    if points > max_points:
        raise DomainError(ErrorCode.POINTS_OVER_CAP, {"max_points": max(max_points, 0)})
    return redeem_value_fen(state, points)


def _spend_order(lot: PointsLot) -> tuple[bool, datetime, int]:
    # Soonest expiry first, never-expiring last, then oldest first.
    never = lot.expires_at is None
    return (never, lot.expires_at or datetime.min.replace(tzinfo=UTC), lot.seq)


def _draw(lots: Sequence[PointsLot], points: int) -> tuple[tuple[PointsDraw, ...], int]:
    """Take up to ``points`` from ``lots`` in order; the draws and what was not covered."""
    draws: list[PointsDraw] = []
    for lot in lots:
        if points == 0:
            break
        take = min(lot.left, points)
        if take > 0:
            draws.append(PointsDraw(lot.lot_id, take))
            points -= take
    return tuple(draws), points


def plan_redeem(
    state: SalonState, member_id: str, points: int, now: datetime
) -> tuple[PointsDraw, ...]:
    """Draws of ``points`` from unexpired lots, soonest expiry first; INSUFFICIENT_POINTS."""
    lots = sorted(
        (lot for lot in state.points.lots(member_id) if not lot.expired(now)), key=_spend_order
    )
    draws, short = _draw(lots, points)
    if short:
        raise DomainError(
            ErrorCode.INSUFFICIENT_POINTS,
            {"balance": state.points.balance(member_id, now), "needed": points},
        )
    return draws


def restore_event(
    state: SalonState, member_id: str, ticket_id: str, draws: Sequence[PointsDraw],
    meta: EventMeta, now: datetime,
) -> PointsRestored:
    """The event giving back a redemption's ``draws``: points debt is paid first.

    Restored points come back to the member as earned ones do, so they settle debt before
    they can be spent; else refunding a ticket whose points were spent and then the ticket
    that spent them would leave the member both those points and the debt for them.
    Points going back to an expired lot are worth nothing, so they pay only the debt their
    lot's own source's reversal booked (``reversal_debt``): they are the points it found
    spent, and with the refunds the other way round it would have taken them from that lot,
    expired or not. Unexpired points pay what is still owed, soonest expiry first as
    plan_reverse takes them. The repaying parts come first in the draws (see PointsRestored).
    """
    book = state.points
    debt = book.debt(member_id)
    if not debt:
        return PointsRestored(meta=meta, member_id=member_id, ticket_id=ticket_id,
                              draws=tuple(draws))
    lots = {lot.lot_id: lot for lot in book.lots(member_id)}
    owed: dict[str, int] = {}
    paying: list[PointsDraw] = []
    rest: list[PointsDraw] = []
    for draw in draws:
        source = lots[draw.lot_id].source_id
        owed.setdefault(source, book.reversal_debt(member_id, source))
        pay = min(draw.points, owed[source], debt)
        owed[source] -= pay
        debt -= pay
        paying.append(PointsDraw(draw.lot_id, pay))
        rest.append(PointsDraw(draw.lot_id, draw.points - pay))
    back: list[PointsDraw] = []
    for draw in sorted(rest, key=lambda d: _spend_order(lots[d.lot_id])):
        pay = 0 if lots[draw.lot_id].expired(now) else min(draw.points, debt)
        debt -= pay
        paying.append(PointsDraw(draw.lot_id, pay))
        back.append(PointsDraw(draw.lot_id, draw.points - pay))
    ordered = tuple(d for d in (*paying, *back) if d.points)
    return PointsRestored(meta=meta, member_id=member_id, ticket_id=ticket_id, draws=ordered,
                          debt_repaid=book.debt(member_id) - debt)


def plan_reverse(
    state: SalonState,
    member_id: str,
    source_id: str,
    points: int,
    *,
    now: datetime | None = None,
    restored: Sequence[PointsDraw] = (),
) -> tuple[tuple[PointsDraw, ...], int]:
    """Take back ``points`` earned by ``source_id``: the draws, and the points debt left over.

    Points the source's lots already lost to expiry count as taken back first: the member
    lost them once, and drawing them again from newer lots would take them twice. The
    remainder comes first from the lots the source made (even expired: they were its
    points); then, up to what each still owes, from the lots of sources whose reversals
    borrowed from this source's lots (even expired: a reversal finding its own lot empty
    because a redemption spent it takes from the member's other lots, and once the
    redemption is refunded the points land back on its lot, maybe expired); then from the
    member's other lots, soonest expiry first. With ``now`` given, expired other lots are
    left alone so worthless points do not cancel debt. What neither the draws nor the debt
    cover is the part lost to expiry. ``restored`` are draws given back by the same command
    (a refund restoring a redemption) that the state does not show.

    So points one reversal borrowed are taken back from the borrower before anything else:
    two refunds linked by one's redemption of the other's points end with the same points
    and debt in either order, expired lots or not.
    """
    if points <= 0:
        return (), 0
    points -= min(points, state.points.lost_to_expiry(source_id))
    extra: dict[str, int] = {}
    for draw in restored:
        extra[draw.lot_id] = extra.get(draw.lot_id, 0) + draw.points
    lots = [
        PointsLot(lot.lot_id, lot.member_id, lot.source_id, lot.points,
                  lot.left + extra.get(lot.lot_id, 0), lot.expires_at, lot.seq)
        for lot in state.points.lots(member_id)
    ]
    own = sorted((lot for lot in lots if lot.source_id == source_id), key=_spend_order)
    owed = state.points.borrowed_from(member_id, source_id)
    recovered: list[PointsLot] = []
    for lot in sorted((lot for lot in lots if owed.get(lot.source_id)), key=_spend_order):
        take = min(lot.left, owed[lot.source_id])
        owed[lot.source_id] -= take
        recovered.append(replace(lot, left=take))
    took = {lot.lot_id: lot.left for lot in recovered}
    others = sorted(
        (
            replace(lot, left=lot.left - took.get(lot.lot_id, 0)) for lot in lots
            if lot.source_id != source_id and (now is None or not lot.expired(now))
        ),
        key=_spend_order,
    )
    draws, short = _draw([*own, *recovered, *others], points)
    return _merge(draws), short


def _merge(draws: Sequence[PointsDraw]) -> tuple[PointsDraw, ...]:
    """One draw per lot, in the order first drawn (a lot recovered from may be drawn again
    as one of the member's other lots)."""
    merged: dict[str, int] = {}
    for draw in draws:
        merged[draw.lot_id] = merged.get(draw.lot_id, 0) + draw.points
    return tuple(PointsDraw(lot_id, amount) for lot_id, amount in merged.items())


def reverse_event(
    state: SalonState, member_id: str, source_id: str, points: int, meta: EventMeta,
    now: datetime, restored: Sequence[PointsDraw] = (),
) -> PointsReversed:
    """The event taking back ``points`` earned by ``source_id``, planned by plan_reverse.

    The part already lost to expiry is recorded too, so the ledger counts it only once.
    """
    if points < 0:
        raise ValueError("points reversed cannot be negative")
    draws, debt = plan_reverse(state, member_id, source_id, points, now=now, restored=restored)
    return PointsReversed(
        meta=meta, member_id=member_id, source_id=source_id, draws=draws, debt_points=debt,
        expired_points=points - sum(d.points for d in draws) - debt,
    )


def reverse_events(
    state: SalonState, ctx: Context, actor_id: str, member_id: str,
    earned: Mapping[str, int], at: datetime, restored: Sequence[PointsDraw] = (),
) -> list[PointsReversed]:
    """Take back the points each source earned (``earned``: source id → points), in order.

    Each reversal must see the lots as the earlier ones of the same command leave them, so
    what they took is passed on as negative restores: no lot is taken from twice.
    ``restored`` are draws the command gives back first (see plan_reverse).
    """
    pending = list(restored)
    out: list[PointsReversed] = []
    for source_id, amount in earned.items():
        if not amount:
            continue
        reversal = reverse_event(state, member_id, source_id, amount, ctx.meta(actor_id, at),
                                 at, restored=pending)
        out.append(reversal)
        pending.extend(PointsDraw(d.lot_id, -d.points) for d in reversal.draws)
    return out


def adjust_event(
    state: SalonState, member_id: str, delta: int, meta: EventMeta, now: datetime
) -> PointsAdjusted:
    """A manager's correction of ``delta`` points; INSUFFICIENT_POINTS below the balance."""
    if delta == 0:
        raise DomainError(ErrorCode.INVALID_INPUT, {"field": "delta", "reason": "zero"})
    if delta > 0:
        return PointsAdjusted(
            meta=meta, member_id=member_id, adjustment_id=meta.event_id, points=delta,
            lot_id=meta.event_id, debt_repaid=min(delta, state.points.debt(member_id)),
            expires_at=expiry_for(state, now), draws=(),
        )
    return PointsAdjusted(
        meta=meta, member_id=member_id, adjustment_id=meta.event_id, points=delta,
        lot_id="", debt_repaid=0, expires_at=None,
        draws=plan_redeem(state, member_id, -delta, now),
    )


@dataclass(frozen=True, kw_only=True)
class ExpirePoints(Command):
    """Remove the points of every lot past its expiry (one member, or everyone)."""

    member_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class AdjustPoints(Command):
    member_id: str
    delta: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class RedeemPointsForGift(Command):
    member_id: str
    points: int
    gift: str


@handles(ExpirePoints)
def expire_points(state: SalonState, cmd: ExpirePoints, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.EXPIRE_BALANCES)
    if cmd.member_id is not None:
        state.members.get(cmd.member_id)  # as ExpireBonus: a mistyped id is not "nothing due"
    members = state.points.member_ids() if cmd.member_id is None else (cmd.member_id,)
    return expiry_events(state, members, ctx, cmd.actor_id, ctx.clock())


def expiry_events(
    state: SalonState, member_ids: Sequence[str], ctx: Context, actor_id: str, at: datetime,
) -> list[PointsExpired]:
    """Removal of the points left in every lot of these members that has expired by ``at``.

    ExpirePoints sweeps on request; a checkout sweeps its member's lots as it pays, so
    expired points do not pile up in the book for years (see ``salon.checkout``).
    """
    return [
        PointsExpired(meta=ctx.meta(actor_id, at), member_id=lot.member_id, lot_id=lot.lot_id,
                      points=lot.left)
        for member_id in member_ids
        for lot in state.points.lots(member_id)
        if lot.left > 0 and lot.expired(at)
    ]


@handles(AdjustPoints)
def adjust_points(state: SalonState, cmd: AdjustPoints, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.ADJUST_POINTS)
    state.members.get(cmd.member_id)
    at = ctx.clock()
    meta = ctx.meta(cmd.actor_id, at)
    event = adjust_event(state, cmd.member_id, cmd.delta, meta, at)
    record = audit(
        ctx.meta(cmd.actor_id, at), Permission.ADJUST_POINTS, cmd.member_id, cmd.reason,
        detail=f"delta={cmd.delta}",
    )
    return [event, record]


@handles(RedeemPointsForGift)
def redeem_points_for_gift(
    state: SalonState, cmd: RedeemPointsForGift, ctx: Context
) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.CHECKOUT)
    if not state.config.points.enabled or cmd.points <= 0:
        raise DomainError(ErrorCode.POINTS_NOT_ALLOWED)
    gift = cmd.gift.strip()
    if not gift:
        raise DomainError(ErrorCode.INVALID_INPUT, {"field": "gift", "reason": "empty"})
    state.members.get(cmd.member_id)
    at = ctx.clock()
    draws = plan_redeem(state, cmd.member_id, cmd.points, at)
    return [
        PointsRedeemed(
            meta=ctx.meta(cmd.actor_id, at),
            member_id=cmd.member_id,
            ticket_id=ctx.new_id(),
            draws=draws,
            value_fen=0,
            gift=gift,
        )
    ]
