"""The receipt documents of real tickets and recharges: all they print, lined up, in GBK."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from support import CONFIG, DESK, MANAGER, make_salon
from test_checkout import (
    CASH,
    SV,
    WECHAT,
    buy_card,
    coupon,
    give_points,
    gold_member,
    member,
    paid,
    prd,
    sale,
    svc,
)
from test_debt_and_upgrade_refunds import buy_facial10, upgrade, upgrade_store, use_sessions

from devices.escpos_decode import decode, replay
from devices.escpos_printer import ConnectionKind, EscposPrinter, PrinterConfig
from devices.receipt_doc import Align, Columns, ItemLine, QrCode, Receipt, Row, Rule, Text
from devices.receipt_image import render_receipt
from devices.receipt_layout import DOTS, TextLine, lay_out
from devices.text_width import display_width
from hub.receipts import recharge_receipt, ticket_receipt
from salon.catalog import ItemKind
from salon.engine import Salon
from salon.money import RoundTo, format_fen
from salon.payments import Payment
from salon.pricing import LineDraft
from salon.sales import Recharge
from salon.stored_value import StoredValueRecharged
from salon.tickets import RechargePaid, TicketPaid

ADJUSTMENT_LABELS = (  # zh_CN, in the order the price went through them
    ("override_fen", "改价"),
    ("tier_discount_fen", "会员折扣"),
    ("coupon_discount_fen", "优惠券"),
    ("manual_discount_fen", "手工优惠"),
    ("points_discount_fen", "积分抵扣"),
    ("rounding_fen", "抹零"),
)


def busy_ticket() -> tuple[Salon, TicketPaid, str]:
    """A gold member's ticket with every adjustment a money line can have but the upgrade
    credit (a price change, tier, coupon, manual discount, points and 抹零 to the yuan), a
    product bought twice, a package session, two payments and change; and the member."""
    salon, _ = make_salon(checkout=replace(CONFIG.checkout, round_to=RoundTo.YUAN))
    m, _ = gold_member(salon)  # ¥1000 principal + ¥200 bonus
    give_points(salon, m, 500)
    _, card = buy_card(salon, m)
    ticket = paid(salon.execute(sale(
        (LineDraft(ItemKind.SERVICE, "cut", override_unit_fen=12_000), prd("sh1", quantity=2),
         LineDraft(ItemKind.SERVICE, "facial", package_card_id=card)),
        (SV, 10_000), (CASH, 50_000), actor=MANAGER, member_id=m, coupon=coupon(salon),
        redeem_points=500, manual_discount_fen=155, reason="老客户")))
    return salon, ticket, m


def rows(receipt: Receipt) -> list[tuple[str, str]]:
    return [(b.label, b.value) for b in receipt.blocks if isinstance(b, Row)]


def all_text(receipt: Receipt) -> str:
    parts: list[str] = []
    for block in receipt.blocks:
        if isinstance(block, Text):
            parts.append(block.text)
        elif isinstance(block, Row):
            parts += [block.label, block.value]
        elif isinstance(block, (ItemLine, Columns)):
            parts += [block.name, block.quantity, block.amount]
    return "\n".join(parts)


def test_a_ticket_receipt_carries_header_items_adjustments_payments_and_balances() -> None:
    salon, ticket, m = busy_ticket()
    cut, shampoo, _ = (s.line for s in ticket.lines)
    assert all(getattr(cut, field) for field, _ in ADJUSTMENT_LABELS)  # the test covers all
    receipt = ticket_receipt(salon.state, ticket, "zh_CN")

    assert receipt.job_id == ticket.ticket_id and receipt.cut
    assert receipt.blocks[:3] == (Text("丝域美发 · 徐汇店", Align.CENTER, big=True),
                                  Text("消费小票", Align.CENTER, bold=True), Rule())
    columns = [b for b in receipt.blocks if isinstance(b, Columns)]
    assert columns == [Columns("项目", "数量", "金额")]
    assert [(b.name, b.quantity, b.amount) for b in receipt.blocks if isinstance(b, ItemLine)] == [
        ("精剪", "1", "¥128.00"), ("修护洗发水", "2", "¥336.00"), ("面部护理", "1", "")]

    def adjustments(line: object) -> list[tuple[str, str]]:
        return [("  " + label, format_fen(-getattr(line, field)))
                for field, label in ADJUSTMENT_LABELS if getattr(line, field)]

    points = salon.state.points.balance(m, ticket.meta.at)
    assert rows(receipt) == [
        ("单号", ticket.ticket_id),
        ("时间", "2026-03-02 10:00"),  # 02:00 UTC in the store's +8 h
        ("会员", "张* 138****5678"),
        *adjustments(cut),
        *adjustments(shampoo),
        ("  次卡抵扣1次", "¥198.00"),  # one session of the ¥1,980 card
        ("应收", "¥400.00"),
        ("储值卡", "¥100.00"),
        ("现金", "¥500.00"),
        ("找零", "¥200.00"),
        ("本单积分", str(sum(s.points_earned for s in ticket.lines))),
        ("储值余额（本金）", "¥900.00"),
        ("储值余额（赠送）", "¥200.00"),
        ("面部护理10次卡", "剩余 9 次"),
        ("积分余额", str(points)),
        ("会员等级", "金卡"),
    ]
    assert len(adjustments(cut)) == 6 and points > 0
    assert next(b for b in receipt.blocks if isinstance(b, Row) and b.label == "应收").bold
    assert receipt.blocks[-1] == Rule("=")
    assert not [b for b in receipt.blocks if isinstance(b, QrCode)]  # no e-receipt URL set


def test_a_receipt_never_prints_the_whole_name_or_mobile() -> None:
    salon, ticket, _ = busy_ticket()
    printed = all_text(ticket_receipt(salon.state, ticket))
    assert "张三" not in printed and "13812345678" not in printed
    assert "138****5678" in printed


def test_an_upgrade_receipt_prints_the_old_cards_credit() -> None:
    salon, _, m = upgrade_store()
    old = buy_facial10(salon, m)
    use_sessions(salon, m, old, 2)
    up = upgrade(salon, m, old, (CASH, 191_600))  # credit 198000 - 2 × 19800 = 158400
    assert ("  旧卡抵扣", "-¥1,584.00") in rows(ticket_receipt(salon.state, up))


def test_a_walk_in_ticket_has_no_points_and_no_balances() -> None:
    salon, _ = make_salon()
    ticket = paid(salon.execute(sale(svc("cut"), (CASH, 12_800))))
    receipt = ticket_receipt(salon.state, ticket)
    assert rows(receipt) == [("单号", ticket.ticket_id), ("时间", "2026-03-02 10:00"),
                             ("会员", "散客"), ("应收", "¥128.00"), ("现金", "¥128.00")]


def recharged(salon: Salon, member_id: str) -> Receipt:
    events = salon.execute(Recharge(actor_id=DESK, member_id=member_id, principal_fen=100_000,
                                    payments=(Payment(WECHAT, 100_000, "WX-1"),)))
    (ledger,) = [e for e in events if isinstance(e, StoredValueRecharged)]
    (money,) = [e for e in events if isinstance(e, RechargePaid)]
    return recharge_receipt(salon.state, money, ledger.principal_fen, ledger.bonus_fen)


def test_a_recharge_receipt_carries_the_money_in_the_bonus_and_the_balances() -> None:
    salon, _ = make_salon()
    receipt = recharged(salon, member(salon))
    assert receipt.blocks[1] == Text("充值小票", Align.CENTER, bold=True)
    assert rows(receipt)[2:] == [
        ("会员", "张* 138****5678"),
        ("充值金额", "¥1,000.00"),
        ("赠送金额", "¥200.00"),  # 充1000送200
        ("微信支付", "¥1,000.00"),
        ("储值余额（本金）", "¥1,000.00"),
        ("储值余额（赠送）", "¥200.00"),
        ("积分余额", "0"),
        ("会员等级", "金卡"),
    ]


def test_an_english_receipt_has_every_text_translated() -> None:
    salon, ticket, _ = busy_ticket()
    receipt = ticket_receipt(salon.state, ticket, "en")
    labels = [label.strip() for label, _ in rows(receipt)]
    assert {"No.", "Time", "Member", "Price change", "Total due", "Stored value", "Cash",
            "Change", "Points earned", "Balance (paid)", "Tier"} <= set(labels)
    assert Columns("Item", "Qty", "Amount") in receipt.blocks
    assert "receipt." not in all_text(receipt) and "method." not in all_text(receipt)


def layout_source(receipt: Receipt) -> list[str]:
    """The money values of the document, one per row or item."""
    return [b.value if isinstance(b, Row) else b.amount for b in receipt.blocks
            if isinstance(b, (Row, ItemLine))]


def ends_at(text: str, token: str, before: int | None = None) -> int:
    """The column (GBK widths) where the last ``token`` in ``text[:before]`` ends."""
    end = text.rindex(token, 0, before) + len(token)
    return display_width(text[:end], ambiguous=2)


@pytest.mark.parametrize("columns", [48, 32])
def test_a_real_ticket_lines_up_in_columns(columns: int) -> None:
    salon, ticket, _ = busy_ticket()
    layout = lay_out(ticket_receipt(salon.state, ticket), columns)
    lines = [line for line in layout.lines if isinstance(line, TextLine)]
    assert all(layout.width(line) <= columns for line in lines)
    assert layout.replaced == ()
    money = [line.text for line in lines if "￥" in line.text]
    amounts = [b for b in layout_source(ticket_receipt(salon.state, ticket)) if "¥" in b]
    assert len(money) == len(amounts) == 20  # each amount on one line with its label
    # Every amount, item or row, ends at the paper's edge.
    assert {ends_at(text, text.split()[-1]) for text in money} == {columns}
    # The quantity of every item ends where the heading's does.
    (heading,) = [line.text for line in lines if line.text.startswith("项目")]
    quantity_end = ends_at(heading, "数量")
    items = [text for text in money if text.startswith(("精剪", "修护洗发水"))]
    assert len(items) == 2
    assert {ends_at(text, qty, text.index("￥")) for text, qty in zip(items, "12", strict=True)} \
        == {quantity_end}
    assert ends_at(heading, "金额") == columns
    # Labels start at the left edge, adjustments two columns in.
    assert all(text[0] != " " or (text.startswith("  ") and text[2] != " ") for text in money)


@pytest.mark.parametrize("encoding", ["gb18030", "gbk"])
def test_a_real_ticket_goes_to_the_printer_as_gbk_with_nothing_replaced(
    tmp_path: Path, encoding: str
) -> None:
    salon, ticket, _ = busy_ticket()
    printer = EscposPrinter(PrinterConfig("front", ConnectionKind.FILE, path=str(tmp_path / "lp0"),
                                          width=48, encoding=encoding))
    rendered = printer.render(ticket_receipt(salon.state, ticket))
    assert not rendered.raster and rendered.layout.replaced == ()
    printed = replay(decode(rendered.data))  # refuses four-byte GB18030 and broken bytes
    texts = [line.text for line in printed.lines]
    assert texts == [line.text for line in rendered.layout.lines if isinstance(line, TextLine)]
    for text in texts:
        text.encode("gbk")  # raises if anything is not GBK
        assert "?" not in text
    joined = "\n".join(texts)
    for expected in ("丝域美发", "消费小票", "138****5678", "修护洗发水", "次卡抵扣1次",
                     "￥400.00", "剩余 9 次", "金卡"):
        assert expected in joined, expected
    assert printed.of("cut")


def test_the_preview_renders_a_real_ticket_at_the_papers_width() -> None:
    salon, ticket, _ = busy_ticket()
    layout = lay_out(ticket_receipt(salon.state, ticket), 32)
    image = render_receipt(layout)
    assert image.width == DOTS[32]
    assert image.height > 24 * len(layout.lines)  # every line, in 24-dot glyphs at least
