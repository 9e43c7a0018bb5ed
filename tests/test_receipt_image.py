"""The receipt as a 1-bit image on the printer's dot grid, and its raster bytes; the PNG preview."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from devices import receipt_image
from devices.errors import DeviceError, DeviceErrorCode
from devices.escpos_bytes import PrintFormat, raster_bytes, receipt_bytes
from devices.escpos_decode import Op, decode
from devices.receipt_doc import Align, Logo, QrCode, Receipt, Row, Text
from devices.receipt_image import CELL, find_font, load_logo, qr_image, render_receipt
from devices.receipt_layout import lay_out
from devices.receipt_preview import main, sample_receipt


def ink_columns(image: Image.Image, top: int, bottom: int) -> tuple[int, int]:
    """The leftmost and rightmost x with a black dot between rows top and bottom."""
    box = image.crop((0, top, image.width, bottom)).point(lambda v: 255 - v).getbbox()
    assert box is not None, "no ink"
    return box[0], box[2]


@pytest.mark.parametrize(("columns", "dots"), [(32, 384), (48, 576)])
def test_the_image_is_1_bit_and_as_wide_as_the_paper(columns: int, dots: int) -> None:
    image = render_receipt(lay_out(sample_receipt(), columns))
    assert image.mode == "1" and image.width == dots
    assert {colour for _, colour in image.getcolors() or []} == {0, 255}


def test_a_row_puts_its_value_against_the_right_edge_and_its_label_at_the_left() -> None:
    image = render_receipt(lay_out(Receipt("r", (Row("应收", "¥729.00"),)), 32))
    left, right = ink_columns(image, 0, image.height)
    assert left < CELL and right > 384 - CELL


def test_centred_text_is_centred_on_the_paper() -> None:
    image = render_receipt(lay_out(Receipt("r", (Text("消费小票", Align.CENTER),)), 32))
    left, right = ink_columns(image, 0, image.height)
    assert abs((left + right) / 2 - 192) <= CELL / 2
    assert right - left > 3 * 2 * CELL  # four CJK characters, two columns each


def test_a_big_line_is_twice_as_high_as_a_normal_one() -> None:
    normal = render_receipt(lay_out(Receipt("r", (Text("小票"),)), 32))
    big = render_receipt(lay_out(Receipt("r", (Text("小票", big=True),)), 32))
    assert big.height - normal.height == 30  # one more line height


def test_the_qr_code_is_drawn_at_its_module_size_and_centred() -> None:
    qr = qr_image("https://r.example.cn/e/T1", 6, 384)
    assert qr.width == qr.height and qr.width % 6 == 0
    layout = lay_out(Receipt("r", (QrCode("https://r.example.cn/e/T1"),)), 32)
    image = render_receipt(layout)
    left, right = ink_columns(image, 0, image.height)
    assert abs((left + right) / 2 - 192) <= 6


def test_a_qr_code_too_big_for_the_paper_gets_smaller_modules() -> None:
    qr = qr_image("x" * 600, 6, 384)
    assert qr.width <= 384


def test_a_logo_is_scaled_to_the_paper_and_a_missing_one_is_left_out(tmp_path: Path) -> None:
    path = tmp_path / "logo.png"
    Image.new("RGBA", (800, 200), (0, 0, 0, 255)).save(path)
    logo = load_logo(str(path), 384)
    assert logo is not None and logo.size == (384, 96)
    with_logo = render_receipt(lay_out(Receipt("r", (Logo(str(path)), Text("a"))), 32))
    without = render_receipt(lay_out(Receipt("r", (Logo(str(tmp_path / "no.png")),
                                                   Text("a"))), 32))
    assert with_logo.height - without.height == 96
    data = receipt_bytes(Receipt("r", (Logo(str(path)),)), PrintFormat(32)).data
    assert Op("raster", (384, 96)) in decode(data)


def test_raster_bytes_send_black_as_one_bits_in_bands() -> None:
    image = Image.new("1", (20, 300), 1)
    image.paste(0, (0, 0, 8, 1))  # the first 8 dots of the first row black
    data = raster_bytes(image)
    assert [op.value for op in decode(data)] == [(24, 256), (24, 44)]  # padded to 24 dots
    assert data[8:11] == b"\xff\x00\x00"  # the first row: 8 black, then white


def test_without_a_cjk_font_rendering_is_not_supported(monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    monkeypatch.setattr(receipt_image, "FONT_DIRS", (str(tmp_path),))
    find_font.cache_clear()
    receipt_image._font.cache_clear()
    try:
        with pytest.raises(DeviceError) as raised:
            render_receipt(lay_out(Receipt("r", (Text("好"),)), 32))
        assert raised.value.code is DeviceErrorCode.NOT_SUPPORTED
        assert "fonts-noto-cjk" in str(raised.value.params["reason"])
    finally:
        find_font.cache_clear()
        receipt_image._font.cache_clear()


def test_the_font_is_noto_sans_mono_cjk_whose_latin_is_half_its_cjk() -> None:
    path, _ = find_font()
    assert path.endswith("NotoSansCJK-Regular.ttc")
    font = receipt_image._font(24, False)
    assert font.getname()[0] == "Noto Sans Mono CJK SC"
    assert (font.getlength("a"), font.getlength("汉")) == (12, 24)


@pytest.mark.parametrize(("width", "dots"), [("32", 384), ("48", 576)])
def test_the_preview_command_writes_the_sample_as_png(tmp_path: Path, width: str,
                                                      dots: int) -> None:
    out = tmp_path / "preview.png"
    assert main([str(out), "--width", width]) == 0
    with Image.open(out) as image:
        assert image.format == "PNG" and image.width == dots and image.height > 1000
