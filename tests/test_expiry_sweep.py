"""A checkout sweeps its member's expired points and bonus out of the ledgers as it pays.

Without it, points earned by every sale stayed in the book years after they expired, in
every snapshot and every start-up, unless someone ran ExpirePoints (measured at 200,000
sales: 122,000 of the 200,000 lots held were expired).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from support import CONFIG, make_salon
from test_checkout import CASH, member, paid, recharge, sale, svc

from salon.engine import Salon
from salon.events import Event
from salon.points import PointsExpired
from salon.pricing import price_ticket
from salon.stored_value import BonusExpired

AFTER_2026_POINTS_EXPIRE = datetime(2028, 1, 2, 2, 0, tzinfo=UTC)


def cash_sale(salon: Salon, member_id: str, item: str = "wash") -> tuple[Event, ...]:
    due = price_ticket(salon.state, member_id=member_id, lines=(svc(item),),
                       now=salon.ctx.clock()).due_fen
    return salon.execute(sale(svc(item), (CASH, due), member_id=member_id))


def of_type(events: tuple[Event, ...], cls: type) -> list[Event]:
    return [e for e in events if isinstance(e, cls)]


def test_a_sale_removes_its_member_s_expired_points_and_bonus_and_nobody_else_s() -> None:
    salon, clock = make_salon(stored_value=replace(CONFIG.stored_value, bonus_valid_days=30))
    alice, bob = member(salon), member(salon, "13900001111")
    alice_recharge = recharge(salon, alice, 100_000)  # 充1000送200: bonus good for 30 days
    recharge(salon, bob, 100_000)
    cash_sale(salon, alice)
    cash_sale(salon, alice, "cut")
    cash_sale(salon, bob)
    book = salon.state.points
    alice_lots = {lot.lot_id: lot.left for lot in book.lots(alice)}
    bob_held = book.held(bob)
    assert len(alice_lots) == 2 and bob_held > 0  # a lot for each sale

    clock.now = AFTER_2026_POINTS_EXPIRE
    spendable = salon.state.accounts.balance_fen(alice, clock())
    assert spendable == 100_000  # the bonus has expired, the principal has not
    events = cash_sale(salon, alice)

    swept = of_type(events, PointsExpired)
    assert {(e.lot_id, e.points) for e in swept} == set(alice_lots.items())
    assert [(e.recharge_id, e.bonus_fen) for e in of_type(events, BonusExpired)] == [
        (alice_recharge, 20_000)]
    new_points = paid(events).lines[0].points_earned
    assert book.held(alice) == book.balance(alice, clock()) == new_points
    assert salon.state.accounts.bonus_fen(alice) == 0
    assert salon.state.accounts.balance_fen(alice, clock()) == spendable  # paid in cash
    # Bob's expired points and bonus wait for his own next sale (or ExpirePoints).
    assert book.held(bob) == bob_held
    assert salon.state.accounts.bonus_fen(bob) == 20_000

    assert of_type(cash_sale(salon, alice), PointsExpired) == []  # nothing left to sweep


def test_a_walk_in_sale_sweeps_nothing() -> None:
    salon, clock = make_salon()
    alice = member(salon)
    cash_sale(salon, alice)
    clock.now = AFTER_2026_POINTS_EXPIRE
    events = salon.execute(sale(svc("wash"), (CASH, 3_800)))
    assert of_type(events, PointsExpired) == of_type(events, BonusExpired) == []
    assert salon.state.points.held(alice) > 0
