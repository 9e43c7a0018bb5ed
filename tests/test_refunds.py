"""Refunds (退款) and voids (作废): each line reversed exactly as it was settled, and audited."""

from __future__ import annotations

from support import DESK, MANAGER, STYLIST, STYLIST2, assert_refused, make_salon
from test_checkout import (
    CASH,
    DEBT,
    SV,
    WECHAT,
    audits,
    buy_card,
    coupon,
    give_points,
    gold_member,
    member,
    paid,
    prd,
    sale,
    svc,
)

from salon.commissions import CommissionReversed
from salon.coupons import CouponRestored
from salon.engine import Salon
from salon.errors import ErrorCode
from salon.payments import Payment
from salon.points import PointsRestored, PointsReversed
from salon.refunds import RefundTicket, VoidTicket
from salon.staff import Permission, StaffShare
from salon.stored_value import StoredValueRestored, StoredValueSpent
from salon.testing import ManualClock
from salon.tickets import TicketPaid, TicketRefunded


def gold_ticket(salon: Salon) -> tuple[str, TicketPaid, StoredValueSpent, str]:
    """The worked example of test_checkout: (member, ticket, its stored-value spend, coupon)."""
    m, _ = gold_member(salon)
    give_points(salon, m, 500)
    c = coupon(salon)
    events = salon.execute(sale(
        (svc("cut", StaffShare(STYLIST)), prd("sh1", StaffShare(DESK)),
         svc("facial", StaffShare(STYLIST2, designated=True))),
        (SV, 51_800), member_id=m, coupon=c, redeem_points=500,
    ))
    (spent,) = [e for e in events if isinstance(e, StoredValueSpent)]
    return m, paid(events), spent, c


def one(events: tuple[object, ...], kind: type) -> object:
    (found,) = [e for e in events if isinstance(e, kind)]
    return found


def test_whole_refund_restores_every_ledger_and_the_coupon() -> None:
    salon, clock = make_salon()
    m, ticket, spent, c = gold_ticket(salon)
    events = salon.execute(RefundTicket(actor_id=MANAGER, ticket_id=ticket.ticket_id,
                                        reason="客户不满意"))
    refunded = one(events, TicketRefunded)
    assert isinstance(refunded, TicketRefunded)
    assert refunded.line_nos == (1, 2, 3) and not refunded.void
    assert refunded.returned == (Payment(SV, 51_800),)
    restored = one(events, StoredValueRestored)
    assert isinstance(restored, StoredValueRestored) and restored.draws == spent.draws
    assert salon.state.accounts.principal_fen(m) == 100_000
    assert salon.state.accounts.spendable_bonus_fen(m, clock()) == 20_000
    # the 500 redeemed come back, the 1036 earned are taken back
    assert salon.state.points.balance(m, clock()) == 500
    reversed_ = one(events, PointsReversed)
    assert isinstance(reversed_, PointsReversed)
    assert sum(d.points for d in reversed_.draws) == 1_036 and reversed_.debt_points == 0
    commission = one(events, CommissionReversed)
    assert isinstance(commission, CommissionReversed)
    assert sum(e.amount_fen for e in commission.entries) == 1_099 + 761 + 3_838
    assert salon.state.commissions.entries_of_source(ticket.ticket_id) == ()
    assert any(isinstance(e, CouponRestored) for e in events)
    assert not salon.state.coupons.get(c).used
    (entry,) = audits(salon, Permission.REFUND)
    assert (entry.meta.actor_id, entry.reason, entry.subject_id) == (
        MANAGER, "客户不满意", ticket.ticket_id)


def test_per_line_refund_reverses_only_that_line_and_keeps_the_coupon_used() -> None:
    salon, clock = make_salon()
    m, ticket, _, c = gold_ticket(salon)
    line2 = ticket.lines[1]
    events = salon.execute(RefundTicket(actor_id=MANAGER, ticket_id=ticket.ticket_id,
                                        line_nos=(2,), reason="洗发水过敏"))
    restored = one(events, StoredValueRestored)
    assert isinstance(restored, StoredValueRestored) and restored.draws == line2.sv_draws
    assert sum(d.principal_fen + d.bonus_fen for d in restored.draws) == 15_225
    points_back = one(events, PointsRestored)
    assert isinstance(points_back, PointsRestored)
    assert sum(d.points for d in points_back.draws) == 147
    # balance: 500 - 500 + 1036 earned; back 147 redeemed, minus 304 earned on the line
    assert salon.state.points.balance(m, clock()) == 1_036 + 147 - 304
    commission = one(events, CommissionReversed)
    assert isinstance(commission, CommissionReversed)
    assert [(e.staff_id, e.amount_fen) for e in commission.entries] == [(DESK, 761)]
    assert not any(isinstance(e, CouponRestored) for e in events)
    assert salon.state.coupons.get(c).used
    # the rest of the ticket: now the coupon comes back
    events = salon.execute(RefundTicket(actor_id=MANAGER, ticket_id=ticket.ticket_id,
                                        reason="全部退"))
    refunded = one(events, TicketRefunded)
    assert isinstance(refunded, TicketRefunded) and refunded.line_nos == (1, 3)
    assert not salon.state.coupons.get(c).used
    assert salon.state.points.balance(m, clock()) == 500
    assert salon.state.accounts.principal_fen(m) == 100_000
    assert len(audits(salon, Permission.REFUND)) == 2


def test_refund_of_a_package_session_restores_the_session_and_its_commission() -> None:
    salon, _ = make_salon()
    m = member(salon)
    _, card_id = buy_card(salon, m)
    ticket = paid(salon.execute(sale(svc("facial", StaffShare(STYLIST), package_card_id=card_id),
                                     member_id=m)))
    assert salon.state.packages.get(card_id).unused_sessions == 9
    events = salon.execute(RefundTicket(actor_id=MANAGER, ticket_id=ticket.ticket_id,
                                        reason="未做完"))
    assert salon.state.packages.get(card_id).unused_sessions == 10
    commission = one(events, CommissionReversed)
    assert isinstance(commission, CommissionReversed)
    assert [e.amount_fen for e in commission.entries] == [1_980]


def test_refund_of_an_unused_package_sale_closes_the_card() -> None:
    salon, _ = make_salon()
    m = member(salon)
    ticket_id, card_id = buy_card(salon, m)
    events = salon.execute(RefundTicket(actor_id=MANAGER, ticket_id=ticket_id, reason="不要了"))
    refunded = one(events, TicketRefunded)
    assert isinstance(refunded, TicketRefunded)
    assert refunded.returned == (Payment(CASH, 198_000),)
    assert salon.state.packages.get(card_id).closed


def test_refund_of_a_debt_line_cancels_the_debt_and_returns_the_money_paid() -> None:
    salon, _ = make_salon()
    m = member(salon)
    ticket = paid(salon.execute(sale(svc("cut"), (WECHAT, 5_000), (DEBT, 7_800), member_id=m)))
    events = salon.execute(RefundTicket(actor_id=MANAGER, ticket_id=ticket.ticket_id,
                                        reason="重复下单"))
    refunded = one(events, TicketRefunded)
    assert isinstance(refunded, TicketRefunded)
    assert refunded.returned == (Payment(WECHAT, 5_000),)
    assert refunded.debt_cancelled_fen == 7_800
    assert salon.state.tickets.debt_of(m) == 0


def test_void_on_the_same_business_day_is_a_void() -> None:
    salon, clock = make_salon()
    ticket = paid(salon.execute(sale(svc("cut"), (CASH, 12_800))))
    clock.advance(hours=15)  # 10:00 → 01:00 next morning: still the same business day
    events = salon.execute(VoidTicket(actor_id=MANAGER, ticket_id=ticket.ticket_id,
                                      reason="收错"))
    refunded = one(events, TicketRefunded)
    assert isinstance(refunded, TicketRefunded) and refunded.void
    (entry,) = audits(salon, Permission.VOID)
    assert (entry.meta.actor_id, entry.reason) == (MANAGER, "收错")


def later_day(clock: ManualClock) -> None:
    clock.advance(hours=19)  # 10:00 → 05:00 next morning: the business day closed at 04:00


def test_void_on_a_later_day_needs_refund_permission_and_is_recorded_as_a_refund() -> None:
    salon, clock = make_salon()
    ticket = paid(salon.execute(sale(svc("cut"), (CASH, 12_800))))
    later_day(clock)
    assert_refused(salon, VoidTicket(actor_id=DESK, ticket_id=ticket.ticket_id, reason="x"),
                   ErrorCode.PERMISSION_DENIED)
    events = salon.execute(VoidTicket(actor_id=MANAGER, ticket_id=ticket.ticket_id,
                                      reason="昨天收错"))
    refunded = one(events, TicketRefunded)
    assert isinstance(refunded, TicketRefunded) and not refunded.void
    assert not audits(salon, Permission.VOID)
    (entry,) = audits(salon, Permission.REFUND)
    assert (entry.meta.actor_id, entry.reason) == (MANAGER, "昨天收错")


# -- refusals ---------------------------------------------------------------------------


def test_stylist_and_front_desk_may_not_refund_or_void() -> None:
    salon, _ = make_salon()
    ticket = paid(salon.execute(sale(svc("cut"), (CASH, 12_800))))
    for actor in (STYLIST, DESK):
        assert_refused(salon, RefundTicket(actor_id=actor, ticket_id=ticket.ticket_id,
                                           reason="x"), ErrorCode.PERMISSION_DENIED)
        assert_refused(salon, VoidTicket(actor_id=actor, ticket_id=ticket.ticket_id,
                                         reason="x"), ErrorCode.PERMISSION_DENIED)


def test_refund_needs_a_reason() -> None:
    salon, _ = make_salon()
    ticket = paid(salon.execute(sale(svc("cut"), (CASH, 12_800))))
    assert_refused(salon, RefundTicket(actor_id=MANAGER, ticket_id=ticket.ticket_id,
                                       reason="  "), ErrorCode.REASON_REQUIRED)


def test_refund_of_unknown_ticket_or_line_and_twice_is_refused() -> None:
    salon, _ = make_salon()
    ticket = paid(salon.execute(sale((svc("cut"), svc("wash")), (CASH, 16_600))))
    assert_refused(salon, RefundTicket(actor_id=MANAGER, ticket_id="nope", reason="x"),
                   ErrorCode.UNKNOWN_TICKET)
    assert_refused(salon, VoidTicket(actor_id=MANAGER, ticket_id="nope", reason="x"),
                   ErrorCode.UNKNOWN_TICKET)
    assert_refused(salon, RefundTicket(actor_id=MANAGER, ticket_id=ticket.ticket_id,
                                       line_nos=(3,), reason="x"), ErrorCode.UNKNOWN_LINE)
    salon.execute(RefundTicket(actor_id=MANAGER, ticket_id=ticket.ticket_id, line_nos=(1,),
                               reason="x"))
    assert_refused(salon, RefundTicket(actor_id=MANAGER, ticket_id=ticket.ticket_id,
                                       line_nos=(1,), reason="x"),
                   ErrorCode.LINE_ALREADY_REFUNDED)
    salon.execute(RefundTicket(actor_id=MANAGER, ticket_id=ticket.ticket_id, reason="x"))
    assert_refused(salon, RefundTicket(actor_id=MANAGER, ticket_id=ticket.ticket_id,
                                       reason="x"), ErrorCode.TICKET_ALREADY_REFUNDED)
    assert_refused(salon, VoidTicket(actor_id=MANAGER, ticket_id=ticket.ticket_id,
                                     reason="x"), ErrorCode.TICKET_ALREADY_REFUNDED)


def test_refund_of_a_package_sale_after_a_session_was_used_is_refused() -> None:
    salon, _ = make_salon()
    m = member(salon)
    ticket_id, card_id = buy_card(salon, m)
    salon.execute(sale(svc("facial", package_card_id=card_id), member_id=m))
    assert_refused(salon, RefundTicket(actor_id=MANAGER, ticket_id=ticket_id, reason="x"),
                   ErrorCode.PACKAGE_USED)
