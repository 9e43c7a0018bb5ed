"""Coupons (优惠券): issuing them, and what one takes off a ticket, single use."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from salon.catalog import ItemKind
from salon.commands import Command, handles
from salon.context import Context
from salon.errors import DomainError, ErrorCode, invalid_input
from salon.events import Event, EventMeta
from salon.indexes import INDEX, group
from salon.money import BP_WHOLE, RoundingMode, apply_bp
from salon.staff import HQ_ACTOR, Permission, SensitiveActAudited, audit, require

if TYPE_CHECKING:
    from salon.state import SalonState

__all__ = [
    "Coupon",
    "CouponBook",
    "CouponIssued",
    "CouponKind",
    "CouponLine",
    "CouponQuote",
    "CouponRedeemed",
    "CouponRestored",
    "IssueCoupon",
    "evaluate",
    "normalize_code",
]

_CODE = re.compile(r"[0-9A-Z][0-9A-Z\-]{2,31}")
_GENERATED_CODE_CHARS = 10


class CouponKind(StrEnum):
    FIXED = "fixed"
    """``value`` fen off (满100减20 with a minimum spend)."""
    PERCENT = "percent"
    """``value`` basis points off: 2000 is 20% off (8折)."""


@dataclass(frozen=True, slots=True)
class CouponLine:
    """A ticket line as a coupon sees it: ``amount_fen`` is what the line costs so far."""

    kind: ItemKind
    item_id: str
    category: str
    amount_fen: int


@dataclass(frozen=True, slots=True)
class CouponQuote:
    """The discount a coupon gives and the indexes (into the lines given) it applies to."""

    coupon_id: str
    discount_fen: int
    line_indexes: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class CouponIssued(Event):
    coupon_id: str
    code: str
    kind: CouponKind
    value: int
    min_spend_fen: int
    valid_from: datetime
    valid_until: datetime
    member_id: str
    item_ids: tuple[str, ...]
    categories: tuple[str, ...]
    kinds: tuple[ItemKind, ...]
    new_customers_only: bool
    max_discount_fen: int


@dataclass(frozen=True, kw_only=True)
class CouponRedeemed(Event):
    coupon_id: str
    member_id: str
    ticket_id: str
    discount_fen: int


@dataclass(frozen=True, kw_only=True)
class CouponRestored(Event):
    """The ticket that used the coupon was refunded: the coupon can be used again."""

    coupon_id: str
    ticket_id: str


@dataclass(frozen=True, slots=True)
class Coupon:
    coupon_id: str
    code: str
    kind: CouponKind
    value: int
    min_spend_fen: int
    valid_from: datetime
    valid_until: datetime
    """The first moment it is no longer valid."""
    member_id: str
    """Only this member may use it; empty: anyone holding the code."""
    item_ids: tuple[str, ...]
    categories: tuple[str, ...]
    kinds: tuple[ItemKind, ...]
    new_customers_only: bool
    max_discount_fen: int
    """The most a PERCENT coupon takes off; 0: no cap."""
    used_on_ticket: str = ""

    @property
    def used(self) -> bool:
        return bool(self.used_on_ticket)

    def applies_to(self, line: CouponLine) -> bool:
        """Each restriction left empty allows everything; the ones given must all hold."""
        return (
            line.kind in self.kinds
            and (not self.item_ids or line.item_id in self.item_ids)
            and (not self.categories or line.category in self.categories)
        )


@dataclass
class CouponBook:
    """The coupons slice: coupons by id and by code."""

    coupons: dict[str, Coupon] = field(default_factory=dict)
    code_index: dict[str, str] = field(default_factory=dict, metadata=INDEX)
    """Normalised code -> coupon id."""
    member_coupons: dict[str, list[str]] = field(default_factory=dict, metadata=INDEX)
    """Member id -> the ids of coupons issued to them (``coupons_of`` without a scan)."""

    def reindex(self) -> None:
        self.code_index = {c.code: coupon_id for coupon_id, c in self.coupons.items()}
        self.member_coupons = group(
            (c.member_id, coupon_id) for coupon_id, c in self.coupons.items() if c.member_id)

    def apply(self, event: Event) -> None:
        match event:
            case CouponIssued():
                self.coupons[event.coupon_id] = Coupon(
                    coupon_id=event.coupon_id,
                    code=event.code,
                    kind=event.kind,
                    value=event.value,
                    min_spend_fen=event.min_spend_fen,
                    valid_from=event.valid_from,
                    valid_until=event.valid_until,
                    member_id=event.member_id,
                    item_ids=event.item_ids,
                    categories=event.categories,
                    kinds=event.kinds,
                    new_customers_only=event.new_customers_only,
                    max_discount_fen=event.max_discount_fen,
                )
                self.code_index[event.code] = event.coupon_id
                if event.member_id:
                    self.member_coupons.setdefault(event.member_id, []).append(event.coupon_id)
            case CouponRedeemed():
                self.coupons[event.coupon_id] = replace(
                    self.coupons[event.coupon_id], used_on_ticket=event.ticket_id
                )
            case CouponRestored():
                self.coupons[event.coupon_id] = replace(
                    self.coupons[event.coupon_id], used_on_ticket=""
                )
            case _:
                pass

    def get(self, coupon_ref: str) -> Coupon:
        """The coupon by id or by its code as typed or scanned (UNKNOWN_COUPON)."""
        coupon = self.coupons.get(coupon_ref)
        if coupon is None:
            coupon_id = self.code_index.get(normalize_code(coupon_ref))
            coupon = None if coupon_id is None else self.coupons[coupon_id]
        if coupon is None:
            raise DomainError(ErrorCode.UNKNOWN_COUPON, {"coupon": coupon_ref.strip()})
        return coupon

    def coupons_of(self, member_id: str, now: datetime | None = None) -> tuple[Coupon, ...]:
        """The member's unused coupons (for the kiosk); with ``now``, only those not expired."""
        return tuple(
            c
            for c in (self.coupons[i] for i in self.member_coupons.get(member_id, ()))
            if not c.used and (now is None or now < c.valid_until)
        )


def normalize_code(text: str) -> str:
    """A coupon code as stored: trimmed, upper case, inner spaces removed."""
    return "".join(text.split()).upper()


def evaluate(
    state: SalonState,
    coupon_ref: str,
    member_id: str | None,
    lines: Sequence[CouponLine],
    now: datetime,
) -> CouponQuote:
    """What the coupon takes off these lines at ``now``; raises the COUPON_* refusals.

    The discount is never more than the applicable lines cost; it applies only to lines
    with something left to pay. A new-customers-only coupon needs a member on the ticket,
    since without one nobody can tell a new customer from a regular.
    """
    if any(line.amount_fen < 0 for line in lines):
        raise DomainError(ErrorCode.NEGATIVE_AMOUNT, {"field": "line amount"})
    coupon = state.coupons.get(coupon_ref)
    if coupon.used:
        raise DomainError(ErrorCode.COUPON_USED)
    if now < coupon.valid_from:
        raise DomainError(ErrorCode.COUPON_NOT_YET_VALID)
    if now >= coupon.valid_until:
        raise DomainError(ErrorCode.COUPON_EXPIRED)
    if coupon.member_id and coupon.member_id != member_id:
        raise DomainError(ErrorCode.COUPON_NOT_YOURS)
    if coupon.new_customers_only and (
        not member_id or state.tickets.paid_ticket_count(member_id) > 0
    ):
        raise DomainError(ErrorCode.COUPON_NEW_CUSTOMERS_ONLY)
    indexes = tuple(
        i for i, line in enumerate(lines) if line.amount_fen > 0 and coupon.applies_to(line)
    )
    if not indexes:
        raise DomainError(ErrorCode.COUPON_NOT_APPLICABLE)
    base = sum(lines[i].amount_fen for i in indexes)
    if base < coupon.min_spend_fen:
        raise DomainError(ErrorCode.COUPON_MIN_SPEND, {"min_spend_fen": coupon.min_spend_fen})
    match coupon.kind:
        case CouponKind.FIXED:
            discount = coupon.value
        case CouponKind.PERCENT:
            discount = apply_bp(base, coupon.value, RoundingMode.HALF_UP)
    if coupon.max_discount_fen:
        discount = min(discount, coupon.max_discount_fen)
    return CouponQuote(coupon.coupon_id, min(discount, base), indexes)


@dataclass(frozen=True, kw_only=True)
class IssueCoupon(Command):
    kind: CouponKind
    value: int
    """Fen off for FIXED; basis points off for PERCENT (2000 = 20% off)."""
    min_spend_fen: int
    valid_from: datetime
    valid_until: datetime
    member_id: str = ""
    code: str = ""
    """Printed or sent code; empty: one is made up from a fresh id."""
    item_ids: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    kinds: tuple[ItemKind, ...] = (ItemKind.SERVICE, ItemKind.PRODUCT)
    new_customers_only: bool = False
    max_discount_fen: int = 0
    reason: str = ""
    """Why store staff give it (the audit log needs one); HQ's campaigns need none."""


def _generated_code(seed: str) -> str:
    # Base32 avoids 0/1/8/9, so a code read aloud or typed by hand is not mistaken.
    digest = hashlib.sha256(seed.encode()).digest()
    return base64.b32encode(digest).decode()[:_GENERATED_CODE_CHARS]


def _check_terms(cmd: IssueCoupon) -> None:
    for name, amount in (
        ("value", cmd.value),
        ("min_spend_fen", cmd.min_spend_fen),
        ("max_discount_fen", cmd.max_discount_fen),
    ):
        if amount < 0:
            raise DomainError(ErrorCode.NEGATIVE_AMOUNT, {"field": name})
    if cmd.value == 0:
        raise invalid_input("value", "zero")
    if cmd.kind is CouponKind.PERCENT and cmd.value > BP_WHOLE:
        raise invalid_input("value", "over_100_percent")
    if cmd.valid_until <= cmd.valid_from:
        raise invalid_input("valid_until", "not_after_valid_from")
    if not cmd.kinds:
        raise invalid_input("kinds", "empty")


def _cap_of(state: SalonState, actor_id: str) -> tuple[int, int]:
    """The actor's manual-discount cap (bp, fen) from the checkout policy; no cap: (0, 0)."""
    role = state.staff.active(actor_id).role.value
    caps = [c for c in state.config.checkout.discount_caps if c.role == role]
    return min([c.max_bp for c in caps], default=0), min([c.max_fen for c in caps], default=0)


def _within_cap(cmd: IssueCoupon, cap_bp: int, cap_fen: int) -> bool:
    """Whether the coupon can never take off more than the cap allows a manual discount.

    At checkout the cap is the smaller of ``cap_fen`` and ``cap_bp`` of the ticket, so a
    coupon fits only in its worst case: a PERCENT one needs a fen ceiling within
    ``cap_fen``, and a FIXED one a minimum spend of which its value is at most ``cap_bp``
    (without one, ¥20 off a ¥20 wash is 100% off).
    """
    match cmd.kind:
        case CouponKind.PERCENT:
            return cmd.value <= cap_bp and 0 < cmd.max_discount_fen <= cap_fen
        case CouponKind.FIXED:
            most = min(cmd.value, cmd.max_discount_fen or cmd.value)
            return most <= cap_fen and most <= apply_bp(
                cmd.min_spend_fen, cap_bp, RoundingMode.DOWN
            )


def _staff_audit(
    state: SalonState, cmd: IssueCoupon, meta: EventMeta, coupon_id: str, code: str
) -> SensitiveActAudited:
    """The audit of a coupon store staff give: past the actor's discount cap it needs the
    right to exceed the cap, or a coupon would be a way round it."""
    cap_bp, cap_fen = _cap_of(state, cmd.actor_id)
    act = Permission.ISSUE_COUPON
    if not _within_cap(cmd, cap_bp, cap_fen):
        if not state.staff.can(cmd.actor_id, Permission.DISCOUNT_OVER_CAP):
            raise DomainError(ErrorCode.COUPON_OVER_CAP, {"cap_bp": cap_bp, "cap_fen": cap_fen})
        act = Permission.DISCOUNT_OVER_CAP
    detail = (
        f"code={code} kind={cmd.kind.value} value={cmd.value} "
        f"min_spend_fen={cmd.min_spend_fen} max_discount_fen={cmd.max_discount_fen}"
    )
    return audit(meta, act, coupon_id, cmd.reason, detail=detail)


@handles(IssueCoupon)
def issue_coupon(state: SalonState, cmd: IssueCoupon, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.ISSUE_COUPON)
    _check_terms(cmd)
    if cmd.member_id:
        state.members.get(cmd.member_id)
    catalog = state.catalog
    for item_id in cmd.item_ids:
        if not any(
            item_id in known for known in (catalog.services, catalog.products, catalog.plans)
        ):
            raise invalid_input("item_ids", "unknown_item")
    code = normalize_code(cmd.code)
    if code and not _CODE.fullmatch(code):
        raise invalid_input("code", "format")
    coupon_id = ctx.new_id()
    code = code or _generated_code(coupon_id)
    if code in state.coupons.code_index or code in state.coupons.coupons:
        raise DomainError(ErrorCode.COUPON_EXISTS, {"coupon": code})
    at = ctx.clock()
    events: list[Event] = [
        CouponIssued(
            meta=ctx.meta(cmd.actor_id, at),
            coupon_id=coupon_id,
            code=code,
            kind=cmd.kind,
            value=cmd.value,
            min_spend_fen=cmd.min_spend_fen,
            valid_from=cmd.valid_from,
            valid_until=cmd.valid_until,
            member_id=cmd.member_id,
            item_ids=tuple(dict.fromkeys(cmd.item_ids)),
            categories=tuple(dict.fromkeys(cmd.categories)),
            kinds=tuple(dict.fromkeys(cmd.kinds)),
            new_customers_only=cmd.new_customers_only,
            max_discount_fen=cmd.max_discount_fen,
        )
    ]
    if cmd.actor_id != HQ_ACTOR:
        events.append(_staff_audit(state, cmd, ctx.meta(cmd.actor_id, at), coupon_id, code))
    return events
