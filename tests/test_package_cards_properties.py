"""Package-card invariants under random sales, uses, restores, repayments and transfers."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from support import DESK, MANAGER, make_salon
from value_helpers import commit, register, sell_card, use_session

from salon.config import PackagePolicy
from salon.engine import Salon
from salon.errors import DomainError, ErrorCode
from salon.package_cards import (
    PackageCard,
    PackageCardPaid,
    PackageCardRefunded,
    PackageCardSold,
    PackageSessionRestored,
    PackageSessionsTransferred,
    PackageSessionUsed,
    TransferPackageSessions,
    plan_card_refund,
)
from salon.testing import ManualClock

Op = tuple[str, int, int]
"""(kind, a, b): a picks a card (modulo the number of cards), b is kind-specific."""

cards_sold = st.lists(
    st.tuples(st.integers(0, 200_000), st.integers(1, 12),
              st.one_of(st.just(10_000), st.integers(0, 10_000))),
    min_size=1, max_size=3,
)
KINDS = ("use",) * 5 + ("restore", "restore", "pay", "pay", "transfer", "transfer",
                      "advance", "refund")
operations = st.lists(
    st.tuples(st.sampled_from(KINDS), st.integers(0, 20), st.integers(0, 60_000)),
    min_size=5,
    max_size=30,
)


def expected_use_refusal(card: PackageCard, now: datetime) -> ErrorCode | None:
    if card.closed:
        return ErrorCode.PACKAGE_CLOSED
    if card.expired(now):
        return ErrorCode.PACKAGE_EXPIRED
    if card.unused_sessions == 0:
        return ErrorCode.PACKAGE_EXHAUSTED
    if card.consumed_value_fen + card.next_values(1)[0] > card.paid_fen:
        return ErrorCode.PACKAGE_UNPAID_SESSIONS
    return None


def run(salon: Salon, clock: ManualClock, members: list[str], op: Op,
        used: list[PackageSessionUsed]) -> None:
    kind, a, b = op
    cards = list(salon.state.packages.cards.values())
    card = cards[a % len(cards)]
    now = clock()
    if kind == "use":
        expected = expected_use_refusal(card, now)
        try:
            used.append(use_session(salon, card.card_id, card.member_id, ticket_id=f"t{a}"))
        except DomainError as err:
            assert err.code == expected
            return
        assert expected is None
    elif kind == "restore" and used:
        event = used.pop(a % len(used))
        commit(salon, PackageSessionRestored(
            meta=salon.ctx.meta(DESK), card_id=event.card_id, member_id=event.member_id,
            ticket_id=event.ticket_id, line_no=event.line_no, value_fen=event.value_fen,
        ))
    elif kind == "pay" and card.debt_fen:
        commit(salon, PackageCardPaid(meta=salon.ctx.meta(DESK), card_id=card.card_id,
                                      amount_fen=min(card.debt_fen, b) or card.debt_fen))
    elif kind == "transfer":
        to = next(m for m in members if m != card.member_id)
        try:
            salon.execute(TransferPackageSessions(
                actor_id=MANAGER, card_id=card.card_id, to_member_id=to, sessions=b % 4,
                reason="转赠",
            ))
        except DomainError as err:
            assert err.code in {
                ErrorCode.INVALID_INPUT, ErrorCode.PACKAGE_EXHAUSTED, ErrorCode.PACKAGE_CLOSED,
                ErrorCode.PACKAGE_EXPIRED, ErrorCode.PACKAGE_UNPAID_SESSIONS,
            }
    elif kind == "advance":
        clock.advance(days=3 * a)
    elif kind == "refund" and not card.closed:
        plan = plan_card_refund(salon.state, card.card_id, now)
        assert plan.refund_fen + card.consumed_value_fen >= card.paid_fen
        assert 0 <= plan.debt_cancelled_fen <= card.debt_fen
        commit(salon, PackageCardRefunded(
            meta=salon.ctx.meta(MANAGER), card_id=card.card_id, refund_fen=plan.refund_fen,
            sessions_cancelled=plan.sessions_cancelled, debt_cancelled_fen=plan.debt_cancelled_fen,
        ))


def check_invariants(salon: Salon) -> None:
    counts: Counter[tuple[str, str]] = Counter()
    sold = 0
    for e in salon.history:
        match e:
            case PackageCardSold():
                sold += e.price_fen
            case PackageSessionUsed():
                counts[e.card_id, "used"] += 1
            case PackageSessionRestored():
                counts[e.card_id, "restored"] += 1
            case PackageSessionsTransferred():
                counts[e.from_card_id, "out"] += e.sessions
            case _:
                pass
    cards = salon.state.packages.cards.values()
    for card in cards:
        c = card.card_id
        assert card.unused_sessions == (
            card.total_sessions - counts[c, "used"] + counts[c, "restored"] - counts[c, "out"]
        )
        assert card.consumed_value_fen + card.unused_value_fen == card.price_fen
        assert card.consumed_value_fen <= card.paid_fen <= card.price_fen
        assert 0 <= card.remaining_sessions <= card.unused_sessions
        assert card.used_sessions >= 0 and card.used_value_fen >= 0
    # Transfers move value between cards, never create or lose any.
    assert sum(card.used_value_fen + card.unused_value_fen for card in cards) == sold


@settings(max_examples=150, deadline=None)
@given(sales=cards_sold, ops=operations)
def test_sessions_and_values_always_add_up(
    sales: list[tuple[int, int, int]], ops: list[Op]
) -> None:
    salon, clock = make_salon(packages=PackagePolicy(allow_transfer=True))
    members = [register(salon, "13800138000"), register(salon, "13900139000")]
    for i, (price, sessions, paid_bp) in enumerate(sales):
        sell_card(salon, members[i % 2], price_fen=price, total_sessions=sessions,
                  paid_fen=price * paid_bp // 10_000)
    used: list[PackageSessionUsed] = []
    for op in ops:
        run(salon, clock, members, op, used)
        check_invariants(salon)
