"""Shifts and the day close: the float, cash in and out, a blind count against what the
events say the till holds, every refusal with its code and an unchanged state, and a
closed shift never changing."""

from __future__ import annotations

from datetime import timedelta

from support import DESK, MANAGER, STYLIST, assert_refused, make_salon
from test_checkout import member, paid, prd, recharge, sale, svc

from salon.errors import ErrorCode
from salon.payments import Payment, PaymentMethod
from salon.refunds import RefundTicket
from salon.sales import RepayDebt
from salon.shifts import (
    CashDirection,
    CloseDay,
    CloseShift,
    DayClosed,
    MoveCash,
    OpenShift,
    ShiftClosed,
)
from salon.tickets import business_day

CASH, WECHAT, DEBT = PaymentMethod.CASH, PaymentMethod.WECHAT, PaymentMethod.DEBT


def _count(cash: int, wechat: int = 0) -> tuple[Payment, ...]:
    return (Payment(CASH, cash), Payment(WECHAT, wechat))


def test_a_shift_expects_the_float_plus_what_the_events_moved_and_reports_the_variance() -> None:
    salon, clock = make_salon()
    salon.execute(OpenShift(actor_id=DESK, float_fen=50_000))
    m = member(salon)
    recharge(salon, m, 100_000)  # cash ¥1000
    # A cut for cash ¥200 against ¥128 due: ¥72 change; shampoo by WeChat.
    cut = paid(salon.execute(sale(svc("cut"), (CASH, 20_000))))
    assert cut.change_fen == 7_200
    paid(salon.execute(sale(prd("sh1"), (WECHAT, 16_800))))
    # A shampoo put on the member's debt (金卡 since the recharge: 95折), half repaid in cash.
    paid(salon.execute(sale(prd("sh1"), (DEBT, 15_960), member_id=m)))
    salon.execute(RepayDebt(actor_id=DESK, member_id=m, payments=(Payment(CASH, 7_980),)))
    # The cut refunded: ¥128 cash back.
    salon.execute(RefundTicket(actor_id=MANAGER, ticket_id=cut.ticket_id, reason="不满意"))
    salon.execute(MoveCash(actor_id=DESK, direction=CashDirection.OUT, amount_fen=3_000,
                           reason="买纸巾"))
    salon.execute(MoveCash(actor_id=DESK, direction=CashDirection.IN, amount_fen=10_000,
                           reason="备用金"))
    expected_cash = 50_000 + 100_000 + 12_800 + 7_980 - 12_800 - 3_000 + 10_000
    assert salon.state.shifts.open_shift is not None
    assert salon.state.shifts.open_shift.expected_by()["cash"] == expected_cash
    # The screen that takes the count shows no expected figure.
    summary = salon.state.shifts.open_summary()
    assert summary is not None and "expected" not in str(summary)
    clock.advance(hours=8)
    (closed,) = salon.execute(CloseShift(actor_id=DESK, counted=_count(expected_cash - 500,
                                                                     16_800)))
    assert isinstance(closed, ShiftClosed)
    shift = closed.shift
    assert dict(shift.expected) == {"cash": expected_cash, "wechat": 16_800, "bank_card": 0,
                                    "alipay": 0}
    assert dict(shift.counted)["cash"] == expected_cash - 500  # ¥5 short: the variance
    t = shift.tally
    assert (t.tickets, t.refunds, t.voids, t.recharges) == (3, 1, 0, 1)
    assert (t.debt_taken_fen, t.debt_repaid_fen, t.recharges_fen) == (15_960, 7_980, 100_000)
    assert (t.cash_in_fen, t.cash_out_fen, t.refunds_fen) == (10_000, 3_000, 12_800)
    assert salon.state.shifts.open_shift is None
    assert salon.state.shifts.closed[shift.shift_id] == shift


def test_shift_refusals_leave_the_state_unchanged() -> None:
    salon, _ = make_salon()
    assert_refused(salon, CloseShift(actor_id=DESK, counted=_count(0)), ErrorCode.NO_OPEN_SHIFT)
    assert_refused(salon, MoveCash(actor_id=DESK, direction=CashDirection.IN, amount_fen=100,
                                   reason="x"), ErrorCode.NO_OPEN_SHIFT)
    assert_refused(salon, OpenShift(actor_id=DESK, float_fen=-1), ErrorCode.NEGATIVE_AMOUNT)
    assert_refused(salon, OpenShift(actor_id="stranger", float_fen=0), ErrorCode.UNKNOWN_STAFF)
    salon.execute(OpenShift(actor_id=DESK, float_fen=20_000))
    assert_refused(salon, OpenShift(actor_id=STYLIST, float_fen=0), ErrorCode.SHIFT_ALREADY_OPEN)
    assert_refused(salon, MoveCash(actor_id=DESK, direction=CashDirection.OUT, amount_fen=20_001,
                                   reason="x"), ErrorCode.CASH_OUT_OVER_TILL)
    assert_refused(salon, MoveCash(actor_id=DESK, direction=CashDirection.OUT, amount_fen=100,
                                   reason=" "), ErrorCode.REASON_REQUIRED)
    assert_refused(salon, MoveCash(actor_id=DESK, direction=CashDirection.IN, amount_fen=0,
                                   reason="x"), ErrorCode.NEGATIVE_AMOUNT)
    assert_refused(salon, CloseShift(actor_id=DESK, counted=(Payment(WECHAT, 0),)),
                   ErrorCode.INVALID_INPUT)  # the cash must be counted
    assert_refused(salon, CloseShift(actor_id=DESK, counted=(Payment(CASH, 1),
                                                               Payment(CASH, 2))),
                   ErrorCode.INVALID_INPUT)
    assert_refused(salon, CloseShift(actor_id=DESK, counted=(Payment(DEBT, 0),
                                                               Payment(CASH, 0))),
                   ErrorCode.INVALID_INPUT)
    assert_refused(salon, CloseDay(actor_id=MANAGER, business_day=business_day(
        salon.ctx.clock(), salon.state.config.checkout)), ErrorCode.SHIFT_ALREADY_OPEN)


def test_the_day_close_sums_its_shifts_once_and_reports_money_outside_them() -> None:
    salon, clock = make_salon()
    day = business_day(clock(), salon.state.config.checkout)
    paid(salon.execute(sale(svc("cut"), (CASH, 12_800))))  # before any shift opened
    assert_refused(salon, CloseDay(actor_id=MANAGER, business_day=day),
                   ErrorCode.NO_SHIFTS_THAT_DAY)
    for cashier, cash in ((DESK, 3_800), (STYLIST, 16_800)):
        salon.execute(OpenShift(actor_id=cashier, float_fen=10_000))
        paid(salon.execute(sale(svc("wash") if cash == 3_800 else prd("sh1"), (CASH, cash),
                                actor=cashier)))
        clock.advance(hours=4)
        salon.execute(CloseShift(actor_id=cashier, counted=_count(10_000 + cash)))
    assert_refused(salon, CloseDay(actor_id=DESK, business_day=day),
                   ErrorCode.PERMISSION_DENIED)
    (closed,) = salon.execute(CloseDay(actor_id=MANAGER, business_day=day))
    assert isinstance(closed, DayClosed)
    assert len(closed.shift_ids) == 2 and closed.tally.tickets == 2
    assert dict(closed.expected)["cash"] == dict(closed.counted)["cash"] == 40_600
    assert closed.outside_shifts.tickets == 1
    assert closed.outside_shifts.taken_by(CASH) == 12_800
    assert_refused(salon, CloseDay(actor_id=MANAGER, business_day=day),
                   ErrorCode.DAY_ALREADY_CLOSED)
    # No shift opens on a closed day; the next business day's does.
    assert_refused(salon, OpenShift(actor_id=DESK, float_fen=0), ErrorCode.DAY_ALREADY_CLOSED)
    clock.advance(days=1)
    salon.execute(OpenShift(actor_id=DESK, float_fen=0))


def test_a_closed_shift_does_not_change_with_what_comes_after() -> None:
    salon, clock = make_salon()
    salon.execute(OpenShift(actor_id=DESK, float_fen=10_000))
    ticket = paid(salon.execute(sale(svc("cut"), (CASH, 12_800))))
    (closed,) = salon.execute(CloseShift(actor_id=DESK, counted=_count(22_800)))
    frozen = salon.state.shifts.closed[closed.shift.shift_id]  # type: ignore[attr-defined]
    clock.advance(minutes=5)
    salon.execute(OpenShift(actor_id=STYLIST, float_fen=5_000))
    salon.execute(RefundTicket(actor_id=MANAGER, ticket_id=ticket.ticket_id, reason="x"))
    assert salon.state.shifts.closed[frozen.shift_id] == frozen
    # The refund belongs to the shift it was paid out in.
    assert salon.state.shifts.open_shift is not None
    assert salon.state.shifts.open_shift.tally.refunds == 1
    assert salon.state.shifts.open_shift.expected_by()["cash"] == 5_000 - 12_800 + 0
    assert clock() - frozen.opened_at == timedelta(minutes=5)
