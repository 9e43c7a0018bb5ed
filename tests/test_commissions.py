"""Commission (提成): rule choice by item, category, level and version; shares; bands; reversal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import DESK, MANAGER, OWNER, START, STYLIST, STYLIST2, make_salon

from salon.admin import RemoveStaff
from salon.commissions import (
    CommissionEarned,
    CommissionEntry,
    CommissionReversed,
    banded_amount,
    compute,
    pick_rule,
    validate_shares,
)
from salon.config import (
    CommissionBand,
    CommissionMode,
    CommissionPolicy,
    CommissionRule,
    CommissionTarget,
)
from salon.engine import Salon
from salon.errors import DomainError, ErrorCode
from salon.events import Event
from salon.money import allocate
from salon.staff import StaffShare

SERVICE, PRODUCT = CommissionTarget.SERVICE, CommissionTarget.PRODUCT
T0 = datetime(2020, 1, 1, tzinfo=UTC)
V2_FROM = datetime(2026, 3, 10, tzinfo=UTC)


def rule(rule_id: str, version: int = 1, effective_from: datetime = T0,
         target: CommissionTarget = SERVICE, **fields: object) -> CommissionRule:
    return CommissionRule(rule_id, version, effective_from, target, **fields)  # type: ignore[arg-type]


def policy(*rules: CommissionRule) -> CommissionPolicy:
    return CommissionPolicy(rules=rules)


def commit(salon: Salon, *events: Event) -> None:
    """What the lead's checkout and refunds do with the events they build."""
    salon.state.apply_all(events)
    salon.history.extend(events)


def line(
    salon: Salon, *shares: StaffShare, base_fen: int = 10_000, target: CommissionTarget = SERVICE,
    item_id: str = "cut", category: str = "hair", at: datetime | None = None,
    pending: tuple[CommissionEntry, ...] = (), line_no: int = 1, source_id: str = "t1",
) -> tuple[CommissionEntry, ...]:
    return compute(
        salon.state, source_id=source_id, line_no=line_no, target=target, item_id=item_id,
        category=category, base_fen=base_fen, shares=shares or (StaffShare(STYLIST),),
        at=at or salon.ctx.clock(), pending=pending,
    )


def earn(salon: Salon, source_id: str, entries: tuple[CommissionEntry, ...]) -> None:
    commit(salon, CommissionEarned(meta=salon.ctx.meta(DESK), source_id=source_id,
                                   entries=entries))


# --- shares ----------------------------------------------------------------------------


def test_shares_of_known_active_staff_summing_to_whole_are_valid() -> None:
    salon, _ = make_salon()
    validate_shares(salon.state, (StaffShare(STYLIST, 6_000), StaffShare(STYLIST2, 4_000)), 1)
    validate_shares(salon.state, (StaffShare(STYLIST),), 1)


@pytest.mark.parametrize(
    "shares",
    [
        (),
        (StaffShare(STYLIST, 5_000), StaffShare(STYLIST, 5_000)),
        (StaffShare(STYLIST, 10_000), StaffShare(STYLIST2, 0)),
        (StaffShare(STYLIST, 11_000), StaffShare(STYLIST2, -1_000)),
        (StaffShare(STYLIST, 6_000), StaffShare(STYLIST2, 3_999)),
        (StaffShare(STYLIST, 6_000), StaffShare(STYLIST2, 4_001)),
    ],
)
def test_invalid_shares_are_refused_with_the_line_number(shares: tuple[StaffShare, ...]) -> None:
    salon, _ = make_salon()
    with pytest.raises(DomainError) as err:
        validate_shares(salon.state, shares, 3)
    assert (err.value.code, err.value.params) == (ErrorCode.STAFF_SHARES_INVALID, {"line_no": 3})


def test_shares_of_unknown_or_departed_staff_are_refused() -> None:
    salon, _ = make_salon()
    with pytest.raises(DomainError) as err:
        validate_shares(salon.state, (StaffShare("ghost"),), 1)
    assert (err.value.code, err.value.params) == (ErrorCode.UNKNOWN_STAFF, {"staff_id": "ghost"})
    salon.execute(RemoveStaff(actor_id=OWNER, staff_id=STYLIST2, reason="离职"))
    with pytest.raises(DomainError) as err:
        line(salon, StaffShare(STYLIST, 5_000), StaffShare(STYLIST2, 5_000))
    assert err.value.code is ErrorCode.STAFF_INACTIVE


# --- rule choice -----------------------------------------------------------------------

TABLE = (
    rule("any", rotated_bp=100),
    rule("any-sr", staff_level="senior", rotated_bp=200),
    rule("hair", category="hair", rotated_bp=300),
    rule("hair-jr", category="hair", staff_level="junior", rotated_bp=400),
    rule("cut", item_id="cut", rotated_bp=500),
    rule("cut-dir", item_id="cut", staff_level="director", rotated_bp=600),
    rule("prd", target=PRODUCT, rotated_bp=700),
)


@pytest.mark.parametrize(
    ("target", "item_id", "category", "level", "expected"),
    [
        (SERVICE, "cut", "hair", "senior", "cut"),
        (SERVICE, "cut", "hair", "director", "cut-dir"),
        (SERVICE, "cut", "hair", "junior", "cut"),  # item beats a level-specific category
        (SERVICE, "wash", "hair", "junior", "hair-jr"),
        (SERVICE, "wash", "hair", "senior", "hair"),
        (SERVICE, "facial", "beauty", "senior", "any-sr"),
        (SERVICE, "facial", "beauty", "junior", "any"),
        (PRODUCT, "cut", "hair", "director", "prd"),  # a rule only pays its own target
        (CommissionTarget.RECHARGE, "", "", "senior", None),
    ],
)
def test_the_most_specific_rule_for_the_level_is_chosen(
    target: CommissionTarget, item_id: str, category: str, level: str, expected: str | None
) -> None:
    chosen = pick_rule(TABLE, target, item_id, category, level, START)
    assert (chosen.rule_id if chosen else None) == expected


@pytest.mark.parametrize(
    ("at", "version"),
    [
        (START, 1),  # a ticket dated before v2's effective_from keeps v1
        (V2_FROM - timedelta(seconds=1), 1),
        (V2_FROM, 2),
        (datetime(2026, 3, 20, tzinfo=UTC), 2),
        (datetime(2026, 4, 1, tzinfo=UTC), 3),
    ],
)
def test_a_rule_pays_with_its_version_in_force_at_the_sale(at: datetime, version: int) -> None:
    rules = (
        rule("svc", 3, datetime(2026, 4, 1, tzinfo=UTC), rotated_bp=1_300),
        rule("svc", 1, T0, rotated_bp=1_000),
        rule("svc", 2, V2_FROM, rotated_bp=1_200),
    )
    salon, _ = make_salon(commissions=policy(*rules))
    (entry,) = line(salon, at=at)
    assert (entry.rule_id, entry.rule_version) == ("svc", version)
    assert entry.amount_fen == {1: 1_000, 2: 1_200, 3: 1_300}[version]


def test_a_newer_version_that_no_longer_fits_gives_way_to_another_rule() -> None:
    rules = (
        rule("hair", 1, T0, category="hair", rotated_bp=1_500),
        rule("hair", 2, V2_FROM, category="beauty", rotated_bp=1_500),
        rule("any", rotated_bp=800),
    )
    assert pick_rule(rules, SERVICE, "cut", "hair", "senior", START) == rules[0]
    assert pick_rule(rules, SERVICE, "cut", "hair", "senior", V2_FROM) == rules[2]


def test_no_rule_means_no_entry() -> None:
    salon, _ = make_salon(commissions=policy(rule("sr", staff_level="senior", rotated_bp=1_000)))
    entries = line(salon, StaffShare(STYLIST, 5_000), StaffShare(STYLIST2, 5_000))
    assert [(e.staff_id, e.base_fen, e.amount_fen) for e in entries] == [(STYLIST, 5_000, 500)]
    assert line(salon, target=PRODUCT) == ()


# --- amounts ---------------------------------------------------------------------------


def test_designated_pays_the_designated_rate_and_rotated_the_rotated_one() -> None:
    salon, _ = make_salon()  # the seeded service rule: 10% rotated, 15% designated
    (rotated,) = line(salon, StaffShare(STYLIST), base_fen=12_800)
    (designated,) = line(salon, StaffShare(STYLIST, designated=True), base_fen=12_800)
    assert (rotated.amount_fen, rotated.designated) == (1_280, False)
    assert (designated.amount_fen, designated.designated) == (1_920, True)


def test_shares_60_40_split_the_base_exactly() -> None:
    salon, _ = make_salon()
    shares = (StaffShare(STYLIST, 6_000, designated=True), StaffShare(STYLIST2, 4_000))
    tony, amy = line(salon, *shares, base_fen=12_345, line_no=2)
    assert (tony.base_fen, amy.base_fen) == (7_407, 4_938)
    assert (tony.amount_fen, amy.amount_fen) == (1_111, 494)  # 15% of 7407, 10% of 4938
    assert (tony.line_no, tony.rule_id, tony.rule_version) == (2, "svc", 1)


def test_fixed_commission_is_scaled_by_the_share_and_signed_like_the_base() -> None:
    fixed = rule("pkg", target=CommissionTarget.PACKAGE_SALE, mode=CommissionMode.FIXED,
                 rotated_fixed_fen=2_000, designated_fixed_fen=3_001)
    salon, _ = make_salon(commissions=policy(fixed))
    shares = (StaffShare(STYLIST, 6_000, designated=True), StaffShare(STYLIST2, 4_000))

    def card_sale(base_fen: int) -> list[int]:
        entries = line(salon, *shares, base_fen=base_fen, target=CommissionTarget.PACKAGE_SALE,
                       item_id="facial10", category="package")
        return [e.amount_fen for e in entries]

    assert card_sale(198_000) == [1_801, 800]  # 60% of 30.01 rounds half up
    assert card_sale(-198_000) == [-1_801, -800]
    assert card_sale(0) == [1_801, 800]


BANDED = rule("svc", rotated_bp=1_000, designated_bp=1_500,
              bands=(CommissionBand(100_000, 2_000), CommissionBand(0, 1_000)))


def test_bands_pay_marginal_rates_across_a_boundary_inside_one_line() -> None:
    salon, _ = make_salon(commissions=policy(BANDED))
    earn(salon, "t0", line(salon, base_fen=90_000, source_id="t0"))
    (entry,) = line(salon, base_fen=20_000)
    assert entry.amount_fen == 1_000 + 2_000  # 10k at 10%, 10k at 20%
    (designated,) = line(salon, StaffShare(STYLIST, designated=True), base_fen=20_000)
    assert designated.amount_fen == 3_000 + 1_000  # plus 5% on the whole line


def test_bands_count_pending_lines_of_the_same_ticket() -> None:
    salon, _ = make_salon(commissions=policy(BANDED))
    earn(salon, "t0", line(salon, base_fen=90_000, source_id="t0"))
    first = line(salon, base_fen=5_000, line_no=1)
    other_staff = line(salon, StaffShare(STYLIST2), base_fen=50_000, line_no=2)
    (second,) = line(salon, base_fen=20_000, line_no=3, pending=first + other_staff)
    assert second.amount_fen == 500 + 3_000  # from 95k: 5k at 10%, 15k at 20%


def test_below_the_first_band_the_rotated_rate_applies() -> None:
    ladder = rule("svc", rotated_bp=1_000, bands=(CommissionBand(50_000, 2_000),))
    assert banded_amount(ladder, 0, 60_000, designated=False) == 5_000 + 2_000
    assert banded_amount(ladder, 60_000, -20_000, designated=False) == -(2_000 + 1_000)


def test_the_month_base_is_store_local_and_per_target() -> None:
    salon, clock = make_salon(commissions=policy(BANDED, rule("prd", target=PRODUCT)))
    clock.now = datetime(2026, 2, 28, 15, 30, tzinfo=UTC)  # 23:30 on 28 Feb in Shanghai
    earn(salon, "feb", line(salon, base_fen=100_000, source_id="feb"))
    clock.now = datetime(2026, 2, 28, 16, 30, tzinfo=UTC)  # 00:30 on 1 March in Shanghai
    earn(salon, "mar", line(salon, base_fen=40_000, source_id="mar"))
    earn(salon, "sold", line(salon, base_fen=500_000, target=PRODUCT, source_id="sold"))
    book = salon.state.commissions
    assert book.month_base_fen(STYLIST, clock.now, 480, SERVICE) == 40_000
    assert book.month_base_fen(STYLIST, clock.now, 480) == 540_000
    (entry,) = line(salon, base_fen=70_000)
    assert entry.amount_fen == 6_000 + 2_000  # 60k at 10% up to 100k, then 10k at 20%
    assert book.total_fen(STYLIST, 2026, 2) == 10_000
    assert book.total_fen(STYLIST, 2026, 3) == 4_000
    assert book.total_fen(STYLIST, 2026, 2, utc_offset_minutes=0) == 14_000


# --- the book --------------------------------------------------------------------------


def test_reversal_removes_exactly_the_given_entries() -> None:
    salon, _ = make_salon()
    shares = (StaffShare(STYLIST, 6_000), StaffShare(STYLIST2, 4_000))
    t1 = line(salon, *shares, base_fen=12_345, source_id="t1") + line(
        salon, StaffShare(STYLIST), base_fen=3_800, line_no=2, source_id="t1")
    earn(salon, "t1", t1)
    t2 = line(salon, StaffShare(STYLIST, designated=True), base_fen=29_800, source_id="t2")
    earn(salon, "t2", t2)
    book = salon.state.commissions
    assert book.total_fen(STYLIST, 2026, 3) == 741 + 380 + 4_470
    refunded = tuple(e for e in t1 if e.line_no == 1)
    commit(salon, CommissionReversed(meta=salon.ctx.meta(MANAGER), source_id="t1",
                                     entries=refunded))
    assert book.entries_of_source("t1") == (t1[2],)
    assert book.total_fen(STYLIST, 2026, 3) == 380 + 4_470
    assert book.total_fen(STYLIST2, 2026, 3) == 0
    assert book.entries(STYLIST) == (t1[2], t2[0])


def test_reversing_an_entry_the_book_never_held_still_counts_against_the_total() -> None:
    salon, _ = make_salon()
    stray = CommissionEntry(STYLIST, 1, 1_000, 100, "svc", 1, False)
    commit(salon, CommissionReversed(meta=salon.ctx.meta(MANAGER), source_id="tx",
                                     entries=(stray,)))
    assert salon.state.commissions.total_fen(STYLIST, 2026, 3) == -100


STAFF = (OWNER, MANAGER, DESK, STYLIST, STYLIST2)


@st.composite
def staff_shares(draw: st.DrawFn) -> tuple[StaffShare, ...]:
    people = draw(st.lists(st.sampled_from(STAFF), min_size=1, max_size=4, unique=True))
    weights = draw(st.lists(st.integers(1, 100), min_size=len(people), max_size=len(people)))
    parts = allocate(10_000, weights)
    return tuple(
        StaffShare(p, bp, designated=draw(st.booleans())) for p, bp in zip(people, parts,
                                                                          strict=True)
    )


@settings(max_examples=150, deadline=None)
@given(staff_shares(), st.integers(-10_000_000, 10_000_000))
def test_the_shares_bases_sum_to_the_line_base(
    shares: tuple[StaffShare, ...], base_fen: int
) -> None:
    salon, _ = make_salon(commissions=policy(rule("any", rotated_bp=1_000, designated_bp=1_500)))
    entries = line(salon, *shares, base_fen=base_fen)
    assert [e.staff_id for e in entries] == [s.staff_id for s in shares]
    assert sum(e.base_fen for e in entries) == base_fen
    for entry in entries:
        assert abs(entry.amount_fen) <= abs(entry.base_fen)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(staff_shares(), st.integers(-50_000, 300_000), st.sets(st.integers(0, 7))),
        max_size=8,
    )
)
def test_the_book_total_is_earned_minus_reversed(
    sales: list[tuple[tuple[StaffShare, ...], int, set[int]]]
) -> None:
    salon, clock = make_salon(commissions=policy(BANDED))
    earned = reversed_ = 0
    for n, (shares, base_fen, refund_lines) in enumerate(sales):
        entries = line(salon, *shares, base_fen=base_fen, source_id=f"t{n}")
        earn(salon, f"t{n}", entries)
        earned += sum(e.amount_fen for e in entries)
        gone = tuple(e for i, e in enumerate(entries) if i in refund_lines)
        commit(salon, CommissionReversed(meta=salon.ctx.meta(MANAGER), source_id=f"t{n}",
                                         entries=gone))
        reversed_ += sum(e.amount_fen for e in gone)
        clock.advance(hours=1)
    book = salon.state.commissions
    assert sum(book.total_fen(s, 2026, 3) for s in STAFF) == earned - reversed_
    assert sum(e.amount_fen for s in STAFF for e in book.entries(s)) == earned - reversed_
