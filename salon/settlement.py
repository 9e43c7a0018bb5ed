"""Splitting a ticket's payments, stored-value draws and points draws over its lines, exactly.

Every split here keeps two sums at once: per line it adds up to what the line owes, per
source it adds up to what the source gave. A refund of any set of lines can then reverse
precisely those lines' parts, and refunding all lines reverses the whole ticket.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from salon.money import allocate
from salon.payments import Payment, PaymentMethod
from salon.points import PointsDraw
from salon.stored_value import LotDraw

__all__ = [
    "carve",
    "merge_lot_draws",
    "split_lot_draws",
    "split_payments",
    "split_points_draws",
]

_ORDER = (
    PaymentMethod.CASH,
    PaymentMethod.BANK_CARD,
    PaymentMethod.WECHAT,
    PaymentMethod.ALIPAY,
    PaymentMethod.STORED_VALUE,
    PaymentMethod.DEBT,
)


def split_payments(
    applied: dict[PaymentMethod, int], line_dues: Sequence[int]
) -> list[tuple[Payment, ...]]:
    """Share each method's applied amount over the lines by what each line still owes.

    Requires sum(applied) == sum(line_dues). A line never receives more than it owes because
    each share is at most the ceiling of a fraction of the line's remaining due.
    """
    remaining = list(line_dues)
    per_line: list[list[Payment]] = [[] for _ in line_dues]
    for method in _ORDER:
        amount = applied.get(method, 0)
        if not amount:
            continue
        parts = allocate(amount, remaining)
        for i, part in enumerate(parts):
            if part:
                per_line[i].append(Payment(method, part))
                remaining[i] -= part
    if any(remaining):
        raise ValueError("payments do not cover the lines exactly")
    return [tuple(p) for p in per_line]


def carve(
    sources: Sequence[tuple[str, int]], demands: Sequence[int]
) -> list[list[tuple[str, int]]]:
    """Cut ordered (key, quantity) sources into consecutive pieces, one list per demand."""
    if sum(q for _, q in sources) != sum(demands):
        raise ValueError("sources and demands differ")
    out: list[list[tuple[str, int]]] = []
    keys = [key for key, qty in sources if qty]
    left = [qty for _, qty in sources if qty]
    index = 0
    for demand in demands:
        pieces: list[tuple[str, int]] = []
        while demand:
            take = min(left[index], demand)
            pieces.append((keys[index], take))
            demand -= take
            left[index] -= take
            if left[index] == 0:
                index += 1
        out.append(pieces)
    return out


def split_lot_draws(
    draws: Sequence[LotDraw], line_amounts: Sequence[int]
) -> list[tuple[LotDraw, ...]]:
    """Give each line its stored-value amount as draws, principal shared pro rata."""
    principal_total = sum(d.principal_fen for d in draws)
    principal_parts = allocate(principal_total, list(line_amounts))
    bonus_parts = [a - p for a, p in zip(line_amounts, principal_parts, strict=True)]
    principal = carve([(d.recharge_id, d.principal_fen) for d in draws], principal_parts)
    bonus = carve([(d.recharge_id, d.bonus_fen) for d in draws], bonus_parts)
    return [
        merge_lot_draws(
            [LotDraw(k, q, 0) for k, q in p_pieces] + [LotDraw(k, 0, q) for k, q in b_pieces]
        )
        for p_pieces, b_pieces in zip(principal, bonus, strict=True)
    ]


def merge_lot_draws(draws: Iterable[LotDraw]) -> tuple[LotDraw, ...]:
    """One draw per lot, summing principal and bonus, in the order lots first appear."""
    merged: dict[str, tuple[int, int]] = {}
    for d in draws:
        principal, bonus = merged.get(d.recharge_id, (0, 0))
        merged[d.recharge_id] = (principal + d.principal_fen, bonus + d.bonus_fen)
    return tuple(LotDraw(k, p, b) for k, (p, b) in merged.items())


def split_points_draws(
    draws: Sequence[PointsDraw], line_points: Sequence[int]
) -> list[tuple[PointsDraw, ...]]:
    pieces = carve([(d.lot_id, d.points) for d in draws], line_points)
    return [tuple(PointsDraw(k, q) for k, q in line) for line in pieces]
