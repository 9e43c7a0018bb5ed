"""Sales beside the ticket: recharge and its refund, package card refund, debt, held tickets,
and telling pay codes apart.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from support import CONFIG, DESK, MANAGER, STYLIST, assert_refused, make_salon
from test_checkout import (
    CASH,
    DEBT,
    SV,
    WECHAT,
    audits,
    buy_card,
    member,
    recharge,
    sale,
    svc,
)

from salon.commissions import CommissionEarned, CommissionReversed
from salon.config import RechargeRefundRule, SpendOrder
from salon.errors import DomainError, ErrorCode
from salon.package_cards import PackageCardRefunded
from salon.payments import Payment, PaymentMethod, recognise_pay_code
from salon.sales import (
    CancelHeldTicket,
    HoldTicket,
    Recharge,
    RefundPackageCard,
    RefundRecharge,
    RepayDebt,
)
from salon.staff import Permission, StaffShare
from salon.stored_value import RechargeRefunded, StoredValueRecharged
from salon.tickets import RechargePaid, RefundPaidOut, TicketHeld

# -- recharge ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("principal", "bonus", "offer", "tier"),
    [
        (49_900, 0, "", "normal"),
        (50_000, 5_000, "r500", "silver"),  # 充500送50
        (100_000, 20_000, "r1000", "gold"),  # 充1000送200
    ],
)
def test_recharge_applies_the_offer_and_moves_the_tier(
    principal: int, bonus: int, offer: str, tier: str
) -> None:
    salon, clock = make_salon()
    m = member(salon)
    events = salon.execute(Recharge(actor_id=DESK, member_id=m, principal_fen=principal,
                                    payments=(Payment(CASH, principal),)))
    (recharged,) = [e for e in events if isinstance(e, StoredValueRecharged)]
    assert (recharged.principal_fen, recharged.bonus_fen, recharged.offer_id) == (
        principal, bonus, offer)
    assert salon.state.accounts.balance_fen(m, clock()) == principal + bonus
    assert salon.state.tiers and salon.state.members.get(m)
    from salon.tiers import tier_of
    assert tier_of(salon.state, m).tier_id == tier


def test_recharge_gives_cash_change_and_earns_recharge_commission() -> None:
    salon, _ = make_salon()
    m = member(salon)
    events = salon.execute(Recharge(actor_id=DESK, member_id=m, principal_fen=50_000,
                                    payments=(Payment(CASH, 60_000),),
                                    staff=(StaffShare(STYLIST),)))
    (money,) = [e for e in events if isinstance(e, RechargePaid)]
    assert money.change_fen == 10_000
    (earned,) = [e for e in events if isinstance(e, CommissionEarned)]
    assert [(e.staff_id, e.amount_fen) for e in earned.entries] == [(STYLIST, 1_500)]  # 3%


@pytest.mark.parametrize(
    ("actor", "member_id", "principal", "payments", "code"),
    [
        (DESK, "", 50, (Payment(CASH, 50),), ErrorCode.RECHARGE_TOO_SMALL),  # min ¥1
        (DESK, "", 50_000, (Payment(SV, 50_000),), ErrorCode.PAY_METHOD_NOT_ALLOWED),
        (DESK, "", 50_000, (Payment(DEBT, 50_000),), ErrorCode.PAY_METHOD_NOT_ALLOWED),
        (DESK, "", 50_000, (Payment(CASH, 40_000),), ErrorCode.PAYMENT_SHORT),
        (DESK, "", 50_000, (Payment(WECHAT, 60_000),), ErrorCode.PAYMENT_OVER),
        (DESK, "nobody", 50_000, (Payment(CASH, 50_000),), ErrorCode.UNKNOWN_MEMBER),
        (STYLIST, "", 50_000, (Payment(CASH, 50_000),), ErrorCode.PERMISSION_DENIED),
    ],
)
def test_recharge_refusals(actor: str, member_id: str, principal: int,
                           payments: tuple[Payment, ...], code: ErrorCode) -> None:
    salon, _ = make_salon()
    m = member(salon)
    assert_refused(salon, Recharge(actor_id=actor, member_id=member_id or m,
                                   principal_fen=principal, payments=payments), code)


# -- recharge refund --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "refund", "principal_removed", "bonus_removed", "commission_back"),
    [
        # recharge 100000 + 20000 bonus; proportional spend of 30000 takes 25000 principal and
        # 5000 bonus; 75000 principal and 15000 bonus are left
        (RechargeRefundRule.PRINCIPAL_LEFT, 75_000, 75_000, 15_000, 2_250),
        # claw back: 100000 paid - 30000 spent (bonus included) = 70000
        (RechargeRefundRule.CLAW_BACK_BONUS, 70_000, 75_000, 15_000, 2_100),
    ],
)
def test_recharge_refund_rules(
    rule: RechargeRefundRule, refund: int, principal_removed: int, bonus_removed: int,
    commission_back: int,
) -> None:
    salon, clock = make_salon(stored_value=replace(
        CONFIG.stored_value, spend_order=SpendOrder.PROPORTIONAL, refund_rule=rule))
    m = member(salon)
    events = salon.execute(Recharge(actor_id=DESK, member_id=m, principal_fen=100_000,
                                    payments=(Payment(CASH, 100_000),),
                                    staff=(StaffShare(STYLIST),)))
    (recharged,) = [e for e in events if isinstance(e, StoredValueRecharged)]
    # color 38800 × 9折 (gold) = 34920: 30000 stored value + 4920 cash
    salon.execute(sale(svc("color"), (SV, 30_000), (CASH, 4_920), member_id=m))
    events = salon.execute(RefundRecharge(actor_id=MANAGER, recharge_id=recharged.recharge_id,
                                          reason="搬家"))
    (done,) = [e for e in events if isinstance(e, RechargeRefunded)]
    assert (done.refund_fen, done.principal_removed_fen, done.bonus_removed_fen) == (
        refund, principal_removed, bonus_removed)
    (out,) = [e for e in events if isinstance(e, RefundPaidOut)]
    assert (out.method, out.amount_fen) == (PaymentMethod.CASH, refund)
    assert salon.state.accounts.balance_fen(m, clock()) == 0
    # recharge commission was 3% of 100000 = 3000; the refunded part of it is clawed back
    (back,) = [e for e in events if isinstance(e, CommissionReversed)]
    assert sum(e.amount_fen for e in back.entries) == commission_back
    (entry,) = audits(salon, Permission.REFUND_RECHARGE)
    assert (entry.meta.actor_id, entry.reason) == (MANAGER, "搬家")


def test_recharge_refund_refusals() -> None:
    salon, _ = make_salon()
    m = member(salon)
    rid = recharge(salon, m, 50_000)
    assert_refused(salon, RefundRecharge(actor_id=DESK, recharge_id=rid, reason="x"),
                   ErrorCode.PERMISSION_DENIED)
    assert_refused(salon, RefundRecharge(actor_id=MANAGER, recharge_id=rid, reason=""),
                   ErrorCode.REASON_REQUIRED)
    assert_refused(salon, RefundRecharge(actor_id=MANAGER, recharge_id=rid, reason="x",
                                         method=SV), ErrorCode.PAY_METHOD_NOT_ALLOWED)
    assert_refused(salon, RefundRecharge(actor_id=MANAGER, recharge_id="nope", reason="x"),
                   ErrorCode.UNKNOWN_RECHARGE)
    salon.execute(RefundRecharge(actor_id=MANAGER, recharge_id=rid, reason="x"))
    assert_refused(salon, RefundRecharge(actor_id=MANAGER, recharge_id=rid, reason="x"),
                   ErrorCode.RECHARGE_ALREADY_REFUNDED)


def test_not_refundable_recharge_is_refused() -> None:
    salon, _ = make_salon(stored_value=replace(
        CONFIG.stored_value, refund_rule=RechargeRefundRule.NOT_REFUNDABLE))
    m = member(salon)
    rid = recharge(salon, m, 50_000)
    assert_refused(salon, RefundRecharge(actor_id=MANAGER, recharge_id=rid, reason="x"),
                   ErrorCode.RECHARGE_NOT_REFUNDABLE)


# -- package card refund ----------------------------------------------------------------


def test_package_card_refund_is_pro_rata_after_three_of_ten_sessions() -> None:
    salon, _ = make_salon()
    m = member(salon)
    _, card_id = buy_card(salon, m, StaffShare(DESK))
    salon.execute(sale(svc("facial", package_card_id=card_id, quantity=3), member_id=m))
    events = salon.execute(RefundPackageCard(actor_id=MANAGER, card_id=card_id,
                                             reason="转店", method=WECHAT))
    # paid 198000; 3 sessions × 19800 = 59400 used → 138600 back, 7 sessions cancelled
    (done,) = [e for e in events if isinstance(e, PackageCardRefunded)]
    assert (done.refund_fen, done.sessions_cancelled, done.debt_cancelled_fen) == (
        138_600, 7, 0)
    (out,) = [e for e in events if isinstance(e, RefundPaidOut)]
    assert (out.method, out.amount_fen) == (WECHAT, 138_600)
    # the fixed ¥20 sale commission is clawed back in the refunded share: 2000 × 0.7 = 1400
    (back,) = [e for e in events if isinstance(e, CommissionReversed)]
    assert [(e.staff_id, e.amount_fen) for e in back.entries] == [(DESK, 1_400)]
    assert salon.state.packages.get(card_id).closed
    (entry,) = audits(salon, Permission.REFUND_PACKAGE)
    assert (entry.meta.actor_id, entry.reason) == (MANAGER, "转店")
    assert_refused(salon, RefundPackageCard(actor_id=MANAGER, card_id=card_id, reason="x"),
                   ErrorCode.PACKAGE_CLOSED)


def test_package_card_refund_needs_permission() -> None:
    salon, _ = make_salon()
    m = member(salon)
    _, card_id = buy_card(salon, m)
    assert_refused(salon, RefundPackageCard(actor_id=DESK, card_id=card_id, reason="x"),
                   ErrorCode.PERMISSION_DENIED)


# -- debt -------------------------------------------------------------------------------


def test_repay_with_no_debt_is_refused() -> None:
    salon, _ = make_salon()
    m = member(salon)
    assert_refused(salon, RepayDebt(actor_id=DESK, member_id=m, payments=(Payment(CASH, 100),)),
                   ErrorCode.NO_DEBT)


def test_repay_over_debt_without_cash_is_refused() -> None:
    salon, _ = make_salon()
    m = member(salon)
    salon.execute(sale(svc("cut"), (CASH, 5_000), (DEBT, 7_800), member_id=m))
    err = assert_refused(salon, RepayDebt(actor_id=DESK, member_id=m,
                                          payments=(Payment(WECHAT, 10_000),)),
                         ErrorCode.REPAY_OVER_DEBT)
    assert err.params == {"debt_fen": 7_800}
    assert_refused(salon, RepayDebt(actor_id=DESK, member_id=m,
                                    payments=(Payment(SV, 7_800),)),
                   ErrorCode.PAY_METHOD_NOT_ALLOWED)


# -- held tickets -----------------------------------------------------------------------


def test_held_ticket_can_be_cancelled_once() -> None:
    salon, _ = make_salon()
    (held,) = salon.execute(HoldTicket(actor_id=DESK, lines=(svc("cut"),), note="等染发"))
    assert isinstance(held, TicketHeld)
    salon.execute(CancelHeldTicket(actor_id=DESK, ticket_id=held.ticket_id))
    assert held.ticket_id not in salon.state.tickets.held
    assert_refused(salon, CancelHeldTicket(actor_id=DESK, ticket_id=held.ticket_id),
                   ErrorCode.TICKET_NOT_HELD)
    assert_refused(salon, sale((), (CASH, 12_800), ticket_id=held.ticket_id),
                   ErrorCode.TICKET_NOT_HELD)


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"lines": ()}, ErrorCode.EMPTY_TICKET),
        ({"lines": (svc("cut", quantity=0),)}, ErrorCode.NEGATIVE_QUANTITY),
        ({"lines": (svc("cut"),), "member_id": "nobody"}, ErrorCode.UNKNOWN_MEMBER),
    ],
)
def test_hold_refusals(kw: dict[str, object], code: ErrorCode) -> None:
    salon, _ = make_salon()
    assert_refused(salon, HoldTicket(actor_id=DESK, **kw), code)  # type: ignore[arg-type]


# -- pay codes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "method"),
    [
        ("134567890123456789", PaymentMethod.WECHAT),  # 18 digits, prefix 13
        ("101234567890123456", PaymentMethod.WECHAT),
        ("151234567890123456", PaymentMethod.WECHAT),
        (" 134567890123456789 ", PaymentMethod.WECHAT),
        ("2812345678901234", PaymentMethod.ALIPAY),  # 16 digits, prefix 28
        ("251234567890123456", PaymentMethod.ALIPAY),  # 18 digits, prefix 25
        ("301234567890123456789012", PaymentMethod.ALIPAY),  # 24 digits
    ],
)
def test_pay_codes_are_recognised(code: str, method: PaymentMethod) -> None:
    assert recognise_pay_code(code) is method


@pytest.mark.parametrize(
    "code",
    [
        "", "abc", "13456789012345678",  # 17 digits
        "1345678901234567890",  # 19 digits, WeChat prefix
        "164567890123456789",  # 18 digits, prefix 16
        "091234567890123456",  # prefix 09
        "281234567890123",  # 15 digits
        "3112345678901234",  # prefix 31
        "2512345678901234567890123",  # 25 digits
        "１３４５６７８９０１２３４５６７８９",  # full-width digits
        "13456789012345678-",
    ],
)
def test_garbage_pay_codes_are_refused(code: str) -> None:
    with pytest.raises(DomainError) as err:
        recognise_pay_code(code)
    assert err.value.code is ErrorCode.INVALID_PAY_CODE
