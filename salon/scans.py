"""What a scanner or card reader read, as typed inputs: barcodes, pay codes, cards.

A scanner that acts as a keyboard sends only text, so the kind of code is told from
its shape: a pay code by the wallets' published prefixes and lengths, an EAN/UPC by
its length and check digit, anything else printable as Code 128 or a QR payload.
These are not domain events (nothing of them is committed to the journal); the hub
turns them into commands (look up a member, add a product, pay by pay code).
Scanned text is never logged: a pay code is a bearer token for the customer's wallet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from salon.errors import DomainError
from salon.masking import normalize_card_uid
from salon.payments import PaymentMethod, recognise_pay_code

__all__ = [
    "BarcodeScanned",
    "CardPresented",
    "CardSource",
    "DeviceInput",
    "GarbledReason",
    "PayCodeScanned",
    "ScanGarbled",
    "Symbology",
    "Wallet",
    "classify_card",
    "classify_scan",
    "gtin_check_ok",
]


class Symbology(Enum):
    EAN13 = "ean13"
    EAN8 = "ean8"
    UPCA = "upca"
    CODE128 = "code128"
    QR = "qr"


class Wallet(Enum):
    WECHAT = "wechat"
    ALIPAY = "alipay"


class CardSource(Enum):
    RFID = "rfid"
    MAGSTRIPE = "magstripe"


class GarbledReason(Enum):
    EMPTY = "empty"
    CHECK_DIGIT = "check_digit"
    NOT_PRINTABLE = "not_printable"
    BAD_CARD = "bad_card"
    FRAMING = "framing"


@dataclass(frozen=True, slots=True)
class BarcodeScanned:
    device_id: str
    at: datetime
    code: str
    symbology: Symbology


@dataclass(frozen=True, slots=True)
class PayCodeScanned:
    device_id: str
    at: datetime
    code: str
    wallet: Wallet


@dataclass(frozen=True, slots=True)
class CardPresented:
    device_id: str
    at: datetime
    uid: str
    source: CardSource


@dataclass(frozen=True, slots=True)
class ScanGarbled:
    """A read that is no usable code; ``length`` only, never the text (it may be a pay code)."""

    device_id: str
    at: datetime
    reason: GarbledReason
    length: int


DeviceInput = BarcodeScanned | PayCodeScanned | CardPresented | ScanGarbled

_DIGITS = re.compile(r"[0-9]+")
_GTIN = {13: Symbology.EAN13, 12: Symbology.UPCA, 8: Symbology.EAN8}
_CODE128_MAX = 48
"""Longer printable payloads, and any with non-ASCII text, come from 2D (QR) codes."""


def gtin_check_ok(digits: str) -> bool:
    """The GS1 check digit (EAN-13, EAN-8, UPC-A): weights 3,1,... from the right."""
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def classify_scan(text: str, device_id: str, at: datetime) -> DeviceInput:
    """The typed input a scanner's text is: pay code, EAN/UPC, Code 128 or QR payload."""
    code = text.strip()
    if not code:
        return ScanGarbled(device_id, at, GarbledReason.EMPTY, 0)
    if not code.isprintable():
        return ScanGarbled(device_id, at, GarbledReason.NOT_PRINTABLE, len(code))
    if _DIGITS.fullmatch(code):
        try:  # the checkout's own rule (salon.payments), so a scan and a payment agree
            method = recognise_pay_code(code)
        except DomainError:
            pass
        else:
            wallet = Wallet.WECHAT if method is PaymentMethod.WECHAT else Wallet.ALIPAY
            return PayCodeScanned(device_id, at, code, wallet)
        symbology = _GTIN.get(len(code))
        if symbology is not None:
            if not gtin_check_ok(code):
                return ScanGarbled(device_id, at, GarbledReason.CHECK_DIGIT, len(code))
            return BarcodeScanned(device_id, at, code, symbology)
    if code.isascii() and len(code) <= _CODE128_MAX and " " not in code:
        return BarcodeScanned(device_id, at, code, Symbology.CODE128)
    return BarcodeScanned(device_id, at, code, Symbology.QR)


def classify_card(raw: str, device_id: str, at: datetime) -> CardPresented | ScanGarbled:
    """A card reader's text as a normalised UID (magstripe track 2: its PAN)."""
    source = CardSource.MAGSTRIPE if "=" in raw else CardSource.RFID
    try:
        uid = normalize_card_uid(raw)
    except DomainError:
        return ScanGarbled(device_id, at, GarbledReason.BAD_CARD, len(raw.strip()))
    return CardPresented(device_id, at, uid, source)
