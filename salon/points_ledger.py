"""The points (积分) ledger: lots, draws, points debt, the events that move them and the book."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime

from salon.events import Event

__all__ = [
    "LotEntry",
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
    """A refund gives back exactly the draws of a redemption, to the same lots.

    The first ``debt_repaid`` points of the draws, in their order, pay points debt instead
    of going back into their lots (planned by ``salon.points.restore_event``). A record
    written before the field existed repaid nothing.
    """

    member_id: str
    ticket_id: str
    draws: tuple[PointsDraw, ...]
    debt_repaid: int = 0

    def repaid_parts(self) -> Iterator[tuple[PointsDraw, int]]:
        """Each draw with how many of its points pay debt: the first ``debt_repaid`` in order."""
        left = self.debt_repaid
        for draw in self.draws:
            repaid = min(draw.points, left)
            left -= repaid
            yield draw, repaid

    def given_back(self) -> tuple[PointsDraw, ...]:
        """What lands back in the lots: the draws less the points that paid debt."""
        return tuple(PointsDraw(draw.lot_id, draw.points - repaid)
                     for draw, repaid in self.repaid_parts() if draw.points > repaid)


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


def _add(figures: dict[str, int], key: str, delta: int) -> None:
    """Add ``delta`` to a figure kept only while it is not zero (zero is what a get defaults to)."""
    value = figures.get(key, 0) + delta
    if value:
        figures[key] = value
    else:
        figures.pop(key, None)


@dataclass(frozen=True, slots=True)
class LotEntry:
    """A lot as the book keeps it: its member and lot id are the keys it is filed under."""

    source_id: str
    points: int
    left: int
    expires_at: datetime | None
    seq: int
    restorable: int = 0
    """Points taken from this lot by redemptions that a refund may still give back."""

    def as_lot(self, lot_id: str, member_id: str) -> PointsLot:
        return PointsLot(lot_id, member_id, self.source_id, self.points, self.left,
                         self.expires_at, self.seq)

    def live(self) -> bool:
        """Whether any event can still change the lot (see PointsBook._file)."""
        return self.left > 0 or self.restorable > 0


@dataclass
class PointsBook:
    """Every member's live lots and points debt; each figure is a sum over the events above.

    The book holds what can still change or be read, not all history: a lot is dropped
    once it can never change again (see ``_file``), and a per-source figure once it is
    zero. What is dropped depends only on the events applied, never on the clock or on
    when a snapshot was taken, so a book rebuilt from the journal equals its snapshot.
    What each ticket earned and which lots its redemption drew from are the ticket
    book's: a refund reads them there.
    """

    _lots: dict[str, dict[str, LotEntry]] = field(default_factory=dict)
    """Member id → lot id → lot, in arrival order; live lots only."""
    _next_seq: int = 0
    """The ``seq`` of the next lot: counts every lot ever made, so it never repeats."""
    _debt: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _earned: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _lost_to_expiry: dict[str, int] = field(default_factory=dict)
    """Source id → points its lots lost to expiry not yet counted by a reversal, while not zero."""
    _reversal_debt: dict[str, dict[str, int]] = field(default_factory=dict)
    """Member id → source id → points debt the source's reversals booked that no points
    restored to its lots have paid yet, while not zero and while the member owes any."""
    _borrowed: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    """Member id → source id → lending source id → points the first source's reversals drew
    from the lending source's lots and the lender's reversals have not taken back, while
    not zero (see ``salon.points.plan_reverse``)."""

    def apply(self, event: Event) -> None:
        match event:
            case PointsEarned():
                self._new_lot(event.member_id, event.source_id, event.lot_id,
                              event.points - event.debt_repaid, event.expires_at)
                self._repay(event.member_id, event.debt_repaid)
                self._earned[event.member_id] += event.points
            case PointsRedeemed():
                # A refund of the ticket gives its draws back; nothing gives back a gift.
                self._take(event.member_id, event.draws, restorable=not event.gift)
            case PointsRestored():
                self._give(event)
                self._repay(event.member_id, event.debt_repaid)
            case PointsReversed():
                self._lend(event)
                self._take(event.member_id, event.draws)
                taken = _total(event.draws) + event.debt_points + event.expired_points
                self._debt[event.member_id] += event.debt_points
                if event.debt_points:
                    _add(self._reversal_debt.setdefault(event.member_id, {}), event.source_id,
                         event.debt_points)
                self._earned[event.member_id] -= taken
                _add(self._lost_to_expiry, event.source_id, -event.expired_points)
            case PointsExpired():
                lot = self._lots[event.member_id][event.lot_id]
                _add(self._lost_to_expiry, lot.source_id, event.points)
                self._take(event.member_id, (PointsDraw(event.lot_id, event.points),))
            case PointsAdjusted():
                if event.points > 0:
                    self._new_lot(event.member_id, event.adjustment_id, event.lot_id,
                                  event.points - event.debt_repaid, event.expires_at)
                    self._repay(event.member_id, event.debt_repaid)
                else:
                    self._take(event.member_id, event.draws)
            case _:
                pass

    def _file(self, member_id: str, lot_id: str, lot: LotEntry) -> None:
        """Keep the lot as it now is, or drop it if it can never change again.

        An empty lot with nothing restorable is out of every decision for good: draws
        (redeeming, adjusting, reversing, even its own source's reversal) take only from
        lots with points left, the expiry sweep removes only points left, and a restore
        gives back only draws of a ticket's redemption, counted in ``restorable`` until
        then. What it lost to expiry is already in its source's figure. Its ``seq`` is
        never reused (``_next_seq``).
        """
        lots = self._lots.setdefault(member_id, {})
        if lot.live():
            lots[lot_id] = lot
            return
        lots.pop(lot_id, None)
        if not lots:
            del self._lots[member_id]

    def _new_lot(self, member_id: str, source_id: str, lot_id: str, points: int,
                 expires_at: datetime | None) -> None:
        self._file(member_id, lot_id,
                   LotEntry(source_id, points, points, expires_at, self._next_seq))
        self._next_seq += 1

    def _take(self, member_id: str, draws: tuple[PointsDraw, ...], *,
              restorable: bool = False) -> None:
        """Take the draws from their lots; ``restorable``: a refund may give them back."""
        for draw in draws:
            lot = self._lots[member_id][draw.lot_id]
            kept = draw.points if restorable else 0
            self._file(member_id, draw.lot_id, replace(
                lot, left=lot.left - draw.points, restorable=lot.restorable + kept))

    def _lend(self, event: PointsReversed) -> None:
        """Count what the reversal drew from other sources' lots: first as taking back what
        those sources' reversals borrowed from this source, the rest as borrowed from them."""
        lots = self._lots.get(event.member_id, {})
        borrowed = self._borrowed.setdefault(event.member_id, {})
        for draw in event.draws:
            lender = lots[draw.lot_id].source_id
            if lender == event.source_id:
                continue
            owed_here = borrowed.get(lender, {})
            back = min(draw.points, owed_here.get(event.source_id, 0))
            _add(owed_here, event.source_id, -back)
            if not owed_here:
                borrowed.pop(lender, None)
            if draw.points > back:
                _add(borrowed.setdefault(event.source_id, {}), lender, draw.points - back)
        if not borrowed:
            del self._borrowed[event.member_id]

    def _give(self, event: PointsRestored) -> None:
        """Give a redemption's draws back: no longer restorable; spendable again but for the
        part paying debt, which first settles what the lot's own source's reversal owed."""
        member_id = event.member_id
        for draw, repaid in event.repaid_parts():
            lot = self._lots[member_id][draw.lot_id]
            self._file(member_id, draw.lot_id, replace(
                lot, left=lot.left + draw.points - repaid,
                restorable=lot.restorable - draw.points))
            owed = self._reversal_debt.get(member_id)
            if repaid and owed:
                _add(owed, lot.source_id, -min(repaid, owed.get(lot.source_id, 0)))
                if not owed:
                    del self._reversal_debt[member_id]

    def _repay(self, member_id: str, points: int) -> None:
        """Pay ``points`` of points debt; once none is owed, no source's share is either."""
        self._debt[member_id] -= points
        if not self._debt[member_id]:
            self._reversal_debt.pop(member_id, None)

    def lots(self, member_id: str) -> tuple[PointsLot, ...]:
        """The member's live lots in arrival order: with points left, or able to get some back.

        A lot that is empty for good is no longer listed (see ``_file``).
        """
        lots = self._lots.get(member_id, {})
        return tuple(lot.as_lot(lot_id, member_id) for lot_id, lot in lots.items())

    def member_ids(self) -> tuple[str, ...]:
        """Every member with a live lot, sorted."""
        return tuple(sorted(self._lots))

    def lot(self, lot_id: str) -> PointsLot:
        """A live lot by id (KeyError for an unknown or dropped one); scans every member."""
        for member_id, lots in self._lots.items():
            if lot_id in lots:
                return lots[lot_id].as_lot(lot_id, member_id)
        raise KeyError(lot_id)

    def balance(self, member_id: str, now: datetime) -> int:
        """Points the member can spend at ``now``: unexpired lots only."""
        # Read off the entries, not lots(): every commit and start-up asks, for every lot.
        return sum(lot.left for lot in self._lots.get(member_id, {}).values()
                   if lot.expires_at is None or now < lot.expires_at)

    def held(self, member_id: str) -> int:
        """Points still in the member's lots, expired ones not yet removed included."""
        return sum(lot.left for lot in self._lots.get(member_id, {}).values())

    def debt(self, member_id: str) -> int:
        """积分欠款: points reversed after they were spent; new points pay it first."""
        return self._debt.get(member_id, 0)

    def lifetime_earned(self, member_id: str) -> int:
        """Points ever earned by sales, net of reversals (adjustments and gifts not counted)."""
        return self._earned.get(member_id, 0)

    def reversal_debt(self, member_id: str, source_id: str) -> int:
        """Points debt the source's reversals booked that points restored to its own lots
        have not paid yet; at most the member's debt is ever owed (0 once none is)."""
        return self._reversal_debt.get(member_id, {}).get(source_id, 0)

    def borrowed_from(self, member_id: str, lender_id: str) -> dict[str, int]:
        """Source id → points its reversals drew from ``lender_id``'s lots, not yet taken
        back by ``lender_id``'s reversals."""
        return {
            source_id: lenders[lender_id]
            for source_id, lenders in self._borrowed.get(member_id, {}).items()
            if lender_id in lenders
        }

    def lost_to_expiry(self, source_id: str) -> int:
        """Points of the source's lots removed by expiry and not yet counted in a reversal."""
        return self._lost_to_expiry.get(source_id, 0)
