"""Every refusal code and every text the demo uses has a zh_CN and an en message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from devices.errors import DeviceErrorCode
from edge_store.errors import StoreErrorCode
from kiosk.i18n import catalog, render_error
from salon.errors import DomainError, ErrorCode

ROOT = Path(__file__).resolve().parents[1]


def _msgids(locale: str) -> set[str]:
    text = (ROOT / "kiosk" / "locale" / f"{locale}.po").read_text(encoding="utf-8")
    return set(re.findall(r'^msgid "(.+)"$', text, flags=re.MULTILINE))


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_every_error_code_has_a_translation(locale: str) -> None:
    translations = catalog(locale)  # type: ignore[arg-type]
    missing = [c.value for c in ErrorCode if translations.gettext(c.value) == c.value]
    assert not missing, f"{locale} lacks messages for {missing}"


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_every_store_error_code_has_a_translation(locale: str) -> None:
    translations = catalog(locale)  # type: ignore[arg-type]
    missing = [c.value for c in StoreErrorCode if translations.gettext(c.value) == c.value]
    assert not missing, f"{locale} lacks messages for {missing}"


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_every_device_error_code_has_a_translation(locale: str) -> None:
    translations = catalog(locale)  # type: ignore[arg-type]
    missing = [c.value for c in DeviceErrorCode if translations.gettext(c.value) == c.value]
    assert not missing, f"{locale} lacks messages for {missing}"


def test_both_catalogs_have_the_same_msgids() -> None:
    assert _msgids("zh_CN") == _msgids("en")


def test_every_text_id_used_by_the_hub_is_in_the_catalog() -> None:
    used: set[str] = set()
    for path in [*(ROOT / "hub").glob("*.py")]:
        source = path.read_text(encoding="utf-8")
        used |= set(re.findall(r'"((?:demo|receipt|method|payment)\.[a-z_]+)"', source))
    assert used, "no text ids found: the scan looks in the wrong place"
    assert not used - _msgids("en"), sorted(used - _msgids("en"))


def test_chinese_messages_are_chinese_and_fill_their_parameters() -> None:
    err = DomainError(ErrorCode.INSUFFICIENT_BALANCE, {"balance_fen": 8_480, "needed_fen": 3_040})
    assert render_error(err, "zh_CN") == "储值余额不足：余额 ¥84.80，还差 ¥30.40"
    assert render_error(err, "en") == "Not enough stored value: balance ¥84.80, short by ¥30.40"
