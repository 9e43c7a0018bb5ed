"""A receipt laid out into printed lines at 32 columns (58 mm) or 48 columns (80 mm).

One layout feeds three renderers (the ESC/POS bytes, the raster image for a printer
without a Chinese font, and the PNG preview), so they cannot disagree about where a
column is. Widths are the printer's: an ASCII character is one column, every GBK
double-byte character two (``devices.text_width``); python-escpos pads by ``len()``,
which misaligns every Chinese row. Text is cleaned to what the charset can print first.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from devices.gbk_text import GBK, Charset
from devices.receipt_doc import (
    Align,
    Block,
    Columns,
    ItemLine,
    Logo,
    QrCode,
    Receipt,
    Row,
    Rule,
    Text,
)
from devices.text_width import fit, wrap

__all__ = [
    "DOTS",
    "WIDTHS",
    "Layout",
    "Line",
    "LogoLine",
    "QrLine",
    "Size",
    "TextLine",
    "lay_out",
]

WIDTHS = (32, 48)
"""Font A columns of a 58 mm and an 80 mm printer."""

DOTS = {32: 384, 48: 576}
"""Printable dots across the paper at 203 dpi: 12 dots a column."""

_QR_MODULE = {32: 6, 48: 8}  # dots per QR module: about 30 mm square for a short URL


@dataclass(frozen=True, slots=True)
class _Table:
    name: int
    quantity: int
    amount: int


# The amount column holds "-￥12,345.00" (12 columns at 80 mm), "￥1,234.50" at 58 mm.
_TABLES = {32: _Table(16, 5, 11), 48: _Table(28, 8, 12)}


class Size(Enum):
    """How big a line prints: (width, height) factors of Font A."""

    NORMAL = (1, 1)
    TALL = (1, 2)  # a big text too long for one line at double width
    BIG = (2, 2)

    @property
    def wide(self) -> int:
        return self.value[0]

    @property
    def high(self) -> int:
        return self.value[1]


@dataclass(frozen=True, slots=True)
class TextLine:
    """One printed line; a BIG one has half as many columns."""

    text: str
    align: Align = Align.LEFT
    bold: bool = False
    size: Size = Size.NORMAL


@dataclass(frozen=True, slots=True)
class QrLine:
    payload: str
    module: int


@dataclass(frozen=True, slots=True)
class LogoLine:
    path: str


Line = TextLine | QrLine | LogoLine


@dataclass(frozen=True, slots=True)
class Layout:
    """``replaced`` are the characters that printed as ``?``, for the log."""

    job_id: str
    columns: int
    charset: Charset
    lines: tuple[Line, ...]
    cut: bool
    replaced: tuple[str, ...] = ()

    @property
    def dots(self) -> int:
        return DOTS[self.columns]

    def width(self, line: TextLine) -> int:
        """Columns the line covers on paper (a BIG character covers twice its width)."""
        return self.charset.width(line.text) * line.size.wide

    def as_text(self) -> list[str]:
        """The text lines as they stand on paper, aligned with spaces (tests, doctor)."""
        out: list[str] = []
        for line in self.lines:
            if isinstance(line, TextLine):
                cols = self.columns // line.size.wide
                out.append(fit(line.text, cols, line.align, ambiguous=self.charset.ambiguous))
            elif isinstance(line, QrLine):
                out.append(fit(f"[QR {line.payload}]", self.columns, Align.CENTER))
            else:
                out.append(fit("[logo]", self.columns, Align.CENTER))
        return out


class _Builder:
    def __init__(self, columns: int, charset: Charset) -> None:
        self.columns = columns
        self.charset = charset
        self.lines: list[Line] = []
        self.replaced: list[str] = []

    def clean(self, text: str) -> str:
        cleaned = self.charset.clean(text)
        self.replaced.extend(cleaned.replaced)
        return cleaned.text

    def wrap(self, text: str, width: int) -> list[str]:
        return wrap(text, width, ambiguous=self.charset.ambiguous)

    def fit(self, text: str, width: int, align: Align = Align.LEFT) -> str:
        return fit(text, width, align, ambiguous=self.charset.ambiguous)

    def add(self, text: str, *, align: Align = Align.LEFT, bold: bool = False) -> None:
        self.lines.append(TextLine(text, align, bold))

    def block(self, block: Block) -> None:
        if isinstance(block, Text):
            self.text(block)
        elif isinstance(block, Row):
            self.row(self.clean(block.label), self.clean(block.value), block.bold)
        elif isinstance(block, Columns):
            self.table_row(block.name, block.quantity, block.amount, bold=True)
        elif isinstance(block, ItemLine):
            self.item(block)
        elif isinstance(block, Rule):
            char = self.clean(block.char)[:1] or "-"
            self.add(char * (self.columns // self.charset.width(char)))
        elif isinstance(block, QrCode):
            self.lines.append(QrLine(block.payload, _QR_MODULE[self.columns]))
            if block.caption:
                for line in self.wrap(self.clean(block.caption), self.columns):
                    self.add(line, align=Align.CENTER)
        elif isinstance(block, Logo):
            self.lines.append(LogoLine(block.path))

    def text(self, block: Text) -> None:
        for paragraph in map(self.clean, block.text.split("\n")):
            size = Size.NORMAL
            if block.big:
                # Double width only if it fits one line: "丝域美发 · 徐汇" over "店" reads badly.
                fits = self.charset.width(paragraph) <= self.columns // 2
                size = Size.BIG if fits else Size.TALL
            for line in self.wrap(paragraph, self.columns // size.wide):
                self.lines.append(TextLine(line, block.align, block.bold, size))

    def row(self, label: str, value: str, bold: bool) -> None:
        """Label left, value right-aligned to the last column; a long label wraps."""
        room = self.columns - self.charset.width(value) - 1
        if room >= self.columns // 3:
            first, *rest = self.wrap(label, room)
            self.add(self.fit(first, room + 1) + value, bold=bold)
            for line in rest:
                self.add(line, bold=bold)
            return
        for line in self.wrap(label, self.columns):
            self.add(line, bold=bold)
        for line in self.wrap(value, self.columns):
            self.add(line, align=Align.RIGHT, bold=bold)

    def table_row(self, name: str, quantity: str, amount: str, *, bold: bool = False) -> None:
        table = _TABLES[self.columns]
        name, quantity, amount = self.clean(name), self.clean(quantity), self.clean(amount)
        names = self.wrap(name, table.name - 1)
        fits = (self.charset.width(quantity) < table.quantity
                and self.charset.width(amount) < table.amount)
        if fits:
            self.add(self.fit(names[0], table.name)
                     + self.fit(quantity, table.quantity, Align.RIGHT)
                     + self.fit(amount, table.amount, Align.RIGHT), bold=bold)
            names = names[1:]
        for line in names:
            self.add(line, bold=bold)
        if not fits:
            self.row("", f"{quantity} {amount}", bold)

    def item(self, block: ItemLine) -> None:
        self.table_row(block.name, block.quantity, block.amount)
        for note in block.notes:
            for line in self.wrap(self.clean(note), self.columns - 2):
                self.add("  " + line)


def lay_out(receipt: Receipt, columns: int, charset: Charset = GBK) -> Layout:
    """Lay ``receipt`` out at ``columns`` (32 or 48) in what ``charset`` prints."""
    if columns not in WIDTHS:
        raise ValueError(f"a receipt is 32 or 48 columns wide, not {columns}")
    builder = _Builder(columns, charset)
    for block in receipt.blocks:
        builder.block(block)
    return Layout(receipt.job_id, columns, charset, tuple(builder.lines), receipt.cut,
                  tuple(builder.replaced))
