"""Regression tests for the third review: card refunds that split bonus and principal by two
rules or drifted by a fen per key, redeemed points a card refund kept, points debt that
depended on the refund order once a lot expired, and voids after a card refund that were
blocked or never gave the coupon back.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from support import MANAGER, STYLIST, make_salon
from test_checkout import CASH, member, paid, pkg, sale, svc
from test_points_refund_order import checkout, refund
from test_review2_fixes import _transfer, paid_out, refund_card

from salon.config import PackagePolicy
from salon.coupons import CouponKind, CouponRestored, IssueCoupon
from salon.engine import Salon
from salon.points import ExpirePoints, PointsRestored
from salon.refunds import RefundTicket, VoidTicket
from salon.staff import StaffShare
from salon.tickets import TicketRefunded

# -- 5. a void after the card was transferred away and refunded ------------------------------


def test_a_ticket_whose_card_was_transferred_and_refunded_can_be_voided_for_the_rest() -> None:
    salon, _ = make_salon(packages=PackagePolicy(allow_transfer=True))
    a, b = member(salon), member(salon, "13900139000")
    ticket = paid(salon.execute(sale((pkg(), svc("cut", StaffShare(STYLIST))),
                                     (CASH, 198_000 + 12_800), member_id=a)))
    child = _transfer(salon, ticket.lines[0].card_id, b, 10)
    assert paid_out(refund_card(salon, child)) == {CASH: 198_000}
    events = salon.execute(VoidTicket(actor_id=MANAGER, ticket_id=ticket.ticket_id,
                                      reason="录错"))
    (voided,) = [e for e in events if isinstance(e, TicketRefunded)]
    assert voided.line_nos == (2,) and voided.returned[0].amount_fen == 12_800
    assert voided.settled_line_nos == (1,)


def test_refund_all_skips_a_card_transferred_away_and_refunded() -> None:
    salon, _ = make_salon(packages=PackagePolicy(allow_transfer=True))
    a, b = member(salon), member(salon, "13900139000")
    ticket = paid(salon.execute(sale((pkg(), svc("cut")), (CASH, 198_000 + 12_800),
                                     member_id=a)))
    child = _transfer(salon, ticket.lines[0].card_id, b, 10)
    refund_card(salon, child)
    events = salon.execute(RefundTicket(actor_id=MANAGER, ticket_id=ticket.ticket_id,
                                        reason="退货"))
    (refunded,) = [e for e in events if isinstance(e, TicketRefunded)]
    assert refunded.line_nos == (2,)


# -- 6. the coupon and the paid-ticket count after a card refund and a void ------------------


def test_a_void_after_a_card_refund_gives_the_coupon_back() -> None:
    salon, clock = make_salon()
    m = member(salon)
    code = salon.execute(IssueCoupon(
        actor_id=MANAGER, kind=CouponKind.FIXED, value=1_000, min_spend_fen=0,
        valid_from=clock(), valid_until=clock() + timedelta(days=30), member_id=m,
        reason="活动"))[0].code  # type: ignore[attr-defined]
    ticket = paid(salon.execute(sale((pkg(), svc("cut")), (CASH, 198_000 + 12_800 - 1_000),
                                     member_id=m, coupon=code)))
    refund_card(salon, ticket.lines[0].card_id)
    assert salon.state.tickets.paid_ticket_count(m) == 1
    events = salon.execute(VoidTicket(actor_id=MANAGER, ticket_id=ticket.ticket_id,
                                      reason="录错"))
    assert [e.ticket_id for e in events if isinstance(e, CouponRestored)] == [ticket.ticket_id]
    assert salon.state.tickets.paid_ticket_count(m) == 0
    assert salon.state.tickets.get(ticket.ticket_id).fully_refunded  # type: ignore[union-attr]


# -- 3. points debt does not depend on the refund order when a lot expired -------------------


@pytest.mark.parametrize("earner_first", [True, False])
def test_refunding_an_earner_and_its_spender_after_the_earned_lot_expired_leaves_no_debt(
    earner_first: bool,
) -> None:
    salon, clock = make_salon()
    m = member(salon)
    earner = checkout(salon, m, svc("color"))           # 2026: 388 points
    clock.advance(days=365)
    spent = salon.state.points.balance(m, clock())
    spender = checkout(salon, m, svc("facial"), redeem=spent)  # 2027: spends them, earns its own
    assert salon.state.points.balance(m, clock()) > 0
    clock.advance(days=365)                             # 2028: the earner's lot has expired
    for ticket in (earner, spender) if earner_first else (spender, earner):
        refund(salon, ticket)
    salon.execute(ExpirePoints(actor_id=MANAGER))
    book = salon.state.points
    assert (book.held(m), book.debt(m)) == (0, 0)


# -- 2. a card refund gives back the points redeemed on the card's sale ----------------------


def _card_bought_with_points(salon: Salon, m: str) -> str:
    checkout(salon, m, svc("color"))  # earns 388 points
    ticket = checkout(salon, m, pkg(), redeem=300)
    record = salon.state.tickets.get(ticket)
    assert record is not None and record.paid.lines[0].points_draws
    return record.paid.lines[0].card_id


def test_refunding_an_unused_card_gives_back_the_points_redeemed_on_it() -> None:
    salon, clock = make_salon()
    m = member(salon)
    card = _card_bought_with_points(salon, m)
    events = refund_card(salon, card)
    assert sum(d.points for e in events if isinstance(e, PointsRestored) for d in e.draws) == 300
    assert (salon.state.points.balance(m, clock()), salon.state.points.debt(m)) == (388, 0)


def test_a_half_used_card_gives_back_half_the_points_redeemed_on_it() -> None:
    salon, _ = make_salon()
    m = member(salon)
    card = _card_bought_with_points(salon, m)
    salon.execute(sale(svc("facial", package_card_id=card, quantity=5), member_id=m))
    events = refund_card(salon, card)
    assert sum(d.points for e in events if isinstance(e, PointsRestored) for d in e.draws) == 150
