"""Receipts as terminal text (the demo's printer): the printer's own 58 mm layout.

The text is ``devices.receipt_layout``'s layout of the same document the printer
gets (``hub.receipts``), in the characters a GBK printer prints: money shows the
full-width ``￥`` that the printer substitutes for ``¥``, which a terminal also draws two
columns wide, so the columns line up on screen as on paper.
"""

from __future__ import annotations

from devices.receipt_doc import Receipt
from devices.receipt_layout import lay_out
from hub.receipts import recharge_receipt, ticket_receipt
from kiosk.i18n import Locale
from salon.state import SalonState
from salon.tickets import RechargePaid, TicketPaid

__all__ = ["WIDTH", "render_recharge", "render_ticket"]

WIDTH = 32
"""A 58 mm receipt: 32 columns of half-width characters."""


def _text(receipt: Receipt) -> str:
    # The layout pads every line to the paper's edge; a terminal needs no trailing blanks.
    return "".join(line.rstrip() + "\n" for line in lay_out(receipt, WIDTH).as_text())


def render_ticket(state: SalonState, paid: TicketPaid, locale: Locale = "zh_CN") -> str:
    return _text(ticket_receipt(state, paid, locale))


def render_recharge(
    state: SalonState, paid: RechargePaid, principal_fen: int, bonus_fen: int,
    locale: Locale = "zh_CN",
) -> str:
    return _text(recharge_receipt(state, paid, principal_fen, bonus_fen, locale))
