"""Money is integer fen: formatting, parsing, 抹零 rounding and exact allocation."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salon.money import (
    RoundingMode,
    RoundTo,
    allocate,
    apply_bp,
    format_fen,
    mul_div,
    parse_yuan,
    round_fen,
)


@pytest.mark.parametrize(
    ("fen", "text"),
    [(0, "¥0.00"), (5, "¥0.05"), (123_450, "¥1,234.50"), (100_000_000, "¥1,000,000.00"),
     (-5, "-¥0.05"), (-123_450, "-¥1,234.50")],
)
def test_format_fen_shows_yuan_with_thousands_and_two_decimals(fen: int, text: str) -> None:
    assert format_fen(fen) == text


@pytest.mark.parametrize(
    ("text", "fen"),
    [("1000", 100_000), ("12.5", 1_250), ("12.05", 1_205), ("¥1,234.50", 123_450),
     ("￥8", 800), (" 0.01 ", 1), ("-3.20", -320), (".5", 50)],
)
def test_parse_yuan_reads_what_people_type(text: str, fen: int) -> None:
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["", "abc", "1.234", "1.2.3", "12,5x", "--1", "1e3", "¥"])
def test_parse_yuan_refuses_what_is_not_money(text: str) -> None:
    with pytest.raises(ValueError):
        parse_yuan(text)


@given(st.integers(-10**12, 10**12))
def test_format_then_parse_round_trips(fen: int) -> None:
    assert parse_yuan(format_fen(fen)) == fen


@pytest.mark.parametrize(
    ("amount", "to", "mode", "expected"),
    [
        (12_345, RoundTo.JIAO, RoundingMode.DOWN, 12_340),  # 抹分
        (12_345, RoundTo.YUAN, RoundingMode.DOWN, 12_300),  # 抹角
        (12_345, RoundTo.JIAO, RoundingMode.HALF_UP, 12_350),
        (12_345, RoundTo.JIAO, RoundingMode.HALF_EVEN, 12_340),  # 4 is even
        (12_355, RoundTo.JIAO, RoundingMode.HALF_EVEN, 12_360),  # 5 is odd
        (12_350, RoundTo.YUAN, RoundingMode.HALF_UP, 12_400),
        (12_350, RoundTo.YUAN, RoundingMode.HALF_EVEN, 12_400),
        (12_250, RoundTo.YUAN, RoundingMode.HALF_EVEN, 12_200),
        (12_349, RoundTo.YUAN, RoundingMode.HALF_UP, 12_300),
        (12_345, RoundTo.FEN, RoundingMode.DOWN, 12_345),
    ],
)
def test_round_fen_follows_the_configured_rule(
    amount: int, to: RoundTo, mode: RoundingMode, expected: int
) -> None:
    assert round_fen(amount, to, mode) == expected


@given(st.integers(-10**9, 10**9), st.integers(0, 10**6), st.integers(1, 10**6),
       st.sampled_from(list(RoundingMode)))
def test_mul_div_is_the_exact_quotient_rounded_by_the_mode(
    amount: int, num: int, den: int, mode: RoundingMode
) -> None:
    exact = Fraction(amount * num, den)
    got = mul_div(amount, num, den, mode)
    assert abs(got - exact) < 1
    if mode is RoundingMode.DOWN:
        assert abs(got) <= abs(exact)
    else:
        assert abs(got - exact) <= Fraction(1, 2)
        if abs(got - exact) == Fraction(1, 2) and mode is RoundingMode.HALF_EVEN:
            assert got % 2 == 0
        if abs(got - exact) == Fraction(1, 2) and mode is RoundingMode.HALF_UP:
            assert abs(got) > abs(exact)  # half away from zero


def test_apply_bp_is_a_discount_in_basis_points() -> None:
    assert apply_bp(12_800, 9_000) == 11_520  # 9折
    assert apply_bp(999, 9_500) == 949  # 949.05 rounds half-up to 949
    assert apply_bp(999, 9_500, RoundingMode.HALF_UP) == 949


@given(st.integers(-10**9, 10**9), st.lists(st.integers(0, 10**6), min_size=1, max_size=12))
def test_allocate_always_sums_exactly_and_stays_near_proportional(
    total: int, weights: list[int]
) -> None:
    parts = allocate(total, weights)
    assert sum(parts) == total
    whole = sum(weights)
    if whole:
        for part, weight in zip(parts, weights, strict=True):
            assert abs(part - Fraction(total * weight, whole)) < 1


@given(st.integers(0, 10**9), st.lists(st.integers(0, 10**6), min_size=1, max_size=12))
def test_allocate_never_gives_a_part_more_than_its_weight_when_total_fits(
    total: int, weights: list[int]
) -> None:
    total = min(total, sum(weights))
    for part, weight in zip(allocate(total, weights), weights, strict=True):
        assert 0 <= part <= weight


def test_allocate_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        allocate(5, [])
    with pytest.raises(ValueError):
        allocate(5, [1, -1])
    assert allocate(0, []) == []
    assert allocate(7, [0, 0]) == [7, 0]
