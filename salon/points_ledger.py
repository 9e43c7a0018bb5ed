"""The points (积分) ledger: lots, draws, points debt, the events that move them and the book."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime

from salon.events import Event

__all__ = [
    "PointsAdjusted",
    "PointsBook",
    "PointsDraw",
    "PointsEarned",
    "PointsExpired",
    "PointsLot",
    "PointsRedeemed",
    "PointsRestored",
    "PointsReversed",
]


@dataclass(frozen=True, slots=True)
class PointsDraw:
    """Points taken from (or given back to) one lot."""

    lot_id: str
    points: int


@dataclass(frozen=True, slots=True)
class PointsLot:
    """Points that arrived together and expire together; ``left`` is what is still there."""

    lot_id: str
    member_id: str
    source_id: str
    points: int
    """What the lot received when it was made (after paying any points debt)."""
    left: int
    expires_at: datetime | None
    seq: int
    """Arrival order in this book: 'oldest first' among lots expiring together."""

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


@dataclass(frozen=True, kw_only=True)
class PointsEarned(Event):
    """Points earned by a sale (``source_id``); ``debt_repaid`` of them pay points debt first."""

    member_id: str
    source_id: str
    lot_id: str
    points: int
    debt_repaid: int
    expires_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class PointsRedeemed(Event):
    """Points spent on a ticket (``value_fen`` off) or on a gift (``value_fen`` 0, ``gift``)."""

    member_id: str
    ticket_id: str
    draws: tuple[PointsDraw, ...]
    value_fen: int
    gift: str = ""


@dataclass(frozen=True, kw_only=True)
class PointsRestored(Event):
    """A refund gives back exactly the draws of a redemption, to the same lots."""

    member_id: str
    ticket_id: str
    draws: tuple[PointsDraw, ...]


@dataclass(frozen=True, kw_only=True)
class PointsReversed(Event):
    """Points earned by ``source_id`` taken back; what no lot could cover became debt.

    ``expired_points`` of them had already expired from the source's own lots: they count as
    taken back without a draw, since the member lost them once already.
    """

    member_id: str
    source_id: str
    draws: tuple[PointsDraw, ...]
    debt_points: int
    expired_points: int = 0


@dataclass(frozen=True, kw_only=True)
class PointsExpired(Event):
    """The points left in one lot past its expiry, removed."""

    member_id: str
    lot_id: str
    points: int


@dataclass(frozen=True, kw_only=True)
class PointsAdjusted(Event):
    """A manager's correction: ``points`` > 0 makes a lot (debt first), < 0 takes ``draws``."""

    member_id: str
    adjustment_id: str
    points: int
    lot_id: str
    debt_repaid: int
    expires_at: datetime | None
    draws: tuple[PointsDraw, ...]


def _total(draws: tuple[PointsDraw, ...]) -> int:
    return sum(d.points for d in draws)


@dataclass
class PointsBook:
    """Every member's lots and points debt; each figure is a sum over the events above."""

    _lots: dict[str, PointsLot] = field(default_factory=dict)
    _member_lots: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    _source_lots: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    _debt: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _earned: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _earned_by_source: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _lost_to_expiry: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _redeemed: dict[str, dict[str, int]] = field(default_factory=dict)
    _redeemer: dict[str, str] = field(default_factory=dict)

    def apply(self, event: Event) -> None:
        match event:
            case PointsEarned():
                self._new_lot(event.member_id, event.source_id, event.lot_id,
                              event.points - event.debt_repaid, event.expires_at)
                self._debt[event.member_id] -= event.debt_repaid
                self._earned[event.member_id] += event.points
                self._earned_by_source[event.source_id] += event.points
            case PointsRedeemed():
                self._take(event.draws)
                self._redeemer[event.ticket_id] = event.member_id
                by_lot = self._redeemed.setdefault(event.ticket_id, {})
                for draw in event.draws:
                    by_lot[draw.lot_id] = by_lot.get(draw.lot_id, 0) + draw.points
            case PointsRestored():
                self._give(event.draws)
                self._unrecord_redemption(event.ticket_id, event.draws)
            case PointsReversed():
                self._take(event.draws)
                taken = _total(event.draws) + event.debt_points + event.expired_points
                self._debt[event.member_id] += event.debt_points
                self._earned[event.member_id] -= taken
                self._earned_by_source[event.source_id] -= taken
                if event.expired_points:
                    self._lost_to_expiry[event.source_id] -= event.expired_points
            case PointsExpired():
                self._take((PointsDraw(event.lot_id, event.points),))
                self._lost_to_expiry[self._lots[event.lot_id].source_id] += event.points
            case PointsAdjusted():
                if event.points > 0:
                    self._new_lot(event.member_id, event.adjustment_id, event.lot_id,
                                  event.points - event.debt_repaid, event.expires_at)
                    self._debt[event.member_id] -= event.debt_repaid
                else:
                    self._take(event.draws)
            case _:
                pass

    def _new_lot(self, member_id: str, source_id: str, lot_id: str, points: int,
                 expires_at: datetime | None) -> None:
        self._lots[lot_id] = PointsLot(lot_id, member_id, source_id, points, points,
                                       expires_at, len(self._lots))
        self._member_lots[member_id].append(lot_id)
        self._source_lots[source_id].append(lot_id)

    def _unrecord_redemption(self, ticket_id: str, draws: tuple[PointsDraw, ...]) -> None:
        # A full restore leaves no trace, so redeem-then-restore gives back an equal book.
        by_lot = self._redeemed.setdefault(ticket_id, {})
        for draw in draws:
            by_lot[draw.lot_id] = by_lot.get(draw.lot_id, 0) - draw.points
            if by_lot[draw.lot_id] == 0:
                del by_lot[draw.lot_id]
        if not by_lot:
            del self._redeemed[ticket_id]
            self._redeemer.pop(ticket_id, None)

    def _take(self, draws: tuple[PointsDraw, ...]) -> None:
        for draw in draws:
            lot = self._lots[draw.lot_id]
            self._lots[draw.lot_id] = replace(lot, left=lot.left - draw.points)

    def _give(self, draws: tuple[PointsDraw, ...]) -> None:
        for draw in draws:
            lot = self._lots[draw.lot_id]
            self._lots[draw.lot_id] = replace(lot, left=lot.left + draw.points)

    def lots(self, member_id: str) -> tuple[PointsLot, ...]:
        """The member's lots in arrival order, spent and expired ones included."""
        return tuple(self._lots[i] for i in self._member_lots.get(member_id, ()))

    def member_ids(self) -> tuple[str, ...]:
        """Every member who ever had a lot, sorted."""
        return tuple(sorted(self._member_lots))

    def lot(self, lot_id: str) -> PointsLot:
        return self._lots[lot_id]

    def source_lots(self, source_id: str) -> tuple[PointsLot, ...]:
        """The lots a sale (or an adjustment) made, in arrival order."""
        return tuple(self._lots[i] for i in self._source_lots.get(source_id, ()))

    def balance(self, member_id: str, now: datetime) -> int:
        """Points the member can spend at ``now``: unexpired lots only."""
        return sum(lot.left for lot in self.lots(member_id) if not lot.expired(now))

    def held(self, member_id: str) -> int:
        """Points still in the member's lots, expired ones not yet removed included."""
        return sum(lot.left for lot in self.lots(member_id))

    def debt(self, member_id: str) -> int:
        """积分欠款: points reversed after they were spent; new points pay it first."""
        return self._debt.get(member_id, 0)

    def lifetime_earned(self, member_id: str) -> int:
        """Points ever earned by sales, net of reversals (adjustments and gifts not counted)."""
        return self._earned.get(member_id, 0)

    def earned_by(self, source_id: str) -> int:
        """Points ``source_id`` earned, net of what was already reversed: what a refund takes."""
        return self._earned_by_source.get(source_id, 0)

    def lost_to_expiry(self, source_id: str) -> int:
        """Points of the source's lots removed by expiry and not yet counted in a reversal."""
        return self._lost_to_expiry.get(source_id, 0)

    def redeemed_on(self, ticket_id: str) -> tuple[PointsDraw, ...]:
        """The draws of a ticket's redemption not yet restored: what a refund gives back."""
        by_lot = self._redeemed.get(ticket_id, {})
        return tuple(PointsDraw(lot_id, n) for lot_id, n in by_lot.items() if n > 0)

    def redeemer(self, ticket_id: str) -> str | None:
        """The member whose points paid ``ticket_id``, if any did."""
        return self._redeemer.get(ticket_id)
