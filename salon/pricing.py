"""Pricing a ticket, in a stated order: list price → tier discount → coupon → manual discount
→ points → 抹零 rounding. Every ticket-level reduction is spread over the lines exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from salon import coupons, package_cards, points, tiers
from salon.catalog import ItemKind
from salon.errors import DomainError, ErrorCode
from salon.money import BP_WHOLE, allocate, apply_bp, round_fen
from salon.staff import StaffShare

if TYPE_CHECKING:
    from salon.state import SalonState

__all__ = ["LineDraft", "PricedLine", "Quote", "price_ticket"]


@dataclass(frozen=True, slots=True)
class LineDraft:
    """One line as the front desk enters it.

    A SERVICE line with ``package_card_id`` is settled by that card's sessions (one per
    unit). A PACKAGE line sells a card of plan ``item_id``; with ``upgrade_from_card_id`` the
    old card's remaining paid value is credited. ``override_unit_fen`` replaces the unit price
    (a manager's act, within HQ's limits).
    """

    kind: ItemKind
    item_id: str
    quantity: int = 1
    staff: tuple[StaffShare, ...] = ()
    package_card_id: str = ""
    override_unit_fen: int | None = None
    upgrade_from_card_id: str = ""


@dataclass(frozen=True, slots=True)
class PricedLine:
    line_no: int
    kind: ItemKind
    item_id: str
    name: str
    category: str
    quantity: int
    unit_price_fen: int
    list_fen: int
    """Catalog unit price times quantity, before any change."""
    override_fen: int
    """What a price override took off (negative when it raised the price)."""
    credit_fen: int
    """Upgrade credit from an old package card."""
    tier_discount_fen: int
    coupon_discount_fen: int
    manual_discount_fen: int
    points_discount_fen: int
    rounding_fen: int
    net_fen: int
    """Money due for the line after everything; what payments cover and commission is on."""
    staff: tuple[StaffShare, ...]
    package_card_id: str
    package_values: tuple[int, ...]
    """Value of each package session used (revenue recognised, commission base)."""
    upgrade_from_card_id: str

    @property
    def is_money_line(self) -> bool:
        return not self.package_card_id

    @property
    def commission_base_fen(self) -> int:
        return sum(self.package_values) if self.package_card_id else self.net_fen


@dataclass(frozen=True, slots=True)
class Quote:
    member_id: str
    tier_id: str
    lines: tuple[PricedLine, ...]
    list_fen: int
    coupon_id: str
    redeem_points: int
    due_fen: int
    """What payments must cover."""

    def total(self, attribute: str) -> int:
        return sum(int(getattr(line, attribute)) for line in self.lines)


def _spread(lines: list[PricedLine], indexes: Sequence[int], amount: int, attr: str) -> None:
    """Spread ``amount`` over ``indexes`` by each line's current net and reduce their nets."""
    if not amount or not indexes:
        return
    parts = allocate(amount, [max(lines[i].net_fen, 0) for i in indexes])
    for i, part in zip(indexes, parts, strict=True):
        line = lines[i]
        lines[i] = replace(
            line, **{attr: getattr(line, attr) + part, "net_fen": line.net_fen - part}
        )


def _check_card_fields(no: int, draft: LineDraft) -> None:
    """Only a service line uses a card and only a package line upgrades one.

    Anywhere else the field is meaningless to the price but not to the ledgers: a line
    "paid by a card" would be free, and the refund of a line naming an upgraded card would
    reopen that card.
    """
    if draft.package_card_id and draft.kind is not ItemKind.SERVICE:
        raise DomainError(ErrorCode.INVALID_INPUT, {"field": f"line {no}",
                                                    "reason": "package_card_id"})
    if draft.upgrade_from_card_id and draft.kind is not ItemKind.PACKAGE:
        raise DomainError(ErrorCode.INVALID_INPUT, {"field": f"line {no}",
                                                    "reason": "upgrade_from_card_id"})


def _check_upgrades(drafts: Sequence[LineDraft]) -> None:
    """Refuse a card upgraded on a ticket that also uses it or upgrades it a second time.

    The upgrade credit is the card's unused paid value before the ticket, so a session used
    on another line, or a second upgrade, would be paid for again by the same credit.
    """
    used = {d.package_card_id for d in drafts if d.package_card_id}
    upgraded: set[str] = set()
    for draft in drafts:
        card_id = draft.upgrade_from_card_id
        if not card_id:
            continue
        if card_id in used or card_id in upgraded:
            raise DomainError(ErrorCode.PACKAGE_UPGRADED_IN_TICKET, {"card_id": card_id})
        upgraded.add(card_id)


def _base_line(
    state: SalonState, no: int, draft: LineDraft, member_id: str, now: datetime,
    used_before: int = 0,
) -> PricedLine:
    """The line at its list price (or override) less any upgrade credit.

    ``used_before`` counts the sessions of the line's card that earlier lines of the ticket
    use, so each session is checked and valued in its place on the card.
    """
    if draft.quantity <= 0:
        raise DomainError(ErrorCode.NEGATIVE_QUANTITY, {"field": f"line {no} quantity"})
    _check_card_fields(no, draft)
    catalog = state.catalog
    credit = 0
    values: tuple[int, ...] = ()
    if draft.kind is ItemKind.SERVICE:
        service = catalog.service(draft.item_id)
        name, category, unit = service.name, service.category, service.price_fen
        if draft.package_card_id:
            if not member_id:
                raise DomainError(ErrorCode.MEMBER_REQUIRED, {"method": "package"})
            values = tuple(
                package_cards.plan_use(
                    state, draft.package_card_id, member_id, draft.item_id, now, used
                )
                for used in range(used_before, used_before + draft.quantity)
            )
    elif draft.kind is ItemKind.PRODUCT:
        product = catalog.product(draft.item_id)
        name, category, unit = product.name, product.category, product.price_fen
    else:
        plan = catalog.plan(draft.item_id)
        name, category, unit = plan.name, plan.category, plan.price_fen
        if not member_id:
            raise DomainError(ErrorCode.MEMBER_REQUIRED, {"method": "package"})
        if draft.quantity != 1:
            raise DomainError(ErrorCode.INVALID_INPUT, {"field": f"line {no}", "reason": "qty"})
        if draft.upgrade_from_card_id:
            credit = package_cards.upgrade_credit(state, draft.upgrade_from_card_id, member_id, now)
            if state.packages.get(draft.upgrade_from_card_id).debt_fen:
                # The credit is only what was paid; the old card's debt must be settled first.
                raise DomainError(
                    ErrorCode.PACKAGE_UNPAID_SESSIONS, {"card_id": draft.upgrade_from_card_id}
                )
    list_fen = unit * draft.quantity
    price = list_fen
    if draft.override_unit_fen is not None:
        if draft.override_unit_fen < 0:
            raise DomainError(ErrorCode.NEGATIVE_AMOUNT, {"field": f"line {no} price"})
        policy = state.config.checkout
        low = apply_bp(unit, policy.price_override_min_bp)
        high = apply_bp(unit, policy.price_override_max_bp)
        if not low <= draft.override_unit_fen <= high:
            raise DomainError(
                ErrorCode.PRICE_OVERRIDE_OUT_OF_LIMITS, {"min_fen": low, "max_fen": high}
            )
        price = draft.override_unit_fen * draft.quantity
    if credit > price:
        raise DomainError(ErrorCode.PACKAGE_UPGRADE_SMALLER, {"plan_id": draft.item_id})
    net = 0 if draft.package_card_id else price - credit
    return PricedLine(
        line_no=no, kind=draft.kind, item_id=draft.item_id, name=name, category=category,
        quantity=draft.quantity, unit_price_fen=unit, list_fen=list_fen,
        override_fen=list_fen - price, credit_fen=credit, tier_discount_fen=0,
        coupon_discount_fen=0, manual_discount_fen=0, points_discount_fen=0, rounding_fen=0,
        net_fen=net, staff=draft.staff, package_card_id=draft.package_card_id,
        package_values=values, upgrade_from_card_id=draft.upgrade_from_card_id,
    )


def price_ticket(
    state: SalonState,
    *,
    member_id: str,
    lines: Sequence[LineDraft],
    now: datetime,
    coupon: str = "",
    manual_discount_fen: int = 0,
    redeem_points: int = 0,
) -> Quote:
    """Price a ticket without changing anything; refuses what cannot be sold."""
    if not lines:
        raise DomainError(ErrorCode.EMPTY_TICKET)
    if manual_discount_fen < 0 or redeem_points < 0:
        raise DomainError(ErrorCode.NEGATIVE_AMOUNT, {"field": "discount"})
    if member_id:
        state.members.get(member_id)
    _check_upgrades(lines)
    priced: list[PricedLine] = []
    card_uses: dict[str, int] = {}
    for no, draft in enumerate(lines, 1):
        used_before = card_uses.get(draft.package_card_id, 0)
        priced.append(_base_line(state, no, draft, member_id, now, used_before))
        if draft.package_card_id:
            card_uses[draft.package_card_id] = used_before + draft.quantity
    money = [i for i, line in enumerate(priced) if line.is_money_line]
    tier_id = ""
    if member_id:
        rule = tiers.tier_of(state, member_id)
        tier_id = rule.tier_id
        rounding = state.config.checkout.discount_rounding
        for i in money:
            line = priced[i]
            bp = tiers.tier_discount_bp(rule, line.kind)
            if bp < BP_WHOLE:
                off = line.net_fen - apply_bp(line.net_fen, bp, rounding)
                priced[i] = replace(line, tier_discount_fen=off, net_fen=line.net_fen - off)
    coupon_id = ""
    if coupon:
        coupon_lines = [
            coupons.CouponLine(priced[i].kind, priced[i].item_id, priced[i].category,
                               priced[i].net_fen)
            for i in money
        ]
        quote = coupons.evaluate(state, coupon, member_id or None, coupon_lines, now)
        coupon_id = quote.coupon_id
        _spread(priced, [money[j] for j in quote.line_indexes], quote.discount_fen,
                "coupon_discount_fen")
    due = sum(priced[i].net_fen for i in money)
    if manual_discount_fen > due:
        raise DomainError(ErrorCode.INVALID_INPUT, {"field": "discount", "reason": "over_total"})
    _spread(priced, money, manual_discount_fen, "manual_discount_fen")
    due -= manual_discount_fen
    if redeem_points:
        if not member_id:
            raise DomainError(ErrorCode.MEMBER_REQUIRED, {"method": "points"})
        value = points.check_redeem(state, member_id, redeem_points, due, now)
        _spread(priced, money, value, "points_discount_fen")
        due -= value
    policy = state.config.checkout
    rounded = round_fen(due, policy.round_to, policy.rounding_mode)
    _spread(priced, money, due - rounded, "rounding_fen")
    return Quote(
        member_id=member_id, tier_id=tier_id, lines=tuple(priced),
        list_fen=sum(line.list_fen for line in priced), coupon_id=coupon_id,
        redeem_points=redeem_points, due_fen=rounded,
    )
