"""Properties of the whole checkout path over random command sequences: ledgers equal their
events, nothing negative but recorded debt, exact settlement, exact refunds, no points on
bonus money or points, all-or-nothing payment, and money conserved through package cards
sold, used, transferred, upgraded and refunded.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import replace
from datetime import timedelta

from checkout_helpers import EXTERNAL, balances, money_books, recompute
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from support import (
    CONFIG,
    DESK,
    OWNER,
    PLANS,
    PRODUCTS,
    SERVICES,
    START,
    STYLIST,
    STYLIST2,
    make_salon,
)

from salon.admin import PublishPriceList
from salon.catalog import ItemKind, PackagePlan
from salon.checkout import Checkout
from salon.config import PackagePolicy
from salon.coupons import CouponIssued, CouponKind, IssueCoupon
from salon.engine import Salon
from salon.errors import DomainError
from salon.members import MemberRegistered, RegisterMember
from salon.package_cards import PackageSessionsTransferred, TransferPackageSessions
from salon.payments import Payment, PaymentMethod
from salon.points import points_for
from salon.pricing import LineDraft, price_ticket
from salon.refunds import RefundTicket, VoidTicket
from salon.sales import Recharge, RefundPackageCard, RefundRecharge, RepayDebt
from salon.staff import HQ_ACTOR, StaffShare
from salon.state import SalonState
from salon.stored_value import StoredValueRestored, StoredValueSpent, spendable_fen
from salon.stored_value_pin import SetPaymentPin
from salon.testing import ManualClock
from salon.tickets import RefundPaidOut, TicketPaid

PIN = "258036"
MOBILES = ("13812345678", "13987654321", "13700001111")
FACIAL20 = PackagePlan("facial20", "面部护理20次卡", ("facial",), 20, 0, 350_000, 365)


def _register(salon: Salon, mobile: str) -> str:
    event = salon.execute(RegisterMember(actor_id=DESK, name="张三", mobile=mobile))[0]
    assert isinstance(event, MemberRegistered)
    return event.member_id


def _coupon(salon: Salon, value: int) -> str:
    (event,) = salon.execute(IssueCoupon(
        actor_id=HQ_ACTOR, kind=CouponKind.FIXED, value=value, min_spend_fen=0, valid_from=START,
        valid_until=START + timedelta(days=400),
    ))
    assert isinstance(event, CouponIssued)
    return event.coupon_id


def check_settlement(state_before: SalonState, paid: TicketPaid, events: list[object]) -> None:
    """Property 6 (exact settlement) and property 4 (points only on eligible money)."""
    money_lines = [s for s in paid.lines if s.line.is_money_line]
    for s in paid.lines:
        assert sum(p.amount_fen for p in s.paid) == s.line.net_fen
        assert all(p.amount_fen > 0 for p in s.paid)
        assert sum(d.principal_fen + d.bonus_fen for d in s.sv_draws) == s.paid_by(
            PaymentMethod.STORED_VALUE)
        if not s.line.is_money_line:
            assert s.line.net_fen == 0 and not s.paid and not s.sv_draws
    assert sum(s.line.net_fen for s in paid.lines) == paid.due_fen
    tendered: dict[PaymentMethod, int] = defaultdict(int)
    for p in paid.tendered:
        tendered[p.method] += p.amount_fen
    tendered[PaymentMethod.CASH] -= paid.change_fen
    assert paid.change_fen >= 0 and tendered[PaymentMethod.CASH] >= 0
    for method in PaymentMethod:
        assert sum(s.paid_by(method) for s in money_lines) == tendered.get(method, 0), method
    spent = [e for e in events if isinstance(e, StoredValueSpent)]
    line_draws: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for s in paid.lines:
        for d in s.sv_draws:
            line_draws[d.recharge_id][0] += d.principal_fen
            line_draws[d.recharge_id][1] += d.bonus_fen
    event_draws: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for e in spent:
        for d in e.draws:
            event_draws[d.recharge_id][0] += d.principal_fen
            event_draws[d.recharge_id][1] += d.bonus_fen
    assert {k: v for k, v in line_draws.items() if v != [0, 0]} == {
        k: v for k, v in event_draws.items() if v != [0, 0]}
    # Points: earned only on external money (after change) and stored-value principal.
    principal = sum(v[0] for v in event_draws.values())
    eligible = sum(tendered.get(m, 0) for m in EXTERNAL) + principal
    earned = sum(s.points_earned for s in paid.lines)
    expected = points_for(state_before, paid.member_id, eligible) if paid.member_id else 0
    assert earned == expected
    assert all(s.points_earned >= 0 for s in paid.lines)


class CheckoutMachine(RuleBasedStateMachine):
    salon: Salon
    clock: ManualClock

    @initialize()
    def setup(self) -> None:
        sv = replace(CONFIG.stored_value, require_pin=True)
        self.salon, self.clock = make_salon(stored_value=sv,
                                            packages=PackagePolicy(allow_transfer=True))
        # A bigger card to upgrade to (续卡升级).
        self.version = 2
        self.salon.execute(PublishPriceList(actor_id=HQ_ACTOR, version=self.version,
                                            services=SERVICES, products=PRODUCTS,
                                            plans=(*PLANS, FACIAL20)))
        self.members = [_register(self.salon, m) for m in MOBILES]
        # The last member has no PIN: the store requires one, so its spends are refused.
        for member_id in self.members[:-1]:
            self.salon.execute(SetPaymentPin(actor_id=DESK, member_id=member_id, pin=PIN))
        self.coupons = [_coupon(self.salon, v) for v in (500, 2_000, 50_000)]
        self.tickets: list[str] = []
        self.recharges: list[str] = []

    @property
    def state(self) -> SalonState:
        return self.salon.state

    # ---------------------------------------------------------------- helpers

    def _cards(self, member_id: str) -> list[str]:
        return [c.card_id for c in self.state.packages.cards_of(member_id)
                if c.remaining_sessions > 0 and not c.expired(self.clock())]

    def _upgradable(self, member_id: str) -> list[str]:
        return [c for c in self._cards(member_id) if not self.state.packages.get(c).debt_fen]

    def _draft_ticket(self, data: st.DataObject) -> dict[str, object]:
        member_id = data.draw(st.sampled_from(["", *self.members]))
        lines: list[LineDraft] = []
        for _ in range(data.draw(st.integers(1, 3))):
            kinds = ["service", "product"]
            if member_id:
                kinds.append("package")
                if self._cards(member_id):
                    kinds.append("session")
                if self._upgradable(member_id):
                    kinds.append("upgrade")
            kind = data.draw(st.sampled_from(kinds))
            staff = data.draw(st.sampled_from([(), (StaffShare(STYLIST),)]))
            if kind == "service":
                lines.append(LineDraft(ItemKind.SERVICE, data.draw(st.sampled_from(
                    ["cut", "wash", "facial"])), data.draw(st.integers(1, 2)), staff))
            elif kind == "product":
                lines.append(LineDraft(ItemKind.PRODUCT, data.draw(st.sampled_from(
                    ["sh1", "mask"])), data.draw(st.integers(1, 3)),
                    data.draw(st.sampled_from([(), (StaffShare(STYLIST2),)]))))
            elif kind == "package":
                lines.append(LineDraft(ItemKind.PACKAGE, "facial10", 1, staff))
            elif kind == "upgrade":
                old = data.draw(st.sampled_from(self._upgradable(member_id)))
                lines.append(LineDraft(ItemKind.PACKAGE, "facial20", 1, staff,
                                       upgrade_from_card_id=old))
            else:
                card = data.draw(st.sampled_from(self._cards(member_id)))
                lines.append(LineDraft(ItemKind.SERVICE, "facial", data.draw(st.integers(1, 2)),
                                       staff, package_card_id=card))
        coupon = data.draw(st.sampled_from(["", "", *self.coupons]))
        discount = data.draw(st.sampled_from([0, 0, 100, 1_000, 4_000]))
        redeem = 0
        if member_id:
            have = self.state.points.balance(member_id, self.clock())
            redeem = data.draw(st.integers(0, min(have, 20_000))) if have else 0
        return {"member_id": member_id, "lines": tuple(lines), "coupon": coupon,
                "manual_discount_fen": discount, "redeem_points": redeem}

    def _payments(self, data: st.DataObject, member_id: str, due: int,
                  debt: bool = False) -> tuple[Payment, ...]:
        left = due
        pays: list[Payment] = []
        if member_id and left:
            balance = spendable_fen(self.state, member_id, self.clock())
            if balance and data.draw(st.booleans()):
                sv = data.draw(st.integers(1, min(balance, left)))
                pays.append(Payment(PaymentMethod.STORED_VALUE, sv))
                left -= sv
            if left and (debt or data.draw(st.integers(0, 4)) == 0):
                owed = data.draw(st.integers(1, left))
                pays.append(Payment(PaymentMethod.DEBT, owed))
                left -= owed
        if left and data.draw(st.booleans()):
            wx = data.draw(st.integers(1, left))
            pays.append(Payment(PaymentMethod.WECHAT, wx))
            left -= wx
        change = data.draw(st.sampled_from([0, 0, 50, 10_000]))
        if left or change:
            pays.append(Payment(PaymentMethod.CASH, left + change))
        return tuple(pays)

    def _attempt(self, data: st.DataObject, *, fault: str, debt: bool = False
                 ) -> TicketPaid | None:
        """Try a checkout; on success check settlement, on refusal prove nothing changed.

        With ``debt``, a member's ticket always leaves part of what is due on debt (挂账).
        """
        fields = self._draft_ticket(data)
        member_id = str(fields["member_id"])
        try:
            quote = price_ticket(self.state, now=self.clock(), **fields)  # type: ignore[arg-type]
            due = quote.due_fen
        except DomainError:
            due = 0
        payments = self._payments(data, member_id, due, debt)
        pin = PIN if member_id in self.members[:-1] else None
        if fault == "short" and payments:
            first = payments[0]
            if first.amount_fen > 1:
                payments = (Payment(first.method, first.amount_fen - 1), *payments[1:])
        elif fault == "wrong_pin":
            pin = "000000"
        elif fault == "over_balance" and member_id:
            big = spendable_fen(self.state, member_id, self.clock()) + 1
            payments = (Payment(PaymentMethod.STORED_VALUE, big), *payments)
        cmd = Checkout(actor_id=DESK, price_list_version=self.version, payments=payments, pin=pin,
                       **fields)  # type: ignore[arg-type]
        before = copy.deepcopy(self.state)
        history = len(self.salon.history)
        try:
            events = list(self.salon.execute(cmd))
        except DomainError as err:
            # Property 5: a refused checkout leaves no trace but a recorded failed PIN.
            assert len(self.salon.history) == history + len(err.record)
            if not err.record:
                assert self.state == before
            assert not any(isinstance(e, TicketPaid) for e in self.salon.history[history:])
            return None
        (paid,) = [e for e in events if isinstance(e, TicketPaid)]
        check_settlement(before, paid, events)
        self.tickets.append(paid.ticket_id)
        return paid

    # ------------------------------------------------------------------ rules

    @rule(member=st.integers(0, 2), principal=st.sampled_from([10_000, 50_000, 100_000]))
    def recharge(self, member: int, principal: int) -> None:
        events = self.salon.execute(Recharge(
            actor_id=DESK, member_id=self.members[member], principal_fen=principal,
            payments=(Payment(PaymentMethod.CASH, principal),), staff=(StaffShare(STYLIST2),),
        ))
        self.recharges.append(events[0].recharge_id)  # type: ignore[attr-defined]

    @rule(hours=st.sampled_from([1, 5, 30, 24 * 40]))
    def advance(self, hours: int) -> None:
        self.clock.advance(hours=hours)

    @rule(data=st.data())
    def checkout(self, data: st.DataObject) -> None:
        self._attempt(data, fault="")

    @rule(data=st.data(), fault=st.sampled_from(["short", "wrong_pin", "over_balance"]))
    def faulty_checkout(self, data: st.DataObject, fault: str) -> None:
        self._attempt(data, fault=fault)

    def _refund_all(self, data: st.DataObject, paid: TicketPaid) -> None:
        """Refund every line of ``paid``, in any order and grouping, or void it whole."""
        remaining = [s.line.line_no for s in paid.lines]
        order = data.draw(st.permutations(remaining))
        if data.draw(st.booleans()):
            self.salon.execute(VoidTicket(actor_id=OWNER, ticket_id=paid.ticket_id,
                                          reason="客户取消"))
        else:
            i = 0
            while i < len(order):
                size = data.draw(st.integers(1, len(order) - i))
                chunk = tuple(order[i:i + size])
                if size == len(order) - i and data.draw(st.booleans()):
                    chunk = ()
                self.salon.execute(RefundTicket(actor_id=OWNER, ticket_id=paid.ticket_id,
                                                reason="客户不满意", line_nos=chunk))
                i += size
        record = self.state.tickets.get(paid.ticket_id)
        assert record is not None and record.fully_refunded

    def _assert_undone(self, before: dict[str, object]) -> None:
        """Every balance is as in ``before``; cards the ticket sold are left with nothing."""
        after = balances(self.state, self.members)
        new_cards = {c for c in after["cards"] if c not in before["cards"]}  # type: ignore[operator]
        for card_id in new_cards:
            assert self.state.packages.get(card_id).remaining_sessions == 0
            del after["cards"][card_id]  # type: ignore[attr-defined]
        assert after == before

    @rule(data=st.data())
    def checkout_then_refund_everything(self, data: st.DataObject) -> None:
        """Property 3: refunding every line, in any order and grouping, undoes the ticket."""
        before = balances(self.state, self.members)
        paid = self._attempt(data, fault="")
        if paid is None:
            return
        self._refund_all(data, paid)
        self._assert_undone(before)

    @rule(data=st.data())
    def checkout_on_debt_repay_then_refund_everything(self, data: st.DataObject) -> None:
        """Property 3 with 挂账: a ticket partly on debt, repaid in parts by any outside method,
        then refunded, leaves money, points, points debt and tier figures as they were.
        """
        for m in self.members:
            # Older debt is repaid first, and its refund is not this rule's business.
            owed = self.state.tickets.debt_of(m)
            if owed:
                self.salon.execute(RepayDebt(actor_id=DESK, member_id=m,
                                             payments=(Payment(PaymentMethod.CASH, owed),)))
        before = balances(self.state, self.members)
        paid = self._attempt(data, fault="", debt=True)
        if paid is None:
            return
        for _ in range(data.draw(st.integers(0, 3))):
            owed = self.state.tickets.debt_of(paid.member_id) if paid.member_id else 0
            if not owed:
                break
            amount = data.draw(st.integers(1, owed))
            self.salon.execute(RepayDebt(actor_id=DESK, member_id=paid.member_id, payments=(
                Payment(data.draw(st.sampled_from(EXTERNAL)), amount),)))
        self._refund_all(data, paid)
        self._assert_undone(before)

    @rule(data=st.data())
    def refund_some_lines(self, data: st.DataObject) -> None:
        open_tickets = [t for t in self.tickets
                        if not self.state.tickets.tickets[t].fully_refunded]
        if not open_tickets:
            return
        record = self.state.tickets.tickets[data.draw(st.sampled_from(open_tickets))]
        left = [s.line.line_no for s in record.paid.lines
                if s.line.line_no not in record.refunded_lines]
        chosen = tuple(data.draw(st.lists(st.sampled_from(left), min_size=1, unique=True)))
        cmd: object = (VoidTicket(actor_id=OWNER, ticket_id=record.paid.ticket_id, reason="作废")
                       if data.draw(st.integers(0, 3)) == 0 else
                       RefundTicket(actor_id=OWNER, ticket_id=record.paid.ticket_id,
                                    reason="退款", line_nos=chosen))
        self._maybe(cmd)

    @rule(member=st.integers(0, 2), method=st.sampled_from([PaymentMethod.CASH,
                                                            PaymentMethod.WECHAT]))
    def repay_debt(self, member: int, method: PaymentMethod) -> None:
        owed = self.state.tickets.debt_of(self.members[member])
        if owed:
            self._maybe(RepayDebt(actor_id=DESK, member_id=self.members[member],
                                  payments=(Payment(method, max(1, owed // 2)),)))

    @rule(data=st.data())
    def refund_recharge(self, data: st.DataObject) -> None:
        if self.recharges:
            self._maybe(RefundRecharge(actor_id=OWNER, reason="退卡",
                                       recharge_id=data.draw(st.sampled_from(self.recharges))))

    @rule(data=st.data())
    def refund_package_card(self, data: st.DataObject) -> None:
        cards = list(self.state.packages.cards)
        if cards:
            self._maybe(RefundPackageCard(actor_id=OWNER, reason="退卡",
                                          card_id=data.draw(st.sampled_from(cards))))

    @rule(data=st.data())
    def transfer_sessions(self, data: st.DataObject) -> None:
        member_id = data.draw(st.sampled_from(self.members))
        if self._cards(member_id):
            self._maybe(TransferPackageSessions(
                actor_id=OWNER, card_id=data.draw(st.sampled_from(self._cards(member_id))),
                to_member_id=data.draw(st.sampled_from(
                    [m for m in self.members if m != member_id])),
                sessions=data.draw(st.integers(1, 4)), reason="转让"))

    @rule(data=st.data())
    def refund_a_card_holding_moved_value(self, data: st.DataObject) -> None:
        """A card made by a transfer or an upgrade: its refund reaches the older sales."""
        cards = [c.card_id for c in self.state.packages.cards.values() if not c.closed and (
            c.transferred_from or self._credit(c.card_id))]
        if cards:
            self._maybe(RefundPackageCard(actor_id=OWNER, reason="退卡",
                                          card_id=data.draw(st.sampled_from(cards))))

    def _credit(self, card_id: str) -> int:
        card = self.state.packages.get(card_id)
        record = self.state.tickets.get(card.ticket_id) if card.ticket_id else None
        line = record.line(card.line_no) if record is not None else None
        return line.line.credit_fen if line is not None else 0

    def _figures(self) -> dict[str, object]:
        """What a card's sales earned or moved, which refunding all of it must put back."""
        state = self.state
        out: dict[str, object] = {
            m: (state.points.held(m), state.points.debt(m), state.tiers.of(m),
                state.tickets.debt_of(m))
            for m in self.members
        }
        totals = {s: state.commissions.lifetime_fen(s) for s in state.commissions.staff_ids()}
        out["commission"] = {s: t for s, t in totals.items() if t}
        return out

    @rule(data=st.data())
    def card_chain_refunded_in_full(self, data: st.DataObject) -> None:
        """A card sold, maybe partly transferred, maybe upgraded, then every card holding its
        value refunded unused in any order: the money goes back exactly (bonus as bonus,
        principal and outside money in their total), and every point, fen of tier spend and
        commission the sales earned is taken back.
        """
        member_id = data.draw(st.sampled_from(self.members[:-1]))
        before = self._figures()
        start = len(self.salon.history)
        card = self._sell(data, member_id, LineDraft(ItemKind.PACKAGE, "facial10", 1,
                                                     (StaffShare(STYLIST),)))
        if card is None:
            return
        cards = [card]
        if data.draw(st.booleans()):
            to = data.draw(st.sampled_from([m for m in self.members if m != member_id]))
            moved = self._maybe(TransferPackageSessions(
                actor_id=OWNER, card_id=card, to_member_id=to,
                sessions=data.draw(st.integers(1, 10)), reason="转让"))
            cards += [e.to_card_id for e in moved if isinstance(e, PackageSessionsTransferred)]
        if data.draw(st.booleans()) and not self.state.packages.get(card).closed:
            new = self._sell(data, member_id, LineDraft(
                ItemKind.PACKAGE, "facial20", 1, (StaffShare(STYLIST),),
                upgrade_from_card_id=card))
            cards += [new] if new else []
        for card_id in data.draw(st.permutations(cards)):
            if not self.state.packages.get(card_id).closed:
                self.salon.execute(RefundPackageCard(actor_id=OWNER, card_id=card_id,
                                                     reason="退卡"))
        assert self._figures() == before
        taken, given = [0, 0], [0, 0]
        for e in self.salon.history[start:]:
            if isinstance(e, TicketPaid):
                for s in e.lines:
                    taken[0] += sum(p.amount_fen for p in s.paid if p.method in EXTERNAL)
                    taken[0] += sum(d.principal_fen for d in s.sv_draws)
                    taken[1] += sum(d.bonus_fen for d in s.sv_draws)
            elif isinstance(e, RefundPaidOut):
                given[0] += e.amount_fen
            elif isinstance(e, StoredValueRestored):
                given[0] += sum(d.principal_fen for d in e.draws)
                given[1] += sum(d.bonus_fen for d in e.draws)
        assert given == taken

    def _sell(self, data: st.DataObject, member_id: str, line: LineDraft) -> str | None:
        """Sell ``line`` to the member paid any way but on debt; the card, or None if refused."""
        try:
            due = price_ticket(self.state, member_id=member_id, lines=(line,),
                               now=self.clock()).due_fen
        except DomainError:
            return None
        payments = tuple(p for p in self._payments(data, member_id, due)
                         if p.method is not PaymentMethod.DEBT)
        paid = sum(p.amount_fen for p in payments if p.method is not PaymentMethod.CASH)
        payments = tuple(p for p in payments if p.method is not PaymentMethod.CASH)
        if paid < due:
            payments += (Payment(PaymentMethod.CASH, due - paid),)
        events = self._maybe(Checkout(actor_id=DESK, price_list_version=self.version,
                                      member_id=member_id, lines=(line,), payments=payments,
                                      pin=PIN))
        sold = [e for e in events if isinstance(e, TicketPaid)]
        return sold[0].lines[0].card_id if sold else None

    def _maybe(self, cmd: object) -> tuple[object, ...]:
        """Run a command that may be refused; a refusal must change nothing."""
        before = copy.deepcopy(self.state)
        history = len(self.salon.history)
        try:
            return self.salon.execute(cmd)  # type: ignore[arg-type]
        except DomainError as err:
            assert not err.record
            assert self.state == before and len(self.salon.history) == history
            return ()

    # ------------------------------------------------------------- invariants

    @invariant()
    def balances_are_the_sum_of_their_events_and_never_negative(self) -> None:
        if not hasattr(self, "salon"):
            return
        r = recompute(self.salon.history)
        state = self.state
        for lot_id, lot in state.accounts.lots.items():
            assert lot.principal_fen == r.lot_principal[lot_id] >= 0
            assert lot.bonus_fen == r.lot_bonus[lot_id] >= 0
        for m in self.members:
            assert state.accounts.principal_fen(m) == sum(
                v for k, v in r.lot_principal.items() if r.lot_member[k] == m)
            assert state.accounts.bonus_fen(m) == sum(
                v for k, v in r.lot_bonus.items() if r.lot_member[k] == m)
            assert state.points.held(m) == r.points_held.get(m, 0)
            assert state.points.debt(m) == r.points_debt.get(m, 0) >= 0
            assert all(lot.left >= 0 for lot in state.points.lots(m))
            assert state.tickets.debt_of(m) == r.ticket_debt.get(m, 0) >= 0
        assert all(v > 0 for v in state.tickets.debts.values())
        for card_id, card in state.packages.cards.items():
            assert card.unused_sessions == r.card_sessions[card_id] >= 0
            assert card.used_value_fen == r.card_used_value.get(card_id, 0) >= 0
        for staff_id in {*state.commissions.staff_ids(), *r.commission}:
            total = state.commissions.lifetime_fen(staff_id)
            assert total == r.commission.get(staff_id, 0) >= 0

    @invariant()
    def money_is_conserved(self) -> None:
        """Money in and owed equals revenue plus what is still owed to members as principal
        and unused card value (bonus money left out on every side)."""
        if not hasattr(self, "salon"):
            return
        books = money_books(self.salon.history, self.state)
        assert books.balanced, books
        for card in self.state.packages.cards.values():
            assert 0 <= card.bonus_fen <= max(0, card.paid_fen - card.consumed_value_fen)


CheckoutMachine.TestCase.settings = settings(
    max_examples=80, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestCheckoutMachine = CheckoutMachine.TestCase


def test_a_ticket_paid_only_with_bonus_money_and_points_earns_no_points() -> None:
    salon, clock = make_salon()
    member_id = _register(salon, MOBILES[0])
    salon.execute(Recharge(actor_id=DESK, member_id=member_id, principal_fen=50_000,
                           payments=(Payment(PaymentMethod.CASH, 50_000),)))
    lines = (LineDraft(ItemKind.PRODUCT, "sh1", 4),)
    due = price_ticket(salon.state, member_id=member_id, lines=lines, now=clock()).due_fen
    first = salon.execute(Checkout(
        actor_id=DESK, price_list_version=1, member_id=member_id, lines=lines,
        payments=(Payment(PaymentMethod.STORED_VALUE, 50_000),
                  Payment(PaymentMethod.CASH, due - 50_000)),
    ))
    paid = next(e for e in first if isinstance(e, TicketPaid))
    # Principal is spent before bonus: all of the principal paid, and it earned points.
    assert salon.state.accounts.principal_fen(member_id) == 0
    assert salon.state.accounts.bonus_fen(member_id) == 5_000
    assert sum(s.points_earned for s in paid.lines) == due // 100
    clock.advance(hours=1)
    wash = (LineDraft(ItemKind.SERVICE, "wash"),)
    redeem = 500
    due2 = price_ticket(salon.state, member_id=member_id, lines=wash, now=clock(),
                        redeem_points=redeem).due_fen
    points_before = salon.state.points.held(member_id)
    second = salon.execute(Checkout(
        actor_id=DESK, price_list_version=1, member_id=member_id, lines=wash,
        redeem_points=redeem, payments=(Payment(PaymentMethod.STORED_VALUE, due2),),
    ))
    paid2 = next(e for e in second if isinstance(e, TicketPaid))
    assert sum(s.points_earned for s in paid2.lines) == 0
    assert salon.state.points.held(member_id) == points_before - redeem
    assert salon.state.accounts.bonus_fen(member_id) == 5_000 - due2


def test_a_package_line_whose_card_was_refunded_cannot_be_refunded_again() -> None:
    from support import assert_refused

    from salon.errors import ErrorCode

    salon, _ = make_salon()
    member_id = _register(salon, MOBILES[0])
    events = salon.execute(Checkout(
        actor_id=DESK, price_list_version=1, member_id=member_id,
        lines=(LineDraft(ItemKind.PACKAGE, "facial10", staff=(StaffShare(STYLIST),)),),
        payments=(Payment(PaymentMethod.CASH, 198_000),),
    ))
    paid = next(e for e in events if isinstance(e, TicketPaid))
    salon.execute(RefundPackageCard(actor_id=OWNER, card_id=paid.lines[0].card_id, reason="退卡"))
    assert_refused(salon, RefundTicket(actor_id=OWNER, ticket_id=paid.ticket_id, reason="再退"),
                   ErrorCode.PACKAGE_CLOSED)
