"""Every string a receipt can hold prints in the printer's GBK font: ASCII or GBK double-byte."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from hypothesis import given
from hypothesis import strategies as st

from devices.escpos_decode import DecodeError, decode
from devices.gbk_text import GBK, REPLACEMENT, SUBSTITUTES, code_page_charset, is_gbk_printable
from devices.text_width import display_width
from hub.demo_data import CONFIG, PLANS, PRODUCTS, SERVICES, STYLIST
from salon.masking import mask_mobile, mask_name
from salon.money import format_fen

LOCALE = Path(__file__).resolve().parents[1] / "kiosk" / "locale"
RECEIPT_PREFIXES = ("receipt.", "method.", "payment.")


def receipt_messages() -> list[str]:
    """Every msgstr of zh_CN and en a receipt prints (read from the .po files themselves)."""
    texts: list[str] = []
    for po in ("zh_CN.po", "en.po"):
        with (LOCALE / po).open("rb") as handle:
            catalog = read_po(handle)
        for message in catalog:
            if str(message.id).startswith(RECEIPT_PREFIXES):
                assert isinstance(message.string, str) and message.string
                texts.append(message.string)
    return texts


def receipt_strings() -> list[str]:
    names = [s.name for s in SERVICES] + [p.name for p in PRODUCTS] + [p.name for p in PLANS]
    names += [t.name for t in CONFIG.tiers.tiers] + [CONFIG.store_name, STYLIST]
    money = [format_fen(fen) for fen in (0, 5, -5, 11_520, -1_280, 123_450, 1_000_000_00)]
    masked = [mask_name(n) for n in ("张三丰", "欧阳娜娜", "Alice Smith", "李")]
    masked += [mask_mobile(m) for m in ("13812345678", "1381234")]
    return receipt_messages() + names + money + masked


def test_the_catalogs_hold_the_receipt_messages() -> None:
    messages = receipt_messages()
    assert "储值余额（本金）" in messages and "微信支付" in messages
    assert len(messages) > 60  # both locales, receipt. + method. + payment.


@pytest.mark.parametrize("text", receipt_strings())
def test_every_receipt_string_encodes_within_gbk_double_byte_or_ascii(text: str) -> None:
    cleaned = GBK.clean(text)
    assert cleaned.replaced == ()  # nothing a receipt says prints as "?"
    for char in cleaned.text:
        encoded = char.encode("gb18030")
        assert encoded == char.encode("gbk")
        assert (len(encoded) == 1 and 0x20 <= encoded[0] < 0x7F) or (
            len(encoded) == 2 and encoded[0] >= 0x81), (char, encoded.hex())
    assert display_width(cleaned.text, ambiguous=2) == len(GBK.encode(cleaned.text))


def test_the_yen_sign_is_sent_as_the_full_width_gbk_yen() -> None:
    assert format_fen(11_520) == "¥115.20"  # what the hub hands over
    assert "¥".encode("gb18030") == bytes.fromhex("81308436")  # what python-escpos sent
    cleaned = GBK.clean(format_fen(11_520))
    assert cleaned.text == "￥115.20"
    assert GBK.encode(cleaned.text) == bytes.fromhex("a3a4") + b"115.20"


def test_chinese_punctuation_is_sent_as_gbk_not_as_question_marks() -> None:
    assert GBK.encode(GBK.clean("：，（）").text) == bytes.fromhex("a3baa3aca3a8a3a9")


def test_the_decoder_refuses_four_byte_gb18030_that_a_gbk_printer_garbles() -> None:
    with pytest.raises(DecodeError, match="four-byte"):
        decode(b"\x1b@\x1c&" + "¥".encode("gb18030") + b"\n")


@pytest.mark.parametrize(("char", "expected"), [
    ("€", "EUR"), ("•", "·"), ("・", "·"), ("〜", "～"), ("−", "-"), ("™", "TM"),
    ("\u00a0", " "), ("\u200b", ""), ("\ufe0f", ""), ("\t", " "),
])
def test_characters_outside_gbk_are_substituted(char: str, expected: str) -> None:
    assert not is_gbk_printable(char)
    assert GBK.clean(f"a{char}b") == type(GBK.clean(""))(f"a{expected}b")


def test_gbk_characters_are_kept_as_they_are() -> None:
    # ·, –, —, … are GBK double-byte (A1A4, A843, A1AA, A1AD): they print full width.
    assert GBK.clean("丝域美发 · 徐汇店 – — …").text == "丝域美发 · 徐汇店 – — …"


def test_emoji_and_unsupported_characters_become_question_marks_counted() -> None:
    cleaned = GBK.clean("谢谢👍❤️\ue000")
    assert cleaned.text == "谢谢" + REPLACEMENT * 3
    assert cleaned.replaced == ("👍", "❤", "\ue000")


def test_every_substitute_is_printable_in_gbk_or_a_code_page() -> None:
    cp437 = code_page_charset("cp437")
    for char in SUBSTITUTES:
        for charset in (GBK, cp437):
            cleaned = charset.clean(char)
            assert cleaned.replaced == (), (char, charset.codec)
            assert all(charset.can_print(c) for c in cleaned.text)


def test_a_code_page_keeps_its_own_letters_and_substitutes_the_rest() -> None:
    cp858 = code_page_charset("cp858")
    assert cp858.clean("Café ¥5 €2 — ok").text == "Café ¥5 €2 - ok"
    assert cp858.encode("Café") == b"Caf\x82"
    assert cp858.clean("会员").replaced == ("会", "员")
    with pytest.raises(ValueError):
        code_page_charset("cp99999")


@given(st.text(max_size=40))
def test_cleaned_text_always_encodes_one_byte_per_column(text: str) -> None:
    cleaned = GBK.clean(text)
    assert len(GBK.encode(cleaned.text)) == display_width(cleaned.text, ambiguous=2)
    assert len(cleaned.replaced) == cleaned.text.count(REPLACEMENT) - text.count(REPLACEMENT)
