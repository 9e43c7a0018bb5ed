"""What a receipt printer can print: GBK double-byte characters or one code page.

python-escpos 3.1's text "magic" picks encodings per character and got Chinese wrong
when measured: a line of ``：，（）`` went out as ``ESC t 0`` and ``????``, and ``¥`` as
GB18030's four-byte ``81 30 84 36``, which a GBK printer prints as garbage. So receipts
are encoded here and sent raw: every character is printable ASCII (one byte, one
column) or a GBK double-byte character that GB18030 encodes the same (two bytes, two
columns). Anything else is substituted (``¥`` -> ``￥``) or replaced by ``?``, and each
replacement is reported so it can be logged and fixed where the text comes from.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

from devices.text_width import display_width

__all__ = [
    "GBK",
    "REPLACEMENT",
    "SUBSTITUTES",
    "Charset",
    "Cleaned",
    "code_page_charset",
    "is_gbk_printable",
]

REPLACEMENT = "?"

_SPACES = "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\t"
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\ufe0e\ufe0f\r"

SUBSTITUTES: dict[str, tuple[str, ...]] = {
    # Tried in order, only when the character itself cannot be printed as it is.
    "¥": ("￥", "Y"),  # salon.money.format_fen writes U+00A5; GBK has only the full-width one
    "￥": ("¥", "Y"),  # for a code page: most have U+00A5, none has U+FFE5
    "€": ("EUR",),  # GB18030's A2E3 is not in GBK, and GBK's 0x80 is a single byte
    "•": ("·", "*"),
    "・": ("·", "*"),  # katakana middle dot, what a Japanese IME types
    "‧": ("·", "*"),
    "〜": ("～", "~"),
    "−": ("-",),  # minus sign
    "‑": ("-",),  # non-breaking hyphen
    "‒": ("-",),
    "–": ("-",),  # en dash: GBK has it, code pages mostly not
    "—": ("-",),
    "…": ("...",),
    "‘": ("'",),
    "’": ("'",),
    "“": ('"',),
    "”": ('"',),
    "×": ("x",),
    "·": (".",),
    "™": ("TM",),
    "©": ("(C)",),
    "®": ("(R)",),
    **{space: (" ",) for space in _SPACES},
    **{mark: ("",) for mark in _INVISIBLE},
}


def _printable_ascii(char: str) -> bool:
    return " " <= char <= "~"


@functools.lru_cache(maxsize=4096)
def is_gbk_printable(char: str) -> bool:
    """True for printable ASCII and for a GBK double-byte character GB18030 encodes alike."""
    if _printable_ascii(char):
        return True
    if unicodedata.category(char) in ("Co", "Cc", "Cs"):  # private use: user-defined glyphs
        return False
    try:
        gbk, gb18030 = char.encode("gbk"), char.encode("gb18030")
    except UnicodeEncodeError:
        return False
    return len(gbk) == 2 and gbk == gb18030 and 0x81 <= gbk[0] <= 0xFE


@dataclass(frozen=True, slots=True)
class Cleaned:
    """Text the printer can print, and the characters that had to become ``?``."""

    text: str
    replaced: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Charset:
    """The characters one printer mode prints, how wide they print, and their bytes.

    ``codec`` is a Python codec: "gb18030" or "gbk" for a printer with a Chinese font
    (the same bytes, since only characters both encode alike are kept), or a code page
    such as "cp858". ``ambiguous`` is the width of East Asian ambiguous characters.
    """

    codec: str
    double_byte: bool

    @property
    def ambiguous(self) -> int:
        return 2 if self.double_byte else 1

    def can_print(self, char: str) -> bool:
        if self.double_byte:
            return is_gbk_printable(char)
        return _code_page_printable(char, self.codec)

    def clean(self, text: str) -> Cleaned:
        """``text`` in printable characters: substitutes first, then NFKC, then ``?``."""
        out: list[str] = []
        replaced: list[str] = []
        for char in unicodedata.normalize("NFC", text):
            if self.can_print(char):
                out.append(char)
                continue
            candidates = (*SUBSTITUTES.get(char, ()), unicodedata.normalize("NFKC", char))
            for candidate in candidates:
                if all(self.can_print(c) for c in candidate) and candidate != char:
                    out.append(candidate)
                    break
            else:
                out.append(REPLACEMENT)
                replaced.append(char)
        return Cleaned("".join(out), tuple(replaced))

    def width(self, text: str) -> int:
        """Columns ``text`` (already cleaned) prints in."""
        return display_width(text, ambiguous=self.ambiguous)

    def encode(self, text: str) -> bytes:
        """The bytes of cleaned ``text``; ValueError names a character that was not cleaned."""
        for char in text:
            if not self.can_print(char):
                raise ValueError(f"U+{ord(char):04X} is not printable in {self.codec}")
        return text.encode(self.codec)


@functools.lru_cache(maxsize=4096)
def _code_page_printable(char: str, codec: str) -> bool:
    if _printable_ascii(char):
        return True
    if unicodedata.category(char).startswith("C"):
        return False
    try:
        return len(char.encode(codec)) == 1
    except UnicodeEncodeError:
        return False


GBK = Charset("gb18030", double_byte=True)
"""A printer with a Chinese font (bytes identical under "gbk")."""


def code_page_charset(codec: str) -> Charset:
    """A single-byte code page by its Python codec name ("cp437", "cp858", ...)."""
    try:
        "".encode(codec)
    except LookupError as err:
        raise ValueError(f"unknown codec {codec!r}") from err
    return Charset(codec.lower(), double_byte=False)
