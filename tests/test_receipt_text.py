"""Receipts: the balances printed are what the member can spend at the receipt's time."""

from __future__ import annotations

from dataclasses import replace

from support import CONFIG, make_salon
from test_checkout import CASH, member, paid, pkg, recharge, sale, svc

from hub.receipt_text import render_ticket
from kiosk.i18n import text
from salon.engine import Salon
from salon.tickets import TicketPaid

PLAN_NAME = "面部护理10次卡"


def figure(receipt: str, label: str) -> str:
    """The value printed right of ``label`` on its balances row (not of a longer label it
    begins, nor of the item of the same name in the table above the balances)."""
    lines = receipt.splitlines()
    last_rule = max(i for i, line in enumerate(lines) if set(line) == {"-"})
    (row,) = [line for line in lines[last_rule:]
              if line.startswith(label) and line[len(label):].startswith("  ")]
    return row[len(label):].strip()


def printed(salon: Salon, ticket: TicketPaid) -> dict[str, str]:
    receipt = render_ticket(salon.state, ticket, "en")
    return {
        "principal": figure(receipt, text("receipt.balance_principal", "en")),
        "bonus": figure(receipt, text("receipt.balance_bonus", "en")),
        "points": figure(receipt, text("receipt.points", "en")),
        "card": figure(receipt, PLAN_NAME),
    }


def test_a_receipt_leaves_out_bonus_points_and_sessions_past_their_expiry() -> None:
    salon, clock = make_salon(stored_value=replace(CONFIG.stored_value, bonus_valid_days=30))
    m = member(salon)
    recharge(salon, m, 100_000)  # 充1000送200, the bonus good for 30 days; gold tier
    card_sale = paid(salon.execute(sale(pkg(), (CASH, 198_000), member_id=m)))
    assert printed(salon, card_sale) == {
        "principal": "￥1,000.00", "bonus": "￥200.00", "points": "3960", "card": "10 left",
    }

    # Past the bonus (30 days), the card (365 days) and the 2026 points (end of 2027),
    # with no expiry command run: the sale sweeps the expired bonus and points out of the
    # ledgers, while the expired card's sessions stay on it, unusable.
    clock.advance(days=700)
    wash = paid(salon.execute(sale(svc("wash"), (CASH, 3_420), member_id=m)))  # gold 9折
    assert salon.state.accounts.bonus_fen(m) == 0
    assert salon.state.points.held(m) == 68
    assert salon.state.packages.cards_of(m)[0].remaining_sessions == 10
    assert printed(salon, wash) == {
        "principal": "￥1,000.00", "bonus": "￥0.00", "points": "68", "card": "0 left",
    }
