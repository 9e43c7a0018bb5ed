"""A small ESC/POS decoder: the bytes sent to a printer read back as operations.

It knows exactly the commands ``devices.escpos_bytes`` sends (and the drawer kick and
status queries) and rejects anything else, so a test or ``devices doctor`` sees every
byte accounted for. Text in Chinese mode must be GBK double-byte: a four-byte GB18030
sequence (what python-escpos sends for ``¥``) is refused, as a GBK printer would print
garbage for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from devices.errors import DeviceErrorCode
from devices.escpos_bytes import StatusQuery
from devices.ports import DeviceState
from devices.receipt_doc import Align

__all__ = [
    "DecodeError",
    "Op",
    "Printed",
    "PrintedLine",
    "decode",
    "describe",
    "read_status",
    "replay",
]

_ALIGNS = {0: Align.LEFT, 1: Align.CENTER, 2: Align.RIGHT, 48: Align.LEFT,
           49: Align.CENTER, 50: Align.RIGHT}
_QR_LEVELS = {48: "L", 49: "M", 50: "Q", 51: "H"}


class DecodeError(ValueError):
    """Bytes that are not the ESC/POS this project sends.

    A ValueError, not a DeviceError: it is a fault of the bytes (a bug), not of a device.
    """

    def __init__(self, offset: int, what: str, data: bytes) -> None:
        context = data[offset:offset + 8].hex(" ")
        super().__init__(f"{what} at offset {offset} (bytes: {context})")
        self.offset = offset


@dataclass(frozen=True, slots=True)
class Op:
    """One command: ``name`` ("text", "align", "qr_store", ...) and its decoded value."""

    name: str
    value: object = None


@dataclass(frozen=True, slots=True)
class PrintedLine:
    text: str
    align: Align
    bold: bool
    size: tuple[int, int]  # width and height factors (GS !)


@dataclass(slots=True)
class Printed:
    """What the paper would show: lines, QR payloads, raster sizes, cuts and pulses in order."""

    items: list[object] = field(default_factory=list)

    @property
    def lines(self) -> list[PrintedLine]:
        return [i for i in self.items if isinstance(i, PrintedLine)]

    def of(self, name: str) -> list[object]:
        return [i.value for i in self.items if isinstance(i, Op) and i.name == name]


class _Reader:
    def __init__(self, data: bytes, code_pages: Mapping[int, str]) -> None:
        self.data, self.pos, self.code_pages = data, 0, code_pages
        self.chinese, self.code_page = False, 0
        self.ops: list[Op] = []

    def take(self, count: int, what: str) -> bytes:
        if self.pos + count > len(self.data):
            raise DecodeError(self.pos, f"{what} cut short", self.data)
        chunk = self.data[self.pos:self.pos + count]
        self.pos += count
        return chunk

    def byte(self, what: str) -> int:
        return self.take(1, what)[0]

    def text(self) -> None:
        start = self.pos
        while self.pos < len(self.data) and self.data[self.pos] >= 0x20:
            lead = self.data[self.pos]
            if self.chinese and 0x81 <= lead <= 0xFE:
                trail = self.data[self.pos + 1] if self.pos + 1 < len(self.data) else -1
                if 0x30 <= trail <= 0x39:
                    raise DecodeError(self.pos, "four-byte GB18030 sequence", self.data)
                if not (0x40 <= trail <= 0xFE and trail != 0x7F):
                    raise DecodeError(self.pos, "broken GBK double-byte character", self.data)
                self.pos += 2
            else:
                self.pos += 1
        raw = self.data[start:self.pos]
        codec = "gb18030" if self.chinese else self.code_pages.get(self.code_page)
        if codec is None:
            raise DecodeError(start, f"text in unknown code page {self.code_page}", self.data)
        try:
            self.ops.append(Op("text", raw.decode(codec)))
        except UnicodeDecodeError as err:
            raise DecodeError(start + err.start, f"not {codec} text", self.data) from err

    def esc(self) -> None:
        command = chr(self.byte("ESC command"))
        if command == "@":
            self.chinese, self.code_page = False, 0
            self.ops.append(Op("init"))
        elif command == "a":
            n = self.byte("ESC a")
            if n not in _ALIGNS:
                raise DecodeError(self.pos - 1, f"ESC a {n}", self.data)
            self.ops.append(Op("align", _ALIGNS[n]))
        elif command == "E":
            self.ops.append(Op("bold", bool(self.byte("ESC E") & 1)))
        elif command == "t":
            self.code_page = self.byte("ESC t")
            self.ops.append(Op("code_page", self.code_page))
        elif command == "d":
            self.ops.append(Op("feed", self.byte("ESC d")))
        elif command == "p":
            pin, on, off = self.take(3, "ESC p")
            if pin not in (0, 1, 48, 49):
                raise DecodeError(self.pos - 3, f"drawer pin {pin}", self.data)
            self.ops.append(Op("drawer_pulse", (pin & 1, on * 2, off * 2)))
        else:
            raise DecodeError(self.pos - 2, f"unknown command ESC {command!r}", self.data)

    def gs(self) -> None:
        command = chr(self.byte("GS command"))
        if command == "!":
            n = self.byte("GS !")
            self.ops.append(Op("size", ((n >> 4) + 1, (n & 0x0F) + 1)))
        elif command == "V":
            m = self.byte("GS V")
            if m in (65, 66):
                self.ops.append(Op("cut", (m == 66, self.byte("GS V n"))))
            elif m in (0, 1, 48, 49):
                self.ops.append(Op("cut", (m & 1 == 1, 0)))
            else:
                raise DecodeError(self.pos - 1, f"GS V {m}", self.data)
        elif command == "(":
            self.gs_k()
        elif command == "v":
            if self.byte("GS v") != 0x30:
                raise DecodeError(self.pos - 1, "GS v other than GS v 0", self.data)
            _mode, xl, xh, yl, yh = self.take(5, "GS v 0")
            width, height = (xl + 256 * xh) * 8, yl + 256 * yh
            self.take(width // 8 * height, "GS v 0 image data")
            self.ops.append(Op("raster", (width, height)))
        else:
            raise DecodeError(self.pos - 2, f"unknown command GS {command!r}", self.data)

    def gs_k(self) -> None:
        if self.byte("GS (") != ord("k"):
            raise DecodeError(self.pos - 1, "GS ( other than GS ( k", self.data)
        start = self.pos
        pl, ph, cn, fn = self.take(4, "GS ( k")
        if pl + 256 * ph < 3:  # cn, fn and at least one parameter byte
            raise DecodeError(start, f"GS ( k of {pl + 256 * ph} bytes", self.data)
        body = self.take(pl + 256 * ph - 2, "GS ( k data")
        if cn != 49:
            raise DecodeError(self.pos, f"2D code {cn} other than QR (49)", self.data)
        if fn == 65:
            self.ops.append(Op("qr_model", body[0] - 48))
        elif fn == 67:
            self.ops.append(Op("qr_module", body[0]))
        elif fn == 69:
            self.ops.append(Op("qr_level", _QR_LEVELS.get(body[0], "?")))
        elif fn == 80:
            try:
                self.ops.append(Op("qr_store", body[1:].decode("utf-8")))
            except UnicodeDecodeError as err:
                raise DecodeError(start + 5 + err.start, "QR data not UTF-8", self.data) from err
        elif fn == 81:
            self.ops.append(Op("qr_print"))
        else:
            raise DecodeError(self.pos, f"QR function {fn}", self.data)

    def fs(self) -> None:
        command = chr(self.byte("FS command"))
        if command == "&":
            self.chinese = True
            self.ops.append(Op("chinese", True))
        elif command == ".":
            self.chinese = False
            self.ops.append(Op("chinese", False))
        elif command == "!":
            n = self.byte("FS !")
            self.ops.append(Op("kanji_size", (2 if n & 0x04 else 1, 2 if n & 0x08 else 1)))
        else:
            raise DecodeError(self.pos - 2, f"unknown command FS {command!r}", self.data)

    def run(self) -> list[Op]:
        while self.pos < len(self.data):
            head = self.data[self.pos]
            if head >= 0x20:
                self.text()
                continue
            self.pos += 1
            if head == 0x0A:
                self.ops.append(Op("line_feed"))
            elif head == 0x1B:
                self.esc()
            elif head == 0x1D:
                self.gs()
            elif head == 0x1C:
                self.fs()
            elif head == 0x10 and self.byte("DLE") == 0x04:
                self.ops.append(Op("status_query", self.byte("DLE EOT")))
            else:
                raise DecodeError(self.pos - 1, f"unknown control byte 0x{head:02x}", self.data)
        return self.ops


def decode(data: bytes, *, code_pages: Mapping[int, str] | None = None) -> list[Op]:
    """The operations in ``data``; ``code_pages`` maps ESC t numbers to Python codecs."""
    return _Reader(data, code_pages if code_pages is not None else {0: "cp437"}).run()


def replay(ops: list[Op]) -> Printed:
    """Run the operations like a printer: each line feed prints the line with its style."""
    printed = Printed()
    text, align, bold, size = "", Align.LEFT, False, (1, 1)
    pending_qr: str | None = None
    for op in ops:
        if op.name == "text":
            text += str(op.value)
        elif op.name == "line_feed":
            printed.items.append(PrintedLine(text, align, bold, size))
            text = ""
        elif op.name == "init":
            align, bold, size = Align.LEFT, False, (1, 1)
        elif op.name == "align" and isinstance(op.value, Align):
            align = op.value
        elif op.name == "bold":
            bold = bool(op.value)
        elif op.name == "size" and isinstance(op.value, tuple):
            size = (int(op.value[0]), int(op.value[1]))
        elif op.name == "qr_store":
            pending_qr = str(op.value)
        elif op.name == "qr_print":
            printed.items.append(Op("qr", pending_qr))
        elif op.name in ("raster", "cut", "drawer_pulse", "feed"):
            printed.items.append(op)
    return printed


def describe(ops: list[Op]) -> list[str]:
    """One readable line per operation, for ``devices doctor``."""
    return [op.name if op.value is None else f"{op.name} {op.value!r}" for op in ops]


def _valid(answer: int) -> bool:
    # Every DLE EOT answer has bits 1 and 4 set and bits 0 and 7 clear.
    return answer & 0x93 == 0x12


def read_status(answers: Mapping[StatusQuery, int]) -> tuple[DeviceState, DeviceErrorCode | None]:
    """The state the DLE EOT answers say (Epson's bit layout, shared by clone printers).

    No (or no valid) answer to DLE EOT 1 is STATUS_UNKNOWN: the printer is connected
    but says nothing, as many cheap ones do. Paper near its end still prints, so it is
    CONNECTED with the reason PAPER_LOW.
    """
    printer = answers.get(StatusQuery.PRINTER)
    if printer is None or not _valid(printer):
        return DeviceState.CONNECTED, DeviceErrorCode.STATUS_UNKNOWN
    cause = answers.get(StatusQuery.OFFLINE_CAUSE, 0x12)
    paper = answers.get(StatusQuery.PAPER, 0x12)
    cause = cause if _valid(cause) else 0x12
    paper = paper if _valid(paper) else 0x12
    if cause & 0x04:
        return DeviceState.ERROR, DeviceErrorCode.COVER_OPEN
    if cause & 0x20 or paper & 0x60:
        return DeviceState.ERROR, DeviceErrorCode.PAPER_OUT
    if cause & 0x40:
        return DeviceState.ERROR, DeviceErrorCode.PRINTER_FAULT
    if printer & 0x08:
        return DeviceState.ERROR, DeviceErrorCode.PRINTER_OFFLINE
    if paper & 0x0C:
        return DeviceState.CONNECTED, DeviceErrorCode.PAPER_LOW
    return DeviceState.CONNECTED, None
