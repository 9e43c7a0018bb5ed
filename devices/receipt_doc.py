"""A receipt as a document of blocks, in the words it prints (already translated).

The hub builds one from a ticket or a recharge (texts from the i18n catalog, money
formatted, the member masked); ``devices.receipt_layout`` lays it out at 32 or 48
columns, the ESC/POS adapter encodes and prints it, and the preview renders it as a
PNG. Nothing here knows about tickets; a block is what one printed line or area is.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = [
    "Align",
    "Block",
    "Columns",
    "ItemLine",
    "Logo",
    "QrCode",
    "Receipt",
    "Row",
    "Rule",
    "Text",
]


class Align(Enum):
    LEFT = "left"
    CENTER = "center"
    RIGHT = "right"


@dataclass(frozen=True, slots=True)
class Text:
    """A paragraph, wrapped by display width; ``big`` prints double width and height."""

    text: str
    align: Align = Align.LEFT
    big: bool = False
    bold: bool = False


@dataclass(frozen=True, slots=True)
class Row:
    """A label on the left and a value on the right (totals, payments, balances)."""

    label: str
    value: str
    bold: bool = False


@dataclass(frozen=True, slots=True)
class Columns:
    """The heading of the item table, e.g. ("项目", "数量", "金额")."""

    name: str
    quantity: str
    amount: str


@dataclass(frozen=True, slots=True)
class ItemLine:
    """One ticket line: name (wrapped if long), quantity and amount; ``notes`` below it."""

    name: str
    quantity: str
    amount: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Rule:
    """A full-width line of ``char``."""

    char: str = "-"


@dataclass(frozen=True, slots=True)
class QrCode:
    """A QR code (e-receipt link, member code) with an optional caption under it."""

    payload: str
    caption: str = ""


@dataclass(frozen=True, slots=True)
class Logo:
    """A monochrome image printed centred (the store's logo): a path to a PNG."""

    path: str


Block = Text | Row | Columns | ItemLine | Rule | QrCode | Logo


@dataclass(frozen=True, slots=True)
class Receipt:
    """``job_id`` names the receipt for reprints (the ticket or recharge id)."""

    job_id: str
    blocks: tuple[Block, ...]
    cut: bool = True
