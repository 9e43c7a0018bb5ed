"""Unspent stored value and unused package sessions are liabilities; revenue is what is consumed."""

from __future__ import annotations

from support import DESK, make_salon

from salon.catalog import ItemKind
from salon.checkout import Checkout
from salon.members import RegisterMember
from salon.payments import Payment, PaymentMethod
from salon.pricing import LineDraft
from salon.sales import Recharge
from salon.tickets import TicketPaid


def test_revenue_counts_principal_consumed_and_sessions_used_not_prepayments() -> None:
    salon, clock = make_salon()
    member = salon.execute(RegisterMember(actor_id=DESK, name="李四", mobile="13900001111"))
    member_id = member[0].member_id  # type: ignore[attr-defined]
    # 充1000送200 → gold (9折 on services). Recharging is no revenue: a liability of ¥1,000.
    salon.execute(Recharge(actor_id=DESK, member_id=member_id, principal_fen=100_000,
                           payments=(Payment(PaymentMethod.CASH, 100_000),)))
    assert salon.state.accounts.liability_fen() == 100_000

    def pay(*lines: LineDraft, payments: tuple[Payment, ...] = ()) -> TicketPaid:
        clock.advance(minutes=30)
        events = salon.execute(Checkout(actor_id=DESK, price_list_version=1,
                                        member_id=member_id, lines=lines, payments=payments))
        return next(e for e in events if isinstance(e, TicketPaid))

    card_sale = pay(LineDraft(ItemKind.PACKAGE, "facial10"),
                    payments=(Payment(PaymentMethod.WECHAT, 198_000),))
    assert card_sale.lines[0].recognised_revenue_fen == 0
    card_id = card_sale.lines[0].card_id

    session = pay(LineDraft(ItemKind.SERVICE, "facial", package_card_id=card_id))
    assert session.lines[0].recognised_revenue_fen == 19_800  # ¥1,980 / 10 sessions

    # Spend ¥1,036.80 of stored value on 9 cuts (9 × ¥115.20): ¥1,000 principal, ¥36.80 bonus.
    cuts = pay(LineDraft(ItemKind.SERVICE, "cut", quantity=9),
               payments=(Payment(PaymentMethod.STORED_VALUE, 103_680),))
    assert cuts.lines[0].recognised_revenue_fen == 100_000
    assert salon.state.accounts.liability_fen() == 0
