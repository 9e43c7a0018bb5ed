"""The receipt documents of a paid ticket and a recharge, for the printer, preview and terminal.

One document per sale (``devices.receipt_doc.Receipt``), in the words it prints: texts
from the i18n catalog, money by ``salon.money.format_fen``, the member masked. The
ESC/POS printer, the PNG preview and the demo's terminal all lay out this same
document (``devices.receipt_layout``), so what the demo shows is what the paper shows.

No QR code is printed: the store's configuration has no e-receipt address to link to.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from devices.receipt_doc import Align, Block, Columns, ItemLine, Receipt, Row, Rule, Text
from kiosk.i18n import Locale, text
from salon.masking import mask_mobile, mask_name
from salon.money import format_fen
from salon.payments import Payment
from salon.pricing import PricedLine
from salon.state import SalonState
from salon.tickets import RechargePaid, TicketPaid
from salon.tiers import tier_of

__all__ = ["recharge_receipt", "ticket_receipt"]

_ADJUSTMENTS: tuple[tuple[str, str], ...] = (
    ("override_fen", "receipt.override"),
    ("credit_fen", "receipt.credit"),
    ("tier_discount_fen", "receipt.tier_discount"),
    ("coupon_discount_fen", "receipt.coupon"),
    ("manual_discount_fen", "receipt.discount"),
    ("points_discount_fen", "receipt.points_discount"),
    ("rounding_fen", "receipt.rounding"),
)
"""What a money line's price went through (a ``PricedLine`` field, its msgid), in order."""

_NUMBER_TAIL = 12
"""Characters of the ticket id printed: a uuid4 hex does not fit a 58 mm row beside its
label, and its last 12 are enough to find the ticket (the job id keeps the whole)."""

_INDENT = "  "  # an adjustment row sits under its line


class _Builder:
    def __init__(self, state: SalonState, locale: Locale) -> None:
        self.state = state
        self.locale = locale
        self.blocks: list[Block] = []

    def t(self, msgid: str, **params: object) -> str:
        return text(msgid, self.locale, **params)

    def row(self, label: str, value: str, *, bold: bool = False) -> None:
        self.blocks.append(Row(label, value, bold))

    def amount(self, msgid: str, fen: int, *, bold: bool = False, **params: object) -> None:
        self.row(self.t(msgid, **params), format_fen(fen), bold=bold)

    def header(self, title_id: str, number: str, at_utc: datetime) -> None:
        name = self.state.config.store_name
        if name:
            self.blocks.append(Text(name, Align.CENTER, big=True))
        self.blocks += [Text(self.t(title_id), Align.CENTER, bold=True), Rule()]
        self.row(self.t("receipt.number"), number[-_NUMBER_TAIL:])
        local = at_utc + timedelta(minutes=self.state.config.checkout.utc_offset_minutes)
        self.row(self.t("receipt.time"), f"{local:%Y-%m-%d %H:%M}")

    def member(self, member_id: str) -> None:
        if not member_id:
            self.row(self.t("receipt.member"), self.t("receipt.walk_in"))
            return
        m = self.state.members.get(member_id)
        self.row(self.t("receipt.member"), f"{mask_name(m.name)} {mask_mobile(m.mobile)}")

    def line(self, line: PricedLine) -> None:
        """The item with its list price, then each adjustment under it as a row.

        Adjustments are rows, not the item's notes, so their amounts stand in the amount
        column where the eye adds them up. A package session is paid by the card, not
        with money: its list price is not printed, only the session's value.
        """
        if line.package_card_id:
            self.blocks.append(ItemLine(line.name, str(line.quantity), ""))
            self.row(_INDENT + self.t("receipt.package_session"),
                     format_fen(sum(line.package_values)))
            return
        self.blocks.append(ItemLine(line.name, str(line.quantity), format_fen(line.list_fen)))
        for attr, msgid in _ADJUSTMENTS:
            value = int(getattr(line, attr))
            if value:
                self.row(_INDENT + self.t(msgid), format_fen(-value))

    def payments(self, payments: tuple[Payment, ...], change_fen: int) -> None:
        for p in payments:
            self.amount("receipt.paid_by", p.amount_fen, method=self.t(f"method.{p.method.value}"))
        if change_fen:
            self.amount("receipt.change", change_fen)

    def balances(self, member_id: str, at_utc: datetime) -> None:
        """What the member can spend as of the receipt's time.

        Bonus, points and sessions past their expiry are left out even before an expiry
        command sweeps them: the receipt must not promise what the till would refuse.
        """
        if not member_id:
            return
        accounts = self.state.accounts
        self.blocks.append(Rule())
        self.amount("receipt.balance_principal", accounts.principal_fen(member_id))
        self.amount("receipt.balance_bonus", accounts.spendable_bonus_fen(member_id, at_utc))
        for card in self.state.packages.cards_of(member_id):
            plan = self.state.catalog.plans.get(card.plan_id)
            left = 0 if card.expired(at_utc) else card.remaining_sessions
            self.row(plan.name if plan else card.plan_id, self.t("receipt.sessions_left", n=left))
        self.row(self.t("receipt.points"), str(self.state.points.balance(member_id, at_utc)))
        self.row(self.t("receipt.tier"), tier_of(self.state, member_id).name)

    def receipt(self, job_id: str) -> Receipt:
        return Receipt(job_id, (*self.blocks, Rule("=")))


def ticket_receipt(state: SalonState, paid: TicketPaid, locale: Locale = "zh_CN") -> Receipt:
    """The sales receipt (消费小票) of ``paid``, with the member's balances after it."""
    r = _Builder(state, locale)
    r.header("receipt.ticket_title", paid.ticket_id, paid.meta.at)
    r.member(paid.member_id)
    r.blocks += [Rule(), Columns(r.t("receipt.column_item"), r.t("receipt.column_quantity"),
                                 r.t("receipt.column_amount"))]
    for settlement in paid.lines:
        r.line(settlement.line)
    r.blocks.append(Rule())
    r.amount("receipt.due", paid.due_fen, bold=True)
    r.payments(paid.tendered, paid.change_fen)
    if paid.member_id:
        r.row(r.t("receipt.points_earned"), str(sum(s.points_earned for s in paid.lines)))
    r.balances(paid.member_id, paid.meta.at)
    return r.receipt(paid.ticket_id)


def recharge_receipt(
    state: SalonState, paid: RechargePaid, principal_fen: int, bonus_fen: int,
    locale: Locale = "zh_CN",
) -> Receipt:
    """The recharge receipt (充值小票): money in, the bonus given, and the balances after."""
    r = _Builder(state, locale)
    r.header("receipt.recharge_title", paid.recharge_id, paid.meta.at)
    r.member(paid.member_id)
    r.blocks.append(Rule())
    r.amount("receipt.recharge_principal", principal_fen)
    r.amount("receipt.recharge_bonus", bonus_fen)
    r.payments(paid.payments, paid.change_fen)
    r.balances(paid.member_id, paid.meta.at)
    return r.receipt(paid.recharge_id)
