"""Points (积分): earning by tier, lots and expiry, redeeming with caps, reversal and debt."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import DESK, MANAGER, STYLIST, assert_refused, make_salon

from salon.admin import ConfigureStore
from salon.config import PointsPolicy
from salon.engine import Salon
from salon.errors import DomainError, ErrorCode
from salon.events import Event
from salon.members import MemberRegistered, RegisterMember
from salon.points import (
    AdjustPoints,
    ExpirePoints,
    PointsAdjusted,
    PointsDraw,
    PointsEarned,
    PointsExpired,
    PointsRedeemed,
    PointsRestored,
    PointsReversed,
    RedeemPointsForGift,
    check_redeem,
    earn_event,
    expiry_for,
    plan_redeem,
    plan_reverse,
    points_for,
    redeem_value_fen,
    restore_event,
    reverse_event,
)
from salon.staff import HQ_ACTOR, SensitiveActAudited
from salon.testing import ManualClock
from salon.tiers import MemberTierChanged

SHANGHAI_2028 = datetime(2027, 12, 31, 16, 0, tzinfo=UTC)  # 2028-01-01 00:00 in Shanghai


def commit(salon: Salon, *events: Event) -> None:
    """What the lead's checkout does with the events it builds from these functions."""
    salon.state.apply_all(events)
    salon.history.extend(events)


def register(salon: Salon, mobile: str = "13812345678") -> str:
    registered = salon.execute(RegisterMember(actor_id=DESK, name="张三", mobile=mobile))[0]
    assert isinstance(registered, MemberRegistered)
    return registered.member_id


def earn(salon: Salon, member_id: str, source_id: str, points: int) -> PointsEarned:
    now = salon.ctx.clock()
    event = earn_event(
        salon.state, member_id, source_id, points, salon.ctx.meta(DESK, now), now
    )
    commit(salon, event)
    return event


def redeem(salon: Salon, member_id: str, ticket_id: str, points: int) -> PointsRedeemed:
    now = salon.ctx.clock()
    event = PointsRedeemed(
        meta=salon.ctx.meta(DESK, now), member_id=member_id, ticket_id=ticket_id,
        draws=plan_redeem(salon.state, member_id, points, now),
        value_fen=redeem_value_fen(salon.state, points),
    )
    commit(salon, event)
    return event


def unrestored(events: list[Event], ticket_id: str) -> tuple[PointsDraw, ...]:
    """The draws of the ticket's redemption not yet restored, as the events say."""
    by_lot: dict[str, int] = {}
    for event in events:
        if isinstance(event, PointsRedeemed | PointsRestored) and event.ticket_id == ticket_id:
            sign = 1 if isinstance(event, PointsRedeemed) else -1
            for draw in event.draws:
                by_lot[draw.lot_id] = by_lot.get(draw.lot_id, 0) + sign * draw.points
    return tuple(PointsDraw(lot_id, n) for lot_id, n in by_lot.items() if n > 0)


def restore(salon: Salon, member_id: str, ticket_id: str) -> PointsRestored:
    """What a refund of the ticket does to its points: give back what it still took."""
    now = salon.ctx.clock()
    event = restore_event(salon.state, member_id, ticket_id, unrestored(salon.history, ticket_id),
                          salon.ctx.meta(DESK, now), now)
    commit(salon, event)
    return event


def reverse(salon: Salon, member_id: str, source_id: str, points: int) -> PointsReversed:
    now = salon.ctx.clock()
    event = reverse_event(salon.state, member_id, source_id, points, salon.ctx.meta(DESK, now),
                          now)
    commit(salon, event)
    return event


def balance(salon: Salon, member_id: str) -> int:
    return salon.state.points.balance(member_id, salon.ctx.clock())


# --- earning ---------------------------------------------------------------------------


def test_points_for_floors_eligible_yuan_times_the_tier_rate() -> None:
    salon, _ = make_salon()
    member = register(salon)
    assert points_for(salon.state, member, 12_399) == 123
    commit(salon, MemberTierChanged(meta=salon.ctx.meta(DESK), member_id=member,
                                    from_tier="normal", to_tier="diamond"))
    assert points_for(salon.state, member, 12_399) == 371


def test_points_for_is_zero_when_switched_off_or_nothing_eligible() -> None:
    salon, _ = make_salon()
    member = register(salon)
    assert points_for(salon.state, member, 0) == 0
    assert points_for(salon.state, member, -500) == 0
    assert points_for(salon.state, member, 99) == 0
    off, _ = make_salon(points=PointsPolicy(enabled=False))
    assert points_for(off.state, register(off), 100_000) == 0


@pytest.mark.parametrize(
    ("now", "years", "expected"),
    [
        (datetime(2026, 3, 2, 2, 0, tzinfo=UTC), 1, SHANGHAI_2028),
        (datetime(2026, 3, 2, 2, 0, tzinfo=UTC), 0, datetime(2026, 12, 31, 16, 0, tzinfo=UTC)),
        # 2026-12-31 23:30 UTC is already 2027 in Shanghai: a year more.
        (datetime(2026, 12, 31, 16, 30, tzinfo=UTC), 1, datetime(2028, 12, 31, 16, 0, tzinfo=UTC)),
        (datetime(2026, 12, 31, 15, 59, tzinfo=UTC), 1, SHANGHAI_2028),
        (datetime(2026, 3, 2, 2, 0, tzinfo=UTC), None, None),
    ],
)
def test_points_expire_at_the_end_of_the_store_local_year_plus_n(
    now: datetime, years: int | None, expected: datetime | None
) -> None:
    salon, _ = make_salon(points=PointsPolicy(expire_after_years=years))
    assert expiry_for(salon.state, now) == expected


def test_each_earning_is_a_lot_named_by_its_event_with_its_expiry() -> None:
    salon, _ = make_salon()
    member = register(salon)
    event = earn(salon, member, "t1", 150)
    lot = salon.state.points.lot(event.lot_id)
    assert event.lot_id == event.meta.event_id
    assert (lot.points, lot.left, lot.expires_at, lot.source_id) == (150, 150, SHANGHAI_2028, "t1")
    assert salon.state.points.lifetime_earned(member) == 150


def test_new_points_pay_points_debt_first() -> None:
    salon, _ = make_salon()
    member = register(salon)
    earn(salon, member, "t1", 100)
    redeem(salon, member, "t2", 100)
    assert reverse(salon, member, "t1", 100).debt_points == 100
    assert (balance(salon, member), salon.state.points.debt(member)) == (0, 100)
    first = earn(salon, member, "t3", 60)
    assert first.debt_repaid == 60
    assert (balance(salon, member), salon.state.points.debt(member)) == (0, 40)
    second = earn(salon, member, "t4", 70)
    assert second.debt_repaid == 40
    assert (balance(salon, member), salon.state.points.debt(member)) == (30, 0)


# --- redeeming -------------------------------------------------------------------------


def test_check_redeem_values_points_at_fen_per_point() -> None:
    salon, _ = make_salon(points=PointsPolicy(fen_per_point=2))
    member = register(salon)
    earn(salon, member, "t1", 1_000)
    assert check_redeem(salon.state, member, 300, 10_000, salon.ctx.clock()) == 600


def test_check_redeem_refuses_when_switched_off_or_not_positive() -> None:
    salon, _ = make_salon()
    member = register(salon)
    earn(salon, member, "t1", 1_000)
    now = salon.ctx.clock()
    for points in (0, -5):
        with pytest.raises(DomainError) as err:
            check_redeem(salon.state, member, points, 10_000, now)
        assert err.value.code is ErrorCode.POINTS_NOT_ALLOWED
    off, _ = make_salon(points=PointsPolicy(enabled=False))
    with pytest.raises(DomainError) as err:
        check_redeem(off.state, register(off), 10, 10_000, now)
    assert err.value.code is ErrorCode.POINTS_NOT_ALLOWED


def test_check_redeem_counts_only_unexpired_points() -> None:
    salon, clock = make_salon()
    member = register(salon)
    earn(salon, member, "t1", 500)
    clock.now = SHANGHAI_2028 - timedelta(days=1)
    earn(salon, member, "t2", 200)
    clock.now = SHANGHAI_2028
    with pytest.raises(DomainError) as err:
        check_redeem(salon.state, member, 201, 100_000, clock.now)
    assert err.value.code is ErrorCode.INSUFFICIENT_POINTS
    assert err.value.params == {"balance": 200, "needed": 201}


def test_check_redeem_caps_at_a_share_of_the_amount_due() -> None:
    salon, _ = make_salon()  # at most 50% of the amount due
    member = register(salon)
    earn(salon, member, "t1", 5_000)
    now = salon.ctx.clock()
    assert check_redeem(salon.state, member, 500, 1_001, now) == 500
    with pytest.raises(DomainError) as err:
        check_redeem(salon.state, member, 501, 1_001, now)
    assert (err.value.code, err.value.params) == (ErrorCode.POINTS_OVER_CAP, {"max_points": 500})


def test_check_redeem_caps_at_max_points_and_rounds_the_value_cap_down() -> None:
    salon, _ = make_salon(points=PointsPolicy(fen_per_point=3, max_redeem_points=200))
    member = register(salon)
    earn(salon, member, "t1", 5_000)
    now = salon.ctx.clock()
    with pytest.raises(DomainError) as err:
        check_redeem(salon.state, member, 201, 100_000, now)
    assert err.value.params == {"max_points": 200}
    # 50% of 1000 fen is 500 fen: 166 whole points of 3 fen, not 167.
    with pytest.raises(DomainError) as err:
        check_redeem(salon.state, member, 167, 1_000, now)
    assert err.value.params == {"max_points": 166}


def reconfigure(salon: Salon, **points: object) -> None:
    config = salon.state.config
    salon.execute(ConfigureStore(
        actor_id=HQ_ACTOR,
        config=replace(config, version=config.version + 1, points=replace(config.points, **points)),
    ))


def test_redeem_draws_soonest_expiry_first_then_oldest_never_expiring_last() -> None:
    salon, clock = make_salon(points=PointsPolicy(expire_after_years=2))
    member = register(salon)
    later = earn(salon, member, "a", 100)
    reconfigure(salon, expire_after_years=None)
    never = earn(salon, member, "c", 100)
    reconfigure(salon, expire_after_years=0)
    soon = earn(salon, member, "b", 100)
    soon_too = earn(salon, member, "b2", 100)
    assert plan_redeem(salon.state, member, 250, clock.now) == (
        PointsDraw(soon.lot_id, 100), PointsDraw(soon_too.lot_id, 100),
        PointsDraw(later.lot_id, 50),
    )
    assert plan_redeem(salon.state, member, 400, clock.now)[-1] == PointsDraw(never.lot_id, 100)


def test_redeem_skips_expired_lots_even_before_they_are_swept() -> None:
    salon, clock = make_salon(points=PointsPolicy(expire_after_years=0))
    member = register(salon)
    first = earn(salon, member, "a", 100)
    clock.now = datetime(2027, 2, 1, tzinfo=UTC)
    second = earn(salon, member, "b", 100)
    assert plan_redeem(salon.state, member, 60, clock.now) == (PointsDraw(second.lot_id, 60),)
    assert salon.state.points.held(member) == 200
    assert salon.state.points.lot(first.lot_id).left == 100
    with pytest.raises(DomainError) as err:
        plan_redeem(salon.state, member, 101, clock.now)
    assert err.value.params == {"balance": 100, "needed": 101}


def test_restore_returns_the_exact_draws_to_their_lots_even_if_expired_since() -> None:
    salon, clock = make_salon(points=PointsPolicy(expire_after_years=0))
    member = register(salon)
    lot = earn(salon, member, "a", 300).lot_id
    redeemed = redeem(salon, member, "t1", 120)
    assert salon.state.points.lot(lot).left == 180
    clock.now = datetime(2027, 1, 5, tzinfo=UTC)
    restored = restore(salon, member, "t1")
    assert restored.draws == redeemed.draws
    assert salon.state.points.lot(lot).left == 300
    assert balance(salon, member) == 0
    expired = salon.execute(ExpirePoints(actor_id=DESK))
    assert [(e.lot_id, e.points) for e in expired if isinstance(e, PointsExpired)] == [(lot, 300)]


# --- reversing -------------------------------------------------------------------------


def test_reverse_takes_the_sources_own_lot_first() -> None:
    salon, _ = make_salon()
    member = register(salon)
    other = earn(salon, member, "a", 100).lot_id
    own = earn(salon, member, "b", 100).lot_id
    assert plan_reverse(salon.state, member, "b", 80) == ((PointsDraw(own, 80),), 0)
    redeem(salon, member, "t1", 150)  # a's lot is gone, 50 left in b's
    assert plan_reverse(salon.state, member, "b", 100) == ((PointsDraw(own, 50),), 50)
    earn(salon, member, "c", 30)
    draws, debt = plan_reverse(salon.state, member, "b", 100)
    assert draws[0] == PointsDraw(own, 50)
    assert sum(d.points for d in draws) + debt == 100
    assert debt == 20
    assert other not in {d.lot_id for d in draws}


def test_reverse_takes_other_lots_soonest_expiry_first() -> None:
    salon, _ = make_salon(points=PointsPolicy(expire_after_years=2))
    member = register(salon)
    late = earn(salon, member, "late", 100).lot_id
    reconfigure(salon, expire_after_years=0)
    soon = earn(salon, member, "soon", 100).lot_id
    own = earn(salon, member, "src", 50).lot_id
    assert plan_reverse(salon.state, member, "src", 180) == (
        (PointsDraw(own, 50), PointsDraw(soon, 100), PointsDraw(late, 30)), 0
    )
    assert plan_reverse(salon.state, member, "src", 300) == (
        (PointsDraw(own, 50), PointsDraw(soon, 100), PointsDraw(late, 100)), 50
    )


def test_reverse_with_now_leaves_expired_other_lots_alone() -> None:
    salon, clock = make_salon(points=PointsPolicy(expire_after_years=0))
    member = register(salon)
    earn(salon, member, "old", 100)
    clock.now = datetime(2027, 3, 1, tzinfo=UTC)
    own = earn(salon, member, "src", 40).lot_id
    redeem(salon, member, "t1", 40)
    assert plan_reverse(salon.state, member, "src", 40, now=clock.now) == ((), 40)
    draws, debt = plan_reverse(salon.state, member, "src", 40)
    assert (len(draws), debt) == (1, 0)
    assert own not in {d.lot_id for d in draws}


def test_reverse_counts_draws_restored_by_the_same_refund() -> None:
    salon, _ = make_salon()
    member = register(salon)
    earn(salon, member, "a", 100)
    back = redeem(salon, member, "t1", 100).draws  # t1 paid with all of a's points
    own = earn(salon, member, "t1", 20).lot_id
    redeem(salon, member, "t2", 20)  # t1's own points spent on t2
    draws, debt = plan_reverse(salon.state, member, "t1", 20, restored=back)
    assert (draws, debt) == ((PointsDraw(back[0].lot_id, 20),), 0)
    assert plan_reverse(salon.state, member, "t1", 20) == ((), 20)
    assert own


def test_reversal_beyond_the_balance_becomes_debt_and_counts_against_lifetime() -> None:
    salon, _ = make_salon()
    member = register(salon)
    earn(salon, member, "t1", 100)
    redeem(salon, member, "t2", 70)
    event = reverse(salon, member, "t1", 100)
    assert (sum(d.points for d in event.draws), event.debt_points) == (30, 70)
    assert (balance(salon, member), salon.state.points.debt(member)) == (0, 70)
    assert salon.state.points.lifetime_earned(member) == 0


# --- commands --------------------------------------------------------------------------


def expired(events: tuple[Event, ...]) -> list[tuple[str, str, int]]:
    assert all(isinstance(e, PointsExpired) for e in events)
    return [(e.member_id, e.lot_id, e.points) for e in events if isinstance(e, PointsExpired)]


def test_expire_points_removes_each_expired_lot_once() -> None:
    salon, clock = make_salon()
    alice, bob = register(salon), register(salon, "13900001111")
    a = earn(salon, alice, "a", 100).lot_id
    b = earn(salon, bob, "b", 50).lot_id
    redeem(salon, alice, "t1", 30)
    assert salon.execute(ExpirePoints(actor_id=DESK)) == ()
    clock.now = SHANGHAI_2028
    only_bob = salon.execute(ExpirePoints(actor_id=DESK, member_id=bob))
    assert expired(only_bob) == [(bob, b, 50)]
    assert expired(salon.execute(ExpirePoints(actor_id=DESK))) == [(alice, a, 70)]
    assert salon.execute(ExpirePoints(actor_id=DESK)) == ()
    assert salon.state.points.held(alice) == salon.state.points.held(bob) == 0


def test_expire_points_needs_the_permission() -> None:
    salon, _ = make_salon()
    assert_refused(salon, ExpirePoints(actor_id=STYLIST), ErrorCode.PERMISSION_DENIED)


def test_adjust_points_up_makes_an_audited_lot_that_pays_debt_first() -> None:
    salon, _ = make_salon()
    member = register(salon)
    earn(salon, member, "t1", 100)
    redeem(salon, member, "t2", 100)
    reverse(salon, member, "t1", 100)
    events = salon.execute(AdjustPoints(actor_id=MANAGER, member_id=member, delta=150,
                                        reason="系统故障补发"))
    adjusted, audited = events
    assert isinstance(adjusted, PointsAdjusted) and isinstance(audited, SensitiveActAudited)
    assert (adjusted.points, adjusted.debt_repaid, adjusted.expires_at) == (150, 100, SHANGHAI_2028)
    assert (audited.subject_id, audited.detail) == (member, "delta=150")
    assert (balance(salon, member), salon.state.points.debt(member)) == (50, 0)
    assert salon.state.points.lifetime_earned(member) == 0


def test_adjust_points_down_takes_from_lots_soonest_expiry_first() -> None:
    salon, _ = make_salon()
    member = register(salon)
    lot = earn(salon, member, "t1", 100).lot_id
    events = salon.execute(AdjustPoints(actor_id=MANAGER, member_id=member, delta=-40,
                                        reason="重复积分"))
    assert isinstance(events[0], PointsAdjusted)
    assert events[0].draws == (PointsDraw(lot, 40),)
    assert balance(salon, member) == 60


def test_adjust_points_refusals() -> None:
    salon, _ = make_salon()
    member = register(salon)
    earn(salon, member, "t1", 100)
    err = assert_refused(salon, AdjustPoints(actor_id=MANAGER, member_id=member, delta=-101,
                                             reason="核对"), ErrorCode.INSUFFICIENT_POINTS)
    assert err.params == {"balance": 100, "needed": 101}
    assert_refused(salon, AdjustPoints(actor_id=MANAGER, member_id=member, delta=0,
                                       reason="核对"), ErrorCode.INVALID_INPUT)
    assert_refused(salon, AdjustPoints(actor_id=MANAGER, member_id=member, delta=5, reason=" "),
                   ErrorCode.REASON_REQUIRED)
    assert_refused(salon, AdjustPoints(actor_id=DESK, member_id=member, delta=5, reason="x"),
                   ErrorCode.PERMISSION_DENIED)
    assert_refused(salon, AdjustPoints(actor_id=MANAGER, member_id="nobody", delta=5,
                                       reason="x"), ErrorCode.UNKNOWN_MEMBER)


def test_redeem_points_for_a_gift_spends_points_worth_no_money() -> None:
    salon, _ = make_salon()
    member = register(salon)
    lot = earn(salon, member, "t1", 500).lot_id
    (event,) = salon.execute(RedeemPointsForGift(actor_id=DESK, member_id=member, points=300,
                                                 gift=" 旅行装洗发水 "))
    assert isinstance(event, PointsRedeemed)
    assert (event.value_fen, event.gift) == (0, "旅行装洗发水")
    assert event.draws == (PointsDraw(lot, 300),)
    assert event.ticket_id and event.ticket_id != event.meta.event_id
    assert balance(salon, member) == 200


def test_redeem_points_for_a_gift_refusals() -> None:
    salon, _ = make_salon()
    member = register(salon)
    earn(salon, member, "t1", 100)
    def gift(points: int) -> RedeemPointsForGift:
        return RedeemPointsForGift(actor_id=DESK, member_id=member, points=points, gift="面膜")

    assert_refused(salon, gift(0), ErrorCode.POINTS_NOT_ALLOWED)
    assert_refused(salon, gift(-3), ErrorCode.POINTS_NOT_ALLOWED)
    err = assert_refused(salon, gift(101), ErrorCode.INSUFFICIENT_POINTS)
    assert err.params == {"balance": 100, "needed": 101}
    assert_refused(salon, RedeemPointsForGift(actor_id=DESK, member_id=member, points=5,
                                              gift="  "), ErrorCode.INVALID_INPUT)
    assert_refused(salon, RedeemPointsForGift(actor_id=DESK, member_id="nobody", points=5,
                                              gift="面膜"), ErrorCode.UNKNOWN_MEMBER)
    reconfigure(salon, enabled=False)
    assert_refused(salon, gift(5), ErrorCode.POINTS_NOT_ALLOWED)


# --- properties ------------------------------------------------------------------------

OPS = st.lists(
    st.one_of(
        st.tuples(st.just("earn"), st.integers(0, 3), st.integers(0, 400)),
        st.tuples(st.just("redeem"), st.integers(1, 300)),
        st.tuples(st.just("restore"), st.integers(0, 5)),
        st.tuples(st.just("reverse"), st.integers(0, 3), st.integers(1, 400)),
        st.tuples(st.just("expire")),
        st.tuples(st.just("adjust"), st.integers(-300, 300).filter(bool)),
        st.tuples(st.just("advance"), st.integers(0, 500)),
    ),
    max_size=25,
)


def signed_total(events: list[Event], member_id: str) -> int:
    """Held points minus debt, as the events say: what the book must agree with."""
    total = 0
    for event in events:
        if getattr(event, "member_id", None) != member_id:
            continue
        match event:
            case PointsEarned() | PointsAdjusted():
                total += event.points
            case PointsRedeemed() | PointsReversed():
                total -= sum(d.points for d in event.draws)
                total -= event.debt_points if isinstance(event, PointsReversed) else 0
            case PointsRestored():
                total += sum(d.points for d in event.draws)
            case PointsExpired():
                total -= event.points
    return total


def unreversed(events: list[Event], source_id: str) -> int:
    """Points ``source_id`` earned that no reversal has taken back yet, as the events say."""
    earned = sum(e.points for e in events
                 if isinstance(e, PointsEarned) and e.source_id == source_id)
    taken = sum(sum(d.points for d in e.draws) + e.debt_points + e.expired_points
                for e in events if isinstance(e, PointsReversed) and e.source_id == source_id)
    return earned - taken


def run_op(salon: Salon, member: str, op: tuple[object, ...], tickets: list[str]) -> None:
    now = salon.ctx.clock()
    match op:
        case ("earn", int(source), int(points)):
            earn(salon, member, f"s{source}", points)
        case ("redeem", int(points)) if points <= balance(salon, member):
            ticket = f"t{len(tickets)}"
            redeem(salon, member, ticket, points)
            tickets.append(ticket)
        case ("restore", int(index)) if index < len(tickets):
            if unrestored(salon.history, tickets[index]):
                restore(salon, member, tickets[index])
        case ("reverse", int(source), int(points)):
            left = unreversed(salon.history, f"s{source}")
            if left > 0:
                reverse(salon, member, f"s{source}", min(points, left))
        case ("expire",):
            salon.execute(ExpirePoints(actor_id=DESK))
        case ("adjust", int(delta)) if delta > 0 or -delta <= balance(salon, member):
            salon.execute(AdjustPoints(actor_id=MANAGER, member_id=member, delta=delta,
                                       reason="核对"))
        case ("advance", int(days)):
            clock = salon.ctx.clock
            assert isinstance(clock, ManualClock)
            clock.advance(days=days)
    assert now <= salon.ctx.clock()


@settings(max_examples=150, deadline=None)
@given(OPS)
def test_book_equals_the_sum_of_events_and_never_goes_negative(
    ops: list[tuple[object, ...]]
) -> None:
    salon, _ = make_salon()
    member = register(salon)
    tickets: list[str] = []
    for op in ops:
        run_op(salon, member, op, tickets)
        book = salon.state.points
        assert all(lot.left >= 0 for lot in book.lots(member))
        assert book.debt(member) >= 0
        assert 0 <= book.balance(member, salon.ctx.clock()) <= book.held(member)
        # Debt is owed only while nothing is left to spend: new or restored points pay it.
        assert book.debt(member) == 0 or book.balance(member, salon.ctx.clock()) == 0
        assert book.held(member) - book.debt(member) == signed_total(salon.history, member)
        earned = sum(e.points for e in salon.history if isinstance(e, PointsEarned))
        reversed_ = sum(sum(d.points for d in e.draws) + e.debt_points + e.expired_points
                        for e in salon.history if isinstance(e, PointsReversed))
        assert book.lifetime_earned(member) == earned - reversed_
        assert all(book.lost_to_expiry(f"s{i}") >= 0 for i in range(4))


@settings(max_examples=100, deadline=None)
@given(OPS, st.integers(1, 300))
def test_redeem_then_restore_gives_back_the_exact_book(
    ops: list[tuple[object, ...]], points: int
) -> None:
    salon, _ = make_salon()
    member = register(salon)
    for op in ops:
        run_op(salon, member, op, [])
    if points > balance(salon, member):
        return
    before = copy.deepcopy(salon.state.points)
    redeem(salon, member, "the-ticket", points)
    restore(salon, member, "the-ticket")
    assert salon.state.points == before


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 500), max_size=6), st.integers(0, 500), st.integers(0, 400))
def test_reversing_all_a_source_earned_restores_the_balance_when_none_was_spent(
    earlier: list[int], points: int, days: int
) -> None:
    salon, clock = make_salon()
    member = register(salon)
    for i, earned in enumerate(earlier):
        earn(salon, member, f"s{i}", earned)
    clock.advance(days=days)
    before = (balance(salon, member), salon.state.points.debt(member))
    earn(salon, member, "src", points)
    reverse(salon, member, "src", points)
    assert (balance(salon, member), salon.state.points.debt(member)) == before
    assert salon.state.points.lifetime_earned(member) == sum(earlier)
