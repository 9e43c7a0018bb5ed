"""Scanned text becomes the right typed input: pay codes, EAN/UPC by check digit, cards."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salon.scans import (
    BarcodeScanned,
    CardPresented,
    CardSource,
    GarbledReason,
    PayCodeScanned,
    ScanGarbled,
    Symbology,
    Wallet,
    classify_card,
    classify_scan,
    gtin_check_ok,
)

AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def _scan(text: str) -> object:
    return classify_scan(text, "front-scanner", AT)


@pytest.mark.parametrize(
    ("code", "symbology"),
    [("6901234567892", Symbology.EAN13), ("036000291452", Symbology.UPCA),
     ("96385074", Symbology.EAN8)],
)
def test_gtin_codes_with_a_good_check_digit_are_barcodes(code: str, symbology: Symbology) -> None:
    assert _scan(code) == BarcodeScanned("front-scanner", AT, code, symbology)


def test_a_gtin_with_a_wrong_check_digit_is_garbled_and_keeps_no_text() -> None:
    result = _scan("6901234567893")
    assert result == ScanGarbled("front-scanner", AT, GarbledReason.CHECK_DIGIT, 13)


@pytest.mark.parametrize(
    ("code", "wallet"),
    [("134567890123456789", Wallet.WECHAT), ("104567890123456789", Wallet.WECHAT),
     ("281234567890123456", Wallet.ALIPAY), ("3012345678901234", Wallet.ALIPAY),
     ("251234567890123456789012", Wallet.ALIPAY)],
)
def test_pay_codes_are_told_by_their_wallet_prefix(code: str, wallet: Wallet) -> None:
    assert _scan(code) == PayCodeScanned("front-scanner", AT, code, wallet)


@pytest.mark.parametrize("code", ["164567890123456789", "2412345678901234", "31123456789012345",
                                  "2812345678901", "2512345678901234567890123",
                                  "1345678901234567"])  # WeChat's are 18 digits
def test_digits_outside_the_wallets_ranges_are_not_pay_codes(code: str) -> None:
    assert not isinstance(_scan(code), PayCodeScanned)


def test_code128_and_qr_payloads() -> None:
    assert _scan("SKU-A1/42") == BarcodeScanned("front-scanner", AT, "SKU-A1/42", Symbology.CODE128)
    url = "https://r.example.cn/e/8f3a2c?store=S01&ticket=T-000123"
    assert _scan(url) == BarcodeScanned("front-scanner", AT, url, Symbology.QR)
    member_code = "会员码 M-0001"
    assert _scan(member_code) == BarcodeScanned("front-scanner", AT, member_code, Symbology.QR)


def test_empty_and_control_characters_are_garbled() -> None:
    assert _scan("  ") == ScanGarbled("front-scanner", AT, GarbledReason.EMPTY, 0)
    assert _scan("69012\x0034567892") == ScanGarbled(
        "front-scanner", AT, GarbledReason.NOT_PRINTABLE, 14)


def test_cards_are_normalised_rfid_or_magstripe() -> None:
    assert classify_card("04:a1:b2:c3", "reader", AT) == CardPresented(
        "reader", AT, "04A1B2C3", CardSource.RFID)
    assert classify_card(";6212345678901234=2512101?", "reader", AT) == CardPresented(
        "reader", AT, "6212345678901234", CardSource.MAGSTRIPE)
    assert classify_card("##", "reader", AT) == ScanGarbled("reader", AT, GarbledReason.BAD_CARD, 2)


@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_exactly_one_check_digit_completes_every_upc_body(body: str) -> None:
    assert sum(gtin_check_ok(body + str(d)) for d in range(10)) == 1


@given(st.text())
def test_any_text_classifies_without_raising(text: str) -> None:
    assert _scan(text) is not None
