"""Members' identifiers: mobiles and card UIDs normalised on the way in, masked on the way out."""

from __future__ import annotations

import re
import unicodedata

from salon.errors import DomainError, ErrorCode

__all__ = ["mask_mobile", "mask_name", "normalize_card_uid", "normalize_mobile"]

_CN_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_MOBILE_SEPARATORS = re.compile(r"[\s\-()]")

_CARD_SEPARATORS = re.compile(r"[\s:\-]")
# Magstripe track 2 as a swipe reader types it: ;PAN=expiry/service/discretionary?
# Some readers drop the sentinels, so both are optional; the '=' is what marks a track.
_TRACK2 = re.compile(r";?([0-9]{6,19})=[0-9]*\??")
# Printed barcodes are 6-32 of [0-9A-Z]; that also admits every RFID/NFC UID in hex (4, 7
# or 10 bytes: 8, 14 or 20 characters) and in decimal (8-10 digits, as many readers print).
_CARD_UID = re.compile(r"[0-9A-Z]{6,32}")


def normalize_mobile(text: str) -> str:
    """The 11-digit CN mobile in ``text`` ('+86 138-1234-5678' -> '13812345678').

    Full-width digits (what a Chinese IME types) count as digits. Raises INVALID_MOBILE.
    """
    digits = _MOBILE_SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086") and len(digits) == 15:
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not _CN_MOBILE.fullmatch(digits):
        raise DomainError(ErrorCode.INVALID_MOBILE)
    return digits


def normalize_card_uid(text: str) -> str:
    """The card UID as stored: upper case, without spaces, colons or dashes.

    Accepts hex RFID UIDs ('04:a1:b2:c3'), decimal UIDs, magstripe track 2 (the PAN is the
    UID) and printed barcodes. A card read in hex by one reader and in decimal by another
    gives two different UIDs: the byte order of decimal output differs between readers, so
    converting would be a guess; stores configure their readers alike instead.
    Raises INVALID_CARD_UID.
    """
    cleaned = _CARD_SEPARATORS.sub("", text.strip().upper())
    if "=" in cleaned or cleaned.startswith(";"):
        track = _TRACK2.fullmatch(cleaned)
        if track is None:
            raise DomainError(ErrorCode.INVALID_CARD_UID)
        return track.group(1)
    if not _CARD_UID.fullmatch(cleaned):
        raise DomainError(ErrorCode.INVALID_CARD_UID)
    return cleaned


def mask_mobile(mobile: str) -> str:
    """'13812345678' -> '138****5678'; anything too short to keep both ends is all stars."""
    if len(mobile) < 8:
        return "*" * len(mobile)
    return mobile[:3] + "*" * (len(mobile) - 7) + mobile[-4:]


def _is_wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def mask_name(name: str) -> str:
    """'张三' -> '张*', '欧阳娜娜' -> '欧***', 'Alice Smith' -> 'A***', '' -> ''.

    A CJK name keeps its length (one star per hidden character), as 前台 staff are used to;
    a Latin name always shows three stars so its length gives nothing away.
    """
    name = name.strip()
    if not name:
        return ""
    if any(_is_wide(char) for char in name):
        return name[0] + "*" * (len(name) - 1)
    return name[0] + "***"
