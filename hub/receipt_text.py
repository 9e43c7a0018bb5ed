"""Receipts as terminal text (the demo's printer): columns by display width, CJK = 2 columns."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta

from kiosk.i18n import Locale, text
from salon.members import mask_mobile, mask_name
from salon.money import format_fen
from salon.state import SalonState
from salon.tickets import RechargePaid, TicketPaid
from salon.tiers import tier_of

__all__ = ["WIDTH", "display_width", "render_recharge", "render_ticket"]

WIDTH = 32
"""A 58 mm receipt: 32 columns of half-width characters."""


def display_width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _row(left: str, right: str) -> str:
    gap = WIDTH - display_width(left) - display_width(right)
    return left + " " * max(gap, 1) + right


class _Receipt:
    def __init__(self, state: SalonState, locale: Locale) -> None:
        self.state = state
        self.locale = locale
        self.lines: list[str] = []

    def t(self, msgid: str, **params: object) -> str:
        return text(msgid, self.locale, **params)

    def header(self, title_id: str, number: str, at_utc: datetime) -> None:
        name = self.state.config.store_name
        pad = max((WIDTH - display_width(name)) // 2, 0)
        self.lines += [" " * pad + name, self.t(title_id), "-" * WIDTH]
        self.lines.append(_row(self.t("receipt.number"), number[-12:]))
        local = at_utc + timedelta(minutes=self.state.config.checkout.utc_offset_minutes)
        self.lines.append(_row(self.t("receipt.time"), f"{local:%Y-%m-%d %H:%M}"))

    def member(self, member_id: str) -> None:
        if not member_id:
            self.lines.append(_row(self.t("receipt.member"), self.t("receipt.walk_in")))
            return
        m = self.state.members.get(member_id)
        self.lines.append(_row(self.t("receipt.member"),
                               f"{mask_name(m.name)} {mask_mobile(m.mobile)}"))

    def amount(self, msgid: str, fen: int, **params: object) -> None:
        self.lines.append(_row(self.t(msgid, **params), format_fen(fen)))

    def balances(self, member_id: str, at_utc: datetime) -> None:
        """What the member can spend as of the receipt's time.

        Bonus, points and sessions past their expiry are left out even before an expiry
        command sweeps them: the receipt must not promise what the till would refuse.
        """
        if not member_id:
            return
        accounts = self.state.accounts
        self.lines.append("-" * WIDTH)
        self.amount("receipt.balance_principal", accounts.principal_fen(member_id))
        self.amount("receipt.balance_bonus", accounts.spendable_bonus_fen(member_id, at_utc))
        for card in self.state.packages.cards_of(member_id):
            plan = self.state.catalog.plans.get(card.plan_id)
            left = 0 if card.expired(at_utc) else card.remaining_sessions
            self.lines.append(_row(plan.name if plan else card.plan_id,
                                   self.t("receipt.sessions_left", n=left)))
        points = self.state.points.balance(member_id, at_utc)
        self.lines.append(_row(self.t("receipt.points"), str(points)))
        rule = tier_of(self.state, member_id)
        self.lines.append(_row(self.t("receipt.tier"), rule.name))

    def text(self) -> str:
        return "\n".join([*self.lines, "=" * WIDTH, ""])


def render_ticket(state: SalonState, paid: TicketPaid, locale: Locale = "zh_CN") -> str:
    r = _Receipt(state, locale)
    r.header("receipt.ticket_title", paid.ticket_id, paid.meta.at)
    r.member(paid.member_id)
    r.lines.append("-" * WIDTH)
    for s in paid.lines:
        line = s.line
        r.lines.append(f"{line.name} x{line.quantity}")
        if line.package_card_id:
            r.lines.append(_row("  " + r.t("receipt.package_session"),
                                format_fen(sum(line.package_values))))
            continue
        r.lines.append(_row("", format_fen(line.list_fen)))
        for attr, msgid in (
            ("override_fen", "receipt.override"),
            ("credit_fen", "receipt.credit"),
            ("tier_discount_fen", "receipt.tier_discount"),
            ("coupon_discount_fen", "receipt.coupon"),
            ("manual_discount_fen", "receipt.discount"),
            ("points_discount_fen", "receipt.points_discount"),
            ("rounding_fen", "receipt.rounding"),
        ):
            value = int(getattr(line, attr))
            if value:
                r.lines.append(_row("  " + r.t(msgid), format_fen(-value)))
    r.lines.append("-" * WIDTH)
    r.amount("receipt.due", paid.due_fen)
    for p in paid.tendered:
        r.amount("receipt.paid_by", p.amount_fen, method=r.t(f"method.{p.method.value}"))
    if paid.change_fen:
        r.amount("receipt.change", paid.change_fen)
    earned = sum(s.points_earned for s in paid.lines)
    if paid.member_id:
        r.lines.append(_row(r.t("receipt.points_earned"), str(earned)))
    r.balances(paid.member_id, paid.meta.at)
    return r.text()


def render_recharge(
    state: SalonState, paid: RechargePaid, principal_fen: int, bonus_fen: int,
    locale: Locale = "zh_CN",
) -> str:
    r = _Receipt(state, locale)
    r.header("receipt.recharge_title", paid.recharge_id, paid.meta.at)
    r.member(paid.member_id)
    r.lines.append("-" * WIDTH)
    r.amount("receipt.recharge_principal", principal_fen)
    r.amount("receipt.recharge_bonus", bonus_fen)
    for p in paid.payments:
        r.amount("receipt.paid_by", p.amount_fen, method=r.t(f"method.{p.method.value}"))
    if paid.change_fen:
        r.amount("receipt.change", paid.change_fen)
    r.balances(paid.member_id, paid.meta.at)
    return r.text()
