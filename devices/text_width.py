"""Text measured in printer columns: a CJK character takes two, and is never split.

``len()`` counts characters, but a receipt printer's Chinese font prints every GBK
double-byte character (汉字, ￥, full-width punctuation, and the East Asian "ambiguous"
ones such as ·, ×, °, — that a terminal draws narrow) two columns wide. So the width of
an ambiguous character is a parameter: 2 for GBK text (what the printer does), 1 for a
single-byte code page.
"""

from __future__ import annotations

import unicodedata

from devices.receipt_doc import Align

__all__ = ["char_width", "display_width", "fit", "truncate", "wrap"]


def _is_wide(char: str) -> bool:
    """A CJK character, full-width form or emoji: two columns on paper and on screen."""
    return unicodedata.east_asian_width(char) in ("W", "F")


def char_width(char: str, *, ambiguous: int = 1) -> int:
    """Columns one character takes: 0 (combining, zero-width), 1 or 2."""
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    if _is_wide(char):
        return 2
    if unicodedata.east_asian_width(char) == "A":
        return ambiguous
    return 1


def display_width(text: str, *, ambiguous: int = 1) -> int:
    return sum(char_width(c, ambiguous=ambiguous) for c in text)


def truncate(text: str, width: int, *, ambiguous: int = 1) -> str:
    """The longest prefix of ``text`` that fits in ``width`` columns."""
    used = 0
    for i, char in enumerate(text):
        used += char_width(char, ambiguous=ambiguous)
        if used > width:
            return text[:i]
    return text


def fit(text: str, width: int, align: Align = Align.LEFT, *, ambiguous: int = 1) -> str:
    """``text`` truncated to ``width`` and padded with spaces to exactly ``width`` columns.

    A wide character that would straddle the edge is dropped, so the result may be one
    column short of the text; the padding makes it up.
    """
    text = truncate(text, width, ambiguous=ambiguous)
    gap = width - display_width(text, ambiguous=ambiguous)
    if align is Align.RIGHT:
        return " " * gap + text
    if align is Align.CENTER:
        return " " * (gap // 2) + text + " " * (gap - gap // 2)
    return text + " " * gap


_NO_LINE_END = frozenset("（([{［｛「『【〈《〔〖“‘￥¥$-")
"""Opening brackets and quotes, and what comes before an amount: never the last on a line."""

_NO_LINE_START = frozenset("）)]}］｝」』】〉》〕〗”’，。、．,.！!？?：:；;…%％")
"""Closing brackets and quotes, and punctuation: never the first on a line."""


def _tokens(text: str) -> list[str]:
    """Words of narrow characters, single wide characters, and runs of spaces.

    A token that ends in an opening bracket takes the next one with it, and a closing
    bracket or punctuation mark joins the token before it, so no line ends in "（" or
    begins with "）" or "，" (kinsoku, as Chinese typesetting does it).
    """
    glued: list[str] = []
    for token in _raw_tokens(text):
        if (glued and token[0] != " " and glued[-1][-1] != " "
                and (glued[-1][-1] in _NO_LINE_END or token[0] in _NO_LINE_START)):
            glued[-1] += token
        else:
            glued.append(token)
    return glued


def _raw_tokens(text: str) -> list[str]:
    tokens: list[str] = []
    for char in text:
        if tokens and not _is_wide(char):
            last = tokens[-1]
            same_kind = (char == " ") == (last[-1] == " ")
            if same_kind and not _is_wide(last[-1]):
                tokens[-1] = last + char
                continue
        tokens.append(char)
    return tokens


def wrap(text: str, width: int, *, ambiguous: int = 1) -> list[str]:
    """``text`` broken into lines of at most ``width`` columns.

    Lines break between CJK characters anywhere and between Latin words at spaces; a word
    longer than a line is cut between characters. Leading spaces (an indent) are kept on
    the first line, trailing spaces dropped. An empty text is one empty line.
    """
    if width < 2:
        raise ValueError("a line must be at least 2 columns wide to hold a CJK character")
    lines: list[str] = []
    line, used = "", 0
    for token in _tokens(text):
        size = display_width(token, ambiguous=ambiguous)
        if used + size <= width:
            line, used = line + token, used + size
            continue
        if token[0] == " ":
            lines.append(line.rstrip())
            line, used = "", 0
            continue
        if line.strip():
            lines.append(line.rstrip())
            line, used = "", 0
        while size > width - used:
            head = truncate(token, width - used, ambiguous=ambiguous)
            if head:  # else only an indent was left to drop: the line is empty again
                lines.append((line + head).rstrip())
                token = token[len(head):]
                size = display_width(token, ambiguous=ambiguous)
            line, used = "", 0
        line, used = line + token, used + size
    lines.append(line.rstrip())
    return lines
