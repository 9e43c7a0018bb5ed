"""Regression tests for the third review: card refunds that split bonus and principal by two
rules or drifted by a fen per key, redeemed points a card refund kept, points debt that
depended on the refund order once a lot expired, and voids after a card refund that were
blocked or never gave the coupon back.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import DESK, MANAGER, STYLIST, make_salon
from test_checkout import CASH, DEBT, SV, WECHAT, member, paid, pkg, recharge, sale, svc
from test_points_refund_order import checkout, refund
from test_review2_fixes import _publish_v2, _transfer, paid_out, refund_card, restored, v2

from edge_store.codec import decode_event, encode_event
from salon.card_refunds import _running
from salon.catalog import ItemKind
from salon.config import PackagePolicy
from salon.coupons import CouponKind, CouponRestored, IssueCoupon
from salon.engine import Salon
from salon.package_cards import PackageCardRefunded
from salon.payments import Payment, PaymentMethod
from salon.points import ExpirePoints, PointsRestored
from salon.pricing import LineDraft
from salon.refunds import RefundTicket, VoidTicket
from salon.sales import RepayDebt
from salon.staff import StaffShare
from salon.stored_value import StoredValueRecharged
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


# -- 1. a card refund splits bonus and principal by one rule ---------------------------------


def test_an_upgraded_card_repaid_after_use_gives_back_the_cards_bonus_and_no_extra_cash() -> None:
    salon, _ = make_salon()
    _publish_v2(salon)
    m = member(salon)
    lot = recharge(salon, m, 100_000)  # ¥1,000 principal + ¥200 bonus
    old = paid(salon.execute(v2(sale(pkg(), (SV, 120_000), (DEBT, 78_000),
                                     member_id=m)))).lines[0].card_id
    salon.execute(v2(sale(svc("facial", package_card_id=old), member_id=m)))  # 19800 used
    salon.execute(RepayDebt(actor_id=DESK, member_id=m, payments=(Payment(CASH, 78_000),)))
    upgrade = LineDraft(ItemKind.PACKAGE, "facial20", upgrade_from_card_id=old)
    new = paid(salon.execute(v2(sale(upgrade, (CASH, 171_800), member_id=m)))).lines[0].card_id
    bonus = salon.state.packages.get(new).bonus_fen
    events = refund_card(salon, new)
    # The session used ¥198 of the ¥1,200 stored value (¥33 of it bonus) before the repayment:
    # the card's ¥167 bonus goes back as bonus with the ¥835 principal left, and every fen of
    # cash (the repayment's and the upgrade's) goes back as cash, not a fen more.
    assert bonus == 16_700
    assert restored(events) == (83_500, 16_700)
    assert paid_out(events) == {CASH: 78_000 + 171_800}
    assert salon.state.accounts.lots[lot].principal_fen == 100_000 - 16_500


# -- 4. card refunds after a transfer end exactly at what each way paid ----------------------


@pytest.mark.parametrize("child_first", [True, False])
def test_both_cards_of_a_transfer_give_back_exactly_what_each_way_paid(child_first: bool) -> None:
    salon, _ = make_salon(packages=PackagePolicy(allow_transfer=True))
    a, b = member(salon), member(salon, "13900139000")
    lot = recharge(salon, a, 300_000)
    card = paid(salon.execute(sale(pkg(), (SV, 35_223), (WECHAT, 149_213), (CASH, 13_564),
                                   member_id=a))).lines[0].card_id
    child = _transfer(salon, card, b, 2)
    out: dict[PaymentMethod, int] = {}
    for c in (child, card) if child_first else (card, child):
        for method, amount in paid_out(refund_card(salon, c)).items():
            out[method] = out.get(method, 0) + amount
    assert out == {WECHAT: 149_213, CASH: 13_564}
    left = salon.state.accounts.lots[lot]
    assert (left.principal_fen, left.bonus_fen) == (300_000, recharged_bonus(salon, lot))


def recharged_bonus(salon: Salon, lot: str) -> int:
    (event,) = [e for e in salon.history
                if isinstance(e, StoredValueRecharged) and e.recharge_id == lot]
    return event.bonus_fen


@given(st.lists(st.integers(0, 50_000), min_size=1, max_size=6), st.data())
@settings(max_examples=200, deadline=None)
def test_running_shares_only_grow_and_end_at_each_weight(weights: list[int],
                                                        data: st.DataObject) -> None:
    whole = sum(weights)
    cuts = sorted(data.draw(st.lists(st.integers(0, whole), max_size=5)))
    seen = [0] * len(weights)
    for total in [*cuts, whole]:
        parts = _running(weights, total)
        assert sum(parts) == total
        assert all(s <= p <= w for s, p, w in zip(seen, parts, weights, strict=True))
        seen = parts
    assert seen == weights


def test_a_card_refund_recorded_before_the_bonus_part_was_kept_still_reads() -> None:
    salon, _ = make_salon()
    m = member(salon)
    recharge(salon, m, 100_000)
    card = paid(salon.execute(sale(pkg(), (SV, 110_000), (CASH, 88_000),
                                   member_id=m))).lines[0].card_id
    (refunded,) = [e for e in refund_card(salon, card) if isinstance(e, PackageCardRefunded)]
    record = encode_event(refunded)
    parts = record["traced"][0]["money"]  # type: ignore[index]
    assert any(part.pop("bonus_fen") for part in parts)
    old = decode_event(record)
    assert isinstance(old, PackageCardRefunded)
    assert {p.bonus_fen for t in old.traced for p in t.money} == {0}
