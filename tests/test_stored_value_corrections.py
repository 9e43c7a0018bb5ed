"""Stored-value corrections by a manager (audited) and the sweep of expired bonus."""

from __future__ import annotations

from dataclasses import replace

import pytest
from support import DESK, MANAGER, STYLIST, assert_refused, make_salon
from value_helpers import recharge, register, spend, sv_policy

from salon.errors import ErrorCode
from salon.staff import Permission
from salon.stored_value import (
    AdjustStoredValue,
    BonusExpired,
    ExpireBonus,
    LotDraw,
    StoredValueAdjusted,
    spendable_fen,
)

# --- manager's corrections ----------------------------------------------------------------


def adjust(member: str, principal: int, bonus: int, actor: str = MANAGER,
           reason: str = "收银错录") -> AdjustStoredValue:
    return AdjustStoredValue(actor_id=actor, member_id=member, principal_delta_fen=principal,
                             bonus_delta_fen=bonus, reason=reason)


def test_an_increase_opens_its_own_lot_and_is_audited() -> None:
    salon, clock = make_salon()
    member = register(salon)
    events = salon.execute(adjust(member, 1_000, 500))
    adjusted = next(e for e in events if isinstance(e, StoredValueAdjusted))
    lot = salon.state.accounts.lots[adjusted.adjustment_id]
    assert (lot.principal_fen, lot.bonus_fen) == (1_000, 500)
    assert spendable_fen(salon.state, member, clock()) == 1_500
    entry = salon.state.staff.audit_log[-1]
    assert (entry.act, entry.subject_id, entry.reason) == (
        Permission.ADJUST_BALANCE, member, "收银错录"
    )


def test_a_decrease_takes_from_the_oldest_lots_first() -> None:
    salon, _ = make_salon()
    member = register(salon)
    first = recharge(salon, member, 100_000).recharge_id
    second = recharge(salon, member, 50_000).recharge_id
    events = salon.execute(adjust(member, -120_000, -21_000))
    adjusted = next(e for e in events if isinstance(e, StoredValueAdjusted))
    assert adjusted.draws == (LotDraw(first, 100_000, 20_000), LotDraw(second, 20_000, 1_000))
    assert salon.state.accounts.principal_fen(member) == 30_000
    assert salon.state.accounts.bonus_fen(member) == 4_000
    assert adjusted.adjustment_id not in salon.state.accounts.lots


def test_an_adjustment_may_raise_one_part_and_lower_the_other() -> None:
    salon, _ = make_salon()
    member = register(salon)
    recharge(salon, member, 100_000)
    salon.execute(adjust(member, 5_000, -20_000))
    assert salon.state.accounts.principal_fen(member) == 105_000
    assert salon.state.accounts.bonus_fen(member) == 0


@pytest.mark.parametrize(("principal", "bonus"), [(-100_001, 0), (0, -20_001), (1, -20_001)])
def test_an_adjustment_below_zero_is_refused(principal: int, bonus: int) -> None:
    salon, _ = make_salon()
    member = register(salon)
    recharge(salon, member, 100_000)
    err = assert_refused(salon, adjust(member, principal, bonus), ErrorCode.ADJUST_BELOW_ZERO)
    assert err.params == {"balance_fen": 120_000}


def test_an_adjustment_cannot_remove_bonus_that_has_expired() -> None:
    salon, clock = make_salon(stored_value=sv_policy(bonus_valid_days=10))
    member = register(salon)
    recharge(salon, member, 100_000)
    clock.advance(days=10)
    assert_refused(salon, adjust(member, 0, -1), ErrorCode.ADJUST_BELOW_ZERO)


@pytest.mark.parametrize(
    ("command", "code"),
    [
        (adjust("m", 100, 0, actor=DESK), ErrorCode.PERMISSION_DENIED),
        (adjust("m", 100, 0, reason="  "), ErrorCode.REASON_REQUIRED),
        (adjust("m", 0, 0), ErrorCode.INVALID_INPUT),
        (adjust("nobody", 100, 0), ErrorCode.UNKNOWN_MEMBER),
    ],
)
def test_adjustment_refusals(command: AdjustStoredValue, code: ErrorCode) -> None:
    salon, _ = make_salon()
    member = register(salon)
    if command.member_id == "m":
        command = replace(command, member_id=member)
    assert_refused(salon, command, code)


# --- bonus expiry -------------------------------------------------------------------------


def test_expire_bonus_sweeps_each_expired_lot_once() -> None:
    salon, clock = make_salon(stored_value=sv_policy(bonus_valid_days=30))
    alice, bob = register(salon), register(salon, "13900139000")
    old = recharge(salon, alice, 100_000).recharge_id
    spend(salon, alice, 105_000)
    bobs = recharge(salon, bob, 50_000).recharge_id
    clock.advance(days=20)
    fresh = recharge(salon, alice, 50_000).recharge_id
    clock.advance(days=10)
    assert salon.execute(ExpireBonus(actor_id=DESK, member_id=alice)) != ()
    events = salon.execute(ExpireBonus(actor_id=DESK))
    assert [(e.member_id, e.recharge_id, e.bonus_fen) for e in events
            if isinstance(e, BonusExpired)] == [(bob, bobs, 5_000)]
    assert salon.execute(ExpireBonus(actor_id=DESK)) == ()
    book = salon.state.accounts
    assert (book.lots[old].bonus_fen, book.lots[fresh].bonus_fen) == (0, 5_000)
    assert spendable_fen(salon.state, alice, clock()) == 50_000 + 5_000


def test_nothing_expires_before_its_time() -> None:
    salon, clock = make_salon(stored_value=sv_policy(bonus_valid_days=30))
    member = register(salon)
    recharge(salon, member, 100_000)
    clock.advance(days=29, hours=23)
    assert salon.execute(ExpireBonus(actor_id=DESK)) == ()


@pytest.mark.parametrize(
    ("command", "code"),
    [
        (ExpireBonus(actor_id=STYLIST), ErrorCode.PERMISSION_DENIED),
        (ExpireBonus(actor_id=DESK, member_id="nobody"), ErrorCode.UNKNOWN_MEMBER),
    ],
)
def test_expire_bonus_refusals(command: ExpireBonus, code: ErrorCode) -> None:
    salon, _ = make_salon()
    assert_refused(salon, command, code)
