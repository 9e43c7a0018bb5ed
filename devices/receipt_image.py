"""A laid-out receipt drawn as a 1-bit image: raster printing and the PNG preview.

The image keeps the printer's grid: 12 dots a column at 203 dpi (384 dots for 32
columns, 576 for 48), a CJK character two columns, drawn in Noto Sans Mono CJK SC
(fonts-noto-cjk) whose Latin is exactly half its CJK width. Each character is placed in
its own cells, so the image lines up exactly as the printer's text does.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from pathlib import Path

import qrcode
import qrcode.constants
from PIL import Image, ImageDraw, ImageFont

from devices.errors import DeviceError, DeviceErrorCode
from devices.receipt_doc import Align
from devices.receipt_layout import Layout, LogoLine, QrLine, TextLine

__all__ = ["CELL", "FONT_DIRS", "find_font", "load_logo", "qr_image", "qr_module", "render_receipt"]

log = logging.getLogger(__name__)

CELL = 12
"""Dots a column takes: Font A of an ESC/POS printer is 12 x 24 dots."""

FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts")
_FONT_FILES = {False: "NotoSansCJK-Regular.ttc", True: "NotoSansCJK-Bold.ttc"}
_FAMILIES = ("Noto Sans Mono CJK SC", "Noto Sans CJK SC")  # the first has half-width Latin
_LINE = 30  # dots a text line takes: 24 for the glyphs and the printer's default spacing
_MARGIN = 8
_QR_BORDER = 2


@functools.cache
def find_font(bold: bool = False) -> tuple[str, int]:
    """The path and collection index of the CJK font; DeviceError(NOT_SUPPORTED) if none."""
    for directory in FONT_DIRS:
        for path in sorted(Path(directory).rglob(_FONT_FILES[bold])):
            found = _face_index(str(path))
            if found is not None:
                return str(path), found
    if bold:
        return find_font(False)
    raise DeviceError(DeviceErrorCode.NOT_SUPPORTED, {
        "device": "receipt_image",
        "reason": "no Noto Sans CJK font under /usr/share/fonts (install fonts-noto-cjk)",
    })


def _face_index(path: str) -> int | None:
    names: dict[str, int] = {}
    for index in range(16):
        try:
            family, _style = ImageFont.truetype(path, 12, index=index).getname()
        except OSError:
            break
        names.setdefault(str(family), index)
    return next((names[f] for f in _FAMILIES if f in names), None)


@functools.cache
def _font(size: int, bold: bool) -> ImageFont.FreeTypeFont:
    path, index = find_font(bold)
    return ImageFont.truetype(path, size, index=index)


def qr_module(payload: str, module: int, max_width: int) -> int:
    """``module`` (dots per module), made smaller if the symbol would not fit the paper.

    The printer's own QR encoder picks the same smallest version for the payload at
    error level M, so the ESC/POS bytes use this too.
    """
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(payload)
    code.make(fit=True)
    modules: int = code.modules_count
    return max(1, min(module, max_width // (modules + 2 * _QR_BORDER)))


def qr_image(payload: str, module: int, max_width: int) -> Image.Image:
    """The QR code, a two-module quiet zone around it, at most ``max_width`` dots wide."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M,
                         box_size=qr_module(payload, module, max_width), border=_QR_BORDER)
    code.add_data(payload)
    code.make(fit=True)
    image: Image.Image = code.make_image(fill_color="black", back_color="white").get_image()
    return image.convert("1")


def load_logo(path: str, max_width: int) -> Image.Image | None:
    """The logo as 1-bit (dithered), at most ``max_width`` wide; None if it cannot be read.

    A missing logo must not stop a receipt from printing, so it is logged and left out.
    """
    try:
        with Image.open(path) as source:
            image = source.convert("RGBA")
    except (OSError, ValueError) as err:
        log.warning("receipt logo %s cannot be read: %s", path, err)
        return None
    white = Image.new("RGBA", image.size, "white")
    gray = Image.alpha_composite(white, image).convert("L")
    if gray.width > max_width:
        height = max(1, round(gray.height * max_width / gray.width))
        gray = gray.resize((max_width, height), Image.Resampling.LANCZOS)
    return gray.convert("1")


def _line_height(line: TextLine) -> int:
    return _LINE * line.size.high


def _draw_text(draw: ImageDraw.ImageDraw, layout: Layout, line: TextLine, top: int) -> None:
    wide, high = line.size.value
    cell = CELL * wide
    font = _font(24 * high, line.bold)
    free = layout.columns // wide - layout.charset.width(line.text)
    column = {Align.LEFT: 0, Align.CENTER: free // 2, Align.RIGHT: free}[line.align]
    middle = top + _line_height(line) // 2
    for char in line.text:
        cells = layout.charset.width(char)
        if char != " " and cells:
            glyph = _glyph(font, char, cells * CELL, line.size.value)
            draw.bitmap((column * cell, middle - glyph.height // 2), glyph, fill=0)
        column += cells


def _glyph(font: ImageFont.FreeTypeFont, char: str, dots: int, size: tuple[int, int]
           ) -> Image.Image:
    """The character as a mask over its cells (``dots`` wide at normal size).

    A TALL character is drawn at double size, then narrowed to normal width, as the
    printer does with GS ! 0x01.
    """
    wide, high = size
    natural = dots * high
    drawn = Image.new("L", (natural, round(font.size * 1.5)), 0)
    offset = (natural - font.getlength(char)) / 2
    ImageDraw.Draw(drawn).text((offset, drawn.height / 2), char, fill=255, font=font, anchor="lm")
    if wide != high:
        drawn = drawn.resize((dots * wide, drawn.height), Image.Resampling.LANCZOS)
    return drawn


def _pieces(layout: Layout) -> Iterator[Image.Image | TextLine]:
    for line in layout.lines:
        if isinstance(line, TextLine):
            yield line
        elif isinstance(line, QrLine):
            yield qr_image(line.payload, line.module, layout.dots)
        elif isinstance(line, LogoLine):
            logo = load_logo(line.path, layout.dots)
            if logo is not None:
                yield logo


def render_receipt(layout: Layout, *, bottom: int = _MARGIN) -> Image.Image:
    """The whole receipt as a 1-bit image ``layout.dots`` wide (black is 0)."""
    pieces = list(_pieces(layout))
    height = _MARGIN + bottom + sum(
        _line_height(p) if isinstance(p, TextLine) else p.height for p in pieces)
    canvas = Image.new("L", (layout.dots, height), 255)
    draw = ImageDraw.Draw(canvas)
    top = _MARGIN
    for piece in pieces:
        if isinstance(piece, TextLine):
            _draw_text(draw, layout, piece, top)
            top += _line_height(piece)
        else:
            canvas.paste(piece.convert("L"), ((layout.dots - piece.width) // 2, top))
            top += piece.height
    # A hard threshold keeps strokes crisp on a thermal head (dithering greys them).
    return canvas.point(lambda v: 255 if v >= 128 else 0, mode="1")
