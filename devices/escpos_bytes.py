"""The ESC/POS byte stream of a laid-out receipt, and the status queries.

Built here rather than through python-escpos's ``text()``/``set()``, whose encoding
"magic" sends Chinese as the wrong code page (see ``devices.gbk_text``); the adapter
hands these bytes to the connection's ``_raw()``. A printer with a Chinese font gets
text in Chinese mode (``FS &``); one without gets text in its code page when the
receipt fits it, and otherwise the whole receipt as a raster image (``GS v 0``).
The drawer kick (ESC p) is ``devices.drawer.kick_command``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from PIL import Image

from devices.gbk_text import GBK, Charset, code_page_charset
from devices.receipt_doc import Align, Receipt
from devices.receipt_image import load_logo, qr_module, render_receipt
from devices.receipt_layout import Layout, LogoLine, QrLine, Size, TextLine, lay_out

__all__ = [
    "CUT",
    "INIT",
    "PrintFormat",
    "QrLevel",
    "Rendered",
    "StatusQuery",
    "layout_bytes",
    "qr_bytes",
    "raster_bytes",
    "receipt_bytes",
    "status_query",
]

ESC, GS, FS, DLE, EOT, LF = 0x1B, 0x1D, 0x1C, 0x10, 0x04, 0x0A

INIT = bytes([ESC, ord("@")])
CHINESE_ON = bytes([FS, ord("&")])
CUT = bytes([GS, ord("V"), 1])  # partial cut: the paper stays attached by a tab
FEED_BEFORE_CUT = 4  # lines from the print head to the cutter on 58 and 80 mm printers
RASTER_BAND = 256  # rows per GS v 0: cheap printers lose data on taller bands

_ALIGN = {Align.LEFT: 0, Align.CENTER: 1, Align.RIGHT: 2}
_INVERT = bytes(255 - b for b in range(256))


class StatusQuery(IntEnum):
    """DLE EOT n: the real-time status a printer answers with one byte."""

    PRINTER = 1
    OFFLINE_CAUSE = 2
    ERROR_CAUSE = 3
    PAPER = 4


class QrLevel(IntEnum):
    L = 48
    M = 49
    Q = 50
    H = 51


def status_query(query: StatusQuery) -> bytes:
    return bytes([DLE, EOT, query])


def _gs_k(fn: int, payload: bytes) -> bytes:
    size = len(payload) + 2
    return bytes([GS, ord("("), ord("k"), size & 0xFF, size >> 8, 49, fn]) + payload


def qr_bytes(payload: str, module: int, level: QrLevel = QrLevel.M) -> bytes:
    """GS ( k for QR: model 2, module size, error level, store the data, print it."""
    data = payload.encode("utf-8")
    if len(data) > 7089:
        raise ValueError("a QR code holds at most 7089 bytes")
    return b"".join((
        _gs_k(65, bytes([50, 0])),
        _gs_k(67, bytes([module])),
        _gs_k(69, bytes([level])),
        _gs_k(80, b"0" + data),
        _gs_k(81, b"0"),
    ))


def raster_bytes(image: Image.Image) -> bytes:
    """GS v 0 in bands of RASTER_BAND rows; black (0 in a Pillow "1" image) prints."""
    width = (image.width + 7) // 8 * 8
    if width != image.width:
        padded = Image.new("1", (width, image.height), 1)
        padded.paste(image.convert("1"), (0, 0))
        image = padded
    else:
        image = image.convert("1")
    out = bytearray()
    for top in range(0, image.height, RASTER_BAND):
        band = image.crop((0, top, width, min(top + RASTER_BAND, image.height)))
        x, y = width // 8, band.height
        out += bytes([GS, ord("v"), ord("0"), 0, x & 0xFF, x >> 8, y & 0xFF, y >> 8])
        out += band.tobytes().translate(_INVERT)
    return bytes(out)


def _centred(image: Image.Image, dots: int) -> Image.Image:
    """``image`` on a white band of the paper's width, so no printer alignment is needed."""
    band = Image.new("1", (dots, image.height), 1)
    band.paste(image.convert("1"), ((dots - image.width) // 2, 0))
    return band


class _Stream:
    def __init__(self, chinese: bool) -> None:
        self.out = bytearray()
        self.chinese = chinese
        self.align, self.bold, self.size = Align.LEFT, False, Size.NORMAL

    def style(self, align: Align, bold: bool, size: Size = Size.NORMAL) -> None:
        if align is not self.align:
            self.out += bytes([ESC, ord("a"), _ALIGN[align]])
            self.align = align
        if bold != self.bold:
            self.out += bytes([ESC, ord("E"), int(bold)])
            self.bold = bold
        if size is not self.size:
            wide, high = size.value
            self.out += bytes([GS, ord("!"), (wide - 1) << 4 | (high - 1)])
            if self.chinese:  # Chinese characters take their size from FS ! on many models
                kanji = (0x04 if wide > 1 else 0) | (0x08 if high > 1 else 0)
                self.out += bytes([FS, ord("!"), kanji])
            self.size = size


def layout_bytes(layout: Layout, *, code_page: int | None = None) -> bytes:
    """The receipt as text: in Chinese mode for a GBK charset, else in ``code_page``."""
    stream = _Stream(layout.charset.double_byte)
    stream.out += INIT
    if layout.charset.double_byte:
        stream.out += CHINESE_ON
    elif code_page is not None:
        stream.out += bytes([ESC, ord("t"), code_page])
    for line in layout.lines:
        if isinstance(line, TextLine):
            stream.style(line.align, line.bold, line.size)
            stream.out += layout.charset.encode(line.text) + bytes([LF])
        elif isinstance(line, QrLine):
            stream.style(Align.CENTER, False)
            module = qr_module(line.payload, line.module, layout.dots)
            stream.out += qr_bytes(line.payload, module)
        elif isinstance(line, LogoLine):
            logo = load_logo(line.path, layout.dots)
            if logo is not None:
                stream.style(Align.LEFT, False)
                stream.out += raster_bytes(_centred(logo, layout.dots))
    stream.style(Align.LEFT, False)
    return bytes(stream.out) + _ending(layout.cut)


def _ending(cut: bool) -> bytes:
    # Without a cut the paper still feeds, so the last line clears the tear bar.
    return bytes([ESC, ord("d"), FEED_BEFORE_CUT]) + (CUT if cut else b"")


@dataclass(frozen=True, slots=True)
class PrintFormat:
    """How one printer takes text: its width, and its Chinese font or its code page.

    ``codec`` is "gb18030" or "gbk" with a Chinese font, else the code page's Python
    codec ("cp858") and ``code_page`` its ESC t number in the printer's profile.
    """

    columns: int = 32
    chinese_font: bool = True
    codec: str = "gb18030"
    code_page: int | None = None


@dataclass(frozen=True, slots=True)
class Rendered:
    data: bytes
    layout: Layout
    raster: bool


def receipt_bytes(receipt: Receipt, fmt: PrintFormat) -> Rendered:
    """The bytes to send for ``receipt``; see the module docstring for the three modes."""
    if fmt.chinese_font:
        layout = lay_out(receipt, fmt.columns, Charset(fmt.codec, double_byte=True))
        return Rendered(layout_bytes(layout), layout, raster=False)
    text = lay_out(receipt, fmt.columns, code_page_charset(fmt.codec))
    if not text.replaced:
        return Rendered(layout_bytes(text, code_page=fmt.code_page), text, raster=False)
    layout = lay_out(receipt, fmt.columns, GBK)
    image = render_receipt(layout)
    data = INIT + raster_bytes(image) + _ending(layout.cut)
    return Rendered(data, layout, raster=True)
