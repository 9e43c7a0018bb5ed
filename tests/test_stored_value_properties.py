"""Stored-value invariants under random recharges, spends, restores, corrections and refunds."""

from __future__ import annotations

import copy
from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st
from support import MANAGER, make_salon
from value_helpers import commit, recharge, register, restore, spend, sv_policy

from salon.config import RechargeOffer, RechargeRefundRule, SpendOrder
from salon.engine import Salon
from salon.errors import DomainError, ErrorCode
from salon.money import allocate
from salon.stored_value import (
    AdjustStoredValue,
    BonusExpired,
    ExpireBonus,
    LotDraw,
    RechargeRefunded,
    StoredValueAdjusted,
    StoredValueRecharged,
    StoredValueRestored,
    StoredValueSpent,
    plan_recharge_refund,
)
from salon.testing import ManualClock

MEMBERS = 2
OFFERS = (
    RechargeOffer("r500", 50_000, bonus_fen=5_000),
    RechargeOffer("pct", 80_000, bonus_bp=1_500),
    RechargeOffer("r1000", 100_000, bonus_fen=20_000, bonus_bp=333),
)

member_ix = st.integers(0, MEMBERS - 1)
Op = tuple[str, int, int, int]
"""(kind, a, b, c): what a, b and c mean depends on the kind; unused ones are 0."""
operations = st.lists(
    st.one_of(
        st.tuples(st.just("recharge"), member_ix, st.integers(100, 150_000), st.just(0)),
        # b: the share of the balance to spend, in basis points (above 10000: too much)
        st.tuples(st.just("spend"), member_ix, st.integers(0, 11_000), st.integers(-3, 3)),
        st.tuples(st.just("spend"), member_ix, st.sampled_from([2_500, 5_000, 9_000, 10_000]),
                  st.integers(-3, 3)),
        st.tuples(st.just("restore"), st.integers(0, 50), st.just(0), st.just(0)),
        st.tuples(st.just("adjust"), member_ix, st.integers(-60_000, 60_000),
                  st.integers(-25_000, 25_000)),
        st.tuples(st.just("advance"), st.integers(0, 40), st.just(0), st.just(0)),
        # a of -1: every member
        st.tuples(st.just("expire"), st.integers(-1, MEMBERS - 1), st.just(0), st.just(0)),
        st.tuples(st.just("refund"), st.integers(0, 50), st.just(0), st.just(0)),
    ),
    min_size=8,
    max_size=30,
)


def ledger_sums(salon: Salon) -> dict[str, list[int]]:
    """[principal, bonus] per member, summed from the history alone."""
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])

    def move(member: str, draws: tuple[LotDraw, ...], sign: int) -> None:
        for d in draws:
            sums[member][0] += sign * d.principal_fen
            sums[member][1] += sign * d.bonus_fen

    for e in salon.history:
        match e:
            case StoredValueRecharged():
                sums[e.member_id][0] += e.principal_fen
                sums[e.member_id][1] += e.bonus_fen
            case StoredValueSpent():
                move(e.member_id, e.draws, -1)
            case StoredValueRestored():
                move(e.member_id, e.draws, 1)
            case RechargeRefunded():
                sums[e.member_id][0] -= e.principal_removed_fen
                sums[e.member_id][1] -= e.bonus_removed_fen
            case StoredValueAdjusted():
                sums[e.member_id][0] += max(0, e.principal_delta_fen)
                sums[e.member_id][1] += max(0, e.bonus_delta_fen)
                move(e.member_id, e.draws, -1)
            case BonusExpired():
                sums[e.member_id][1] -= e.bonus_fen
            case _:
                pass
    return sums


def check_spend_order(salon: Salon, member: str, spent: StoredValueSpent, amount: int,
                      principal: int, bonus: int) -> None:
    now = salon.ctx.clock()
    lots = salon.state.accounts.lots_of(member)
    drawn = {d.recharge_id: d for d in spent.draws}
    taken_p = sum(d.principal_fen for d in spent.draws)
    taken_b = sum(d.bonus_fen for d in spent.draws)
    assert taken_p + taken_b == amount
    if salon.state.config.stored_value.spend_order is SpendOrder.BONUS_LAST:
        assert taken_p == min(amount, principal)
    else:
        assert [taken_p, taken_b] == allocate(amount, [principal, bonus])
    # Oldest first: any lot before the last one drawn from is left empty of that part.
    for part in ("principal_fen", "bonus_fen"):
        touched = [i for i, lot in enumerate(lots) if getattr(drawn.get(lot.lot_id), part, 0)]
        for lot in lots[: max(touched, default=0)]:
            left = lot.principal_fen if part == "principal_fen" else lot.spendable_bonus_fen(now)
            assert left == 0


def run(salon: Salon, clock: ManualClock, members: list[str], op: Op,
        spends: list[StoredValueSpent]) -> None:
    book = salon.state.accounts
    now = salon.ctx.clock()
    kind, a, b, c = op
    if kind == "recharge":
        recharge(salon, members[a], b)
    elif kind == "spend":
        member = members[a]
        principal, bonus = book.principal_fen(member), book.spendable_bonus_fen(member, now)
        amount = max(0, (principal + bonus) * b // 10_000 + c)
        if amount > principal + bonus:
            try:
                spend(salon, member, amount)
            except DomainError as err:
                assert err.code is ErrorCode.INSUFFICIENT_BALANCE
                return
            raise AssertionError("overspend allowed")
        before = copy.deepcopy(book)
        spent = spend(salon, member, amount, ticket_id=f"t{len(spends)}")
        check_spend_order(salon, member, spent, amount, principal, bonus)
        undone = copy.deepcopy(book)
        undone.apply(StoredValueRestored(meta=spent.meta, member_id=member, ticket_id="x",
                                         draws=spent.draws))
        assert undone.lots == before.lots
        spends.append(spent)
    elif kind == "restore" and spends:
        spent = spends.pop(a % len(spends))
        restore(salon, spent.member_id, spent.draws, spent.ticket_id)
    elif kind == "adjust":
        member = members[a]
        dp, db = b, c
        refused = (dp == 0 and db == 0) or book.principal_fen(member) + dp < 0 or (
            book.spendable_bonus_fen(member, now) + db < 0)
        try:
            salon.execute(AdjustStoredValue(actor_id=MANAGER, member_id=member,
                                            principal_delta_fen=dp, bonus_delta_fen=db,
                                            reason="盘点差异"))
        except DomainError:
            assert refused
            return
        assert not refused
    elif kind == "advance":
        clock.advance(days=a)
    elif kind == "expire":
        target = None if a < 0 else members[a]
        salon.execute(ExpireBonus(actor_id=MANAGER, member_id=target))
        assert all(
            lot.bonus_fen == 0 for lot in book.lots.values()
            if lot.bonus_expired(now) and target in (None, lot.member_id)
        )
    elif kind == "refund":
        recharges = [lot for lot in book.lots.values() if lot.kind == "recharge"]
        if not recharges:
            return
        lot = recharges[a % len(recharges)]
        try:
            plan = plan_recharge_refund(salon.state, lot.lot_id, now)
        except DomainError as err:
            rule = salon.state.config.stored_value.refund_rule
            assert lot.refunded or rule is RechargeRefundRule.NOT_REFUNDABLE, err
            return
        assert 0 <= plan.refund_fen <= lot.principal_fen
        commit(salon, RechargeRefunded(
            meta=salon.ctx.meta(MANAGER), member_id=plan.member_id, recharge_id=lot.lot_id,
            refund_fen=plan.refund_fen, principal_removed_fen=plan.principal_removed_fen,
            bonus_removed_fen=plan.bonus_removed_fen,
        ))


@settings(max_examples=150, deadline=None)
@given(
    order=st.sampled_from(SpendOrder),
    rule=st.sampled_from(RechargeRefundRule),
    valid_days=st.sampled_from([None, 15, 30]),
    first=st.lists(st.tuples(st.just("recharge"), member_ix, st.integers(100, 150_000),
                             st.just(0)), min_size=1, max_size=4),
    ops=operations,
)
def test_balances_are_the_sum_of_events_and_never_negative(
    order: SpendOrder, rule: RechargeRefundRule, valid_days: int | None,
    first: list[Op], ops: list[Op],
) -> None:
    policy = sv_policy(offers=OFFERS, spend_order=order, refund_rule=rule,
                       bonus_valid_days=valid_days)
    salon, clock = make_salon(stored_value=policy)
    members = [register(salon, f"1380013800{i}") for i in range(MEMBERS)]
    spends: list[StoredValueSpent] = []
    for op in first + ops:
        run(salon, clock, members, op, spends)
        book = salon.state.accounts
        sums = ledger_sums(salon)
        for member in members:
            assert [book.principal_fen(member), book.bonus_fen(member)] == sums[member]
        assert all(lot.principal_fen >= 0 and lot.bonus_fen >= 0 for lot in book.lots.values())
        assert book.liability_fen() == sum(book.principal_fen(m) for m in members)
        assert book.liability_fen() == sum(lot.principal_fen for lot in book.lots.values())
