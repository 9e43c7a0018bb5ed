"""Staff, roles and the permission table, checked inside the domain; the audit event."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from salon.errors import DomainError, ErrorCode
from salon.events import Event, EventMeta

__all__ = [
    "HQ_ACTOR",
    "PERMISSIONS",
    "Permission",
    "Role",
    "SensitiveActAudited",
    "Staff",
    "StaffBook",
    "StaffChanged",
    "StaffHired",
    "StaffLeft",
    "StaffShare",
    "audit",
    "require",
]

HQ_ACTOR = "hq"
"""The actor id of everything HQ pushes: price lists, config, staff records.

Reserved: no staff member may be hired under it, or they would act with HQ's rights."""


class Role(StrEnum):
    OWNER = "owner"
    MANAGER = "manager"
    FRONT_DESK = "front_desk"
    STYLIST = "stylist"


class Permission(StrEnum):
    REGISTER_MEMBER = "register_member"
    EDIT_MEMBER = "edit_member"
    MANAGE_CARDS = "manage_cards"
    BLACKLIST = "blacklist"
    RECHARGE = "recharge"
    REFUND_RECHARGE = "refund_recharge"
    ADJUST_BALANCE = "adjust_balance"
    SELL_PACKAGE = "sell_package"
    REFUND_PACKAGE = "refund_package"
    TRANSFER_PACKAGE = "transfer_package"
    CHECKOUT = "checkout"
    DISCOUNT_OVER_CAP = "discount_over_cap"
    PRICE_OVERRIDE = "price_override"
    REFUND = "refund"
    VOID = "void"
    ISSUE_COUPON = "issue_coupon"
    ADJUST_POINTS = "adjust_points"
    MANAGE_STAFF = "manage_staff"
    CONFIGURE = "configure"
    EXPIRE_BALANCES = "expire_balances"
    RESET_PAYMENT_PIN = "reset_payment_pin"
    BOOK = "book"
    """Book, move, cancel and check in appointments (预约)."""
    MANAGE_SCHEDULE = "manage_schedule"
    """Set the store's hours and holidays and the staff's schedules (排班)."""
    CLOSE_DAY = "close_day"
    """The day close (日结): the sum of the day's closed shifts, once."""
    MANAGE_STOCK = "manage_stock"
    """Purchase orders, receiving, transfers, write-offs and overage, counting stock."""
    STOCK_TAKE = "stock_take"
    """Set the books to a stock-take's counts (盘点调整): audited."""


_FRONT_DESK = frozenset(
    {
        Permission.REGISTER_MEMBER,
        Permission.EDIT_MEMBER,
        Permission.MANAGE_CARDS,
        Permission.RECHARGE,
        Permission.SELL_PACKAGE,
        Permission.CHECKOUT,
        Permission.ISSUE_COUPON,
        Permission.EXPIRE_BALANCES,
        Permission.BOOK,
    }
)
_MANAGER = _FRONT_DESK | {
    Permission.MANAGE_SCHEDULE,
    Permission.CLOSE_DAY,
    Permission.MANAGE_STOCK,
    Permission.STOCK_TAKE,
    Permission.BLACKLIST,
    Permission.REFUND_RECHARGE,
    Permission.ADJUST_BALANCE,
    Permission.REFUND_PACKAGE,
    Permission.TRANSFER_PACKAGE,
    Permission.DISCOUNT_OVER_CAP,
    Permission.PRICE_OVERRIDE,
    Permission.REFUND,
    Permission.VOID,
    Permission.ADJUST_POINTS,
    Permission.RESET_PAYMENT_PIN,
}

PERMISSIONS: dict[Role, frozenset[Permission]] = {
    # HQ owns the price list and the store's config (it wins); an owner runs the store.
    Role.OWNER: frozenset(Permission) - {Permission.CONFIGURE},
    Role.MANAGER: frozenset(_MANAGER),
    Role.FRONT_DESK: _FRONT_DESK,
    Role.STYLIST: frozenset({Permission.REGISTER_MEMBER, Permission.CHECKOUT, Permission.BOOK}),
}
_HQ_PERMISSIONS = frozenset(
    {Permission.CONFIGURE, Permission.MANAGE_STAFF, Permission.ISSUE_COUPON}
)

SENSITIVE = frozenset(
    {
        Permission.BLACKLIST,
        Permission.REFUND_RECHARGE,
        Permission.ADJUST_BALANCE,
        Permission.REFUND_PACKAGE,
        Permission.TRANSFER_PACKAGE,
        Permission.DISCOUNT_OVER_CAP,
        Permission.PRICE_OVERRIDE,
        Permission.REFUND,
        Permission.VOID,
        Permission.ADJUST_POINTS,
        Permission.MANAGE_STAFF,
        Permission.RESET_PAYMENT_PIN,
        Permission.STOCK_TAKE,
    }
)
"""Acts that always need a reason and always leave an audit event."""


@dataclass(frozen=True, slots=True)
class Staff:
    staff_id: str
    name: str
    role: Role
    level: str
    """The staff level (e.g. 'junior', 'senior', 'director') services and commissions use."""
    active: bool = True


@dataclass(frozen=True, slots=True)
class StaffShare:
    """One stylist's part of a ticket line: shares of a line sum to 10000 bp."""

    staff_id: str
    share_bp: int = 10_000
    designated: bool = False
    """指定: the customer asked for this stylist (else 轮牌, assigned by rotation)."""


@dataclass(frozen=True, kw_only=True)
class StaffHired(Event):
    staff_id: str
    name: str
    role: Role
    level: str


@dataclass(frozen=True, kw_only=True)
class StaffChanged(Event):
    staff_id: str
    name: str
    role: Role
    level: str


@dataclass(frozen=True, kw_only=True)
class StaffLeft(Event):
    staff_id: str


@dataclass(frozen=True, kw_only=True)
class SensitiveActAudited(Event):
    """The audit log: one per sensitive act, in the same commit as the act itself."""

    act: Permission
    subject_id: str
    reason: str
    detail: str = ""
    approver_id: str = ""


@dataclass
class StaffBook:
    """The staff slice of the state, and the audit log."""

    staff: dict[str, Staff] = field(default_factory=dict)
    audit_log: list[SensitiveActAudited] = field(default_factory=list)

    def apply(self, event: Event) -> None:
        match event:
            case StaffHired():
                self.staff[event.staff_id] = Staff(
                    event.staff_id, event.name, event.role, event.level
                )
            case StaffChanged():
                old = self.staff[event.staff_id]
                self.staff[event.staff_id] = replace(
                    old, name=event.name, role=event.role, level=event.level
                )
            case StaffLeft():
                self.staff[event.staff_id] = replace(self.staff[event.staff_id], active=False)
            case SensitiveActAudited():
                self.audit_log.append(event)
            case _:
                pass

    def get(self, staff_id: str) -> Staff:
        try:
            return self.staff[staff_id]
        except KeyError:
            raise DomainError(ErrorCode.UNKNOWN_STAFF, {"staff_id": staff_id}) from None

    def active(self, staff_id: str) -> Staff:
        person = self.get(staff_id)
        if not person.active:
            raise DomainError(ErrorCode.STAFF_INACTIVE, {"staff_id": staff_id})
        return person

    def can(self, actor_id: str, permission: Permission) -> bool:
        if actor_id == HQ_ACTOR:
            return permission in _HQ_PERMISSIONS
        person = self.staff.get(actor_id)
        return person is not None and person.active and permission in PERMISSIONS[person.role]


def require(book: StaffBook, actor_id: str, permission: Permission) -> None:
    """Refuse unless ``actor_id`` is HQ or an active staff member whose role allows it."""
    if actor_id == HQ_ACTOR:
        if permission in _HQ_PERMISSIONS:
            return
        raise DomainError(
            ErrorCode.PERMISSION_DENIED,
            {"staff_id": actor_id, "role": "hq", "permission": permission.value},
        )
    person = book.active(actor_id)
    if permission not in PERMISSIONS[person.role]:
        raise DomainError(
            ErrorCode.PERMISSION_DENIED,
            {"staff_id": actor_id, "role": person.role.value, "permission": permission.value},
        )


def audit(
    meta: EventMeta,
    act: Permission,
    subject_id: str,
    reason: str,
    *,
    detail: str = "",
    approver_id: str = "",
) -> SensitiveActAudited:
    """The audit event for a sensitive act; refuses an empty reason."""
    if not reason.strip():
        raise DomainError(ErrorCode.REASON_REQUIRED, {"act": act.value})
    return SensitiveActAudited(
        meta=meta,
        act=act,
        subject_id=subject_id,
        reason=reason.strip(),
        detail=detail,
        approver_id=approver_id,
    )
