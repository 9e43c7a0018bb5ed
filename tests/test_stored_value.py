"""Stored-value accounts: recharge offers, spend order, expiry, restores, refunds, corrections."""

from __future__ import annotations

from datetime import timedelta

import pytest
from support import DESK, MANAGER, START, make_salon
from value_helpers import commit, recharge, register, restore, spend, sv_policy

from salon.config import RechargeOffer, RechargeRefundRule, SpendOrder
from salon.errors import DomainError, ErrorCode
from salon.stored_value import (
    AdjustStoredValue,
    BonusExpired,
    ExpireBonus,
    LotDraw,
    RechargeRefunded,
    StoredValueAdjusted,
    plan_recharge_refund,
    plan_spend,
    recharge_principal,
    recharge_terms,
    spendable_fen,
)

# --- recharge offers --------------------------------------------------------------------


def test_a_recharge_below_every_offer_earns_no_bonus() -> None:
    salon, clock = make_salon()
    assert recharge_terms(salon.state, 20_000, clock()) == (0, "", None)


@pytest.mark.parametrize(
    ("principal", "bonus", "offer"),
    [(50_000, 5_000, "r500"), (99_999, 5_000, "r500"), (100_000, 20_000, "r1000"),
     (300_000, 20_000, "r1000")],
)
def test_the_highest_offer_the_recharge_reaches_wins(
    principal: int, bonus: int, offer: str
) -> None:
    salon, clock = make_salon()
    assert recharge_terms(salon.state, principal, clock())[:2] == (bonus, offer)


def test_a_percentage_bonus_adds_to_the_fixed_bonus_and_rounds_down() -> None:
    offer = RechargeOffer("pct", 10_000, bonus_fen=100, bonus_bp=1_000)
    salon, clock = make_salon(stored_value=sv_policy(offers=(offer,)))
    assert recharge_terms(salon.state, 12_345, clock())[:2] == (100 + 1_234, "pct")


def test_offers_count_only_inside_their_validity_window() -> None:
    later = RechargeOffer("later", 100, bonus_fen=1, valid_from=START + timedelta(days=1))
    over = RechargeOffer("over", 100, bonus_fen=2, valid_until=START)
    now = RechargeOffer("now", 100, bonus_fen=3, valid_from=START, valid_until=START.replace(
        year=2027))
    salon, clock = make_salon(stored_value=sv_policy(offers=(later, over, now)))
    assert recharge_terms(salon.state, 50_000, clock())[:2] == (3, "now")
    clock.advance(days=2)
    assert recharge_terms(salon.state, 50_000, clock())[:2] == (1, "later")


def test_bonus_expiry_is_set_from_the_policy() -> None:
    salon, clock = make_salon(stored_value=sv_policy(bonus_valid_days=90))
    assert recharge_terms(salon.state, 100_000, clock())[2] == START + timedelta(days=90)


@pytest.mark.parametrize(
    ("principal", "code"),
    [(99, ErrorCode.RECHARGE_TOO_SMALL), (-100, ErrorCode.NEGATIVE_AMOUNT)],
)
def test_a_recharge_too_small_or_negative_is_refused(principal: int, code: ErrorCode) -> None:
    salon, clock = make_salon()
    with pytest.raises(DomainError) as caught:
        recharge_terms(salon.state, principal, clock())
    assert caught.value.code == code
    if code is ErrorCode.RECHARGE_TOO_SMALL:
        assert caught.value.params == {"min_fen": 100}


# --- balances and spend order -----------------------------------------------------------


def test_balance_is_principal_plus_bonus_and_liability_is_unspent_principal() -> None:
    salon, clock = make_salon()
    alice, bob = register(salon), register(salon, "13900139000")
    recharge(salon, alice, 100_000)
    recharge(salon, bob, 50_000)
    book = salon.state.accounts
    assert spendable_fen(salon.state, alice, clock()) == 120_000
    assert (book.principal_fen(alice), book.bonus_fen(alice)) == (100_000, 20_000)
    assert book.liability_fen() == 150_000
    spend(salon, alice, 30_000)
    assert book.liability_fen() == 120_000


def test_bonus_last_takes_principal_oldest_first_then_bonus_oldest_first() -> None:
    salon, clock = make_salon()
    member = register(salon)
    first = recharge(salon, member, 100_000).recharge_id  # + 20_000 bonus
    second = recharge(salon, member, 50_000).recharge_id  # + 5_000 bonus
    assert plan_spend(salon.state, member, 120_000, clock()) == (
        LotDraw(first, 100_000, 0), LotDraw(second, 20_000, 0),
    )
    assert plan_spend(salon.state, member, 160_000, clock()) == (
        LotDraw(first, 100_000, 10_000), LotDraw(second, 50_000, 0),
    )
    assert plan_spend(salon.state, member, 175_000, clock()) == (
        LotDraw(first, 100_000, 20_000), LotDraw(second, 50_000, 5_000),
    )


def test_proportional_spend_splits_in_the_ratio_of_the_balance_exactly() -> None:
    salon, clock = make_salon(stored_value=sv_policy(spend_order=SpendOrder.PROPORTIONAL))
    member = register(salon)
    lot = recharge(salon, member, 100_000).recharge_id  # 100_000 : 20_000 = 5 : 1
    assert plan_spend(salon.state, member, 12_000, clock()) == (LotDraw(lot, 10_000, 2_000),)
    assert plan_spend(salon.state, member, 1, clock()) == (LotDraw(lot, 1, 0),)
    draws = plan_spend(salon.state, member, 12_347, clock())
    assert sum(d.principal_fen + d.bonus_fen for d in draws) == 12_347
    assert draws == (LotDraw(lot, 10_289, 2_058),)


def test_expired_bonus_cannot_be_spent() -> None:
    salon, clock = make_salon(stored_value=sv_policy(bonus_valid_days=30))
    member = register(salon)
    recharge(salon, member, 100_000)
    clock.advance(days=30)
    assert spendable_fen(salon.state, member, clock()) == 100_000
    with pytest.raises(DomainError) as caught:
        plan_spend(salon.state, member, 100_001, clock())
    assert caught.value.code is ErrorCode.INSUFFICIENT_BALANCE
    assert caught.value.params == {"balance_fen": 100_000, "needed_fen": 1}


def test_a_spend_beyond_the_balance_is_refused() -> None:
    salon, clock = make_salon()
    member = register(salon)
    recharge(salon, member, 10_000)
    with pytest.raises(DomainError) as caught:
        plan_spend(salon.state, member, 12_000, clock())
    assert caught.value.code is ErrorCode.INSUFFICIENT_BALANCE
    assert caught.value.params == {"balance_fen": 10_000, "needed_fen": 2_000}


@pytest.mark.parametrize(
    ("member", "amount", "code"),
    [("nobody", 100, ErrorCode.UNKNOWN_MEMBER), (None, -1, ErrorCode.NEGATIVE_AMOUNT)],
)
def test_a_spend_for_an_unknown_member_or_a_negative_amount_is_refused(
    member: str | None, amount: int, code: ErrorCode
) -> None:
    salon, clock = make_salon()
    member_id = member or register(salon)
    with pytest.raises(DomainError) as caught:
        plan_spend(salon.state, member_id, amount, clock())
    assert caught.value.code == code


def test_a_member_without_an_account_has_nothing_to_spend() -> None:
    salon, clock = make_salon()
    member = register(salon)
    assert spendable_fen(salon.state, member, clock()) == 0
    assert plan_spend(salon.state, member, 0, clock()) == ()


def test_a_restore_gives_back_the_exact_lots_of_before_the_spend() -> None:
    salon, _ = make_salon()
    member = register(salon)
    recharge(salon, member, 100_000)
    recharge(salon, member, 50_000)
    before = dict(salon.state.accounts.lots)
    spent = spend(salon, member, 160_000)
    restore(salon, member, spent.draws)
    assert salon.state.accounts.lots == before


def test_a_restore_after_expiry_returns_bonus_that_the_next_sweep_takes_again() -> None:
    salon, clock = make_salon(stored_value=sv_policy(bonus_valid_days=30))
    member = register(salon)
    lot = recharge(salon, member, 100_000).recharge_id
    spent = spend(salon, member, 110_000)
    clock.advance(days=31)
    salon.execute(ExpireBonus(actor_id=DESK, member_id=member))
    restore(salon, member, spent.draws)
    assert salon.state.accounts.lots[lot].bonus_fen == 10_000
    assert spendable_fen(salon.state, member, clock()) == 100_000
    events = salon.execute(ExpireBonus(actor_id=DESK, member_id=member))
    assert [(e.recharge_id, e.bonus_fen) for e in events if isinstance(e, BonusExpired)] == [
        (lot, 10_000)
    ]


# --- refunds of a recharge --------------------------------------------------------------


def refund(salon: object, recharge_id: str) -> tuple[int, int, int]:
    from salon.engine import Salon

    assert isinstance(salon, Salon)
    plan = plan_recharge_refund(salon.state, recharge_id, salon.ctx.clock())
    commit(salon, RechargeRefunded(
        meta=salon.ctx.meta(MANAGER), member_id=plan.member_id, recharge_id=recharge_id,
        refund_fen=plan.refund_fen, principal_removed_fen=plan.principal_removed_fen,
        bonus_removed_fen=plan.bonus_removed_fen,
    ))
    return plan.refund_fen, plan.principal_removed_fen, plan.bonus_removed_fen


def test_principal_left_refunds_unspent_principal_and_forfeits_the_bonus() -> None:
    salon, clock = make_salon()
    member = register(salon)
    lot = recharge(salon, member, 100_000).recharge_id
    spend(salon, member, 30_000)
    assert refund(salon, lot) == (70_000, 70_000, 20_000)
    assert spendable_fen(salon.state, member, clock()) == 0
    assert salon.state.accounts.liability_fen() == 0


@pytest.mark.parametrize(
    ("order", "spent", "expected"),
    [
        # bonus last: 110_000 = 100_000 principal + 10_000 bonus, more than was paid
        (SpendOrder.BONUS_LAST, 110_000, (0, 0, 10_000)),
        # proportional: 60_000 = 50_000 principal + 10_000 bonus
        (SpendOrder.PROPORTIONAL, 60_000, (40_000, 50_000, 10_000)),
    ],
)
def test_claw_back_refunds_what_was_paid_minus_everything_spent(
    order: SpendOrder, spent: int, expected: tuple[int, int, int]
) -> None:
    policy = sv_policy(spend_order=order, refund_rule=RechargeRefundRule.CLAW_BACK_BONUS)
    salon, _ = make_salon(stored_value=policy)
    member = register(salon)
    lot = recharge(salon, member, 100_000).recharge_id
    spend(salon, member, spent)
    assert refund(salon, lot) == expected
    assert salon.state.accounts.lots[lot].principal_fen == 0
    assert salon.state.accounts.lots[lot].bonus_fen == 0


def test_claw_back_counts_spends_net_of_restores() -> None:
    salon, _ = make_salon(stored_value=sv_policy(refund_rule=RechargeRefundRule.CLAW_BACK_BONUS))
    member = register(salon)
    lot = recharge(salon, member, 100_000).recharge_id
    spent = spend(salon, member, 110_000)
    restore(salon, member, spent.draws)
    spend(salon, member, 10_000)
    assert refund(salon, lot) == (90_000, 90_000, 20_000)


@pytest.mark.parametrize(
    ("rule", "target", "code"),
    [
        (RechargeRefundRule.NOT_REFUNDABLE, "lot", ErrorCode.RECHARGE_NOT_REFUNDABLE),
        (RechargeRefundRule.PRINCIPAL_LEFT, "nope", ErrorCode.UNKNOWN_RECHARGE),
        (RechargeRefundRule.PRINCIPAL_LEFT, "adjustment", ErrorCode.UNKNOWN_RECHARGE),
        (RechargeRefundRule.PRINCIPAL_LEFT, "refunded", ErrorCode.RECHARGE_ALREADY_REFUNDED),
    ],
)
def test_recharge_refund_refusals(rule: RechargeRefundRule, target: str, code: ErrorCode) -> None:
    salon, clock = make_salon(stored_value=sv_policy(refund_rule=rule))
    member = register(salon)
    lot = recharge(salon, member, 100_000).recharge_id
    recharge_id = {"lot": lot, "nope": "nope", "refunded": lot}.get(target, "")
    if target == "refunded":
        refund(salon, lot)
    if target == "adjustment":
        events = salon.execute(AdjustStoredValue(
            actor_id=MANAGER, member_id=member, principal_delta_fen=100, bonus_delta_fen=0,
            reason="补录",
        ))
        recharge_id = next(e for e in events if isinstance(e, StoredValueAdjusted)).adjustment_id
    with pytest.raises(DomainError) as caught:
        plan_recharge_refund(salon.state, recharge_id, clock())
    assert caught.value.code == code
    assert caught.value.params == {"recharge_id": recharge_id}


def test_recharge_principal_is_what_the_recharge_paid_in() -> None:
    salon, _ = make_salon()
    member = register(salon)
    lot = recharge(salon, member, 100_000).recharge_id
    spend(salon, member, 30_000)
    assert recharge_principal(salon.state, lot) == 100_000
