"""Member tiers: cumulative figures are the sum of their events; tiers only go up by themselves."""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st
from support import CONFIG, DESK, TIERS, make_salon

from salon.admin import ConfigureStore
from salon.catalog import ItemKind
from salon.config import TierBasis, TierRule
from salon.engine import Salon
from salon.events import Event
from salon.members import MemberRegistered, RegisterMember
from salon.staff import HQ_ACTOR
from salon.tiers import (
    MemberProgressed,
    MemberTierChanged,
    progress_events,
    tier_discount_bp,
    tier_of,
)


def member(salon: Salon, mobile: str = "13812345678") -> str:
    first = salon.execute(RegisterMember(actor_id=DESK, name="张三", mobile=mobile))[0]
    assert isinstance(first, MemberRegistered)
    return first.member_id


def progress(salon: Salon, member_id: str, **deltas: int) -> tuple[Event, ...]:
    """What the lead's sale code does: ask for the events, then commit them."""
    events = progress_events(salon.state, member_id, salon.ctx, DESK, salon.ctx.clock(), **deltas)
    salon.state.apply_all(events)
    return events


def test_a_new_member_is_at_the_lowest_tier() -> None:
    salon, _ = make_salon()
    assert tier_of(salon.state, member(salon)).tier_id == "normal"


def test_reaching_a_threshold_upgrades_in_the_same_events() -> None:
    salon, _ = make_salon()
    member_id = member(salon)
    events = progress(salon, member_id, recharge_fen=50_000)
    assert [type(e) for e in events] == [MemberProgressed, MemberTierChanged]
    change = events[1]
    assert isinstance(change, MemberTierChanged)
    assert (change.from_tier, change.to_tier) == ("normal", "silver")
    assert events[0].meta.at == change.meta.at
    assert events[0].meta.event_id != change.meta.event_id
    assert tier_of(salon.state, member_id).tier_id == "silver"


def test_progress_below_the_next_threshold_does_not_change_the_tier() -> None:
    salon, _ = make_salon()
    member_id = member(salon)
    events = progress(salon, member_id, recharge_fen=49_999)
    assert [type(e) for e in events] == [MemberProgressed]
    assert tier_of(salon.state, member_id).tier_id == "normal"


def test_a_big_step_goes_straight_to_the_highest_tier_reached() -> None:
    salon, _ = make_salon()
    member_id = member(salon)
    events = progress(salon, member_id, recharge_fen=600_000)
    change = events[-1]
    assert isinstance(change, MemberTierChanged)
    assert (change.from_tier, change.to_tier) == ("normal", "diamond")


def test_no_delta_records_nothing() -> None:
    salon, _ = make_salon()
    assert progress(salon, member(salon)) == ()


def test_a_refund_lowers_the_figure_but_never_the_tier() -> None:
    salon, _ = make_salon()
    member_id = member(salon)
    progress(salon, member_id, recharge_fen=100_000)
    events = progress(salon, member_id, recharge_fen=-100_000)
    assert [type(e) for e in events] == [MemberProgressed]
    assert salon.state.tiers.of(member_id).recharge_fen == 0
    assert tier_of(salon.state, member_id).tier_id == "gold"


def test_only_the_basis_hq_chose_counts_for_the_tier() -> None:
    salon, _ = make_salon(tiers=replace(TIERS, basis=TierBasis.SPEND))
    member_id = member(salon)
    assert [type(e) for e in progress(salon, member_id, recharge_fen=600_000, points=999)] == [
        MemberProgressed
    ]
    events = progress(salon, member_id, spend_fen=50_000)
    assert isinstance(events[-1], MemberTierChanged)
    assert tier_of(salon.state, member_id).tier_id == "silver"
    figures = salon.state.tiers.of(member_id)
    assert (figures.recharge_fen, figures.spend_fen, figures.points) == (600_000, 50_000, 999)


def test_points_basis_upgrades_on_points_earned() -> None:
    salon, _ = make_salon(tiers=replace(TIERS, basis=TierBasis.POINTS))
    member_id = member(salon)
    events = progress(salon, member_id, points=100_000, spend_fen=1)
    assert isinstance(events[-1], MemberTierChanged) and events[-1].to_tier == "gold"


def test_a_tier_hq_removed_is_replaced_by_the_highest_tier_the_figure_reaches() -> None:
    salon, _ = make_salon()
    member_id = member(salon)
    progress(salon, member_id, recharge_fen=120_000)
    assert tier_of(salon.state, member_id).tier_id == "gold"
    without_gold = replace(TIERS, tiers=tuple(t for t in TIERS.tiers if t.tier_id != "gold"))
    salon.execute(
        ConfigureStore(actor_id=HQ_ACTOR, config=replace(CONFIG, version=2, tiers=without_gold))
    )
    assert tier_of(salon.state, member_id).tier_id == "silver"


def test_a_threshold_hq_lowered_upgrades_the_member_at_the_next_progress() -> None:
    salon, _ = make_salon()
    member_id = member(salon)
    progress(salon, member_id, recharge_fen=80_000)
    cheaper_gold = tuple(
        replace(t, threshold=80_000) if t.tier_id == "gold" else t for t in TIERS.tiers
    )
    salon.execute(
        ConfigureStore(
            actor_id=HQ_ACTOR,
            config=replace(CONFIG, version=2, tiers=replace(TIERS, tiers=cheaper_gold)),
        )
    )
    events = progress(salon, member_id)
    assert [type(e) for e in events] == [MemberTierChanged]
    assert tier_of(salon.state, member_id).tier_id == "gold"


def test_tier_discount_applies_to_services_and_products_but_not_package_cards() -> None:
    gold = TierRule("gold", "金卡", 2, 100_000, 9000, 9500, 2)
    assert tier_discount_bp(gold, ItemKind.SERVICE) == 9000
    assert tier_discount_bp(gold, ItemKind.PRODUCT) == 9500
    assert tier_discount_bp(gold, ItemKind.PACKAGE) == 10_000


_THRESHOLDS = {t.tier_id: t.threshold for t in TIERS.tiers}
_RANKS = {t.tier_id: t.rank for t in TIERS.tiers}


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(-200_000, 300_000),
            st.integers(-50_000, 50_000),
            st.integers(-1_000, 1_000),
        ),
        max_size=12,
    )
)
def test_tier_is_the_highest_ever_reached_and_figures_are_the_sum_of_deltas(
    deltas: list[tuple[int, int, int]],
) -> None:
    salon, _ = make_salon()
    member_id = member(salon)
    running, best = 0, "normal"
    changes: list[MemberTierChanged] = []
    for recharge, spend, points in deltas:
        events = progress(salon, member_id, recharge_fen=recharge, spend_fen=spend, points=points)
        changes += [e for e in events if isinstance(e, MemberTierChanged)]
        running += recharge
        reached = [t for t, threshold in _THRESHOLDS.items() if running >= threshold]
        top = max(reached, key=_RANKS.__getitem__, default="normal")
        if _RANKS[top] > _RANKS[best]:
            best = top
        assert tier_of(salon.state, member_id).tier_id == best
    figures = salon.state.tiers.of(member_id)
    assert figures.recharge_fen == sum(d[0] for d in deltas)
    assert figures.spend_fen == sum(d[1] for d in deltas)
    assert figures.points == sum(d[2] for d in deltas)
    path = ["normal"] + [c.to_tier for c in changes]
    assert [c.from_tier for c in changes] == path[:-1]
    assert all(_RANKS[a] < _RANKS[b] for a, b in pairwise(path))
