"""Member tiers (会员等级): cumulative recharge, spend and points, and automatic upgrades."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from salon.catalog import ItemKind
from salon.config import TierBasis, TierPolicy, TierRule
from salon.context import Context
from salon.events import Event
from salon.money import BP_WHOLE

if TYPE_CHECKING:
    from salon.state import SalonState

__all__ = [
    "MemberProgress",
    "MemberProgressed",
    "MemberTierChanged",
    "TierBook",
    "progress_events",
    "tier_discount_bp",
    "tier_of",
]


@dataclass(frozen=True, kw_only=True)
class MemberProgressed(Event):
    """Signed changes of the member's cumulative figures (a refund is negative)."""

    member_id: str
    recharge_fen: int = 0
    spend_fen: int = 0
    points: int = 0


@dataclass(frozen=True, kw_only=True)
class MemberTierChanged(Event):
    member_id: str
    from_tier: str
    to_tier: str


@dataclass(frozen=True, slots=True)
class MemberProgress:
    """Cumulative figures of one member, each exactly the sum of its MemberProgressed deltas."""

    recharge_fen: int = 0
    spend_fen: int = 0
    points: int = 0

    def metric(self, basis: TierBasis) -> int:
        match basis:
            case TierBasis.RECHARGE:
                return self.recharge_fen
            case TierBasis.SPEND:
                return self.spend_fen
            case TierBasis.POINTS:
                return self.points


@dataclass
class TierBook:
    """The tiers slice: every member's cumulative figures and current tier id."""

    progress: dict[str, MemberProgress] = field(default_factory=dict)
    tier_ids: dict[str, str] = field(default_factory=dict)
    """Member id -> tier id; a member missing here is at the lowest tier."""

    def apply(self, event: Event) -> None:
        match event:
            case MemberProgressed():
                old = self.of(event.member_id)
                self.progress[event.member_id] = MemberProgress(
                    recharge_fen=old.recharge_fen + event.recharge_fen,
                    spend_fen=old.spend_fen + event.spend_fen,
                    points=old.points + event.points,
                )
            case MemberTierChanged():
                self.tier_ids[event.member_id] = event.to_tier
            case _:
                pass

    def of(self, member_id: str) -> MemberProgress:
        return self.progress.get(member_id, MemberProgress())


def _lowest(policy: TierPolicy) -> TierRule:
    return min(policy.tiers, key=lambda rule: rule.rank)


def _highest_reached(policy: TierPolicy, metric: int) -> TierRule:
    """The highest-rank tier whose threshold ``metric`` reaches (the lowest tier at least)."""
    reached = [rule for rule in policy.tiers if metric >= rule.threshold]
    return max(reached, key=lambda rule: rule.rank, default=_lowest(policy))


def tier_of(state: SalonState, member_id: str) -> TierRule:
    """The rule of the member's current tier.

    If HQ's newer configuration no longer has that tier, the member is placed by the metric:
    the highest configured tier whose threshold it reaches.
    """
    policy = state.config.tiers
    tier_id = state.tiers.tier_ids.get(member_id)
    if tier_id is None:
        return _lowest(policy)
    for rule in policy.tiers:
        if rule.tier_id == tier_id:
            return rule
    return _highest_reached(policy, state.tiers.of(member_id).metric(policy.basis))


def progress_events(
    state: SalonState,
    member_id: str,
    ctx: Context,
    actor_id: str,
    at: datetime,
    *,
    recharge_fen: int = 0,
    spend_fen: int = 0,
    points: int = 0,
) -> tuple[Event, ...]:
    """MemberProgressed for the deltas (none if all are zero) and MemberTierChanged on upgrade.

    Tiers only go up automatically: a refund lowers the cumulative figures, but the member
    keeps the tier already reached (a downgrade is a decision for people, not a side effect
    of a refund). The tier check also runs with no delta, so a member whose figure already
    reaches a threshold HQ has lowered is upgraded on the next call.
    """
    events: list[Event] = []
    if recharge_fen or spend_fen or points:
        events.append(
            MemberProgressed(
                meta=ctx.meta(actor_id, at),
                member_id=member_id,
                recharge_fen=recharge_fen,
                spend_fen=spend_fen,
                points=points,
            )
        )
    policy = state.config.tiers
    old = state.tiers.of(member_id)
    after = MemberProgress(
        recharge_fen=old.recharge_fen + recharge_fen,
        spend_fen=old.spend_fen + spend_fen,
        points=old.points + points,
    )
    current = tier_of(state, member_id)
    target = _highest_reached(policy, after.metric(policy.basis))
    if target.rank > current.rank:
        events.append(
            MemberTierChanged(
                meta=ctx.meta(actor_id, at),
                member_id=member_id,
                from_tier=current.tier_id,
                to_tier=target.tier_id,
            )
        )
    return tuple(events)


def tier_discount_bp(rule: TierRule, kind: ItemKind) -> int:
    """The tier's price rate for a kind of line; package cards carry no tier discount."""
    match kind:
        case ItemKind.SERVICE:
            return rule.service_discount_bp
        case ItemKind.PRODUCT:
            return rule.product_discount_bp
        case ItemKind.PACKAGE:
            return BP_WHOLE
