"""Coupons: issuing, who may use one when, what it takes off, single use and restore."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import DESK, START, STYLIST, assert_refused, make_salon

from salon.catalog import ItemKind
from salon.checkout import Checkout
from salon.coupons import (
    CouponIssued,
    CouponKind,
    CouponLine,
    CouponRedeemed,
    CouponRestored,
    IssueCoupon,
    evaluate,
)
from salon.engine import Salon
from salon.errors import DomainError, ErrorCode
from salon.members import MemberRegistered, RegisterMember
from salon.payments import Payment, PaymentMethod
from salon.pricing import LineDraft
from salon.staff import HQ_ACTOR, StaffShare

CUT = CouponLine(ItemKind.SERVICE, "cut", "hair", 12_800)
FACIAL = CouponLine(ItemKind.SERVICE, "facial", "beauty", 29_800)
SHAMPOO = CouponLine(ItemKind.PRODUCT, "sh1", "retail", 16_800)
CARD = CouponLine(ItemKind.PACKAGE, "facial10", "package", 198_000)
UNTIL = START + timedelta(days=30)


def issue(salon: Salon, **terms: object) -> str:
    fields: dict[str, object] = {
        "kind": CouponKind.FIXED,
        "value": 2_000,
        "min_spend_fen": 0,
        "valid_from": START,
        "valid_until": UNTIL,
    }
    fields.update(terms)
    # HQ's campaign coupons: store staff's coupons are capped (test_permissions_audit).
    (event,) = salon.execute(IssueCoupon(actor_id=HQ_ACTOR, **fields))  # type: ignore[arg-type]
    assert isinstance(event, CouponIssued)
    return event.coupon_id


def member(salon: Salon, mobile: str = "13812345678") -> str:
    first = salon.execute(RegisterMember(actor_id=DESK, name="张三", mobile=mobile))[0]
    assert isinstance(first, MemberRegistered)
    return first.member_id


def refusal(
    salon: Salon,
    ref: str,
    lines: list[CouponLine],
    member_id: str | None = None,
    at_offset: timedelta = timedelta(0),
) -> DomainError:
    with pytest.raises(DomainError) as err:
        evaluate(salon.state, ref, member_id, lines, START + at_offset)
    return err.value


def redeem(salon: Salon, coupon_id: str, ticket_id: str = "t1") -> None:
    salon.state.apply(
        CouponRedeemed(
            meta=salon.ctx.meta(DESK),
            coupon_id=coupon_id,
            member_id="",
            ticket_id=ticket_id,
            discount_fen=2_000,
        )
    )


# -- issuing ----------------------------------------------------------------------------


def test_issuing_records_the_terms_and_makes_a_typable_code_when_none_is_given() -> None:
    salon, _ = make_salon()
    coupon_id = issue(salon)
    coupon = salon.state.coupons.get(coupon_id)
    assert len(coupon.code) == 10 and coupon.code.isalnum() and coupon.code.isupper()
    assert not set(coupon.code) & set("0189")
    assert salon.state.coupons.get(coupon.code.lower()) == coupon
    assert coupon.kinds == (ItemKind.SERVICE, ItemKind.PRODUCT) and not coupon.used


def test_a_given_code_is_stored_upper_case_and_found_as_typed() -> None:
    salon, _ = make_salon()
    coupon_id = issue(salon, code=" welcome-2026 ")
    assert salon.state.coupons.get(coupon_id).code == "WELCOME-2026"
    assert salon.state.coupons.get("Welcome-2026").coupon_id == coupon_id


def test_hq_may_issue_coupons_and_a_stylist_may_not() -> None:
    salon, _ = make_salon()
    salon.execute(
        IssueCoupon(
            actor_id=HQ_ACTOR,
            kind=CouponKind.PERCENT,
            value=2_000,
            min_spend_fen=0,
            valid_from=START,
            valid_until=UNTIL,
        )
    )
    assert_refused(
        salon,
        IssueCoupon(
            actor_id=STYLIST,
            kind=CouponKind.FIXED,
            value=1,
            min_spend_fen=0,
            valid_from=START,
            valid_until=UNTIL,
        ),
        ErrorCode.PERMISSION_DENIED,
    )


def test_issuing_a_code_that_exists_is_refused_whatever_its_case() -> None:
    salon, _ = make_salon()
    issue(salon, code="WELCOME")
    err = assert_refused(
        salon,
        IssueCoupon(
            actor_id=DESK,
            kind=CouponKind.FIXED,
            value=1,
            min_spend_fen=0,
            valid_from=START,
            valid_until=UNTIL,
            code="welcome",
        ),
        ErrorCode.COUPON_EXISTS,
    )
    assert err.params == {"coupon": "WELCOME"}


@pytest.mark.parametrize(
    ("terms", "code"),
    [
        ({"value": -1}, ErrorCode.NEGATIVE_AMOUNT),
        ({"min_spend_fen": -1}, ErrorCode.NEGATIVE_AMOUNT),
        ({"max_discount_fen": -1}, ErrorCode.NEGATIVE_AMOUNT),
        ({"value": 0}, ErrorCode.INVALID_INPUT),
        ({"kind": CouponKind.PERCENT, "value": 10_001}, ErrorCode.INVALID_INPUT),
        ({"valid_until": START}, ErrorCode.INVALID_INPUT),
        ({"kinds": ()}, ErrorCode.INVALID_INPUT),
        ({"code": "a!"}, ErrorCode.INVALID_INPUT),
        ({"item_ids": ("no-such-item",)}, ErrorCode.INVALID_INPUT),
        ({"member_id": "nobody"}, ErrorCode.UNKNOWN_MEMBER),
    ],
)
def test_issuing_with_bad_terms_is_refused(terms: dict[str, object], code: ErrorCode) -> None:
    salon, _ = make_salon()
    fields: dict[str, object] = {
        "kind": CouponKind.FIXED,
        "value": 2_000,
        "min_spend_fen": 0,
        "valid_from": START,
        "valid_until": UNTIL,
    }
    fields.update(terms)
    assert_refused(salon, IssueCoupon(actor_id=DESK, **fields), code)  # type: ignore[arg-type]


# -- what it takes off ------------------------------------------------------------------


def test_a_fixed_coupon_takes_its_value_off_the_applicable_lines() -> None:
    salon, _ = make_salon()
    coupon_id = issue(salon, value=2_000, min_spend_fen=10_000)
    quote = evaluate(salon.state, coupon_id, None, [CUT, SHAMPOO], START)
    assert (quote.coupon_id, quote.discount_fen, quote.line_indexes) == (coupon_id, 2_000, (0, 1))


def test_a_fixed_coupon_never_takes_more_than_the_lines_cost() -> None:
    salon, _ = make_salon()
    coupon_id = issue(salon, value=50_000, item_ids=("cut",))
    assert evaluate(salon.state, coupon_id, None, [CUT, SHAMPOO], START).discount_fen == 12_800


def test_a_percent_coupon_rounds_half_up_and_respects_its_cap() -> None:
    salon, _ = make_salon()
    odd = CouponLine(ItemKind.SERVICE, "cut", "hair", 12_805)
    twenty = issue(salon, kind=CouponKind.PERCENT, value=2_000)
    assert evaluate(salon.state, twenty, None, [odd], START).discount_fen == 2_561
    capped = issue(salon, kind=CouponKind.PERCENT, value=5_000, max_discount_fen=5_000)
    assert evaluate(salon.state, capped, None, [FACIAL], START).discount_fen == 5_000


def test_restrictions_by_kind_category_and_item_must_all_hold() -> None:
    salon, _ = make_salon()
    hair = issue(salon, categories=("hair",))
    assert evaluate(salon.state, hair, None, [FACIAL, CUT, SHAMPOO], START).line_indexes == (1,)
    products = issue(salon, kinds=(ItemKind.PRODUCT,))
    assert evaluate(salon.state, products, None, [CUT, SHAMPOO], START).line_indexes == (1,)
    cut_in_beauty = issue(salon, item_ids=("cut",), categories=("beauty",))
    assert refusal(salon, cut_in_beauty, [CUT, FACIAL]).code is ErrorCode.COUPON_NOT_APPLICABLE


def test_package_cards_are_excluded_unless_the_coupon_names_them() -> None:
    salon, _ = make_salon()
    default = issue(salon)
    assert refusal(salon, default, [CARD]).code is ErrorCode.COUPON_NOT_APPLICABLE
    cards = issue(salon, kinds=(ItemKind.PACKAGE,), item_ids=("facial10",))
    assert evaluate(salon.state, cards, None, [CUT, CARD], START).line_indexes == (1,)


def test_lines_with_nothing_left_to_pay_are_not_discounted() -> None:
    salon, _ = make_salon()
    coupon_id = issue(salon)
    free = CouponLine(ItemKind.SERVICE, "facial", "beauty", 0)
    assert evaluate(salon.state, coupon_id, None, [free, CUT], START).line_indexes == (1,)
    assert refusal(salon, coupon_id, [free]).code is ErrorCode.COUPON_NOT_APPLICABLE


def test_minimum_spend_counts_only_the_applicable_lines() -> None:
    salon, _ = make_salon()
    coupon_id = issue(salon, min_spend_fen=20_000, categories=("hair",))
    err = refusal(salon, coupon_id, [CUT, FACIAL])
    assert err.code is ErrorCode.COUPON_MIN_SPEND and err.params == {"min_spend_fen": 20_000}
    assert evaluate(salon.state, coupon_id, None, [CUT, CUT], START).discount_fen == 2_000


def test_a_negative_line_amount_is_refused() -> None:
    salon, _ = make_salon()
    coupon_id = issue(salon)
    bad = CouponLine(ItemKind.SERVICE, "cut", "hair", -1)
    assert refusal(salon, coupon_id, [bad, CUT]).code is ErrorCode.NEGATIVE_AMOUNT


# -- who may use it, and when -----------------------------------------------------------


def test_an_unknown_coupon_is_refused() -> None:
    salon, _ = make_salon()
    err = refusal(salon, "NOPE", [CUT])
    assert err.code is ErrorCode.UNKNOWN_COUPON and err.params == {"coupon": "NOPE"}


def test_a_coupon_is_valid_from_its_start_until_just_before_its_end() -> None:
    salon, _ = make_salon()
    coupon_id = issue(salon, valid_from=START + timedelta(days=1))
    assert refusal(salon, coupon_id, [CUT]).code is ErrorCode.COUPON_NOT_YET_VALID
    evaluate(salon.state, coupon_id, None, [CUT], START + timedelta(days=1))
    evaluate(salon.state, coupon_id, None, [CUT], UNTIL - timedelta(microseconds=1))
    assert refusal(salon, coupon_id, [CUT], at_offset=UNTIL - START).code is (
        ErrorCode.COUPON_EXPIRED
    )


def test_a_used_coupon_is_refused_until_its_ticket_is_refunded() -> None:
    salon, _ = make_salon()
    coupon_id = issue(salon)
    redeem(salon, coupon_id)
    assert salon.state.coupons.get(coupon_id).used_on_ticket == "t1"
    assert refusal(salon, coupon_id, [CUT]).code is ErrorCode.COUPON_USED
    salon.state.apply(
        CouponRestored(meta=salon.ctx.meta(DESK), coupon_id=coupon_id, ticket_id="t1")
    )
    assert evaluate(salon.state, coupon_id, None, [CUT], START).discount_fen == 2_000


def test_a_members_coupon_is_refused_to_anyone_else_and_to_walk_ins() -> None:
    salon, _ = make_salon()
    owner, other = member(salon), member(salon, "13900001111")
    coupon_id = issue(salon, member_id=owner)
    assert evaluate(salon.state, coupon_id, owner, [CUT], START).discount_fen == 2_000
    assert refusal(salon, coupon_id, [CUT], other).code is ErrorCode.COUPON_NOT_YOURS
    assert refusal(salon, coupon_id, [CUT], None).code is ErrorCode.COUPON_NOT_YOURS


def test_a_new_customers_coupon_needs_a_member_on_the_ticket() -> None:
    salon, _ = make_salon()
    coupon_id = issue(salon, new_customers_only=True)
    assert refusal(salon, coupon_id, [CUT]).code is ErrorCode.COUPON_NEW_CUSTOMERS_ONLY


def test_a_new_customers_coupon_is_accepted_for_a_member_without_paid_tickets() -> None:
    salon, _ = make_salon()
    member_id = member(salon)
    coupon_id = issue(salon, new_customers_only=True)
    assert evaluate(salon.state, coupon_id, member_id, [CUT], START).discount_fen == 2_000


def test_a_new_customers_coupon_is_refused_once_the_member_has_paid_a_ticket() -> None:
    salon, _ = make_salon()
    member_id = member(salon)
    coupon_id = issue(salon, new_customers_only=True)
    salon.execute(
        Checkout(
            actor_id=DESK,
            price_list_version=1,
            member_id=member_id,
            lines=(LineDraft(ItemKind.SERVICE, "wash", staff=(StaffShare(STYLIST),)),),
            payments=(Payment(PaymentMethod.CASH, 3_800),),
        )
    )
    err = refusal(salon, coupon_id, [CUT], member_id)
    assert err.code is ErrorCode.COUPON_NEW_CUSTOMERS_ONLY


def test_a_members_coupon_list_holds_only_their_unused_unexpired_coupons() -> None:
    salon, _ = make_salon()
    owner = member(salon)
    kept = issue(salon, member_id=owner)
    used = issue(salon, member_id=owner)
    short = issue(salon, member_id=owner, valid_until=START + timedelta(days=1))
    issue(salon)
    redeem(salon, used)
    listed = {c.coupon_id for c in salon.state.coupons.coupons_of(owner)}
    assert listed == {kept, short}
    later = START + timedelta(days=2)
    assert [c.coupon_id for c in salon.state.coupons.coupons_of(owner, later)] == [kept]


_lines = st.lists(
    st.builds(
        CouponLine,
        st.sampled_from(list(ItemKind)),
        st.sampled_from(["cut", "facial", "sh1"]),
        st.sampled_from(["hair", "beauty", "retail"]),
        st.integers(0, 100_000),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=150, deadline=None)
@given(
    lines=_lines,
    kind=st.sampled_from(list(CouponKind)),
    value=st.integers(1, 60_000),
    cap=st.integers(0, 20_000),
    categories=st.sampled_from([(), ("hair",), ("beauty", "retail")]),
)
def test_a_discount_is_within_the_applicable_amount_and_the_cap(
    lines: list[CouponLine],
    kind: CouponKind,
    value: int,
    cap: int,
    categories: tuple[str, ...],
) -> None:
    salon, _ = make_salon()
    if kind is CouponKind.PERCENT:
        value = min(value, 10_000)
    coupon_id = issue(salon, kind=kind, value=value, max_discount_fen=cap, categories=categories)
    try:
        quote = evaluate(salon.state, coupon_id, None, lines, START)
    except DomainError as err:
        assert err.code is ErrorCode.COUPON_NOT_APPLICABLE
        assert not any(
            line.amount_fen
            and line.kind is not ItemKind.PACKAGE
            and (not categories or line.category in categories)
            for line in lines
        )
        return
    applicable = sum(lines[i].amount_fen for i in quote.line_indexes)
    assert 0 < quote.discount_fen <= applicable or (
        quote.discount_fen == 0 and kind is CouponKind.PERCENT
    )
    assert not cap or quote.discount_fen <= cap
    assert all(lines[i].amount_fen > 0 for i in quote.line_indexes)
