"""Checkout: the pricing order worked by hand, payments, debt, PINs, and every refusal."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from support import (
    CONFIG,
    DESK,
    MANAGER,
    OWNER,
    START,
    STYLIST,
    STYLIST2,
    assert_refused,
    make_salon,
)

from salon.catalog import ItemKind
from salon.checkout import Checkout
from salon.commissions import CommissionEarned
from salon.coupons import CouponKind, IssueCoupon
from salon.engine import Salon
from salon.errors import DomainError, ErrorCode
from salon.members import BlacklistMember, BlockCard, RegisterMember
from salon.money import RoundingMode, RoundTo
from salon.payments import Payment, PaymentMethod
from salon.points import AdjustPoints
from salon.pricing import LineDraft
from salon.sales import Recharge, RepayDebt
from salon.staff import HQ_ACTOR, Permission, SensitiveActAudited, StaffShare
from salon.stored_value import LotDraw, SetPaymentPin, StoredValueSpent
from salon.tickets import TicketPaid

CASH, WECHAT, SV, DEBT = (
    PaymentMethod.CASH, PaymentMethod.WECHAT, PaymentMethod.STORED_VALUE, PaymentMethod.DEBT
)


# -- helpers (also used by test_refunds and test_sales) -----------------------------------


def member(salon: Salon, mobile: str = "13812345678", card_uid: str = "") -> str:
    event = salon.execute(
        RegisterMember(actor_id=DESK, name="张三", mobile=mobile, card_uid=card_uid)
    )[0]
    return str(event.member_id)


def recharge(salon: Salon, member_id: str, principal_fen: int) -> str:
    events = salon.execute(Recharge(actor_id=DESK, member_id=member_id,
                                    principal_fen=principal_fen,
                                    payments=(Payment(CASH, principal_fen),)))
    return str(events[0].recharge_id)


def gold_member(salon: Salon, mobile: str = "13812345678") -> tuple[str, str]:
    """A member who recharged ¥1000: 金卡, ¥1000 principal + ¥200 bonus (充1000送200)."""
    member_id = member(salon, mobile)
    return member_id, recharge(salon, member_id, 100_000)


def give_points(salon: Salon, member_id: str, points: int) -> None:
    salon.execute(AdjustPoints(actor_id=OWNER, member_id=member_id, delta=points,
                               reason="opening gift"))


def coupon(salon: Salon, value: int = 2_000, min_spend_fen: int = 10_000, **terms: object) -> str:
    """An HQ campaign coupon (store staff's coupons are capped: test_permissions_audit)."""
    event = salon.execute(IssueCoupon(  # type: ignore[arg-type]
        actor_id=HQ_ACTOR, kind=CouponKind.FIXED, value=value, min_spend_fen=min_spend_fen,
        valid_from=START, valid_until=START + timedelta(days=30), **terms,
    ))[0]
    return str(event.coupon_id)


def svc(item_id: str, *staff: StaffShare, **kw: object) -> LineDraft:
    return LineDraft(ItemKind.SERVICE, item_id, staff=tuple(staff), **kw)  # type: ignore[arg-type]


def prd(item_id: str, *staff: StaffShare, quantity: int = 1) -> LineDraft:
    return LineDraft(ItemKind.PRODUCT, item_id, quantity=quantity, staff=tuple(staff))


def pkg(plan_id: str = "facial10", *staff: StaffShare) -> LineDraft:
    return LineDraft(ItemKind.PACKAGE, plan_id, staff=tuple(staff))


def sale(lines: tuple[LineDraft, ...] | LineDraft, *payments: tuple[PaymentMethod, int],
         actor: str = DESK, **kw: object) -> Checkout:
    if isinstance(lines, LineDraft):
        lines = (lines,)
    return Checkout(  # type: ignore[arg-type]
        actor_id=actor, price_list_version=1, lines=lines,
        payments=tuple(Payment(m, a) for m, a in payments), **kw,
    )


def paid(events: tuple[object, ...]) -> TicketPaid:
    (ticket,) = [e for e in events if isinstance(e, TicketPaid)]
    return ticket


def buy_card(salon: Salon, member_id: str, *staff: StaffShare) -> tuple[str, str]:
    """Sell a facial10 card (¥1980, 10 sessions) for cash; (ticket_id, card_id)."""
    ticket = paid(salon.execute(sale(pkg("facial10", *staff), (CASH, 198_000),
                                     member_id=member_id)))
    return ticket.ticket_id, ticket.lines[0].card_id


def audits(salon: Salon, act: Permission) -> list[SensitiveActAudited]:
    return [a for a in salon.state.staff.audit_log if a.act is act]


# -- the worked example -----------------------------------------------------------------


def test_gold_member_ticket_follows_tier_coupon_points_order_to_the_fen() -> None:
    salon, clock = make_salon()
    m, recharge_id = gold_member(salon)
    give_points(salon, m, 500)
    c = coupon(salon)  # ¥20 off, min spend ¥100
    events = salon.execute(sale(
        (svc("cut", StaffShare(STYLIST)), prd("sh1", StaffShare(DESK)),
         svc("facial", StaffShare(STYLIST2, designated=True))),
        (SV, 51_800), member_id=m, coupon=c, redeem_points=500,
    ))
    ticket = paid(events)
    lines = [s.line for s in ticket.lines]
    # tier: cut 12800×9折 → off 1280; shampoo 16800×95折 → off 840; facial 29800×9折 → off 2980
    # nets 11520 + 15960 + 26820 = 54300
    # coupon 2000 over 54300 by net: 424.30 / 587.85 / 987.84 → 424, 587, 987 (1998); the
    #   two fen left go to the largest remainders (45900, tie 45900) → 424, 588, 988
    # nets 11096 + 15372 + 25832 = 52300; points 500 × 1 fen = 500 (cap 50% of 52300: ok)
    # points 500 over 52300: 106.08 / 146.96 / 246.96 → 106, 146, 246; +1 to lines 2 and 3
    # nets 10990 + 15225 + 25585 = 51800 = due; 抹零 to the fen: nothing
    table = [  # (tier, coupon, points, net)
        (1_280, 424, 106, 10_990),
        (840, 588, 147, 15_225),
        (2_980, 988, 247, 25_585),
    ]
    for line, (tier, cpn, pts, net) in zip(lines, table, strict=True):
        assert (line.tier_discount_fen, line.coupon_discount_fen, line.points_discount_fen,
                line.manual_discount_fen, line.rounding_fen, line.net_fen) == (
                    tier, cpn, pts, 0, 0, net)
    assert ticket.due_fen == 51_800 and ticket.tier_id == "gold"
    # stored value: principal first, so all 51800 from principal, no bonus
    (spent,) = [e for e in events if isinstance(e, StoredValueSpent)]
    assert spent.draws == (LotDraw(recharge_id, 51_800, 0),)
    # points earned: gold 2 per yuan on principal 51800 → 1036, spread by line
    # 1036×(10990, 15225, 25585)/51800 = 219.80, 304.50, 511.70 → 219, 304, 511 (+1: 1st, 3rd)
    assert [s.points_earned for s in ticket.lines] == [220, 304, 512]
    assert salon.state.points.balance(m, clock()) == 1_036
    # commission: cut rotated 10% of 10990 = 1099; shampoo 5% of 15225 = 761.25 → 761;
    # facial designated 15% of 25585 = 3837.75 → 3838
    (earned,) = [e for e in events if isinstance(e, CommissionEarned)]
    assert [(e.staff_id, e.base_fen, e.amount_fen, e.designated) for e in earned.entries] == [
        (STYLIST, 10_990, 1_099, False), (DESK, 15_225, 761, False), (STYLIST2, 25_585, 3_838, True)
    ]
    assert salon.state.coupons.get(c).used
    # balance left: principal 100000 - 51800 = 48200, bonus 20000
    assert salon.state.accounts.principal_fen(m) == 48_200
    assert salon.state.accounts.spendable_bonus_fen(m, clock()) == 20_000
    # a second ticket of ¥600 (color 38800×9折 = 34920 + facial 26820 = 61740; pay 60000 + 1740
    # cash): principal 48200 is drawn first, then bonus 11800
    events = salon.execute(sale((svc("color", StaffShare(STYLIST)), svc("facial")),
                                (SV, 60_000), (CASH, 1_740), member_id=m))
    (spent,) = [e for e in events if isinstance(e, StoredValueSpent)]
    assert spent.draws == (LotDraw(recharge_id, 48_200, 11_800),)
    # points on principal 48200 + cash 1740 = 49940 × 2 / 100 = 998.8 → 998
    assert salon.state.points.balance(m, clock()) == 1_036 + 998
    assert salon.state.accounts.balance_fen(m, clock()) == 8_200


ROUNDING = [
    # (round_to, mode, manual discount, due before 抹零, due after)
    (RoundTo.JIAO, RoundingMode.DOWN, 15, 12_785, 12_780),
    (RoundTo.JIAO, RoundingMode.HALF_UP, 15, 12_785, 12_790),  # 1278.5 jiao → 1279
    (RoundTo.JIAO, RoundingMode.HALF_EVEN, 15, 12_785, 12_780),  # 1278.5 → 1278 (even)
    (RoundTo.YUAN, RoundingMode.DOWN, 15, 12_785, 12_700),
    (RoundTo.YUAN, RoundingMode.HALF_UP, 15, 12_785, 12_800),  # ¥127.85 → ¥128
    (RoundTo.YUAN, RoundingMode.HALF_UP, 150, 12_650, 12_700),  # ¥126.50 → ¥127
    (RoundTo.YUAN, RoundingMode.HALF_EVEN, 150, 12_650, 12_600),  # ¥126.50 → ¥126 (even)
    (RoundTo.YUAN, RoundingMode.HALF_EVEN, 50, 12_750, 12_800),  # ¥127.50 → ¥128 (even)
    (RoundTo.FEN, RoundingMode.DOWN, 15, 12_785, 12_785),
]


@pytest.mark.parametrize(("to", "mode", "manual", "before", "after"), ROUNDING)
def test_moling_rounds_the_due_as_configured(
    to: RoundTo, mode: RoundingMode, manual: int, before: int, after: int
) -> None:
    salon, _ = make_salon(checkout=replace(CONFIG.checkout, round_to=to, rounding_mode=mode))
    ticket = paid(salon.execute(sale(svc("cut"), (CASH, after), manual_discount_fen=manual)))
    (line,) = [s.line for s in ticket.lines]
    assert 12_800 - manual == before
    assert ticket.due_fen == line.net_fen == after
    assert line.rounding_fen == before - after  # negative when rounded up


def test_moling_is_spread_over_lines_by_their_net() -> None:
    salon, _ = make_salon(checkout=replace(CONFIG.checkout, round_to=RoundTo.YUAN))
    ticket = paid(salon.execute(sale((svc("cut"), svc("wash")), (CASH, 16_500),
                                     manual_discount_fen=15)))
    # walk-in 12800 + 3800 = 16600; manual 15 → 11.57 / 3.43 → 11, 3, +1 to cut → 12, 3
    # nets 12788 + 3797 = 16585 → ¥165 DOWN: 85 off → 65.54 / 19.46 → 65, 19, +1 to cut
    assert [(s.line.manual_discount_fen, s.line.rounding_fen, s.line.net_fen)
            for s in ticket.lines] == [(12, 66, 12_722), (3, 19, 3_778)]
    assert ticket.due_fen == 16_500


def test_walk_in_gets_no_tier_discount_and_cash_gives_change() -> None:
    salon, _ = make_salon()
    events = salon.execute(sale(svc("cut", StaffShare(STYLIST)), (CASH, 20_000)))
    ticket = paid(events)
    assert ticket.member_id == "" and ticket.tier_id == ""
    assert ticket.due_fen == 12_800 and ticket.change_fen == 7_200
    assert ticket.lines[0].paid == (Payment(CASH, 12_800),)
    assert ticket.lines[0].line.tier_discount_fen == 0
    assert ticket.lines[0].points_earned == 0


def test_split_wechat_and_cash_is_shared_over_lines_exactly() -> None:
    salon, _ = make_salon()
    ticket = paid(salon.execute(sale((svc("cut"), svc("wash")), (WECHAT, 10_000),
                                     (CASH, 10_000))))
    # due 16600; wechat 10000, cash 10000 - change 3400 = 6600
    # cash first by what each line owes: 6600×12800/16600 = 5089.16, ×3800 = 1510.84 → 5089,
    # 1511; the wechat covers the rest: 7711, 2289
    assert ticket.change_fen == 3_400
    assert [s.paid for s in ticket.lines] == [
        (Payment(CASH, 5_089), Payment(WECHAT, 7_711)),
        (Payment(CASH, 1_511), Payment(WECHAT, 2_289)),
    ]


def test_manager_price_override_within_limits_is_audited() -> None:
    salon, _ = make_salon()
    ticket = paid(salon.execute(sale(
        LineDraft(ItemKind.SERVICE, "cut", override_unit_fen=10_000), (CASH, 10_000),
        actor=MANAGER, reason="老客户")))
    line = ticket.lines[0].line
    assert (line.override_fen, line.net_fen) == (2_800, 10_000)
    (entry,) = audits(salon, Permission.PRICE_OVERRIDE)
    assert (entry.meta.actor_id, entry.reason, entry.approver_id) == (MANAGER, "老客户", "")


def test_front_desk_override_with_manager_approver_is_accepted_and_audited() -> None:
    salon, _ = make_salon()
    salon.execute(sale(LineDraft(ItemKind.SERVICE, "cut", override_unit_fen=6_400),
                       (CASH, 6_400), approver_id=MANAGER, reason="店长批准"))
    (entry,) = audits(salon, Permission.PRICE_OVERRIDE)
    assert (entry.meta.actor_id, entry.approver_id, entry.reason) == (DESK, MANAGER, "店长批准")


def test_package_session_line_takes_no_money_and_pays_commission_on_session_value() -> None:
    salon, _ = make_salon()
    m = member(salon)
    _, card_id = buy_card(salon, m, StaffShare(DESK))
    ticket = paid(salon.execute(sale(svc("facial", StaffShare(STYLIST), package_card_id=card_id),
                                     member_id=m)))
    (s,) = ticket.lines
    # 198000 / 10 sessions = 19800 a session; rotated 10% → 1980
    assert ticket.due_fen == 0 and s.paid == () and s.line.net_fen == 0
    assert s.line.package_values == (19_800,)
    assert [(e.base_fen, e.amount_fen) for e in s.commissions] == [(19_800, 1_980)]
    assert salon.state.packages.get(card_id).unused_sessions == 9


def test_package_sale_earns_fixed_commission_and_opens_the_card() -> None:
    salon, _ = make_salon()
    m = member(salon)
    ticket_id, card_id = buy_card(salon, m, StaffShare(DESK))
    s = salon.state.tickets.get(ticket_id)
    assert s is not None
    assert [e.amount_fen for e in s.paid.lines[0].commissions] == [2_000]
    card = salon.state.packages.get(card_id)
    assert (card.member_id, card.total_sessions, card.paid_fen) == (m, 10, 198_000)


def test_ticket_partly_on_debt_and_its_repayment() -> None:
    salon, clock = make_salon()
    m = member(salon)
    ticket = paid(salon.execute(sale(svc("cut"), (CASH, 5_000), (DEBT, 7_800), member_id=m)))
    assert ticket.lines[0].paid == (Payment(CASH, 5_000), Payment(DEBT, 7_800))
    # points only on money actually paid: 5000 × 1 per yuan = 50
    assert ticket.lines[0].points_earned == 50
    assert salon.state.tickets.debt_of(m) == 7_800
    events = salon.execute(RepayDebt(actor_id=DESK, member_id=m,
                                     payments=(Payment(CASH, 10_000),)))
    repaid = events[0]
    assert repaid.change_fen == 2_200
    assert salon.state.tickets.debt_of(m) == 0
    # the repayment earns its points: 7800 → 78
    assert salon.state.points.balance(m, clock()) == 50 + 78


def test_partial_repayment_leaves_the_rest_owed() -> None:
    salon, _ = make_salon()
    m = member(salon)
    salon.execute(sale(svc("cut"), (DEBT, 12_800), member_id=m))
    salon.execute(RepayDebt(actor_id=DESK, member_id=m, payments=(Payment(WECHAT, 2_800),)))
    assert salon.state.tickets.debt_of(m) == 10_000


def test_discount_over_desk_cap_with_manager_approver_is_accepted_and_audited() -> None:
    salon, _ = make_salon()
    # desk cap: 10% and at most ¥50 → 10% of 12800 = 1280
    salon.execute(sale(svc("cut"), (CASH, 11_000), manual_discount_fen=1_800,
                       approver_id=MANAGER, reason="投诉补偿"))
    (entry,) = audits(salon, Permission.DISCOUNT_OVER_CAP)
    assert (entry.meta.actor_id, entry.approver_id, entry.reason) == (DESK, MANAGER, "投诉补偿")
    assert "1800" in entry.detail


def test_discount_within_desk_cap_needs_no_approver() -> None:
    salon, _ = make_salon()
    salon.execute(sale(svc("cut"), (CASH, 11_520), manual_discount_fen=1_280))
    assert not audits(salon, Permission.DISCOUNT_OVER_CAP)


def test_held_ticket_is_resumed_by_checkout() -> None:
    from salon.sales import HoldTicket

    salon, _ = make_salon()
    m = member(salon)
    (held,) = salon.execute(HoldTicket(actor_id=DESK, lines=(svc("wash"),), member_id=m))
    ticket_id = str(held.ticket_id)
    assert ticket_id in salon.state.tickets.held
    ticket = paid(salon.execute(sale((), (CASH, 3_800), ticket_id=ticket_id)))
    assert ticket.ticket_id == ticket_id and ticket.member_id == m
    assert ticket_id not in salon.state.tickets.held
    assert_refused(salon, sale((), (CASH, 3_800), ticket_id=ticket_id), ErrorCode.TICKET_EXISTS)


# -- refusals ---------------------------------------------------------------------------


def test_unknown_member_is_refused() -> None:
    salon, _ = make_salon()
    assert_refused(salon, sale(svc("cut"), (CASH, 12_800), member_id="nobody"),
                   ErrorCode.UNKNOWN_MEMBER)


def test_blocked_card_lookup_is_refused() -> None:
    salon, _ = make_salon()
    member(salon, card_uid="04A1B2C3")
    salon.execute(BlockCard(actor_id=DESK, card_uid="04A1B2C3", reason="挂失"))
    with pytest.raises(DomainError) as err:
        salon.state.members.by_card("04:a1:b2:c3")
    assert err.value.code is ErrorCode.CARD_BLOCKED


def test_expired_package_is_refused() -> None:
    salon, clock = make_salon()
    m = member(salon)
    _, card_id = buy_card(salon, m)
    clock.advance(days=366)
    assert_refused(salon, sale(svc("facial", package_card_id=card_id), member_id=m),
                   ErrorCode.PACKAGE_EXPIRED)


def test_exhausted_package_is_refused() -> None:
    salon, _ = make_salon()
    m = member(salon)
    _, card_id = buy_card(salon, m)
    salon.execute(sale(svc("facial", package_card_id=card_id, quantity=10), member_id=m))
    assert salon.state.packages.get(card_id).unused_sessions == 0
    assert_refused(salon, sale(svc("facial", package_card_id=card_id), member_id=m),
                   ErrorCode.PACKAGE_EXHAUSTED)


def test_insufficient_balance_is_refused() -> None:
    salon, _ = make_salon()
    m = member(salon)
    recharge(salon, m, 10_000)
    assert_refused(salon, sale(svc("cut"), (SV, 12_800), member_id=m),
                   ErrorCode.INSUFFICIENT_BALANCE)


def test_coupon_not_applicable_and_min_spend_are_refused() -> None:
    salon, _ = make_salon()
    m = member(salon)
    only_color = coupon(salon, item_ids=("color",))
    assert_refused(salon, sale(svc("cut"), (CASH, 12_800), member_id=m, coupon=only_color),
                   ErrorCode.COUPON_NOT_APPLICABLE)
    big = coupon(salon, min_spend_fen=20_000)
    err = assert_refused(salon, sale(svc("cut"), (CASH, 12_800), member_id=m, coupon=big),
                         ErrorCode.COUPON_MIN_SPEND)
    assert err.params == {"min_spend_fen": 20_000}


@pytest.mark.parametrize(
    ("actor", "kw", "code"),
    [
        # a front desk overriding a price alone
        (DESK, {"lines": (LineDraft(ItemKind.SERVICE, "cut", override_unit_fen=10_000),)},
         ErrorCode.PERMISSION_DENIED),
        # a stylist as approver cannot approve an override
        (DESK, {"lines": (LineDraft(ItemKind.SERVICE, "cut", override_unit_fen=10_000),),
                "approver_id": STYLIST, "reason": "x"}, ErrorCode.PERMISSION_DENIED),
        # a manager may override, but only within 50%..150% of the list price
        (MANAGER, {"lines": (LineDraft(ItemKind.SERVICE, "cut", override_unit_fen=6_399),),
                   "reason": "x"}, ErrorCode.PRICE_OVERRIDE_OUT_OF_LIMITS),
        # a discount over the desk cap without approver
        (DESK, {"manual_discount_fen": 1_281}, ErrorCode.DISCOUNT_OVER_CAP),
        # a stylist has a cap of 0
        (STYLIST, {"manual_discount_fen": 1}, ErrorCode.DISCOUNT_OVER_CAP),
        (DESK, {"lines": (prd("sh1", quantity=-1),)}, ErrorCode.NEGATIVE_QUANTITY),
        (DESK, {"lines": (prd("sh1", quantity=0),)}, ErrorCode.NEGATIVE_QUANTITY),
        (DESK, {"price_list_version": 2}, ErrorCode.PRICE_LIST_MISMATCH),
        (DESK, {"lines": ()}, ErrorCode.EMPTY_TICKET),
        (DESK, {"payments": (Payment(CASH, 12_799),)}, ErrorCode.PAYMENT_SHORT),
        (DESK, {"payments": (Payment(WECHAT, 13_000),)}, ErrorCode.PAYMENT_OVER),
        (DESK, {"payments": (Payment(WECHAT, 13_000), Payment(CASH, 100))},
         ErrorCode.CHANGE_ONLY_CASH),
        (DESK, {"payments": (Payment(SV, 12_800),)}, ErrorCode.MEMBER_REQUIRED),
        (DESK, {"payments": (Payment(DEBT, 12_800),)}, ErrorCode.MEMBER_REQUIRED),
        (DESK, {"lines": (svc("cut", StaffShare("ghost")),)}, ErrorCode.UNKNOWN_STAFF),
        (DESK, {"lines": (svc("cut", StaffShare(STYLIST, 6_000), StaffShare(STYLIST2, 3_000)),)},
         ErrorCode.STAFF_SHARES_INVALID),
        (DESK, {"lines": (svc("color", StaffShare(STYLIST2)),),
                "payments": (Payment(CASH, 38_800),)}, ErrorCode.STAFF_NOT_QUALIFIED),
        (DESK, {"lines": (svc("nope"),)}, ErrorCode.UNKNOWN_SERVICE),
        (DESK, {"lines": (pkg(),), "payments": (Payment(CASH, 198_000),)},
         ErrorCode.MEMBER_REQUIRED),
    ],
)
def test_checkout_refusals(actor: str, kw: dict[str, object], code: ErrorCode) -> None:
    salon, _ = make_salon()
    fields: dict[str, object] = {"actor_id": actor, "price_list_version": 1,
                                 "lines": (svc("cut"),), "payments": (Payment(CASH, 12_800),)}
    fields.update(kw)
    assert_refused(salon, Checkout(**fields), code)  # type: ignore[arg-type]


def test_debt_refused_when_the_store_does_not_allow_it() -> None:
    salon, _ = make_salon(checkout=replace(CONFIG.checkout, allow_debt=False))
    m = member(salon)
    assert_refused(salon, sale(svc("cut"), (DEBT, 12_800), member_id=m),
                   ErrorCode.DEBT_NOT_ALLOWED)


def test_debt_refused_for_a_blacklisted_member() -> None:
    salon, _ = make_salon()
    m = member(salon)
    salon.execute(BlacklistMember(actor_id=MANAGER, member_id=m, reason="逃单"))
    assert_refused(salon, sale(svc("cut"), (DEBT, 12_800), member_id=m),
                   ErrorCode.MEMBER_BLACKLISTED)


def pin_salon() -> tuple[Salon, str]:
    salon, _ = make_salon(stored_value=replace(CONFIG.stored_value, require_pin=True,
                                               pin_max_attempts=3))
    m = member(salon)
    recharge(salon, m, 50_000)
    salon.execute(SetPaymentPin(actor_id=DESK, member_id=m, pin="246810"))
    return salon, m


def test_stored_value_needs_the_pin() -> None:
    salon, m = pin_salon()
    assert_refused(salon, sale(svc("cut"), (SV, 12_160), member_id=m), ErrorCode.PIN_REQUIRED)
    salon.execute(sale(svc("cut"), (SV, 12_160), member_id=m, pin="246810"))  # silver 95折


def test_wrong_pin_is_refused_but_the_failed_try_is_recorded() -> None:
    salon, m = pin_salon()
    balance = salon.state.accounts.principal_fen(m)
    assert_refused(salon, sale(svc("cut"), (SV, 12_160), member_id=m, pin="000000"),
                   ErrorCode.PIN_INCORRECT)
    assert salon.state.accounts.pins.records[m].failures == 1
    assert salon.state.accounts.principal_fen(m) == balance
    assert not salon.state.tickets.tickets


def test_pin_locks_after_too_many_failures() -> None:
    salon, m = pin_salon()
    for _ in range(3):
        assert_refused(salon, sale(svc("cut"), (SV, 12_160), member_id=m, pin="000000"),
                       ErrorCode.PIN_INCORRECT)
    assert_refused(salon, sale(svc("cut"), (SV, 12_160), member_id=m, pin="246810"),
                   ErrorCode.PIN_LOCKED)


def test_resuming_an_unknown_held_ticket_is_refused() -> None:
    salon, _ = make_salon()
    assert_refused(salon, sale((), (CASH, 3_800), ticket_id="nope"), ErrorCode.TICKET_NOT_HELD)
