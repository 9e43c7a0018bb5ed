"""A sample receipt rendered to PNG from the same layout the printer gets.

``python -m devices.receipt_preview OUT.png [--width 32|48] [--logo LOGO.png]``

The sample is what the hub prints for a member's sale (texts as in kiosk/locale's
zh_CN catalog, money by ``salon.money.format_fen``, the member masked by
``salon.masking``); the tests print the same receipt.
"""

from __future__ import annotations

import argparse
import sys

from devices.errors import DeviceError
from devices.receipt_doc import (
    Align,
    Block,
    Columns,
    ItemLine,
    Logo,
    QrCode,
    Receipt,
    Row,
    Rule,
    Text,
)
from devices.receipt_image import render_receipt
from devices.receipt_layout import WIDTHS, lay_out
from salon.masking import mask_mobile, mask_name
from salon.money import format_fen

__all__ = ["main", "sample_receipt"]


def sample_receipt(logo: str | None = None, job_id: str = "T20261123-0001") -> Receipt:
    """A member's ticket: two services and a product, discounts, two payments, balances."""
    member = f"{mask_name('欧阳娜娜')} {mask_mobile('13812345678')}"
    blocks: list[Block] = [Logo(logo)] if logo else []
    blocks += [
        Text("丝域美发 · 徐汇店", Align.CENTER, big=True),
        Text("消费小票", Align.CENTER, bold=True),
        Rule(),
        Row("单号", job_id),
        Row("时间", "2026-11-23 10:00"),
        Row("会员", member),
        Rule(),
        Columns("项目", "数量", "金额"),
        # An adjustment is a row under its item, as hub.receipts prints it: its amount
        # stands in the amount column (an item's notes are free text, not aligned).
        ItemLine("精剪造型", "1", format_fen(12_800)),
        Row("  会员折扣", format_fen(-1_280)),
        ItemLine("面部深层护理（含肩颈按摩）", "1", format_fen(29_800)),
        ItemLine("修护洗发水 500ml", "2", format_fen(33_600)),
        Row("  优惠券", format_fen(-2_000)),
        Row("  抹零", format_fen(-20)),
        Rule(),
        Row("应收", format_fen(72_900), bold=True),
        Row("储值卡", format_fen(50_000)),
        Row("微信支付", format_fen(22_900)),
        Row("本单积分", "729"),
        Rule(),
        Row("储值余额（本金）", format_fen(115_020)),
        Row("储值余额（赠送）", format_fen(20_000)),
        Row("面部护理10次卡", "剩余 7 次"),
        Row("积分余额", "12,480"),
        Row("会员等级", "金卡"),
        Rule("="),
        QrCode(f"https://r.example.cn/e/{job_id}", "扫码查看电子小票"),
        Text("谢谢惠顾，欢迎再次光临！", Align.CENTER),
    ]
    return Receipt(job_id, tuple(blocks))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devices.receipt_preview",
                                     description="Render the sample receipt as a PNG.")
    parser.add_argument("out", help="the PNG file to write")
    parser.add_argument("--width", type=int, choices=WIDTHS, default=32,
                        help="columns: 32 for 58 mm paper, 48 for 80 mm")
    parser.add_argument("--logo", help="a PNG printed at the top")
    args = parser.parse_args(argv)
    try:
        image = render_receipt(lay_out(sample_receipt(args.logo), args.width))
    except DeviceError as err:
        print(err, file=sys.stderr)
        return 1
    image.save(args.out)
    print(f"{args.out}: {image.width} x {image.height} dots")
    return 0


if __name__ == "__main__":
    sys.exit(main())
