"""Follow-ups to the refund fixes: what one ticket may do with a package card, the card
ledger's record of a refunded line whose debt was repaid, and a card refund taking back what
the repayments of the card's debt earned.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import DESK, PRODUCTS, assert_refused
from test_checkout import CASH, DEBT, WECHAT, pkg, prd, sale, svc
from test_debt_and_upgrade_refunds import (
    buy_facial10,
    refund,
    repay,
    returned,
    reversed_points,
    upgrade,
    upgrade_store,
    use_sessions,
    v2,
)
from test_refund_reversals import figures, refund_card

from salon.catalog import ItemKind
from salon.engine import Salon
from salon.errors import ErrorCode
from salon.package_cards import PackageCardRefunded
from salon.points import RedeemPointsForGift
from salon.pricing import LineDraft
from salon.tickets import TicketPaid

UPGRADE = LineDraft(ItemKind.PACKAGE, "facial20")


def paid(events: tuple[object, ...]) -> TicketPaid:
    (ticket,) = [e for e in events if isinstance(e, TicketPaid)]
    return ticket


def card_refunded(events: tuple[object, ...]) -> PackageCardRefunded:
    (found,) = [e for e in events if isinstance(e, PackageCardRefunded)]
    return found


def upgrading(card_id: str) -> LineDraft:
    return LineDraft(ItemKind.PACKAGE, "facial20", upgrade_from_card_id=card_id)


# -- one ticket, one card: used or upgraded, not both ----------------------------------------


@pytest.mark.parametrize("use_first", [True, False])
def test_a_ticket_cannot_both_use_a_session_of_a_card_and_upgrade_that_card(
    use_first: bool,
) -> None:
    salon, _, m = upgrade_store()
    old = buy_facial10(salon, m)
    use, up = svc("facial", package_card_id=old), upgrading(old)
    lines = (use, up) if use_first else (up, use)
    # The credit is the card's value before the ticket: the used session would be paid twice.
    err = assert_refused(salon, v2(sale(lines, (CASH, 152_000), member_id=m)),
                         ErrorCode.PACKAGE_UPGRADED_IN_TICKET)
    assert err.params == {"card_id": old}


def test_used_on_one_ticket_and_upgraded_on_the_next_the_credit_leaves_out_the_session(
) -> None:
    salon, _, m = upgrade_store()
    old = buy_facial10(salon, m)
    use_sessions(salon, m, old)
    ticket = upgrade(salon, m, old, (CASH, 171_800))
    assert ticket.lines[0].line.credit_fen == 198_000 - 19_800


def test_a_ticket_cannot_upgrade_one_card_twice() -> None:
    salon, _, m = upgrade_store()
    old = buy_facial10(salon, m)
    err = assert_refused(salon, v2(sale((upgrading(old), upgrading(old)), (CASH, 304_000),
                                        member_id=m)), ErrorCode.PACKAGE_UPGRADED_IN_TICKET)
    assert err.params == {"card_id": old}


def test_two_lines_using_one_card_are_checked_as_consecutive_sessions() -> None:
    salon, _, m = upgrade_store()
    old = buy_facial10(salon, m)
    use_sessions(salon, m, old, 9)
    one_each = (svc("facial", package_card_id=old), svc("facial", package_card_id=old))
    assert_refused(salon, v2(sale(one_each, member_id=m)), ErrorCode.PACKAGE_EXHAUSTED)
    assert salon.state.packages.get(old).remaining_sessions == 1


def test_two_lines_using_one_card_need_both_sessions_paid() -> None:
    salon, _, m = upgrade_store()
    ticket = paid(salon.execute(v2(sale(pkg(), (CASH, 40_000), (DEBT, 158_000), member_id=m))))
    card = ticket.lines[0].card_id  # 40000 paid: two sessions of 19800 are covered
    three = tuple(svc("facial", package_card_id=card) for _ in range(3))
    assert_refused(salon, v2(sale(three, member_id=m)), ErrorCode.PACKAGE_UNPAID_SESSIONS)
    both = paid(salon.execute(v2(sale(three[:2], member_id=m))))
    assert [s.line.package_values for s in both.lines] == [(19_800,), (19_800,)]
    assert salon.state.packages.get(card).used_value_fen == 39_600


@pytest.mark.parametrize(("kind", "item_id", "field"), [
    (ItemKind.PRODUCT, PRODUCTS[0].product_id, "package_card_id"),
    (ItemKind.PACKAGE, "facial20", "package_card_id"),
    (ItemKind.SERVICE, "wash", "upgrade_from_card_id"),
    (ItemKind.PRODUCT, PRODUCTS[0].product_id, "upgrade_from_card_id"),
])
def test_only_a_service_uses_a_card_and_only_a_package_upgrades_one(
    kind: ItemKind, item_id: str, field: str
) -> None:
    # A product or package "paid by" a card was free; a service "upgrading" a card reopened
    # that (upgraded) card when the service was refunded.
    salon, _, m = upgrade_store()
    old = buy_facial10(salon, m)
    line = LineDraft(kind, item_id, **{field: old})  # type: ignore[arg-type]
    err = assert_refused(salon, v2(sale(line, (CASH, 350_000), member_id=m)),
                         ErrorCode.INVALID_INPUT)
    assert err.params == {"field": "line 1", "reason": field}


def test_a_product_beside_a_card_session_is_still_paid_in_full() -> None:
    salon, _, m = upgrade_store()
    old = buy_facial10(salon, m)
    ticket = paid(salon.execute(v2(sale((svc("facial", package_card_id=old), prd("sh1")),
                                        (CASH, 16_800), member_id=m))))
    assert ticket.due_fen == 16_800


# -- a ticket refund of a card whose debt was repaid -----------------------------------------


def _card_figures_add_up(salon: Salon, card_id: str, refunded: PackageCardRefunded,
                         money_back: int, credit: int) -> None:
    card = salon.state.packages.get(card_id)
    # What the card was paid with is exactly the credit and the money given back for it.
    assert refunded.refund_fen == money_back
    assert card.paid_fen == credit + refunded.refund_fen
    assert credit + refunded.refund_fen + refunded.debt_cancelled_fen == card.price_fen


def test_ticket_refund_of_a_card_records_the_repaid_money_as_refunded() -> None:
    salon, _, m = upgrade_store()
    ticket = paid(salon.execute(v2(sale(pkg(), (CASH, 98_000), (DEBT, 100_000), member_id=m))))
    card = ticket.lines[0].card_id
    repay(salon, m, (WECHAT, 40_000))
    events = refund(salon, ticket.ticket_id)
    assert returned(events) == {CASH: 98_000, WECHAT: 40_000}
    refunded = card_refunded(events)
    assert (refunded.refund_fen, refunded.debt_cancelled_fen) == (138_000, 60_000)
    _card_figures_add_up(salon, card, refunded, 138_000, 0)


@settings(max_examples=40, deadline=None)
@given(now=st.integers(0, 152_000), repaid=st.integers(0, 152_000), is_upgrade=st.booleans())
def test_the_card_ledger_records_a_ticket_refund_as_the_money_returned_for_the_line(
    now: int, repaid: int, is_upgrade: bool
) -> None:
    salon, _, m = upgrade_store()
    old = buy_facial10(salon, m) if is_upgrade else ""
    line = upgrading(old) if is_upgrade else UPGRADE
    credit = 198_000 if is_upgrade else 0
    price = 350_000 - credit
    debt = price - now
    payments = [(CASH, now)] if now else []
    payments += [(DEBT, debt)] if debt else []
    ticket = paid(salon.execute(v2(sale(line, *payments, member_id=m))))
    card = ticket.lines[0].card_id
    repaid = min(repaid, debt)
    if repaid:
        repay(salon, m, (WECHAT, repaid))
    events = refund(salon, ticket.ticket_id)
    assert sum(returned(events).values()) == now + repaid
    _card_figures_add_up(salon, card, card_refunded(events), now + repaid, credit)


# -- a card refund takes back what the repayments of its debt earned ---------------------------


def test_card_refund_takes_back_the_refunded_share_of_a_repayments_points_and_spend() -> None:
    salon, _, m = upgrade_store()
    ticket = paid(salon.execute(v2(sale(pkg(), (CASH, 98_000), (DEBT, 100_000), member_id=m))))
    card = ticket.lines[0].card_id
    repaid = repay(salon, m, (WECHAT, 100_000))
    assert figures(salon, m) == (1_980, 0, 198_000, 1_980)
    use_sessions(salon, m, card, 5)  # 99000 of the 198000 paid: half comes back
    events = refund_card(salon, card)
    assert card_refunded(events).refund_fen == 99_000
    assert reversed_points(events, ticket.ticket_id) == 490
    assert reversed_points(events, repaid.repayment_id) == 500
    assert figures(salon, m) == (990, 0, 99_000, 990)


def test_card_refund_after_a_partial_repayment_leaves_the_spend_of_the_value_used() -> None:
    salon, _, m = upgrade_store()
    ticket = paid(salon.execute(v2(sale(pkg(), (CASH, 98_000), (DEBT, 100_000), member_id=m))))
    card = ticket.lines[0].card_id
    repaid = repay(salon, m, (CASH, 40_000))
    use_sessions(salon, m, card, 5)
    events = refund_card(salon, card)
    refunded = card_refunded(events)
    # paid 138000, used 99000: 39000 back; the rest of the debt (60000) is cancelled
    assert (refunded.refund_fen, refunded.debt_cancelled_fen) == (39_000, 60_000)
    # 980 × 39000 / 138000 = 276.96 → 277; 400 × 39000 / 138000 = 113.04 → 113
    assert reversed_points(events, ticket.ticket_id) == 277
    assert reversed_points(events, repaid.repayment_id) == 113
    assert figures(salon, m) == (1_380 - 390, 0, 99_000, 1_380 - 390)
    assert salon.state.tickets.debt_of(m) == 0


def test_refunding_a_card_whose_repayment_points_were_spent_leaves_points_debt() -> None:
    salon, clock, m = upgrade_store()
    ticket = paid(salon.execute(v2(sale(pkg(), (DEBT, 198_000), member_id=m))))
    card = ticket.lines[0].card_id
    repay(salon, m, (CASH, 198_000))
    salon.execute(RedeemPointsForGift(actor_id=DESK, member_id=m, points=1_000, gift="小样"))
    refund_card(salon, card)
    assert salon.state.points.balance(m, clock()) == 0
    assert salon.state.points.debt(m) == 1_000
    assert salon.state.tiers.of(m).spend_fen == 0
