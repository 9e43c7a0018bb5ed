"""Refunds of lines whose debt (挂账) was repaid later, and of lines that upgraded a package card.

A refund must put back exactly what the line and everything hanging on it moved: the money by
the method it came in (the repayment's too), the points and tier spend the repayment earned,
and, for an upgrade, the old card as it was before the upgrade.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import timedelta

from support import DESK, MANAGER, PLANS, PRODUCTS, SERVICES, assert_refused, make_salon
from test_checkout import CASH, DEBT, WECHAT, member, paid, sale, svc
from test_refunds import one

from salon.admin import PublishPriceList
from salon.catalog import ItemKind, PackagePlan
from salon.checkout import Checkout
from salon.engine import Salon
from salon.errors import ErrorCode
from salon.package_cards import CardClosure, PackageCardUpgradeReversed
from salon.payments import Payment, PaymentMethod
from salon.points import PointsReversed, RedeemPointsForGift
from salon.pricing import LineDraft
from salon.refunds import RefundTicket, VoidTicket
from salon.sales import RepayDebt
from salon.staff import HQ_ACTOR
from salon.testing import ManualClock
from salon.tickets import DebtRepaid, TicketPaid, TicketRefunded

BANK, ALIPAY = PaymentMethod.BANK_CARD, PaymentMethod.ALIPAY


def repay(salon: Salon, member_id: str, *payments: tuple[PaymentMethod, int]) -> DebtRepaid:
    events = salon.execute(RepayDebt(actor_id=DESK, member_id=member_id,
                                     payments=tuple(Payment(m, a) for m, a in payments)))
    return one(events, DebtRepaid)  # type: ignore[return-value]


def refund(salon: Salon, ticket_id: str, *line_nos: int) -> tuple[object, ...]:
    return tuple(salon.execute(RefundTicket(actor_id=MANAGER, ticket_id=ticket_id,
                                            line_nos=line_nos, reason="退款")))


def returned(events: tuple[object, ...]) -> dict[PaymentMethod, int]:
    refunded = one(events, TicketRefunded)
    assert isinstance(refunded, TicketRefunded)
    return {p.method: p.amount_fen for p in refunded.returned}


def reversed_points(events: tuple[object, ...], source_id: str) -> int:
    return sum(sum(d.points for d in e.draws) + e.debt_points for e in events
               if isinstance(e, PointsReversed) and e.source_id == source_id)


# -- debt repaid, then the line refunded ------------------------------------------------------


def test_refund_of_a_repaid_line_returns_the_repayment_by_its_method_and_takes_its_points() -> None:
    salon, clock = make_salon()
    m = member(salon)
    ticket = paid(salon.execute(sale(svc("cut"), (WECHAT, 5_000), (DEBT, 7_800), member_id=m)))
    repaid = repay(salon, m, (WECHAT, 7_800))
    assert salon.state.points.balance(m, clock()) == 50 + 78
    assert salon.state.tiers.of(m).spend_fen == 12_800
    events = refund(salon, ticket.ticket_id)
    assert returned(events) == {WECHAT: 12_800}
    assert reversed_points(events, repaid.repayment_id) == 78
    assert salon.state.points.balance(m, clock()) == 0
    assert salon.state.points.lifetime_earned(m) == 0
    progress = salon.state.tiers.of(m)
    assert (progress.spend_fen, progress.points) == (0, 0)


def test_a_partly_repaid_line_cancels_what_is_still_owed_and_pays_back_only_the_repaid_part(
) -> None:
    salon, clock = make_salon()
    m = member(salon)
    ticket = paid(salon.execute(sale(svc("cut"), (DEBT, 12_800), member_id=m)))
    repay(salon, m, (ALIPAY, 2_800))
    events = refund(salon, ticket.ticket_id)
    refunded = one(events, TicketRefunded)
    assert isinstance(refunded, TicketRefunded)
    assert refunded.returned == (Payment(ALIPAY, 2_800),)
    assert refunded.debt_cancelled_fen == 10_000
    assert salon.state.tickets.debt_of(m) == 0
    assert salon.state.points.balance(m, clock()) == 0
    assert salon.state.tiers.of(m).spend_fen == 0


def test_a_repayment_over_two_lines_is_reversed_line_by_line_and_exactly_in_total() -> None:
    salon, clock = make_salon()
    m = member(salon)
    ticket = paid(salon.execute(sale((svc("cut"), svc("wash")), (DEBT, 16_600), member_id=m)))
    repaid = repay(salon, m, (BANK, 10_000), (CASH, 7_000))
    assert repaid.change_fen == 400
    wash = [a for a in repaid.allocations if a.line_no == 2]
    assert [a.amount_fen for a in wash] == [3_800]
    first = refund(salon, ticket.ticket_id, 2)
    # The wash's share of the repayment, by the methods the repayment used.
    assert returned(first) == {p.method: p.amount_fen for p in wash[0].paid}
    assert sum(returned(first).values()) == 3_800
    assert reversed_points(first, repaid.repayment_id) == 166 * 3_800 // 16_600
    assert salon.state.tiers.of(m).spend_fen == 12_800
    second = refund(salon, ticket.ticket_id)
    total: dict[PaymentMethod, int] = defaultdict(int)
    for events in (first, second):
        for method, amount in returned(events).items():
            total[method] += amount
    assert total == {BANK: 10_000, CASH: 6_600}
    assert reversed_points(first, repaid.repayment_id) + reversed_points(
        second, repaid.repayment_id) == 166
    assert salon.state.points.balance(m, clock()) == 0
    assert salon.state.tiers.of(m).spend_fen == 0


def test_a_line_repaid_in_two_goes_back_by_both_methods() -> None:
    salon, clock = make_salon()
    m = member(salon)
    ticket = paid(salon.execute(sale(svc("cut"), (DEBT, 12_800), member_id=m)))
    one_part = repay(salon, m, (WECHAT, 2_800))
    other_part = repay(salon, m, (ALIPAY, 10_000))
    events = refund(salon, ticket.ticket_id)
    assert returned(events) == {WECHAT: 2_800, ALIPAY: 10_000}
    assert reversed_points(events, one_part.repayment_id) == 28
    assert reversed_points(events, other_part.repayment_id) == 100
    assert salon.state.points.balance(m, clock()) == 0


def test_points_of_the_ticket_and_of_its_repayment_are_never_taken_twice_from_one_lot() -> None:
    salon, clock = make_salon()
    m = member(salon)
    ticket = paid(salon.execute(sale(svc("cut"), (CASH, 5_000), (DEBT, 7_800), member_id=m)))
    repay(salon, m, (CASH, 7_800))
    # The ticket's own 50 points are spent, so its reversal reaches into the repayment's lot.
    salon.execute(RedeemPointsForGift(actor_id=DESK, member_id=m, points=50, gift="小样"))
    refund(salon, ticket.ticket_id)
    assert all(lot.left >= 0 for lot in salon.state.points.lots(m))
    # 128 earned and taken back, only 78 left to take: the 50 spent become points debt.
    assert (salon.state.points.held(m), salon.state.points.debt(m)) == (0, 50)
    assert salon.state.points.balance(m, clock()) == 0


# -- a line that upgraded a package card ------------------------------------------------------

FACIAL20 = PackagePlan("facial20", "面部护理20次卡", ("facial",), 20, 0, 350_000, 365)
FACIAL30 = PackagePlan("facial30", "面部护理30次卡", ("facial",), 30, 0, 500_000, 365)


def upgrade_store() -> tuple[Salon, ManualClock, str]:
    """A store selling facial10, facial20 and facial30 (price list 2), and a member."""
    salon, clock = make_salon()
    salon.execute(PublishPriceList(actor_id=HQ_ACTOR, version=2, services=SERVICES,
                                   products=PRODUCTS, plans=(*PLANS, FACIAL20, FACIAL30)))
    return salon, clock, member(salon)


def v2(command: Checkout) -> Checkout:
    return replace(command, price_list_version=2)


def use_sessions(salon: Salon, m: str, card_id: str, count: int = 1) -> TicketPaid:
    return paid(salon.execute(v2(sale(svc("facial", package_card_id=card_id, quantity=count),
                                      member_id=m))))


def upgrade(salon: Salon, m: str, old: str, *payments: tuple[PaymentMethod, int],
            plan: str = "facial20") -> TicketPaid:
    line = LineDraft(ItemKind.PACKAGE, plan, upgrade_from_card_id=old)
    return paid(salon.execute(v2(sale(line, *payments, member_id=m))))


def buy_facial10(salon: Salon, m: str) -> str:
    ticket = paid(salon.execute(v2(sale(LineDraft(ItemKind.PACKAGE, "facial10"),
                                        (CASH, 198_000), member_id=m))))
    return ticket.lines[0].card_id


def test_refunding_an_upgrade_reopens_the_old_card_and_returns_only_the_money_paid() -> None:
    salon, clock, m = upgrade_store()
    old = buy_facial10(salon, m)
    use_sessions(salon, m, old, 2)
    before = salon.state.packages.get(old)
    points_before = salon.state.points.balance(m, clock())
    spend_before = salon.state.tiers.of(m).spend_fen
    # credit: 198000 paid less 2 × 19800 used = 158400; 350000 - 158400 = 191600 to pay
    up = upgrade(salon, m, old, (CASH, 191_600))
    new = up.lines[0].card_id
    assert salon.state.packages.get(old).closure is CardClosure.UPGRADED
    events = refund(salon, up.ticket_id)
    assert returned(events) == {CASH: 191_600}
    reopened = one(events, PackageCardUpgradeReversed)
    assert isinstance(reopened, PackageCardUpgradeReversed)
    assert (reopened.old_card_id, reopened.new_card_id, reopened.credit_fen) == (
        old, new, 158_400)
    assert salon.state.packages.get(old) == before
    assert salon.state.packages.get(old).remaining_sessions == 8
    assert salon.state.packages.get(new).closure is CardClosure.REFUNDED
    assert salon.state.packages.get(new).remaining_sessions == 0
    assert salon.state.points.balance(m, clock()) == points_before
    assert salon.state.tiers.of(m).spend_fen == spend_before
    use_sessions(salon, m, old)
    assert salon.state.packages.get(old).remaining_sessions == 7


def test_voiding_an_upgrade_the_same_day_reopens_the_old_card() -> None:
    salon, _, m = upgrade_store()
    old = buy_facial10(salon, m)
    up = upgrade(salon, m, old, (CASH, 152_000))
    events = salon.execute(VoidTicket(actor_id=MANAGER, ticket_id=up.ticket_id, reason="错单"))
    refunded = one(events, TicketRefunded)
    assert isinstance(refunded, TicketRefunded) and refunded.void
    assert refunded.returned == (Payment(CASH, 152_000),)
    assert salon.state.packages.get(old).remaining_sessions == 10


def test_an_old_card_whose_expiry_passed_meanwhile_comes_back_expired() -> None:
    salon, clock, m = upgrade_store()
    old = buy_facial10(salon, m)
    clock.advance(hours=24 * 300)
    up = upgrade(salon, m, old, (CASH, 152_000))
    clock.advance(hours=24 * 100)
    refund(salon, up.ticket_id)
    card = salon.state.packages.get(old)
    assert not card.closed and card.expired(clock())
    assert card.expires_at == salon.state.packages.get(up.lines[0].card_id).expires_at - (
        timedelta(days=300))
    assert_refused(salon, v2(sale(svc("facial", package_card_id=old), member_id=m)),
                   ErrorCode.PACKAGE_EXPIRED)


def test_an_upgrade_whose_new_card_was_used_is_refused_until_those_sessions_are_refunded(
) -> None:
    salon, _, m = upgrade_store()
    old = buy_facial10(salon, m)
    up = upgrade(salon, m, old, (CASH, 152_000))
    new = up.lines[0].card_id
    used = use_sessions(salon, m, new)
    err = assert_refused(salon, RefundTicket(actor_id=MANAGER, ticket_id=up.ticket_id,
                                             reason="退款"), ErrorCode.PACKAGE_UPGRADE_USED)
    assert err.params == {"card_id": new, "old_card_id": old}
    refund(salon, used.ticket_id)
    refund(salon, up.ticket_id)
    assert salon.state.packages.get(old).remaining_sessions == 10


def test_a_session_of_the_old_card_can_be_refunded_once_the_upgrade_is_undone() -> None:
    salon, _, m = upgrade_store()
    old = buy_facial10(salon, m)
    used = use_sessions(salon, m, old)
    up = upgrade(salon, m, old, (CASH, 171_800))
    assert_refused(salon, RefundTicket(actor_id=MANAGER, ticket_id=used.ticket_id,
                                       reason="退款"), ErrorCode.PACKAGE_CLOSED)
    refund(salon, up.ticket_id)
    refund(salon, used.ticket_id)
    assert salon.state.packages.get(old).remaining_sessions == 10


def test_an_upgrade_upgraded_again_is_undone_last_upgrade_first() -> None:
    salon, _, m = upgrade_store()
    a = buy_facial10(salon, m)
    to_b = upgrade(salon, m, a, (CASH, 152_000))
    b = to_b.lines[0].card_id
    to_c = upgrade(salon, m, b, (CASH, 150_000), plan="facial30")
    assert_refused(salon, RefundTicket(actor_id=MANAGER, ticket_id=to_b.ticket_id,
                                       reason="退款"), ErrorCode.PACKAGE_CLOSED)
    assert returned(refund(salon, to_c.ticket_id)) == {CASH: 150_000}
    assert salon.state.packages.get(b).remaining_sessions == 20
    assert returned(refund(salon, to_b.ticket_id)) == {CASH: 152_000}
    assert salon.state.packages.get(a).remaining_sessions == 10


def test_an_upgrade_partly_on_debt_and_repaid_gives_back_both_payments_and_the_old_card(
) -> None:
    salon, clock, m = upgrade_store()
    old = buy_facial10(salon, m)
    points_before = salon.state.points.balance(m, clock())
    up = upgrade(salon, m, old, (CASH, 100_000), (DEBT, 52_000))
    repaid = repay(salon, m, (WECHAT, 52_000))
    assert salon.state.packages.get(up.lines[0].card_id).debt_fen == 0
    events = refund(salon, up.ticket_id)
    assert returned(events) == {CASH: 100_000, WECHAT: 52_000}
    assert reversed_points(events, repaid.repayment_id) == 520
    assert salon.state.tickets.debt_of(m) == 0
    assert salon.state.points.balance(m, clock()) == points_before
    assert salon.state.tiers.of(m).spend_fen == 198_000
    assert salon.state.packages.get(old).remaining_sessions == 10
