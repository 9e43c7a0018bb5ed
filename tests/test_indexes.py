"""The books' indexes (salon.indexes) rebuilt from their records equal the ones kept in step.

A snapshot holds no index: the store rebuilds them with ``SalonState.reindex`` after
reading one, so ``reindex`` must give exactly what ``apply`` kept, each member's list in
its order (which of the keys comes first in a lookup dict does not matter).
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from hypothesis import given, settings
from support import DESK, MANAGER, make_salon
from test_checkout import CASH, DEBT, member, paid, sale, svc
from test_coupons import issue
from test_package_cards import card_salon, register, transfer
from test_points_compaction import MOBILES, OPS, run

from salon.indexes import DERIVED
from salon.members import BlockCard, LinkCard, UnlinkCard, UpdateMemberProfile
from salon.payments import Payment
from salon.refunds import RefundTicket
from salon.sales import RepayDebt
from salon.state import SalonState


def indexes(state: SalonState) -> dict[str, Any]:
    """Every index of every book, by ``book.field``: what reindex must rebuild."""
    found = {}
    for book_field in dataclasses.fields(state):
        book = getattr(state, book_field.name)
        for f in dataclasses.fields(book):
            if f.metadata.get(DERIVED):
                found[f"{book_field.name}.{f.name}"] = copy.deepcopy(getattr(book, f.name))
    return found


def assert_rebuilt_the_same(state: SalonState) -> None:
    kept = indexes(state)
    assert {"members.mobile_index", "tickets.member_debts", "accounts.member_lots"} <= set(kept)
    state.reindex()
    # Equal dicts hold equal lists: each member's cards, lots, coupons, debts in order.
    assert indexes(state) == kept


@settings(max_examples=80, deadline=None)
@given(OPS)
def test_after_any_sales_debts_repayments_and_refunds(ops: list[tuple[object, ...]]) -> None:
    salon, _ = make_salon()
    members = [member(salon, mobile) for mobile in MOBILES]
    tickets: list[str] = []
    for op in ops:
        run(salon, members, tickets, op)
    assert_rebuilt_the_same(salon.state)


def test_after_cards_move_mobiles_change_coupons_are_issued_and_sessions_are_given() -> None:
    salon, _, alice, card = card_salon(price_fen=1_000, total_sessions=3)
    bob, carol = register(salon, "13900139000"), register(salon, "13700137000")
    for uid, who in (("04A1B2C301", alice), ("04A1B2C302", alice), ("04B1B2C301", bob)):
        salon.execute(LinkCard(actor_id=DESK, member_id=who, card_uid=uid))
    salon.execute(BlockCard(actor_id=DESK, card_uid="04A1B2C301", reason="丢失"))
    salon.execute(UnlinkCard(actor_id=DESK, member_id=alice, card_uid="04A1B2C302"))
    salon.execute(LinkCard(actor_id=DESK, member_id=carol, card_uid="04A1B2C302"))
    salon.execute(LinkCard(actor_id=DESK, member_id=alice, card_uid="04A1B2C303"))
    salon.execute(UpdateMemberProfile(actor_id=DESK, member_id=bob, mobile="13600136000"))
    issue(salon, member_id=alice)
    issue(salon)
    issue(salon, member_id=bob)
    salon.execute(transfer(card, bob, 2))
    owed = [paid(salon.execute(sale(svc("cut"), (CASH, 5_000), (DEBT, 7_800), member_id=who)))
            for who in (alice, bob, alice)]
    salon.execute(RepayDebt(actor_id=DESK, member_id=bob, payments=(Payment(CASH, 7_800),)))
    salon.execute(RefundTicket(actor_id=MANAGER, ticket_id=owed[0].ticket_id, reason="退款"))
    assert salon.state.members.member_cards[alice] == ["04A1B2C301", "04A1B2C303"]
    assert salon.state.tickets.member_debts == {alice: [(owed[2].ticket_id, 1)]}
    assert_rebuilt_the_same(salon.state)
