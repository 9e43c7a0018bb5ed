"""Regression tests for review defects in permissions and the audit log.

Each one let an act slip past the permission table or out of the audit log: changing a
payment PIN, coupons past the discount cap, staff admin and the store's config.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from support import (
    CONFIG,
    DESK,
    MANAGER,
    OWNER,
    PLANS,
    PRODUCTS,
    SERVICES,
    START,
    STYLIST,
    assert_refused,
    make_salon,
)
from test_checkout import CASH, SV, buy_card, member, paid, recharge, sale, svc

from salon.admin import ConfigureStore, HireStaff, PublishPriceList
from salon.config import DiscountCap, TierBasis, TierRule
from salon.coupons import CouponIssued, CouponKind, IssueCoupon
from salon.engine import Salon
from salon.errors import DomainError, ErrorCode
from salon.members import BlacklistMember
from salon.points import AdjustPoints, PointsRedeemed, RedeemPointsForGift
from salon.staff import HQ_ACTOR, Permission, Role, SensitiveActAudited, StaffHired
from salon.stored_value import (
    PaymentPinSet,
    PinChange,
    ResetPaymentPin,
    SetPaymentPin,
    check_pin,
)
from salon.stored_value_pin import PaymentPinRejected
from salon.testing import ManualClock
from salon.tiers import MemberProgressed

PIN, NEW_PIN, WRONG = "246810", "975310", "000000"


def pin_member(max_attempts: int = 3) -> tuple[Salon, ManualClock, str]:
    """A store that requires the PIN, and a member with ¥500 and the PIN ``PIN``."""
    salon, clock = make_salon(stored_value=replace(
        CONFIG.stored_value, require_pin=True, pin_max_attempts=max_attempts,
        pin_lockout_minutes=30))
    m = member(salon)
    recharge(salon, m, 50_000)
    salon.execute(SetPaymentPin(actor_id=DESK, member_id=m, pin=PIN))
    return salon, clock, m


def pin_code(salon: Salon, m: str, pin: str) -> ErrorCode | None:
    """What a spend with ``pin`` meets: None if the PIN passes, else the refusal."""
    try:
        check_pin(salon.state, m, pin, salon.ctx, DESK, salon.ctx.clock())
    except DomainError as err:
        return err.code
    return None


def lock(salon: Salon, m: str, attempts: int) -> None:
    for _ in range(attempts):
        assert_refused(salon, sale(svc("cut"), (SV, 12_160), member_id=m, pin=WRONG),
                       ErrorCode.PIN_INCORRECT)


# -- the payment PIN --------------------------------------------------------------------


def test_a_first_pin_may_be_keyed_in_by_any_role_that_checks_out_and_says_so() -> None:
    salon, _ = make_salon()
    m = member(salon)
    (event,) = salon.execute(SetPaymentPin(actor_id=STYLIST, member_id=m, pin=PIN))
    assert isinstance(event, PaymentPinSet)
    assert (event.change, event.meta.actor_id) == (PinChange.FIRST, STYLIST)


def test_changing_a_pin_needs_the_old_one() -> None:
    salon, _, m = pin_member()
    assert_refused(salon, SetPaymentPin(actor_id=DESK, member_id=m, pin=NEW_PIN),
                   ErrorCode.PIN_OLD_REQUIRED)
    assert pin_code(salon, m, PIN) is None
    (event,) = salon.execute(SetPaymentPin(actor_id=DESK, member_id=m, pin=NEW_PIN,
                                           old_pin=PIN))
    assert isinstance(event, PaymentPinSet) and event.change is PinChange.CHANGED
    assert pin_code(salon, m, NEW_PIN) is None
    assert pin_code(salon, m, PIN) is ErrorCode.PIN_INCORRECT


def test_a_wrong_old_pin_counts_towards_the_lockout() -> None:
    salon, _, m = pin_member(max_attempts=3)
    for left in (2, 1):
        err = assert_refused(salon, SetPaymentPin(actor_id=DESK, member_id=m, pin=NEW_PIN,
                                                  old_pin=WRONG), ErrorCode.PIN_INCORRECT)
        assert err.params == {"attempts_left": left}
        assert isinstance(err.record[0], PaymentPinRejected)
    lock(salon, m, 1)  # the third failure, at the till
    assert pin_code(salon, m, PIN) is ErrorCode.PIN_LOCKED


def test_a_desk_change_does_not_lift_an_active_lockout() -> None:
    salon, clock, m = pin_member(max_attempts=2)
    lock(salon, m, 2)
    assert_refused(salon, SetPaymentPin(actor_id=DESK, member_id=m, pin=NEW_PIN, old_pin=PIN),
                   ErrorCode.PIN_LOCKED)
    assert pin_code(salon, m, NEW_PIN) is ErrorCode.PIN_LOCKED
    clock.advance(minutes=30)
    salon.execute(SetPaymentPin(actor_id=DESK, member_id=m, pin=NEW_PIN, old_pin=PIN))
    assert pin_code(salon, m, NEW_PIN) is None


def test_a_managers_reset_needs_the_permission_and_a_reason_is_audited_and_lifts_a_lockout(
) -> None:
    salon, _, m = pin_member(max_attempts=2)
    lock(salon, m, 2)
    assert_refused(salon, ResetPaymentPin(actor_id=DESK, member_id=m, pin=NEW_PIN,
                                          reason="忘记密码"), ErrorCode.PERMISSION_DENIED)
    assert_refused(salon, ResetPaymentPin(actor_id=MANAGER, member_id=m, pin=NEW_PIN,
                                          reason=" "), ErrorCode.REASON_REQUIRED)
    set_event, trail = salon.execute(ResetPaymentPin(actor_id=MANAGER, member_id=m,
                                                     pin=NEW_PIN, reason="忘记密码"))
    assert isinstance(set_event, PaymentPinSet) and set_event.change is PinChange.RESET
    assert isinstance(trail, SensitiveActAudited)
    assert (trail.act, trail.subject_id, trail.reason, trail.meta.actor_id) == (
        Permission.RESET_PAYMENT_PIN, m, "忘记密码", MANAGER)
    assert pin_code(salon, m, NEW_PIN) is None


def test_spending_value_without_a_pin_is_refused_when_the_store_requires_one() -> None:
    salon, _ = make_salon(stored_value=replace(CONFIG.stored_value, require_pin=True))
    m = member(salon)
    recharge(salon, m, 50_000)
    _, card = buy_card(salon, m)  # paid in cash: no PIN needed
    assert_refused(salon, sale(svc("cut"), (SV, 12_160), member_id=m), ErrorCode.PIN_NOT_SET)
    assert_refused(salon, sale(svc("facial", package_card_id=card), member_id=m),
                   ErrorCode.PIN_NOT_SET)
    salon.execute(SetPaymentPin(actor_id=DESK, member_id=m, pin=PIN))
    salon.execute(sale(svc("cut"), (SV, 12_160), member_id=m, pin=PIN))


# -- coupons and the discount cap --------------------------------------------------------


def issue(actor: str, kind: CouponKind, value: int, min_spend_fen: int = 0,
          max_discount_fen: int = 0, reason: str = "老客回馈") -> IssueCoupon:
    return IssueCoupon(actor_id=actor, kind=kind, value=value, min_spend_fen=min_spend_fen,
                       max_discount_fen=max_discount_fen, valid_from=START,
                       valid_until=START + timedelta(days=30), reason=reason)


@pytest.mark.parametrize(
    "command",
    [
        issue(DESK, CouponKind.FIXED, 2_000, min_spend_fen=20_000),  # ¥20 off ≥ ¥200: 10%
        issue(DESK, CouponKind.PERCENT, 1_000, max_discount_fen=5_000),  # 9折, at most ¥50
    ],
)
def test_front_desk_coupons_within_its_cap_are_issued_and_audited_with_the_value(
    command: IssueCoupon,
) -> None:
    salon, _ = make_salon()
    coupon, trail = salon.execute(command)
    assert isinstance(coupon, CouponIssued) and isinstance(trail, SensitiveActAudited)
    assert (trail.act, trail.subject_id, trail.reason) == (
        Permission.ISSUE_COUPON, coupon.coupon_id, "老客回馈")
    assert f"value={command.value}" in trail.detail


@pytest.mark.parametrize(
    "command",
    [
        issue(DESK, CouponKind.PERCENT, 10_000, max_discount_fen=5_000),  # 100% off
        issue(DESK, CouponKind.PERCENT, 1_000),  # 9折 with no ceiling: ¥100 off ¥1000
        issue(DESK, CouponKind.FIXED, 2_000),  # ¥20 off a ¥38 wash
        issue(DESK, CouponKind.FIXED, 5_001, min_spend_fen=100_000),  # over ¥50
    ],
)
def test_front_desk_cannot_issue_a_coupon_past_its_discount_cap(command: IssueCoupon) -> None:
    salon, _ = make_salon()
    err = assert_refused(salon, command, ErrorCode.COUPON_OVER_CAP)
    assert err.params == {"cap_bp": 1_000, "cap_fen": 5_000}


def test_the_coupon_cap_is_the_checkout_policys_discount_cap() -> None:
    caps = (DiscountCap("front_desk", 10_000, 100_000),)
    salon, _ = make_salon(checkout=replace(CONFIG.checkout, discount_caps=caps))
    salon.execute(issue(DESK, CouponKind.PERCENT, 10_000, max_discount_fen=50_000))


def test_a_manager_may_issue_a_coupon_past_the_cap_and_it_is_audited_as_such() -> None:
    salon, _ = make_salon()
    assert_refused(salon, issue(MANAGER, CouponKind.PERCENT, 10_000, reason=""),
                   ErrorCode.REASON_REQUIRED)
    _, trail = salon.execute(issue(MANAGER, CouponKind.PERCENT, 10_000))
    assert isinstance(trail, SensitiveActAudited)
    assert (trail.act, trail.meta.actor_id) == (Permission.DISCOUNT_OVER_CAP, MANAGER)


def test_store_staff_coupons_need_a_reason_and_hq_coupons_do_not() -> None:
    salon, _ = make_salon()
    assert_refused(salon, issue(DESK, CouponKind.FIXED, 2_000, min_spend_fen=20_000,
                                reason=""), ErrorCode.REASON_REQUIRED)
    events = salon.execute(issue(HQ_ACTOR, CouponKind.PERCENT, 10_000, reason=""))
    assert [type(e) for e in events] == [CouponIssued]


# -- points for a gift: the same rules as redeeming points at checkout -------------------


def points_tiers(salon: Salon) -> None:
    config = salon.state.config
    tiers = replace(config.tiers, basis=TierBasis.POINTS,
                    tiers=(TierRule("normal", "普通会员", 0, 0), TierRule("vip", "VIP", 1, 600)))
    salon.execute(ConfigureStore(actor_id=HQ_ACTOR,
                                 config=replace(config, version=2, tiers=tiers)))


def test_a_gift_like_a_redemption_at_checkout_leaves_points_tier_progress_alone() -> None:
    salon, _ = make_salon()
    points_tiers(salon)
    m = member(salon)
    salon.execute(sale(svc("color"), (CASH, 38_800), member_id=m))  # earns 388 points
    earned = salon.state.tiers.of(m).points
    at_till = salon.execute(sale(svc("wash"), (CASH, 3_700), member_id=m, redeem_points=100))
    assert [e.points for e in at_till if isinstance(e, MemberProgressed)] == [37]
    events = salon.execute(RedeemPointsForGift(actor_id=DESK, member_id=m, points=200,
                                               gift="面膜"))
    assert [type(e) for e in events] == [PointsRedeemed]
    assert salon.state.tiers.of(m).points == earned + 37


def test_a_blacklisted_member_may_redeem_points_for_a_gift_as_at_checkout() -> None:
    salon, _ = make_salon()
    m = member(salon)
    salon.execute(AdjustPoints(actor_id=MANAGER, member_id=m, delta=1_000, reason="开卡礼"))
    salon.execute(BlacklistMember(actor_id=MANAGER, member_id=m, reason="逃单"))
    paid(salon.execute(sale(svc("wash"), (CASH, 3_700), member_id=m, redeem_points=100)))
    salon.execute(RedeemPointsForGift(actor_id=DESK, member_id=m, points=200, gift="面膜"))


# -- staff admin and the store's config ---------------------------------------------------


def hire(actor: str, staff_id: str, reason: str = "入职") -> HireStaff:
    return HireStaff(actor_id=actor, staff_id=staff_id, name="小李", role=Role.FRONT_DESK,
                     level="desk", reason=reason)


def test_hiring_is_audited_with_its_reason() -> None:
    salon, _ = make_salon()
    assert_refused(salon, hire(OWNER, "desk2", reason=" "), ErrorCode.REASON_REQUIRED)
    hired, trail = salon.execute(hire(OWNER, "desk2"))
    assert isinstance(hired, StaffHired) and isinstance(trail, SensitiveActAudited)
    assert (trail.act, trail.subject_id, trail.reason, trail.meta.actor_id) == (
        Permission.MANAGE_STAFF, "desk2", "入职", OWNER)


@pytest.mark.parametrize("staff_id", [HQ_ACTOR, "HQ", " hq"])
@pytest.mark.parametrize("actor", [OWNER, HQ_ACTOR])
def test_hqs_actor_id_cannot_be_hired(actor: str, staff_id: str) -> None:
    salon, _ = make_salon()
    assert_refused(salon, hire(actor, staff_id), ErrorCode.STAFF_ID_RESERVED)


def test_store_config_and_prices_are_hqs_not_the_owners() -> None:
    salon, _ = make_salon()
    config = replace(CONFIG, version=2)
    prices = PublishPriceList(actor_id=OWNER, version=2, services=SERVICES, products=PRODUCTS,
                              plans=PLANS)
    for command in (ConfigureStore(actor_id=OWNER, config=config), prices):
        err = assert_refused(salon, command, ErrorCode.PERMISSION_DENIED)
        assert err.params["permission"] == Permission.CONFIGURE.value
    salon.execute(ConfigureStore(actor_id=HQ_ACTOR, config=config))
    salon.execute(replace(prices, actor_id=HQ_ACTOR))
