"""Kiosk i18n: catalogs load from package data, fall back to en then the code, format money."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

import pytest

from kiosk import i18n
from salon.money import format_fen

HEADER = """msgid ""
msgstr ""
"Language: {lang}\\n"
"Content-Type: text/plain; charset=UTF-8\\n"
"Plural-Forms: nplurals=1; plural=0;\\n"
"""


class FakeCode(StrEnum):
    LOW_BALANCE = "test.low_balance"
    ONLY_EN = "test.only_en"
    NOWHERE = "test.nowhere"
    BROKEN_ZH = "test.broken_zh"


@dataclass(frozen=True)
class FakeError:
    code: str
    params: Mapping[str, object] = field(default_factory=dict)


def po(lang: str, entries: Mapping[str, str]) -> bytes:
    body = "".join(f'\nmsgid "{k}"\nmsgstr "{v}"\n' for k, v in entries.items())
    return (HEADER.format(lang=lang) + body).encode()


FAKE_PO = {
    "zh_CN": po(
        "zh_CN",
        {
            "test.low_balance": "余额不足：余额 {balance_fen}，还差 {needed_fen}",
            "test.broken_zh": "坏模板 {0}",
        },
    ),
    "en": po(
        "en",
        {
            "test.low_balance": "Balance {balance_fen} is short by {needed_fen}",
            "test.only_en": "Only in English: {who}",
            "test.broken_zh": "Fine in English",
        },
    ),
}


@pytest.fixture
def fake_catalogs(monkeypatch: pytest.MonkeyPatch) -> None:
    compiled = {loc: i18n.compile_po(data) for loc, data in FAKE_PO.items()}
    monkeypatch.setattr(i18n, "catalog", lambda locale: compiled[locale])


def test_real_catalogs_load_from_package_data() -> None:
    assert i18n.catalog("zh_CN").gettext("app.name") == "美业门店收银"
    assert i18n.catalog("en").gettext("app.name") == "Salon Store"


def test_catalog_is_compiled_once_and_cached() -> None:
    assert i18n.catalog("en") is i18n.catalog("en")


def test_plural_forms_come_from_the_po_headers() -> None:
    assert i18n.catalog("zh_CN").info()["plural-forms"] == "nplurals=1; plural=0;"
    assert i18n.catalog("en").info()["plural-forms"] == "nplurals=2; plural=(n != 1);"


def test_unknown_locale_is_refused_by_catalog() -> None:
    with pytest.raises(ValueError, match="unknown locale"):
        i18n.catalog("fr")


def test_text_formats_fen_params_as_money_with_real_catalogs() -> None:
    assert i18n.text("checkout.total", "zh_CN", total_fen=123450) == "合计 ¥1,234.50"
    assert i18n.text("checkout.total", "en", total_fen=-5) == "Total -¥0.05"


@pytest.mark.usefixtures("fake_catalogs")
def test_render_error_uses_the_requested_locale_and_formats_money() -> None:
    err = FakeError(FakeCode.LOW_BALANCE, {"balance_fen": 1000, "needed_fen": 123450})
    assert i18n.render_error(err) == "余额不足：余额 ¥10.00，还差 ¥1,234.50"
    assert i18n.render_error(err, "en") == "Balance ¥10.00 is short by ¥1,234.50"


@pytest.mark.usefixtures("fake_catalogs")
def test_missing_translation_falls_back_to_english() -> None:
    err = FakeError(FakeCode.ONLY_EN, {"who": "Ann"})
    assert i18n.render_error(err, "zh_CN") == "Only in English: Ann"


@pytest.mark.usefixtures("fake_catalogs")
def test_malformed_translation_falls_back_to_english() -> None:
    assert i18n.render_error(FakeError(FakeCode.BROKEN_ZH)) == "Fine in English"


@pytest.mark.usefixtures("fake_catalogs")
def test_untranslated_code_falls_back_to_code_and_params() -> None:
    err = FakeError(FakeCode.NOWHERE, {"member_id": "M7", "paid_fen": 250, "count": 3})
    assert i18n.render_error(err) == "test.nowhere (member_id=M7, paid_fen=¥2.50, count=3)"
    assert i18n.render_error(FakeError("test.nowhere")) == "test.nowhere"


@pytest.mark.usefixtures("fake_catalogs")
def test_only_int_fen_params_are_money() -> None:
    err = FakeError(FakeCode.NOWHERE, {"a_fen": "12", "b_fen": True, "c": 100})
    assert i18n.render_error(err) == "test.nowhere (a_fen=12, b_fen=True, c=100)"


@pytest.mark.usefixtures("fake_catalogs")
def test_a_field_the_error_lacks_stays_visible() -> None:
    err = FakeError(FakeCode.LOW_BALANCE, {"balance_fen": 0})
    assert i18n.render_error(err, "en") == "Balance ¥0.00 is short by {needed_fen}"


def test_render_error_never_raises_when_catalogs_cannot_load(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(locale: str) -> object:
        raise OSError("catalog missing")

    monkeypatch.setattr(i18n, "catalog", broken)
    err = FakeError(FakeCode.LOW_BALANCE, {"balance_fen": 5})
    assert i18n.render_error(err) == f"test.low_balance (balance_fen={format_fen(5)})"


def test_a_reason_parameter_is_shown_in_the_catalogs_words_where_it_has_them() -> None:
    from devices.errors import DeviceError, DeviceErrorCode

    known = DeviceError(DeviceErrorCode.CONFIG_INVALID,
                        {"device": "front", "field": "idle_gap", "reason": "unknown key"})
    assert i18n.render_error(known, "zh_CN") == "设备 front 的配置有误：idle_gap（没有这个设置项）"
    assert i18n.render_error(known, "en") == (
        "Device front is misconfigured: idle_gap (no such setting)")
    errno_name = DeviceError(DeviceErrorCode.PRINTER_OFFLINE,
                             {"device": "p", "reason": "ECONNREFUSED"})
    assert i18n.render_error(errno_name, "zh_CN") == "打印机 p 离线：连接被拒绝"
    unknown = DeviceError(DeviceErrorCode.OPEN_FAILED, {"device": "s", "reason": "SerialException"})
    assert i18n.render_error(unknown, "en") == "Cannot open device s: SerialException"
