"""Package cards: exact session values, use, unpaid sessions, restore, upgrade, refund, transfer."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import DESK, MANAGER, assert_refused, make_salon
from value_helpers import commit, register, sell_card, use_session

from salon.config import PackagePolicy
from salon.engine import Salon
from salon.errors import DomainError, ErrorCode
from salon.package_cards import (
    CardClosure,
    PackageCardPaid,
    PackageCardRefunded,
    PackageCardUpgraded,
    PackageSessionRestored,
    PackageSessionsTransferred,
    PackageSessionUsed,
    TransferPackageSessions,
    is_unused,
    owner_of,
    plan_card_refund,
    plan_use,
    remaining_sessions,
    session_value,
    upgrade_credit,
)
from salon.staff import Permission
from salon.testing import ManualClock

# --- session values -----------------------------------------------------------------------


@settings(max_examples=200)
@given(price=st.integers(0, 10_000_000), total=st.integers(1, 60))
def test_session_values_sum_exactly_to_the_price_and_differ_by_at_most_a_fen(
    price: int, total: int
) -> None:
    values = [session_value(price, total, k) for k in range(total)]
    assert sum(values) == price
    assert max(values) - min(values) <= 1


def test_free_sessions_share_the_price() -> None:
    assert [session_value(1_000, 12, k) for k in range(12)] == [83, 83, 84] * 4


@pytest.mark.parametrize(("total", "k"), [(10, 10), (10, -1), (0, 0)])
def test_there_is_no_session_outside_the_card(total: int, k: int) -> None:
    with pytest.raises(ValueError):
        session_value(1_000, total, k)


# --- using sessions -----------------------------------------------------------------------


def card_salon(**card: object) -> tuple[Salon, ManualClock, str, str]:
    salon, clock = make_salon(packages=PackagePolicy(allow_transfer=True))
    member = register(salon)
    return salon, clock, member, sell_card(salon, member, **card)


def use(salon: Salon, card: str, member: str, service: str = "facial", already: int = 0) -> int:
    return plan_use(salon.state, card, member, service, salon.ctx.clock(), already)


def refused(code: ErrorCode, fn: object, *args: object) -> DomainError:
    with pytest.raises(DomainError) as caught:
        fn(*args)
    assert caught.value.code == code, caught.value
    return caught.value


def test_each_use_takes_the_next_session_at_its_value() -> None:
    salon, _, member, card = card_salon(price_fen=1_000, total_sessions=3)
    assert [use_session(salon, card, member).value_fen for _ in range(3)] == [333, 333, 334]
    assert remaining_sessions(salon.state, card) == 0
    refused(ErrorCode.PACKAGE_EXHAUSTED, use, salon, card, member)


def test_uses_planned_earlier_in_the_same_ticket_count() -> None:
    salon, _, member, card = card_salon(price_fen=1_000, total_sessions=3)
    assert [use(salon, card, member, already=n) for n in range(3)] == [333, 333, 334]
    refused(ErrorCode.PACKAGE_EXHAUSTED, use, salon, card, member, "facial", 3)


def test_a_restored_session_is_the_next_one_used_at_the_same_value() -> None:
    salon, _, member, card = card_salon(price_fen=1_000, total_sessions=3)
    used = [use_session(salon, card, member) for _ in range(3)]
    commit(salon, PackageSessionRestored(
        meta=salon.ctx.meta(DESK), card_id=card, member_id=member, ticket_id="t1", line_no=1,
        value_fen=used[0].value_fen,
    ))
    assert remaining_sessions(salon.state, card) == 1
    assert use(salon, card, member) == 333
    state = salon.state.packages.get(card)
    assert state.used_value_fen + state.unused_value_fen == 1_000


def test_only_sessions_covered_by_what_was_paid_are_usable() -> None:
    salon, _, member, card = card_salon(price_fen=1_000, total_sessions=4, paid_fen=600)
    assert [use_session(salon, card, member).value_fen for _ in range(2)] == [250, 250]
    err = refused(ErrorCode.PACKAGE_UNPAID_SESSIONS, use, salon, card, member)
    assert err.params == {"card_id": card}
    commit(salon, PackageCardPaid(meta=salon.ctx.meta(DESK), card_id=card, amount_fen=400))
    assert use(salon, card, member) == 250


def test_use_refusals_of_the_wrong_member_service_or_an_expired_card() -> None:
    salon, clock, member, card = card_salon(valid_days=30)
    other = register(salon, "13900139000")
    refused(ErrorCode.UNKNOWN_PACKAGE_CARD, use, salon, "nope", member)
    refused(ErrorCode.PACKAGE_NOT_OWNED, use, salon, card, other)
    err = refused(ErrorCode.PACKAGE_NOT_FOR_SERVICE, use, salon, card, member, "cut")
    assert err.params == {"card_id": card, "service_id": "cut"}
    clock.advance(days=30)
    refused(ErrorCode.PACKAGE_EXPIRED, use, salon, card, member)


@pytest.mark.parametrize("how", ["refunded", "upgraded", "transferred"])
def test_a_closed_card_cannot_be_used(how: str) -> None:
    salon, _, member, card = card_salon(total_sessions=2)
    if how == "refunded":
        commit(salon, PackageCardRefunded(meta=salon.ctx.meta(MANAGER), card_id=card,
                                          refund_fen=100_000, sessions_cancelled=2,
                                          debt_cancelled_fen=0))
    elif how == "upgraded":
        commit(salon, PackageCardUpgraded(meta=salon.ctx.meta(DESK), old_card_id=card,
                                          new_card_id="new", credit_fen=100_000))
    else:
        other = register(salon, "13900139000")
        salon.execute(transfer(card, other, 2))
    assert salon.state.packages.get(card).closure == CardClosure(how)
    assert remaining_sessions(salon.state, card) == 0
    refused(ErrorCode.PACKAGE_CLOSED, use, salon, card, member)
    refused(ErrorCode.PACKAGE_CLOSED, upgrade_credit, salon.state, card, member,
            salon.ctx.clock())
    refused(ErrorCode.PACKAGE_CLOSED, plan_card_refund, salon.state, card, salon.ctx.clock())


def test_the_book_lists_a_members_cards_and_their_state() -> None:
    salon, _, member, card = card_salon(total_sessions=5)
    second = sell_card(salon, member)
    assert [c.card_id for c in salon.state.packages.cards_of(member)] == [card, second]
    assert owner_of(salon.state, card) == member
    assert is_unused(salon.state, card)
    use_session(salon, card, member)
    assert not is_unused(salon.state, card)
    assert salon.state.packages.remaining_sessions(card) == 4


# --- upgrade and refund -------------------------------------------------------------------


def test_upgrade_credit_is_the_paid_value_not_yet_used() -> None:
    salon, clock, member, card = card_salon(price_fen=1_000, total_sessions=4, paid_fen=800)
    use_session(salon, card, member)
    assert upgrade_credit(salon.state, card, member, clock()) == 550
    other = register(salon, "13900139000")
    refused(ErrorCode.PACKAGE_NOT_OWNED, upgrade_credit, salon.state, card, other, clock())
    clock.advance(days=365)
    refused(ErrorCode.PACKAGE_EXPIRED, upgrade_credit, salon.state, card, member, clock())


def test_a_refund_pays_back_the_paid_value_not_used_and_cancels_the_debt() -> None:
    salon, clock, member, card = card_salon(price_fen=1_000, total_sessions=4, paid_fen=800)
    use_session(salon, card, member)
    plan = plan_card_refund(salon.state, card, clock())
    assert (plan.refund_fen, plan.sessions_cancelled, plan.debt_cancelled_fen) == (550, 3, 200)
    assert plan.member_id == member


def test_when_more_was_used_than_paid_nothing_is_refunded_and_that_debt_stays() -> None:
    salon, clock, member, card = card_salon(price_fen=1_000, total_sessions=4, paid_fen=300)
    use_session(salon, card, member)
    # A second session recorded beyond what was paid: the ledger applies what it is given.
    commit(salon, PackageSessionUsed(meta=salon.ctx.meta(DESK), card_id=card, member_id=member,
                                     ticket_id="t2", line_no=1, value_fen=250))
    plan = plan_card_refund(salon.state, card, clock())
    # used 500, paid 300: 200 stays owed, the other 500 of the 700 debt is cancelled
    assert (plan.refund_fen, plan.sessions_cancelled, plan.debt_cancelled_fen) == (0, 2, 500)


def test_an_expired_card_can_still_be_refunded() -> None:
    salon, clock, _, card = card_salon(price_fen=1_000, total_sessions=4, valid_days=10)
    clock.advance(days=11)
    assert plan_card_refund(salon.state, card, clock()).refund_fen == 1_000


def test_refund_of_an_unknown_card_is_refused() -> None:
    salon, clock = make_salon()
    refused(ErrorCode.UNKNOWN_PACKAGE_CARD, plan_card_refund, salon.state, "nope", clock())


# --- transfer -----------------------------------------------------------------------------


def transfer(card: str, to: str, sessions: int, actor: str = MANAGER,
             reason: str = "转给家人") -> TransferPackageSessions:
    return TransferPackageSessions(actor_id=actor, card_id=card, to_member_id=to,
                                   sessions=sessions, reason=reason)


def test_a_transfer_moves_the_next_paid_sessions_to_a_new_card_of_the_other_member() -> None:
    salon, _, member, card = card_salon(price_fen=1_000, total_sessions=3)
    other = register(salon, "13900139000")
    use_session(salon, card, member)
    events = salon.execute(transfer(card, other, 2))
    moved = next(e for e in events if isinstance(e, PackageSessionsTransferred))
    assert (moved.sessions, moved.value_fen, moved.to_member_id) == (2, 667, other)
    new = salon.state.packages.get(moved.to_card_id)
    old = salon.state.packages.get(card)
    assert (new.member_id, new.total_sessions, new.price_fen, new.paid_fen) == (
        other, 2, 667, 667)
    assert (new.service_ids, new.expires_at) == (old.service_ids, old.expires_at)
    assert old.used_value_fen + old.unused_value_fen + new.price_fen == 1_000
    assert [use_session(salon, new.card_id, other).value_fen for _ in range(2)] == [333, 334]
    entry = salon.state.staff.audit_log[-1]
    assert (entry.act, entry.subject_id) == (Permission.TRANSFER_PACKAGE, card)


def test_a_restore_reopens_a_card_whose_sessions_were_all_transferred() -> None:
    salon, _, member, card = card_salon(price_fen=1_000, total_sessions=3)
    other = register(salon, "13900139000")
    used = use_session(salon, card, member)
    salon.execute(transfer(card, other, 2))
    commit(salon, PackageSessionRestored(
        meta=salon.ctx.meta(DESK), card_id=card, member_id=member, ticket_id="t1", line_no=1,
        value_fen=used.value_fen,
    ))
    assert remaining_sessions(salon.state, card) == 1
    assert use(salon, card, member) == 333


def test_transfer_is_refused_unless_the_store_allows_it() -> None:
    salon, _ = make_salon()
    member, other = register(salon), register(salon, "13900139000")
    card = sell_card(salon, member)
    assert_refused(salon, transfer(card, other, 1), ErrorCode.PACKAGE_TRANSFER_FORBIDDEN)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"actor": DESK}, ErrorCode.PERMISSION_DENIED),
        ({"reason": " "}, ErrorCode.REASON_REQUIRED),
        ({"card": "nope"}, ErrorCode.UNKNOWN_PACKAGE_CARD),
        ({"to": "nobody"}, ErrorCode.UNKNOWN_MEMBER),
        ({"to": "owner"}, ErrorCode.INVALID_INPUT),
        ({"sessions": 0}, ErrorCode.INVALID_INPUT),
        ({"sessions": 5}, ErrorCode.PACKAGE_EXHAUSTED),
        ({"sessions": 3}, ErrorCode.PACKAGE_UNPAID_SESSIONS),
        ({"expired": True}, ErrorCode.PACKAGE_EXPIRED),
        ({"closed": True}, ErrorCode.PACKAGE_CLOSED),
    ],
)
def test_transfer_refusals(change: dict[str, object], code: ErrorCode) -> None:
    salon, clock, member, card = card_salon(price_fen=1_000, total_sessions=4, paid_fen=600)
    other = register(salon, "13900139000")
    if change.get("expired"):
        clock.advance(days=365)
    if change.get("closed"):
        commit(salon, PackageCardUpgraded(meta=salon.ctx.meta(DESK), old_card_id=card,
                                          new_card_id="new", credit_fen=600))
    to = {"owner": member, "nobody": "nobody"}.get(str(change.get("to")), other)
    command = transfer(
        str(change.get("card", card)), to, int(change.get("sessions", 2)),
        actor=str(change.get("actor", MANAGER)), reason=str(change.get("reason", "转给家人")),
    )
    assert_refused(salon, command, code)


def test_sessions_already_transferred_count_against_what_was_paid() -> None:
    salon, _, member, card = card_salon(price_fen=1_000, total_sessions=4, paid_fen=500)
    other = register(salon, "13900139000")
    salon.execute(transfer(card, other, 2))
    refused(ErrorCode.PACKAGE_UNPAID_SESSIONS, use, salon, card, member)
    plan = plan_card_refund(salon.state, card, salon.ctx.clock())
    assert (plan.refund_fen, plan.sessions_cancelled, plan.debt_cancelled_fen) == (0, 2, 500)
