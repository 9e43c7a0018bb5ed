"""Helpers for the stored-value and package-card tests: members, and committing ledger events.

Recharges, spends and package sales are decided by the lead's sales code; these tests build
the same events from the contract functions and commit them, as that code does.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from support import CONFIG, DESK

from salon.engine import Salon
from salon.events import Event
from salon.members import MemberRegistered, RegisterMember
from salon.package_cards import PackageCardSold, PackageSessionUsed, plan_use
from salon.stored_value import (
    LotDraw,
    StoredValueRecharged,
    StoredValueRestored,
    StoredValueSpent,
    plan_spend,
    recharge_terms,
)

__all__ = [
    "commit",
    "recharge",
    "register",
    "restore",
    "sell_card",
    "spend",
    "sv_policy",
    "use_session",
]


def register(salon: Salon, mobile: str = "13800138000") -> str:
    events = salon.execute(RegisterMember(actor_id=DESK, name="张三", mobile=mobile))
    return next(e.member_id for e in events if isinstance(e, MemberRegistered))


def commit(salon: Salon, *events: Event) -> None:
    salon.state.apply_all(events)
    salon.history.extend(events)


def sv_policy(**changes: Any) -> Any:
    """The seeded stored-value policy with ``changes``, for ``make_salon(stored_value=...)``."""
    return replace(CONFIG.stored_value, **changes)


def recharge(salon: Salon, member_id: str, principal_fen: int) -> StoredValueRecharged:
    at = salon.ctx.clock()
    bonus, offer_id, expires = recharge_terms(salon.state, principal_fen, at)
    event = StoredValueRecharged(
        meta=salon.ctx.meta(DESK, at), member_id=member_id, recharge_id=salon.ctx.new_id(),
        principal_fen=principal_fen, bonus_fen=bonus, offer_id=offer_id,
        bonus_expires_at=expires,
    )
    commit(salon, event)
    return event


def spend(salon: Salon, member_id: str, amount_fen: int, ticket_id: str = "t1") -> StoredValueSpent:
    at = salon.ctx.clock()
    draws = plan_spend(salon.state, member_id, amount_fen, at)
    event = StoredValueSpent(
        meta=salon.ctx.meta(DESK, at), member_id=member_id, ticket_id=ticket_id, draws=draws
    )
    commit(salon, event)
    return event


def restore(
    salon: Salon, member_id: str, draws: tuple[LotDraw, ...], ticket_id: str = "t1"
) -> None:
    commit(salon, StoredValueRestored(
        meta=salon.ctx.meta(DESK), member_id=member_id, ticket_id=ticket_id, draws=draws
    ))


def sell_card(
    salon: Salon,
    member_id: str,
    *,
    price_fen: int = 100_000,
    total_sessions: int = 10,
    paid_fen: int | None = None,
    service_ids: tuple[str, ...] = ("facial",),
    valid_days: int = 365,
) -> str:
    at: datetime = salon.ctx.clock()
    card_id = salon.ctx.new_id()
    commit(salon, PackageCardSold(
        meta=salon.ctx.meta(DESK, at), card_id=card_id, member_id=member_id,
        plan_id="facial10", service_ids=service_ids, total_sessions=total_sessions,
        price_fen=price_fen, paid_fen=price_fen if paid_fen is None else paid_fen,
        ticket_id="sale", line_no=1, expires_at=at + timedelta(days=valid_days),
    ))
    return card_id


def use_session(
    salon: Salon, card_id: str, member_id: str, service_id: str = "facial", ticket_id: str = "t1"
) -> PackageSessionUsed:
    at = salon.ctx.clock()
    value = plan_use(salon.state, card_id, member_id, service_id, at)
    event = PackageSessionUsed(
        meta=salon.ctx.meta(DESK, at), card_id=card_id, member_id=member_id,
        ticket_id=ticket_id, line_no=1, value_fen=value,
    )
    commit(salon, event)
    return event
