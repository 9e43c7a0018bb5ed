"""The package-card ledger: cards, the events that change them, and the PackageBook.

Session k of a card worth ``price_fen`` over ``total_sessions`` is worth
``session_value(price, total, k)``, so the sessions always sum exactly to the price (free
bonus sessions share the price too). A restored session goes back on top of the card and is
the next one used again, so the values handed out never drift from the price. The rules that
decide these events are in salon.package_cards.

Bonus money (赠送金) a card was paid with is kept apart (``PackageCard.bonus_fen``): it is the
store's gift, so a session consumes it in proportion but never earns it as revenue, and a
refund puts it back on the stored-value lots as bonus, never out as cash.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from salon.errors import DomainError, ErrorCode
from salon.events import Event
from salon.indexes import INDEX, group

__all__ = [
    "CardClosure",
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
    "session_value",
]


def session_value(price_fen: int, total_sessions: int, k: int) -> int:
    """The value of session ``k`` (0-based); the values of all sessions sum to the price."""
    if not 0 <= k < total_sessions:
        raise ValueError(f"session {k} of {total_sessions}")
    return price_fen * (k + 1) // total_sessions - price_fen * k // total_sessions


@dataclass(frozen=True, kw_only=True)
class PackageCardSold(Event):
    card_id: str
    member_id: str
    plan_id: str
    service_ids: tuple[str, ...]
    total_sessions: int
    price_fen: int
    paid_fen: int
    """Below ``price_fen`` when part was put on the member's debt."""
    ticket_id: str
    line_no: int
    expires_at: datetime
    bonus_fen: int = 0
    """Bonus money among what paid the card, its upgrade credit's included. Records written
    before it was kept read as 0: those cards count as paid with principal only."""


@dataclass(frozen=True, kw_only=True)
class PackageSessionUsed(Event):
    card_id: str
    member_id: str
    ticket_id: str
    line_no: int
    value_fen: int
    bonus_fen: int = 0
    """The part of ``value_fen`` the card was paid for with bonus money: consumed, no revenue."""


@dataclass(frozen=True, kw_only=True)
class PackageSessionRestored(Event):
    """A used session given back (refunded ticket); ``value_fen`` is the value it was used at."""

    card_id: str
    member_id: str
    ticket_id: str
    line_no: int
    value_fen: int
    bonus_fen: int = 0
    """The bonus part the session was used with, back on the card."""


@dataclass(frozen=True, kw_only=True)
class PackageCardPaid(Event):
    """Debt on the card repaid: more of its sessions become usable."""

    card_id: str
    amount_fen: int


@dataclass(frozen=True, kw_only=True)
class PackageCardUpgraded(Event):
    """The old card's unused paid value went into ``new_card_id``; the old card closes."""

    old_card_id: str
    new_card_id: str
    credit_fen: int


@dataclass(frozen=True, kw_only=True)
class PackageCardUpgradeReversed(Event):
    """An upgrade undone by a refund of its line: the old card is open again as it was.

    The upgrade only closed the old card, so reopening it gives back exactly the sessions,
    value and expiry credited (an expiry passed meanwhile leaves it expired). The new card
    is closed by the PackageCardRefunded of the same refund.
    """

    old_card_id: str
    new_card_id: str
    credit_fen: int


@dataclass(frozen=True, slots=True)
class SourceRefund:
    """Money of one source given back: the ticket that sold a card, or a repayment of its debt."""

    source_id: str
    amount_fen: int
    bonus_fen: int = 0
    """Of ``amount_fen``, bonus money put back on the lots the source drew it from. Records
    written before it was kept read as 0."""


@dataclass(frozen=True, slots=True)
class TracedRefund:
    """The part of a card refund traced back to a card a ticket line sold.

    That is the refunded card itself, or the card whose value it holds by an upgrade credit
    or a transfer: the sale that took the money takes back what the money earned.
    """

    card_id: str
    value_fen: int
    """Value of that card given back, its own upgrade credit included."""
    debt_cancelled_fen: int
    money: tuple[SourceRefund, ...]
    """Of ``value_fen``, the money of the card's own sale given back, per source."""


@dataclass(frozen=True, kw_only=True)
class PackageCardRefunded(Event):
    card_id: str
    refund_fen: int
    sessions_cancelled: int
    debt_cancelled_fen: int
    traced: tuple[TracedRefund, ...] = ()
    """Where a RefundPackageCard refund came from (a ticket refund reverses its line whole)."""


@dataclass(frozen=True, kw_only=True)
class PackageSessionsTransferred(Event):
    """The next ``sessions`` of a card moved to a new card of another member.

    The new card is worth exactly ``value_fen`` (the moved sessions' values), fully paid, for
    the same services and with the same expiry.
    """

    from_card_id: str
    to_card_id: str
    to_member_id: str
    sessions: int
    value_fen: int
    bonus_fen: int = 0
    """Bonus money in the moved value: it moves with it."""


class CardClosure(StrEnum):
    REFUNDED = "refunded"
    UPGRADED = "upgraded"
    TRANSFERRED = "transferred"
    """Every session left was transferred away."""


@dataclass(frozen=True, slots=True)
class PackageCard:
    card_id: str
    member_id: str
    plan_id: str
    service_ids: tuple[str, ...]
    total_sessions: int
    price_fen: int
    paid_fen: int
    expires_at: datetime
    ticket_id: str = ""
    line_no: int = 0
    issued: int = 0
    """Sessions taken in order (used or transferred) by index; restores do not lower it."""
    returned: tuple[int, ...] = ()
    """Values of restored sessions; the last one is the next session handed out."""
    used_sessions: int = 0
    used_value_fen: int = 0
    transferred_sessions: int = 0
    transferred_value_fen: int = 0
    closure: CardClosure | None = None
    transferred_from: str = ""
    bonus_fen: int = 0
    """Bonus money in the card's unused paid value (see the module docstring)."""
    upgraded_to: str = ""
    """The card this one's value went into, while it is closed by that upgrade."""
    refunded_value_fen: int = 0
    """Value of this card given back by refunds of it or of cards holding its value."""
    refunded_debt_fen: int = 0
    refunded_money: tuple[SourceRefund, ...] = ()
    """Of the value given back, this card's sale money per source (the sale, repayments)."""

    @property
    def unused_sessions(self) -> int:
        return self.total_sessions - self.issued + len(self.returned)

    @property
    def unused_value_fen(self) -> int:
        handed_out = self.price_fen * self.issued // self.total_sessions
        return sum(self.returned) + self.price_fen - handed_out

    @property
    def consumed_value_fen(self) -> int:
        """The value that left the card: used here or transferred to another card."""
        return self.used_value_fen + self.transferred_value_fen

    @property
    def debt_fen(self) -> int:
        return self.price_fen - self.paid_fen

    @property
    def closed(self) -> bool:
        return self.closure is not None

    @property
    def remaining_sessions(self) -> int:
        """Sessions the member can still use (none once the card is closed)."""
        return 0 if self.closed else self.unused_sessions

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def next_values(self, count: int) -> tuple[int, ...]:
        """The values of the next ``count`` sessions, in the order they will be taken."""
        values = list(reversed(self.returned))[:count]
        start = self.issued
        for k in range(start, start + count - len(values)):
            values.append(session_value(self.price_fen, self.total_sessions, k))
        return tuple(values)

    def taken(self, count: int) -> PackageCard:
        """This card after its next ``count`` sessions are taken."""
        from_returned = min(count, len(self.returned))
        return replace(
            self,
            returned=self.returned[: len(self.returned) - from_returned],
            issued=self.issued + count - from_returned,
        )


@dataclass
class PackageBook:
    cards: dict[str, PackageCard] = field(default_factory=dict)
    member_cards: dict[str, list[str]] = field(default_factory=dict, metadata=INDEX)
    """Member id -> their card ids in the order made (``cards_of`` without a scan)."""

    def reindex(self) -> None:
        self.member_cards = group((card.member_id, card_id) for card_id, card in self.cards.items())

    def apply(self, event: Event) -> None:
        match event:
            case PackageCardSold():
                self.cards[event.card_id] = PackageCard(
                    event.card_id, event.member_id, event.plan_id, event.service_ids,
                    event.total_sessions, event.price_fen, event.paid_fen, event.expires_at,
                    event.ticket_id, event.line_no, bonus_fen=event.bonus_fen,
                )
                self.member_cards.setdefault(event.member_id, []).append(event.card_id)
            case PackageSessionUsed():
                card = self.cards[event.card_id].taken(1)
                self.cards[card.card_id] = replace(
                    card,
                    used_sessions=card.used_sessions + 1,
                    used_value_fen=card.used_value_fen + event.value_fen,
                    bonus_fen=card.bonus_fen - event.bonus_fen,
                )
            case PackageSessionRestored():
                card = self.cards[event.card_id]
                self.cards[card.card_id] = replace(
                    card,
                    returned=(*card.returned, event.value_fen),
                    used_sessions=card.used_sessions - 1,
                    used_value_fen=card.used_value_fen - event.value_fen,
                    bonus_fen=card.bonus_fen + event.bonus_fen,
                    # A card closed only because nothing was left is open again.
                    closure=None if card.closure is CardClosure.TRANSFERRED else card.closure,
                )
            case PackageCardPaid():
                card = self.cards[event.card_id]
                self.cards[card.card_id] = replace(card, paid_fen=card.paid_fen + event.amount_fen)
            case PackageCardUpgraded():
                card = self.cards[event.old_card_id]
                self.cards[card.card_id] = replace(card, closure=CardClosure.UPGRADED,
                                                   upgraded_to=event.new_card_id)
            case PackageCardUpgradeReversed():
                card = self.cards[event.old_card_id]
                self.cards[card.card_id] = replace(card, closure=None, upgraded_to="")
            case PackageCardRefunded():
                card = self.cards[event.card_id]
                self.cards[card.card_id] = replace(card, closure=CardClosure.REFUNDED)
                for traced in event.traced:
                    self._count_refund(traced)
            case PackageSessionsTransferred():
                self._transfer(event)
            case _:
                pass

    def _transfer(self, event: PackageSessionsTransferred) -> None:
        old = self.cards[event.from_card_id]
        card = replace(
            old.taken(event.sessions),
            transferred_sessions=old.transferred_sessions + event.sessions,
            transferred_value_fen=old.transferred_value_fen + event.value_fen,
            bonus_fen=old.bonus_fen - event.bonus_fen,
        )
        if card.unused_sessions == 0:
            card = replace(card, closure=CardClosure.TRANSFERRED)
        self.cards[card.card_id] = card
        self.cards[event.to_card_id] = PackageCard(
            event.to_card_id, event.to_member_id, old.plan_id, old.service_ids,
            event.sessions, event.value_fen, event.value_fen, old.expires_at,
            transferred_from=old.card_id, bonus_fen=event.bonus_fen,
        )
        self.member_cards.setdefault(event.to_member_id, []).append(event.to_card_id)

    def _count_refund(self, traced: TracedRefund) -> None:
        card = self.cards[traced.card_id]
        money = {s.source_id: (s.amount_fen, s.bonus_fen) for s in card.refunded_money}
        for part in traced.money:
            amount, bonus = money.get(part.source_id, (0, 0))
            money[part.source_id] = (amount + part.amount_fen, bonus + part.bonus_fen)
        self.cards[card.card_id] = replace(
            card,
            refunded_value_fen=card.refunded_value_fen + traced.value_fen,
            refunded_debt_fen=card.refunded_debt_fen + traced.debt_cancelled_fen,
            refunded_money=tuple(SourceRefund(k, v, b) for k, (v, b) in money.items()),
        )

    def get(self, card_id: str) -> PackageCard:
        try:
            return self.cards[card_id]
        except KeyError:
            raise DomainError(ErrorCode.UNKNOWN_PACKAGE_CARD, {"card_id": card_id}) from None

    def cards_of(self, member_id: str) -> tuple[PackageCard, ...]:
        """The member's cards in the order they were bought, closed ones included."""
        return tuple(self.cards[card_id] for card_id in self.member_cards.get(member_id, ()))

    def remaining_sessions(self, card_id: str) -> int:
        return self.get(card_id).remaining_sessions
