"""Commands that set a store up: HQ's price list and configuration, and the store's staff.

Prices and config are HQ's (it wins, see ARCHITECTURE.md): only HQ_ACTOR holds CONFIGURE.
Staff are hired and changed by HQ or the owner, each act audited with its reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from salon.catalog import PackagePlan, PriceListPublished, Product, Service
from salon.commands import Command, handles
from salon.config import StoreConfig, StoreConfigured
from salon.context import Context
from salon.errors import DomainError, ErrorCode
from salon.events import Event
from salon.staff import (
    HQ_ACTOR,
    Permission,
    Role,
    StaffChanged,
    StaffHired,
    StaffLeft,
    audit,
    require,
)
from salon.state import SalonState

__all__ = ["ChangeStaff", "ConfigureStore", "HireStaff", "PublishPriceList", "RemoveStaff"]


@dataclass(frozen=True, kw_only=True)
class PublishPriceList(Command):
    version: int
    services: tuple[Service, ...]
    products: tuple[Product, ...]
    plans: tuple[PackagePlan, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ConfigureStore(Command):
    config: StoreConfig


@dataclass(frozen=True, kw_only=True)
class HireStaff(Command):
    staff_id: str
    name: str
    role: Role
    level: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class ChangeStaff(Command):
    staff_id: str
    name: str
    role: Role
    level: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class RemoveStaff(Command):
    staff_id: str
    reason: str


def _check_money(field_name: str, value: int) -> None:
    if value < 0:
        raise DomainError(ErrorCode.NEGATIVE_AMOUNT, {"field": field_name})


@handles(PublishPriceList)
def publish_price_list(state: SalonState, cmd: PublishPriceList, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.CONFIGURE)
    state.catalog.check_newer(cmd.version)
    for service in cmd.services:
        _check_money(f"service {service.service_id} price", service.price_fen)
        if service.duration_min <= 0:
            raise DomainError(
                ErrorCode.INVALID_INPUT,
                {"field": f"service {service.service_id} duration", "reason": "not_positive"},
            )
    for product in cmd.products:
        _check_money(f"product {product.product_id} price", product.price_fen)
        _check_money(f"product {product.product_id} cost", product.cost_fen)
    service_ids = {s.service_id for s in cmd.services}
    for plan in cmd.plans:
        _check_money(f"plan {plan.plan_id} price", plan.price_fen)
        if plan.sessions <= 0 or plan.bonus_sessions < 0 or plan.valid_days <= 0:
            raise DomainError(
                ErrorCode.INVALID_INPUT, {"field": f"plan {plan.plan_id}", "reason": "sessions"}
            )
        for service_id in plan.service_ids:
            if service_id not in service_ids:
                raise DomainError(ErrorCode.UNKNOWN_SERVICE, {"service_id": service_id})
    return [
        PriceListPublished(
            meta=ctx.meta(cmd.actor_id),
            version=cmd.version,
            services=cmd.services,
            products=cmd.products,
            plans=cmd.plans,
        )
    ]


@handles(ConfigureStore)
def configure_store(state: SalonState, cmd: ConfigureStore, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.CONFIGURE)
    state.configs.check_newer(cmd.config.version)
    return [StoreConfigured(meta=ctx.meta(cmd.actor_id), config=cmd.config)]


@handles(HireStaff)
def hire_staff(state: SalonState, cmd: HireStaff, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.MANAGE_STAFF)
    if cmd.staff_id in state.staff.staff:
        raise DomainError(ErrorCode.STAFF_EXISTS, {"staff_id": cmd.staff_id})
    if not cmd.staff_id.strip() or not cmd.name.strip():
        raise DomainError(ErrorCode.INVALID_INPUT, {"field": "staff", "reason": "empty"})
    # Any spelling of HQ's id is refused, so no one on a screen or receipt passes for HQ.
    if cmd.staff_id.strip().lower() == HQ_ACTOR:
        raise DomainError(ErrorCode.STAFF_ID_RESERVED, {"staff_id": cmd.staff_id})
    meta = ctx.meta(cmd.actor_id)
    return [
        StaffHired(
            meta=meta,
            staff_id=cmd.staff_id,
            name=cmd.name.strip(),
            role=cmd.role,
            level=cmd.level,
        ),
        audit(
            ctx.meta(cmd.actor_id, meta.at),
            Permission.MANAGE_STAFF,
            cmd.staff_id,
            cmd.reason,
            detail=f"hired role={cmd.role.value} level={cmd.level}",
        ),
    ]


@handles(ChangeStaff)
def change_staff(state: SalonState, cmd: ChangeStaff, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.MANAGE_STAFF)
    state.staff.get(cmd.staff_id)
    # As when hired: a nameless staff member could not be told apart on a screen or receipt.
    if not cmd.name.strip():
        raise DomainError(ErrorCode.INVALID_INPUT, {"field": "staff", "reason": "empty"})
    meta = ctx.meta(cmd.actor_id)
    return [
        StaffChanged(
            meta=meta, staff_id=cmd.staff_id, name=cmd.name.strip(), role=cmd.role,
            level=cmd.level,
        ),
        audit(
            ctx.meta(cmd.actor_id, meta.at),
            Permission.MANAGE_STAFF,
            cmd.staff_id,
            cmd.reason,
            detail=f"role={cmd.role.value} level={cmd.level}",
        ),
    ]


@handles(RemoveStaff)
def remove_staff(state: SalonState, cmd: RemoveStaff, ctx: Context) -> Sequence[Event]:
    require(state.staff, cmd.actor_id, Permission.MANAGE_STAFF)
    state.staff.active(cmd.staff_id)
    meta = ctx.meta(cmd.actor_id)
    return [
        StaffLeft(meta=meta, staff_id=cmd.staff_id),
        audit(ctx.meta(cmd.actor_id, meta.at), Permission.MANAGE_STAFF, cmd.staff_id, cmd.reason),
    ]
