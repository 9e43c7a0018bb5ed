"""The points book keeps only what can still change: dropping the rest changes no result.

A lot is dropped once it is empty and no redemption that a refund may give back drew on
it; a source's figure once it is zero. The reference is a book that never drops a lot:
fed the same commands it must make exactly the same events and figures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from hypothesis import given, settings
from hypothesis import strategies as st
from support import DESK, MANAGER, make_salon
from test_checkout import CASH, DEBT, member, paid, sale, svc
from test_points import unrestored

from edge_store.codec import decode, encode
from salon.engine import Salon
from salon.errors import DomainError
from salon.events import Event
from salon.payments import Payment
from salon.points import (
    AdjustPoints,
    ExpirePoints,
    PointsBook,
    PointsEarned,
    PointsExpired,
    PointsRestored,
    PointsReversed,
    RedeemPointsForGift,
)
from salon.points_ledger import LotEntry
from salon.pricing import price_ticket
from salon.refunds import RefundTicket
from salon.sales import RepayDebt
from salon.state import SalonState
from salon.testing import ManualClock

MOBILES = ("13812345678", "13987654321", "13700001111")
E = TypeVar("E", bound=Event)
AFTER_2026_POINTS_EXPIRE = datetime(2028, 1, 2, 2, 0, tzinfo=UTC)
"""Points earned in 2026 expire at the end of 2027 in Shanghai (one year after the year)."""


@dataclass
class KeepAllBook(PointsBook):
    """A points book that never drops a lot: what the book was before it was compacted."""

    def _file(self, member_id: str, lot_id: str, lot: LotEntry) -> None:
        self._lots.setdefault(member_id, {})[lot_id] = lot


def live_entries(book: PointsBook) -> dict[str, dict[str, LotEntry]]:
    """Member → lot id → lot of the lots that may still change (not empty, or restorable)."""
    kept = {m: {i: lot for i, lot in lots.items() if lot.left or lot.restorable}
            for m, lots in book._lots.items()}
    return {m: lots for m, lots in kept.items() if lots}


def ticket_of(events: tuple[Event, ...]) -> str:
    return paid(events).ticket_id


def cash_sale(salon: Salon, m: str, redeem: int = 0, item: str = "cut") -> tuple[Event, ...]:
    due = price_ticket(salon.state, member_id=m, lines=(svc(item),), now=salon.ctx.clock(),
                       redeem_points=redeem).due_fen
    return salon.execute(sale(svc(item), (CASH, due), member_id=m, redeem_points=redeem))


def of_type(events: tuple[Event, ...], kind: type[E]) -> list[E]:
    return [e for e in events if isinstance(e, kind)]


# --- what is dropped, and what is kept -------------------------------------------------


def test_an_expired_lot_is_dropped_yet_an_old_refund_takes_back_what_it_should() -> None:
    salon, clock = make_salon()
    m = member(salon)
    old = ticket_of(cash_sale(salon, m))  # ¥128: 128 points, expiring at the end of 2027
    clock.now = AFTER_2026_POINTS_EXPIRE
    (expired,) = salon.execute(ExpirePoints(actor_id=MANAGER))
    assert isinstance(expired, PointsExpired) and expired.points == 128
    assert salon.state.points.lots(m) == ()  # nothing can change the empty lot any more
    assert salon.state.points.lost_to_expiry(old) == 128  # but its source's loss is kept
    (newer,) = [e.lot_id for e in of_type(cash_sale(salon, m), PointsEarned)]
    events = salon.execute(RefundTicket(actor_id=MANAGER, ticket_id=old, reason="退款"))
    (reversal,) = of_type(events, PointsReversed)
    assert (reversal.draws, reversal.debt_points, reversal.expired_points) == ((), 0, 128)
    assert salon.state.points.lot(newer).left == 128
    assert salon.state.points.lost_to_expiry(old) == 0
    assert salon.state.points.lifetime_earned(m) == 128


def test_a_lot_emptied_by_a_ticket_stays_until_the_refund_gives_its_points_back() -> None:
    salon, clock = make_salon()
    m = member(salon)
    first = cash_sale(salon, m)  # 128 points in lot L
    (lot_id,) = [e.lot_id for e in of_type(first, PointsEarned)]
    clock.advance(days=1)
    spender = ticket_of(cash_sale(salon, m, redeem=100, item="color"))  # L keeps 28
    clock.now = AFTER_2026_POINTS_EXPIRE
    salon.execute(ExpirePoints(actor_id=MANAGER))  # L loses its 28: empty but restorable
    assert [(lot.lot_id, lot.left) for lot in salon.state.points.lots(m)] == [(lot_id, 0)]
    events = salon.execute(RefundTicket(actor_id=MANAGER, ticket_id=spender, reason="退款"))
    (restored,) = of_type(events, PointsRestored)
    assert [d.lot_id for d in restored.draws] == [lot_id]
    # Back into the expired lot: held, not spendable, and swept by the next expiry run.
    assert (salon.state.points.held(m), salon.state.points.balance(m, clock())) == (100, 0)
    (swept,) = salon.execute(ExpirePoints(actor_id=MANAGER))
    assert isinstance(swept, PointsExpired) and (swept.lot_id, swept.points) == (lot_id, 100)
    assert salon.state.points.lots(m) == ()
    assert salon.state.points.lost_to_expiry(ticket_of(first)) == 128


def test_a_lot_spent_on_a_gift_is_dropped_since_nothing_gives_a_gift_back() -> None:
    salon, _ = make_salon()
    m = member(salon)
    cash_sale(salon, m)
    salon.execute(RedeemPointsForGift(actor_id=DESK, member_id=m, points=128, gift="小样"))
    assert salon.state.points.lots(m) == ()
    assert salon.state.points.member_ids() == ()


def test_lot_seq_never_repeats_after_lots_are_dropped() -> None:
    salon, _ = make_salon()
    m = member(salon)
    seqs: list[int] = []
    for _ in range(3):
        cash_sale(salon, m)
        seqs.extend(lot.seq for lot in salon.state.points.lots(m))
        salon.execute(AdjustPoints(actor_id=MANAGER, member_id=m, delta=-128, reason="核对"))
    assert seqs == [0, 1, 2]
    assert salon.state.points.lots(m) == ()


# --- same results as a book that keeps everything ---------------------------------------

OPS = st.lists(
    st.one_of(
        st.tuples(st.just("sale"), st.integers(0, 2), st.integers(0, 100),
                  st.sampled_from(["cut", "wash", "color"])),
        st.tuples(st.just("debt_sale"), st.integers(0, 2)),
        st.tuples(st.just("repay"), st.integers(0, 2)),
        st.tuples(st.just("refund"), st.integers(0, 30)),
        st.tuples(st.just("expire")),
        st.tuples(st.just("advance"), st.integers(0, 400)),
        st.tuples(st.just("adjust"), st.integers(0, 2), st.integers(-200, 200).filter(bool)),
        st.tuples(st.just("gift"), st.integers(0, 2), st.integers(1, 150)),
    ),
    max_size=40,
)


def run(salon: Salon, members: list[str], tickets: list[str], op: tuple[object, ...]) -> object:
    """Carry out ``op``; its events, or the code of the refusal (the same in both books)."""
    clock = salon.ctx.clock
    assert isinstance(clock, ManualClock)
    state = salon.state
    try:
        match op:
            case ("sale", int(who), int(share), str(item)):
                m = members[who]
                due = price_ticket(state, member_id=m, lines=(svc(item),), now=clock()).due_fen
                redeem = min(state.points.balance(m, clock()), due // 2) * share // 100
                events = cash_sale(salon, m, redeem, item)
                tickets.append(ticket_of(events))
                return events
            case ("debt_sale", int(who)):
                events = salon.execute(sale(svc("cut"), (CASH, 5_000), (DEBT, 7_800),
                                            member_id=members[who]))
                tickets.append(ticket_of(events))
                return events
            case ("repay", int(who)):
                owed = state.tickets.debt_of(members[who])
                if not owed:
                    return ()
                return salon.execute(RepayDebt(actor_id=DESK, member_id=members[who],
                                               payments=(Payment(CASH, owed),)))
            case ("refund", int(index)) if index < len(tickets):
                return salon.execute(RefundTicket(actor_id=MANAGER, ticket_id=tickets[index],
                                                  reason="退款"))
            case ("expire",):
                return salon.execute(ExpirePoints(actor_id=MANAGER))
            case ("advance", int(days)):
                clock.advance(days=days)
            case ("adjust", int(who), int(delta)):
                return salon.execute(AdjustPoints(actor_id=MANAGER, member_id=members[who],
                                                  delta=delta, reason="核对"))
            case ("gift", int(who), int(points)):
                return salon.execute(RedeemPointsForGift(actor_id=DESK, member_id=members[who],
                                                         points=points, gift="小样"))
    except DomainError as err:
        return err.code
    return ()


def figures(salon: Salon, members: list[str]) -> list[tuple[int, int, int, int]]:
    book, now = salon.state.points, salon.ctx.clock()
    return [(book.balance(m, now), book.held(m), book.debt(m), book.lifetime_earned(m))
            for m in members]


class Twins:
    """Two equal stores but for their points book: only the first one drops lots."""

    def __init__(self) -> None:
        self.pruned, _ = make_salon()
        self.reference, _ = make_salon()
        self.reference.state.points = KeepAllBook()
        self.members = [member(self.pruned, mobile) for mobile in MOBILES]
        assert [member(self.reference, mobile) for mobile in MOBILES] == self.members
        self.tickets: dict[int, list[str]] = {id(self.pruned): [], id(self.reference): []}

    def run(self, *op: object) -> object:
        """Carry out ``op`` in both stores: the same events or refusal, the same figures."""
        got = [run(s, self.members, self.tickets[id(s)], op)
               for s in (self.pruned, self.reference)]
        assert got[0] == got[1]
        assert figures(self.pruned, self.members) == figures(self.reference, self.members)
        return got[0]

    def check_books(self) -> None:
        pruned, reference = self.pruned.state.points, self.reference.state.points
        assert self.pruned.history == self.reference.history
        assert pruned._lots == live_entries(reference)
        for source in {e.source_id for e in self.pruned.history if isinstance(e, PointsEarned)}:
            assert pruned.lost_to_expiry(source) == reference.lost_to_expiry(source)


@settings(max_examples=120, deadline=None)
@given(OPS)
def test_every_event_and_figure_equals_a_book_that_keeps_every_lot(
    ops: list[tuple[object, ...]]
) -> None:
    twins = Twins()
    for op in ops:
        twins.run(*op)
    twins.check_books()


def test_a_year_old_ticket_refund_takes_the_same_points_as_an_uncompacted_book() -> None:
    twins = Twins()
    for k in range(3):
        twins.run("sale", k, 0, "color")
    twins.run("sale", 0, 100, "color")  # spends all of ticket 0's points
    twins.run("advance", 700)
    twins.run("expire")
    twins.run("sale", 0, 0, "wash")
    first = twins.members[0]
    assert len(twins.pruned.state.points.lots(first)) == 2  # the spent lot, the new one
    assert len(twins.reference.state.points.lots(first)) == 3
    for index in (0, 3, 1):  # refunds of year-old tickets, one of them spending points
        events = twins.run("refund", index)
        assert isinstance(events, tuple) and events
    twins.run("expire")
    twins.check_books()


# --- a long history: bounded, and rebuilt the same way from any snapshot ----------------


def long_history() -> tuple[Salon, list[str], list[Event]]:
    """Three years of monthly sales and expiry runs for three members, checked against the
    reference book: the compacted store, its members and the history.

    Every other month's tickets spend points; each of those is refunded 13 months later,
    so its points go back into lots that have expired by then.
    """
    twins = Twins()
    for month in range(36):
        for k in range(len(twins.members)):
            twins.run("sale", k, 60 * (month % 2), "cut")
            if month >= 13 and month % 2 == 0:
                refunded = twins.run("refund", 3 * (month - 13) + k)
                assert isinstance(refunded, tuple)
                assert any(isinstance(e, PointsRestored) for e in refunded)
        twins.run("advance", 30)
        twins.run("expire")
    twins.check_books()
    return twins.pruned, twins.members, twins.pruned.history


def test_after_years_of_sales_the_book_holds_only_live_lots() -> None:
    salon, members, history = long_history()
    book = salon.state.points
    held = [lot for m in members for lot in book.lots(m)]
    restorable = {d.lot_id for t in salon.state.tickets.tickets for d in unrestored(history, t)}
    assert all(lot.left > 0 or lot.lot_id in restorable for lot in held)
    assert sum(isinstance(e, PointsEarned) for e in history) == 108
    # At most two years of sales are live (points expire at the end of the next year).
    assert len(held) <= 3 * 24


def test_replaying_the_journal_from_any_snapshot_gives_the_same_book() -> None:
    salon, _, history = long_history()
    rebuilt = SalonState()
    rebuilt.apply_all(history)
    assert rebuilt.points == salon.state.points
    for cut in (len(history) // 3, len(history) // 2, len(history) - 7):
        early = SalonState()
        early.apply_all(history[:cut])
        snapshot = json.loads(json.dumps(encode(early.points, PointsBook)))
        resumed = decode(snapshot, PointsBook)
        for event in history[cut:]:
            resumed.apply(event)
        assert resumed == salon.state.points
