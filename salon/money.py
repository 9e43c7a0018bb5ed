"""Money as integer fen: formatting, parsing, rounding (抹零) and exact allocation."""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum, StrEnum

__all__ = [
    "BP_WHOLE",
    "RoundTo",
    "RoundingMode",
    "allocate",
    "apply_bp",
    "format_fen",
    "mul_div",
    "parse_yuan",
    "round_fen",
]

BP_WHOLE = 10_000
"""Rates are basis points: 9折 is 9000, 5% is 500."""


class RoundingMode(StrEnum):
    HALF_UP = "half_up"
    HALF_EVEN = "half_even"
    DOWN = "down"
    """Always toward zero: 抹零 in the customer's favour."""


class RoundTo(IntEnum):
    FEN = 1
    JIAO = 10
    YUAN = 100


def mul_div(amount: int, num: int, den: int, mode: RoundingMode = RoundingMode.HALF_UP) -> int:
    """Return amount * num / den rounded by ``mode``, in exact integer arithmetic."""
    if den <= 0:
        raise ValueError("denominator must be positive")
    product = amount * num
    sign = -1 if product < 0 else 1
    q, r = divmod(abs(product), den)
    if mode is RoundingMode.DOWN or r == 0:
        return sign * q
    twice = 2 * r
    if twice > den or (twice == den and (mode is RoundingMode.HALF_UP or q % 2 == 1)):
        q += 1
    return sign * q


def apply_bp(amount: int, bp: int, mode: RoundingMode = RoundingMode.HALF_UP) -> int:
    """The part of ``amount`` that ``bp`` basis points make: apply_bp(1000, 9000) == 900."""
    return mul_div(amount, bp, BP_WHOLE, mode)


def round_fen(amount: int, to: RoundTo, mode: RoundingMode) -> int:
    """Round an amount of fen to the jiao or yuan (抹零)."""
    return mul_div(amount, 1, int(to), mode) * int(to)


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` over ``weights`` exactly (largest remainder, ties to the earliest).

    The parts always sum to ``total``; a zero weight gets zero unless all weights are zero,
    in which case everything goes to the first part.
    """
    if not weights:
        if total:
            raise ValueError("cannot allocate a non-zero total over no parts")
        return []
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    whole = sum(weights)
    if whole == 0:
        return [total] + [0] * (len(weights) - 1)
    sign = -1 if total < 0 else 1
    magnitude = abs(total)
    parts = [magnitude * w // whole for w in weights]
    remainders = sorted(
        range(len(weights)), key=lambda i: (-(magnitude * weights[i] % whole), i)
    )
    for i in remainders[: magnitude - sum(parts)]:
        parts[i] += 1
    return [sign * p for p in parts]


def format_fen(fen: int) -> str:
    """Format fen for people: 123450 -> '¥1,234.50', -5 -> '-¥0.05'."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}¥{yuan:,}.{cents:02d}"


def parse_yuan(text: str) -> int:
    """Parse what a person types ('1000', '12.5', '¥1,234.50') into fen; raise ValueError."""
    cleaned = text.strip().replace(",", "").replace("¥", "").replace("￥", "").strip()
    negative = cleaned.startswith("-")
    if negative:
        cleaned = cleaned[1:]
    whole, _, frac = cleaned.partition(".")
    if not whole.isdigit() and not (whole == "" and frac):
        raise ValueError(f"not an amount of money: {text!r}")
    if frac and (not frac.isdigit() or len(frac) > 2):
        raise ValueError(f"not an amount of money: {text!r}")
    fen = int(whole or "0") * 100 + int((frac + "00")[:2])
    return -fen if negative else fen
