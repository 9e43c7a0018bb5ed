"""Refunding tickets in any order puts a member's points back as they were.

A ticket that earned points whose points another ticket spent books points debt when it is
refunded first; the refund of the spender then gives the spent points back. Those restored
points pay the debt first, as newly earned points do, so the member never ends up holding
spendable points and points debt at once.

Invariants: at every moment, points debt > 0 only when the spendable balance is 0; and when
no lot expires meanwhile, refunding every ticket of a member, in any order, leaves balance and
debt exactly as they were before those tickets. (Across an expiry no order-free end exists:
what expired is gone. Points restored to an expired lot pay only the debt that lot's own
source's reversal booked; what that reversal borrowed from other sources' lots their own
reversals take back from it, expired or not: see salon.points.plan_reverse.)
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from support import DESK, MANAGER, STYLIST, make_salon
from test_checkout import CASH, DEBT, member, paid, prd, svc

from edge_store.codec import decode_event, encode_event
from salon.checkout import Checkout
from salon.engine import Salon
from salon.events import Event
from salon.payments import Payment
from salon.points import (
    AdjustPoints,
    ExpirePoints,
    PointsRestored,
    RedeemPointsForGift,
)
from salon.pricing import LineDraft, price_ticket
from salon.refunds import RefundTicket
from salon.sales import RepayDebt
from salon.staff import StaffShare
from salon.testing import ManualClock

AFTER_2026_POINTS_EXPIRE = datetime(2028, 1, 2, 2, 0, tzinfo=UTC)
"""Points earned in 2026 expire at the end of 2027 in Shanghai."""


def checkout(salon: Salon, m: str, *lines: LineDraft, redeem: int = 0, owed: int = 0) -> str:
    """Sell ``lines`` to ``m``, redeeming ``redeem`` points and ``owed`` fen on debt; its id."""
    due = price_ticket(salon.state, member_id=m, lines=lines, now=salon.ctx.clock(),
                       redeem_points=redeem).due_fen
    payments = [Payment(DEBT, owed)] if owed else []
    if due - owed:
        payments.append(Payment(CASH, due - owed))
    events = salon.execute(Checkout(
        actor_id=DESK, price_list_version=1, member_id=m, lines=lines, payments=tuple(payments),
        redeem_points=redeem,
    ))
    return paid(events).ticket_id


def refund(salon: Salon, ticket_id: str) -> tuple[Event, ...]:
    return salon.execute(RefundTicket(actor_id=MANAGER, ticket_id=ticket_id, reason="退款"))


def points(salon: Salon, m: str) -> tuple[int, int]:
    """(spendable balance, points debt) of the member now."""
    book = salon.state.points
    return book.balance(m, salon.ctx.clock()), book.debt(m)


def restored(events: tuple[Event, ...]) -> PointsRestored:
    (event,) = [e for e in events if isinstance(e, PointsRestored)]
    return event


def earner_and_spender(salon: Salon, m: str) -> tuple[str, str]:
    """T1 (sh1, ¥168) earns 168 points; T2 (cut, ¥128) spends all of them and earns 126."""
    earner = checkout(salon, m, prd("sh1"))
    spender = checkout(salon, m, svc("cut"), redeem=points(salon, m)[0])
    return earner, spender


# --- the reported order, and the other one ----------------------------------------------


def test_refunding_the_earner_before_the_spender_leaves_neither_points_nor_debt() -> None:
    salon, _ = make_salon()
    m = member(salon)
    earner, spender = earner_and_spender(salon, m)
    refund(salon, earner)
    # Its 168 points were spent: T2's 126 are taken instead and 42 are owed.
    assert points(salon, m) == (0, 42)
    back = restored(refund(salon, spender))
    assert (sum(d.points for d in back.draws), back.debt_repaid) == (168, 42)
    assert points(salon, m) == (0, 0)
    assert salon.state.points.held(m) == 0


def test_refunding_the_spender_first_still_gives_the_same_end() -> None:
    salon, _ = make_salon()
    m = member(salon)
    earner, spender = earner_and_spender(salon, m)
    assert restored(refund(salon, spender)).debt_repaid == 0
    refund(salon, earner)
    assert points(salon, m) == (0, 0)


def test_restored_points_beyond_the_debt_go_back_to_their_lots() -> None:
    salon, _ = make_salon()
    m = member(salon)
    earner = checkout(salon, m, prd("sh1"))  # 168 points
    checkout(salon, m, svc("wash"))  # 38 more, in a later lot
    spender = checkout(salon, m, svc("cut"), redeem=200)  # all of sh1's lot, 32 of the wash's
    refund(salon, earner)  # takes the wash's 6 left and the cut's 126, owes 36
    assert points(salon, m) == (0, 36)
    back = restored(refund(salon, spender))
    assert back.debt_repaid == 36
    assert sum(d.points for d in back.draws) - back.debt_repaid == 164
    assert points(salon, m) == (38, 0)  # the wash's points, as if the cut and sh1 never were


def test_restored_points_pay_debt_that_a_gift_left_behind() -> None:
    salon, _ = make_salon()
    m = member(salon)
    earner = checkout(salon, m, prd("sh1"))  # 168 points
    salon.execute(RedeemPointsForGift(actor_id=DESK, member_id=m, points=168, gift="小样"))
    checkout(salon, m, svc("cut"))  # 128 points
    spender = checkout(salon, m, svc("wash"), redeem=100)  # earns 37
    refund(salon, earner)  # the gift keeps its 168 points: the 28 + 37 left cover 65 of them
    assert points(salon, m) == (0, 103)
    back = restored(refund(salon, spender))
    assert back.debt_repaid == 100
    # The wash's own 37 points are owed again: the cut's 128 less the gift's 168.
    assert points(salon, m) == (0, 40)


# --- expired lots -------------------------------------------------------------------------


def test_points_restored_to_an_expired_lot_pay_the_debt_its_own_source_booked() -> None:
    salon, clock = make_salon()
    m = member(salon)
    earner, spender = earner_and_spender(salon, m)
    clock.now = AFTER_2026_POINTS_EXPIRE
    salon.execute(ExpirePoints(actor_id=MANAGER))  # sweeps T2's 126; T1's lot is empty
    refund(salon, earner)
    assert points(salon, m) == (0, 168)
    back = restored(refund(salon, spender))
    # They are the very points the earner's refund found spent: the other order would have
    # taken them from that (expired) lot too.
    assert back.debt_repaid == 168
    assert points(salon, m) == (0, 0) and salon.state.points.held(m) == 0


def test_points_restored_to_an_expired_lot_do_not_pay_another_source_s_debt() -> None:
    salon, clock = make_salon()
    m = member(salon)
    checkout(salon, m, svc("wash"))  # 38 points in lot W
    spender = checkout(salon, m, svc("cut"), redeem=38)  # W is empty now
    clock.now = AFTER_2026_POINTS_EXPIRE  # W has expired
    gifted = checkout(salon, m, prd("sh1"))  # 168 fresh points...
    salon.execute(RedeemPointsForGift(actor_id=DESK, member_id=m, points=168, gift="小样"))
    refund(salon, gifted)  # ...spent on a gift: 168 owed
    assert points(salon, m) == (0, 168)
    back = restored(refund(salon, spender))
    # Expired points are worth nothing: they do not pay what the gift still owes.
    assert back.debt_repaid == 0
    assert salon.state.points.debt(m) == 168


def test_the_source_s_debt_figure_is_forgotten_once_the_member_owes_nothing() -> None:
    salon, _ = make_salon()
    m = member(salon)
    earner, _ = earner_and_spender(salon, m)
    refund(salon, earner)
    book = salon.state.points
    assert book.reversal_debt(m, earner) == 42
    salon.execute(AdjustPoints(actor_id=MANAGER, member_id=m, delta=200, reason="补偿"))
    assert (book.debt(m), book.reversal_debt(m, earner)) == (0, 0)


# --- the journal --------------------------------------------------------------------------


def test_a_points_restored_record_from_before_debt_repaid_reads_as_repaying_nothing() -> None:
    salon, _ = make_salon()
    m = member(salon)
    _, spender = earner_and_spender(salon, m)
    record = encode_event(restored(refund(salon, spender)))
    del record["debt_repaid"]
    old = decode_event(record)
    assert isinstance(old, PointsRestored) and old.debt_repaid == 0
    assert old.given_back() == old.draws


# --- any order ----------------------------------------------------------------------------

SALES = st.lists(
    st.tuples(
        st.sampled_from(["cut", "wash", "color", "sh1"]),
        st.integers(0, 100),  # share of the points that may be redeemed, in percent
        st.booleans(),  # part of it on debt
        st.booleans(),  # the debt repaid (which earns points of its own)
        st.integers(0, 72),  # hours to the next sale
    ),
    min_size=1,
    max_size=8,
)


def _line(item: str) -> LineDraft:
    return prd(item) if item == "sh1" else svc(item, StaffShare(STYLIST))


def _sell(salon: Salon, m: str, sale: tuple[str, int, bool, bool, int]) -> str:
    item, share, on_debt, repay, hours = sale
    line = _line(item)
    clock = salon.ctx.clock
    due = price_ticket(salon.state, member_id=m, lines=(line,), now=clock()).due_fen
    redeem = min(points(salon, m)[0], due // 2) * share // 100
    ticket = checkout(salon, m, line, redeem=redeem, owed=due // 3 if on_debt else 0)
    if on_debt and repay:
        owed = salon.state.tickets.debt_of(m)
        salon.execute(RepayDebt(actor_id=DESK, member_id=m, payments=(Payment(CASH, owed),)))
    assert isinstance(clock, ManualClock)
    clock.advance(hours=hours)
    return ticket


def _never_both(salon: Salon, m: str) -> None:
    balance, debt = points(salon, m)
    assert balance == 0 or debt == 0, (balance, debt)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 300), SALES, st.randoms(use_true_random=False))
def test_refunding_every_ticket_in_any_order_restores_points_and_debt(
    opening: int, sales: list[tuple[str, int, bool, bool, int]], rnd: object
) -> None:
    salon, _ = make_salon()
    m = member(salon)
    if opening:
        salon.execute(AdjustPoints(actor_id=MANAGER, member_id=m, delta=opening, reason="开业"))
    before = points(salon, m)
    tickets = []
    for sale in sales:
        tickets.append(_sell(salon, m, sale))
        _never_both(salon, m)
    rnd.shuffle(tickets)  # type: ignore[attr-defined]
    for ticket in tickets:
        refund(salon, ticket)
        _never_both(salon, m)
    assert points(salon, m) == before
    assert salon.state.points.held(m) == before[0]
