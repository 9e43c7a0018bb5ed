"""Receipts laid out by display width: CJK is two columns, rows fill the line, columns line up."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.gbk_text import GBK
from devices.receipt_doc import Align, Columns, ItemLine, Logo, QrCode, Receipt, Row, Rule, Text
from devices.receipt_layout import LogoLine, QrLine, Size, TextLine, lay_out
from devices.receipt_preview import sample_receipt
from devices.text_width import display_width, fit, truncate, wrap

WIDE = "汉字￥，。（）"
narrow_or_wide = st.text(alphabet=st.sampled_from(list("ab c-1. ·") + list(WIDE)), max_size=80)


def width(text: str) -> int:
    return display_width(text, ambiguous=2)


def test_a_cjk_character_is_two_columns_and_ascii_one() -> None:
    assert display_width("会员 abc") == 8
    assert display_width("￥115.20") == 8
    assert display_width("·", ambiguous=2) == 2 and display_width("·") == 1
    assert display_width("e\u0301") == 1  # a combining accent takes no column


@given(narrow_or_wide, st.integers(min_value=2, max_value=48))
def test_wrapped_lines_fit_and_keep_every_character(text: str, columns: int) -> None:
    lines = wrap(text, columns, ambiguous=2)
    assert all(width(line) <= columns for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")


@given(narrow_or_wide, st.integers(min_value=0, max_value=48))
def test_truncate_never_splits_a_wide_character_or_overflows(text: str, columns: int) -> None:
    cut = truncate(text, columns, ambiguous=2)
    assert text.startswith(cut)
    assert width(cut) <= columns
    rest = text[len(cut):]
    assert not rest or width(cut + rest[0]) > columns


@given(narrow_or_wide, st.integers(min_value=2, max_value=48),
       st.sampled_from(list(Align)))
def test_fit_is_exactly_the_width_asked(text: str, columns: int, align: Align) -> None:
    assert width(fit(text, columns, align, ambiguous=2)) == columns


def test_latin_words_wrap_at_spaces_and_cjk_anywhere() -> None:
    assert wrap("Wash and blow-dry with a long name", 16) == [
        "Wash and", "blow-dry with a", "long name"]
    assert wrap("面部深层护理含肩颈按摩", 10) == ["面部深层护", "理含肩颈按", "摩"]
    assert wrap("  优惠券说明很长很长", 10) == ["  优惠券说", "明很长很长"]


def test_no_line_ends_in_an_opening_bracket_or_starts_with_closing_punctuation() -> None:
    assert wrap("面部深层护理（含肩颈按摩）", 15, ambiguous=2) == ["面部深层护理", "（含肩颈按摩）"]
    assert wrap("谢谢惠顾欢迎光临，再见", 16, ambiguous=2) == ["谢谢惠顾欢迎光", "临，再见"]
    assert wrap("会员折扣 -￥12.80", 12, ambiguous=2) == ["会员折扣", "-￥12.80"]
    assert wrap("（（（（（（", 4, ambiguous=2) == ["（（", "（（", "（（"]  # no room: cut


@given(st.lists(st.tuples(st.sampled_from("汉字会员"), st.sampled_from(["", "（", "）", "，"]))),
       st.integers(min_value=6, max_value=48))
def test_wrapped_lines_keep_brackets_with_their_text(pieces: list[tuple[str, str]],
                                                     columns: int) -> None:
    # No two marks touch, so every bracket with its neighbour fits a line of 6 columns.
    lines = wrap("".join(c + m for c, m in pieces), columns, ambiguous=2)
    assert not any(line.endswith("（") for line in lines[:-1]), lines
    assert not any(line.startswith(("）", "，")) for line in lines[1:]), lines


@pytest.mark.parametrize("columns", [32, 48])
def test_every_text_line_of_the_sample_fits_its_paper(columns: int) -> None:
    layout = lay_out(sample_receipt(), columns)
    for line in layout.lines:
        if isinstance(line, TextLine):
            assert layout.width(line) <= columns, line
    for line, text in zip(layout.lines, layout.as_text(), strict=True):
        wide = line.size.wide if isinstance(line, TextLine) else 1
        assert width(text) * wide == columns, text


@pytest.mark.parametrize("columns", [32, 48])
def test_rows_put_the_value_against_the_right_edge(columns: int) -> None:
    layout = lay_out(Receipt("r", (Row("储值余额（本金）", "¥1,150.20"), Row("Due", "¥5.00"))),
                     columns)
    first, second = (line.text for line in layout.lines if isinstance(line, TextLine))
    assert first.startswith("储值余额（本金）") and first.endswith(" ￥1,150.20")
    assert second.startswith("Due ") and second.endswith(" ￥5.00")
    assert width(first) == width(second) == columns


@pytest.mark.parametrize("columns", [32, 48])
def test_quantity_and_amount_columns_line_up_under_their_heading(columns: int) -> None:
    layout = lay_out(Receipt("r", (
        Columns("项目", "数量", "金额"),
        ItemLine("精剪造型", "1", "¥128.00"),
        ItemLine("Wash", "12", "¥1,234.50"),
        ItemLine("面部深层护理（含肩颈按摩）加长加长加长", "1", "-¥298.00"),
    )), columns)
    lines = [line.text for line in layout.lines if isinstance(line, TextLine)]
    heading, *rows = lines
    qty_end = width(heading[:heading.index("数量") + 2])
    for row in rows:
        if not row.rstrip().endswith("00"):
            continue  # a wrapped name's second line
        assert width(row) == columns
        assert row.endswith("00")  # the amount ends at the last column, like 金额
        quantity = row.rstrip().rsplit(" ", 1)[0].rstrip()
        assert width(quantity) == qty_end, row  # the quantity ends where 数量 ends
    assert len(rows) > 3  # the long name took more than one line


def test_an_amount_too_wide_for_its_column_goes_under_the_name() -> None:
    layout = lay_out(Receipt("r", (ItemLine("Wash", "12", "-¥12,345.00"),)), 32)
    assert layout.as_text() == ["Wash" + " " * 28, " " * 17 + "12 -￥12,345.00"]


def test_a_long_name_wraps_in_its_column_without_splitting_a_character() -> None:
    name = "面部深层护理（含肩颈按摩）"
    layout = lay_out(Receipt("r", (ItemLine(name, "1", "¥298.00", ("技师 007",)),)), 32)
    texts = [line.text for line in layout.lines if isinstance(line, TextLine)]
    assert "".join(t.split("  ")[0] for t in texts[:-1]).replace(" ", "") == name
    assert texts[-1] == "  技师 007"


def test_a_big_title_is_double_size_if_it_fits_else_double_height_only() -> None:
    layout = lay_out(Receipt("r", (Text("消费小票", Align.CENTER, big=True),
                                   Text("丝域美发 · 徐汇店", Align.CENTER, big=True))), 32)
    short, long_ = layout.lines
    assert isinstance(short, TextLine) and short.size is Size.BIG
    assert isinstance(long_, TextLine) and long_.size is Size.TALL
    assert long_.text == "丝域美发 · 徐汇店"  # one line, not "丝域美发 · 徐汇" over "店"


@pytest.mark.parametrize(("columns", "module"), [(32, 6), (48, 8)])
def test_rule_qr_and_logo_blocks(columns: int, module: int) -> None:
    layout = lay_out(Receipt("r", (Logo("/x.png"), Rule("="), Rule("－"),
                                   QrCode("https://r.example.cn/e/1", "扫码查看")), cut=False),
                     columns)
    logo, rule, wide_rule, qr, caption = layout.lines
    assert logo == LogoLine("/x.png")
    assert rule == TextLine("=" * columns)
    assert wide_rule == TextLine("－" * (columns // 2))
    assert qr == QrLine("https://r.example.cn/e/1", module)
    assert caption == TextLine("扫码查看", Align.CENTER)
    assert layout.cut is False


def test_characters_the_printer_lacks_become_question_marks_and_are_reported() -> None:
    layout = lay_out(Receipt("r", (Text("好评😀"), Row("¥", "€5"))), 32)
    first, row = (line.text for line in layout.lines if isinstance(line, TextLine))
    assert first == "好评?"
    assert row.startswith("￥") and row.endswith("EUR5")
    assert layout.replaced == ("😀",)


def test_every_laid_out_character_is_ascii_or_gbk_double_byte() -> None:
    layout = lay_out(sample_receipt(), 48)
    for line in layout.lines:
        if isinstance(line, TextLine):
            assert len(GBK.encode(line.text)) == width(line.text)
            assert unicodedata.normalize("NFC", line.text) == line.text


def test_a_receipt_is_32_or_48_columns() -> None:
    with pytest.raises(ValueError):
        lay_out(sample_receipt(), 40)


def test_a_text_breaks_into_paragraphs_at_newlines() -> None:
    layout = lay_out(Receipt("r", (Text("谢谢惠顾\nThank you", Align.CENTER),)), 32)
    assert layout.lines == (TextLine("谢谢惠顾", Align.CENTER), TextLine("Thank you", Align.CENTER))
