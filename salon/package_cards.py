"""Package cards (次卡/疗程卡): using sessions, upgrade credit, refunds and transfers.

The cards, events and the PackageBook live in salon.package_ledger and are re-exported
here, so ``salon.package_cards`` is the one name the other areas import.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from salon.commands import Command, handles
from salon.context import Context
from salon.errors import DomainError, ErrorCode
from salon.events import Event
from salon.money import RoundingMode, mul_div
from salon.package_ledger import (
    CardClosure,
    PackageBook,
    PackageCard,
    PackageCardPaid,
    PackageCardRefunded,
    PackageCardSold,
    PackageCardUpgraded,
    PackageCardUpgradeReversed,
    PackageSessionRestored,
    PackageSessionsTransferred,
    PackageSessionUsed,
    SourceRefund,
    TracedRefund,
    session_value,
)
from salon.staff import Permission, audit, require

if TYPE_CHECKING:
    from salon.state import SalonState

__all__ = [
    "CardClosure",
    "CardRefundPlan",
    "PackageBook",
    "PackageCard",
    "PackageCardPaid",
    "PackageCardRefunded",
    "PackageCardSold",
    "PackageCardUpgradeReversed",
    "PackageCardUpgraded",
    "PackageSessionRestored",
    "PackageSessionUsed",
    "PackageSessionsTransferred",
    "SourceRefund",
    "TracedRefund",
    "TransferPackageSessions",
    "bonus_share",
    "held_value",
    "is_unused",
    "owner_of",
    "plan_card_refund",
    "plan_use",
    "remaining_sessions",
    "session_bonus",
    "session_value",
    "settled_by_refund",
    "transfer_package_sessions",
    "upgrade_credit",
]


@dataclass(frozen=True, slots=True)
class CardRefundPlan:
    refund_fen: int
    sessions_cancelled: int
    debt_cancelled_fen: int
    member_id: str = ""
    bonus_fen: int = 0
    """Bonus money among ``refund_fen``: it goes back to stored value as bonus."""


class UsesCard(Protocol):
    """A priced line, as far as the sessions it uses go."""

    @property
    def package_card_id(self) -> str: ...

    @property
    def package_values(self) -> tuple[int, ...]: ...


def owner_of(state: SalonState, card_id: str) -> str:
    return state.packages.get(card_id).member_id


def remaining_sessions(state: SalonState, card_id: str) -> int:
    return state.packages.remaining_sessions(card_id)


def held_value(card: PackageCard) -> int:
    """The card's paid value not yet used or transferred: what a refund or upgrade credits."""
    return max(0, card.paid_fen - card.consumed_value_fen)


def bonus_share(bonus_fen: int, held_fen: int, value_fen: int) -> int:
    """The bonus money in ``value_fen`` taken out of a card holding ``held_fen`` of paid
    value with ``bonus_fen`` of bonus in it: in proportion, rounded down, so what is taken
    last takes the rest and a card's bonus never goes below zero."""
    if held_fen <= 0 or value_fen <= 0:
        return 0
    return min(bonus_fen, mul_div(bonus_fen, value_fen, held_fen, RoundingMode.DOWN))


def session_bonus(state: SalonState, lines: Iterable[UsesCard]) -> list[tuple[int, ...]]:
    """The bonus part of each session the lines use, line by line (empty: no card).

    Several lines of one ticket may use one card: each takes from what the earlier left.
    """
    left: dict[str, tuple[int, int]] = {}
    out: list[tuple[int, ...]] = []
    for line in lines:
        if not line.package_card_id:
            out.append(())
            continue
        card = state.packages.get(line.package_card_id)
        held, bonus = left.get(card.card_id, (held_value(card), card.bonus_fen))
        parts = []
        for value in line.package_values:
            part = bonus_share(bonus, held, value)
            parts.append(part)
            held, bonus = held - value, bonus - part
        left[card.card_id] = (held, bonus)
        out.append(tuple(parts))
    return out


def settled_by_refund(state: SalonState, card_id: str) -> bool:
    """True when card refunds took the card's value for good: the card itself was refunded
    (RefundPackageCard), or it was upgraded into a card that was, or it is closed and every
    part of its price not used on it came back by whatever route (refunds of the cards it
    was transferred or upgraded into count on it: ``refunded_value_fen``)."""
    card = state.packages.get(card_id)
    if card.closed and (card.refunded_value_fen + card.refunded_debt_fen
                        + card.used_value_fen >= card.price_fen):
        return True
    while card.closure is CardClosure.UPGRADED and card.upgraded_to:
        card = state.packages.get(card.upgraded_to)
    return card.closure is CardClosure.REFUNDED


def is_unused(state: SalonState, card_id: str) -> bool:
    """True while no session of the card is used or transferred (net of restores)."""
    card = state.packages.get(card_id)
    return card.unused_sessions == card.total_sessions


def _open_card(state: SalonState, card_id: str, member_id: str, now: datetime) -> PackageCard:
    card = state.packages.get(card_id)
    if card.member_id != member_id:
        raise DomainError(ErrorCode.PACKAGE_NOT_OWNED, {"card_id": card_id})
    if card.closed:
        raise DomainError(ErrorCode.PACKAGE_CLOSED, {"card_id": card_id})
    if card.expired(now):
        raise DomainError(ErrorCode.PACKAGE_EXPIRED, {"card_id": card_id})
    return card


def _check_paid(card: PackageCard, count: int) -> tuple[int, ...]:
    """The next ``count`` values, refused unless they are covered by what was paid."""
    if count > card.unused_sessions:
        raise DomainError(ErrorCode.PACKAGE_EXHAUSTED, {"card_id": card.card_id})
    values = card.next_values(count)
    if card.consumed_value_fen + sum(values) > card.paid_fen:
        raise DomainError(ErrorCode.PACKAGE_UNPAID_SESSIONS, {"card_id": card.card_id})
    return values


def plan_use(
    state: SalonState,
    card_id: str,
    member_id: str,
    service_id: str,
    now: datetime,
    already_used_in_ticket: int = 0,
) -> int:
    """The value of the next session of the card for ``service_id``.

    ``already_used_in_ticket`` counts the sessions of this card the same ticket already
    plans to use, so the n-th use in one ticket is checked and valued as the n-th.
    """
    card = _open_card(state, card_id, member_id, now)
    if service_id not in card.service_ids:
        raise DomainError(
            ErrorCode.PACKAGE_NOT_FOR_SERVICE, {"card_id": card_id, "service_id": service_id}
        )
    return _check_paid(card, already_used_in_ticket + 1)[-1]


def upgrade_credit(state: SalonState, card_id: str, member_id: str, now: datetime) -> int:
    """What the card is worth towards a bigger one: its paid value not yet used."""
    return held_value(_open_card(state, card_id, member_id, now))


def plan_card_refund(state: SalonState, card_id: str, now: datetime) -> CardRefundPlan:
    """Refund of a card's unused sessions: what was paid beyond the value used.

    An expired card is still refundable: what was paid and not used is the member's. When
    more was used than paid, nothing is refunded and that part of the debt stays owed.
    """
    card = state.packages.get(card_id)
    if card.closed:
        raise DomainError(ErrorCode.PACKAGE_CLOSED, {"card_id": card_id})
    refundable = card.paid_fen - card.consumed_value_fen
    return CardRefundPlan(
        refund_fen=max(0, refundable),
        sessions_cancelled=card.unused_sessions,
        debt_cancelled_fen=card.price_fen - max(card.paid_fen, card.consumed_value_fen),
        member_id=card.member_id,
        bonus_fen=min(card.bonus_fen, max(0, refundable)),
    )


@dataclass(frozen=True, kw_only=True)
class TransferPackageSessions(Command):
    """Give the next ``sessions`` paid sessions of a card to another member (转让)."""

    card_id: str
    to_member_id: str
    sessions: int
    reason: str


@handles(TransferPackageSessions)
def transfer_package_sessions(
    state: SalonState, cmd: TransferPackageSessions, ctx: Context
) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.TRANSFER_PACKAGE)
    if not state.config.packages.allow_transfer:
        raise DomainError(ErrorCode.PACKAGE_TRANSFER_FORBIDDEN)
    at = ctx.clock()
    owner = state.packages.get(cmd.card_id).member_id
    card = _open_card(state, cmd.card_id, owner, at)
    state.members.get(cmd.to_member_id)
    if cmd.to_member_id == owner:
        raise DomainError(
            ErrorCode.INVALID_INPUT, {"field": "to_member_id", "reason": "same_member"}
        )
    if cmd.sessions <= 0:
        raise DomainError(ErrorCode.INVALID_INPUT, {"field": "sessions", "reason": "not_positive"})
    value = sum(_check_paid(card, cmd.sessions))
    audited = audit(
        ctx.meta(cmd.actor_id, at),
        Permission.TRANSFER_PACKAGE,
        cmd.card_id,
        cmd.reason,
        detail=f"to_member_id={cmd.to_member_id} sessions={cmd.sessions} value_fen={value}",
    )
    transferred = PackageSessionsTransferred(
        meta=ctx.meta(cmd.actor_id, at),
        from_card_id=cmd.card_id,
        to_card_id=ctx.new_id(),
        to_member_id=cmd.to_member_id,
        sessions=cmd.sessions,
        value_fen=value,
        bonus_fen=bonus_share(card.bonus_fen, held_value(card), value),
    )
    return [transferred, audited]
