"""Independent recomputations from salon.history for the checkout property tests."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from salon.commissions import CommissionEarned, CommissionReversed
from salon.events import Event
from salon.package_cards import (
    PackageCardRefunded,
    PackageCardSold,
    PackageSessionRestored,
    PackageSessionsTransferred,
    PackageSessionUsed,
)
from salon.payments import PaymentMethod
from salon.points import PointsEarned, PointsExpired, PointsRedeemed, PointsRestored, PointsReversed
from salon.points_ledger import PointsAdjusted
from salon.state import SalonState
from salon.stored_value import (
    RechargeRefunded,
    StoredValueRecharged,
    StoredValueRestored,
    StoredValueSpent,
)
from salon.stored_value_ledger import BonusExpired, StoredValueAdjusted
from salon.tickets import (
    DebtRepaid,
    RechargePaid,
    RefundPaidOut,
    TicketPaid,
    TicketRefunded,
)

EXTERNAL = (PaymentMethod.CASH, PaymentMethod.BANK_CARD, PaymentMethod.WECHAT,
            PaymentMethod.ALIPAY)


@dataclass
class Recomputed:
    lot_principal: dict[str, int]
    lot_bonus: dict[str, int]
    lot_member: dict[str, str]
    card_sessions: dict[str, int]
    card_used_value: dict[str, int]
    points_held: dict[str, int]
    points_debt: dict[str, int]
    commission: dict[str, int]
    ticket_debt: dict[str, int]


def recompute(history: Iterable[Event]) -> Recomputed:
    """Every balance from the events alone, without the books."""
    principal: dict[str, int] = defaultdict(int)
    bonus: dict[str, int] = defaultdict(int)
    lot_member: dict[str, str] = {}
    sessions: dict[str, int] = defaultdict(int)
    used_value: dict[str, int] = defaultdict(int)
    held: dict[str, int] = defaultdict(int)
    debt: dict[str, int] = defaultdict(int)
    lot_owner: dict[str, str] = {}
    commission: dict[str, int] = defaultdict(int)
    line_debt: dict[tuple[str, int], int] = {}
    debt_owner: dict[tuple[str, int], str] = {}
    card_line: dict[str, tuple[str, int]] = {}
    for e in history:
        match e:
            case StoredValueRecharged():
                principal[e.recharge_id] += e.principal_fen
                bonus[e.recharge_id] += e.bonus_fen
                lot_member[e.recharge_id] = e.member_id
            case StoredValueAdjusted():
                if e.principal_delta_fen > 0 or e.bonus_delta_fen > 0:
                    principal[e.adjustment_id] += max(0, e.principal_delta_fen)
                    bonus[e.adjustment_id] += max(0, e.bonus_delta_fen)
                    lot_member[e.adjustment_id] = e.member_id
                for d in e.draws:
                    principal[d.recharge_id] -= d.principal_fen
                    bonus[d.recharge_id] -= d.bonus_fen
            case StoredValueSpent():
                for d in e.draws:
                    principal[d.recharge_id] -= d.principal_fen
                    bonus[d.recharge_id] -= d.bonus_fen
            case StoredValueRestored():
                for d in e.draws:
                    principal[d.recharge_id] += d.principal_fen
                    bonus[d.recharge_id] += d.bonus_fen
            case RechargeRefunded():
                principal[e.recharge_id] -= e.principal_removed_fen
                bonus[e.recharge_id] -= e.bonus_removed_fen
            case BonusExpired():
                bonus[e.recharge_id] -= e.bonus_fen
            case PackageCardSold():
                sessions[e.card_id] += e.total_sessions
                card_line[e.card_id] = (e.ticket_id, e.line_no)
            case PackageSessionUsed():
                sessions[e.card_id] -= 1
                used_value[e.card_id] += e.value_fen
            case PackageSessionRestored():
                sessions[e.card_id] += 1
                used_value[e.card_id] -= e.value_fen
            case PackageSessionsTransferred():
                sessions[e.from_card_id] -= e.sessions
                sessions[e.to_card_id] += e.sessions
            case PointsEarned():
                held[e.member_id] += e.points - e.debt_repaid
                debt[e.member_id] -= e.debt_repaid
                lot_owner[e.lot_id] = e.member_id
            case PointsAdjusted():
                if e.points > 0:
                    held[e.member_id] += e.points - e.debt_repaid
                    debt[e.member_id] -= e.debt_repaid
                    lot_owner[e.lot_id] = e.member_id
                else:
                    held[e.member_id] -= sum(d.points for d in e.draws)
            case PointsRedeemed():
                held[e.member_id] -= sum(d.points for d in e.draws)
            case PointsRestored():
                held[e.member_id] += sum(d.points for d in e.draws) - e.debt_repaid
                debt[e.member_id] -= e.debt_repaid
            case PointsReversed():
                held[e.member_id] -= sum(d.points for d in e.draws)
                debt[e.member_id] += e.debt_points
            case PointsExpired():
                held[e.member_id] -= e.points
            case CommissionEarned():
                for entry in e.entries:
                    commission[entry.staff_id] += entry.amount_fen
            case CommissionReversed():
                for entry in e.entries:
                    commission[entry.staff_id] -= entry.amount_fen
            case TicketPaid():
                for s in e.lines:
                    owed = s.paid_by(PaymentMethod.DEBT)
                    if owed:
                        line_debt[(e.ticket_id, s.line.line_no)] = owed
                        debt_owner[(e.ticket_id, s.line.line_no)] = e.member_id
            case TicketRefunded():
                for no in e.line_nos:
                    line_debt.pop((e.ticket_id, no), None)
            case DebtRepaid():
                for a in e.allocations:
                    line_debt[(a.ticket_id, a.line_no)] -= a.amount_fen
                    if line_debt[(a.ticket_id, a.line_no)] == 0:
                        del line_debt[(a.ticket_id, a.line_no)]
            case PackageCardRefunded():
                key = card_line.get(e.card_id)
                if key is not None:
                    line_debt.pop(key, None)
            case _:
                pass
    ticket_debt: dict[str, int] = defaultdict(int)
    for key, owed in line_debt.items():
        ticket_debt[debt_owner[key]] += owed
    return Recomputed(dict(principal), dict(bonus), lot_member, dict(sessions), dict(used_value),
                      dict(held), dict(debt), dict(commission), dict(ticket_debt))


def balances(state: SalonState, members: Iterable[str]) -> dict[str, object]:
    """The values a whole refund must put back as they were before the ticket."""
    out: dict[str, object] = {}
    for m in members:
        out[f"sv:{m}"] = [(lot.lot_id, lot.principal_fen, lot.bonus_fen)
                          for lot in state.accounts.lots_of(m)]
        out[f"pts:{m}"] = (state.points.held(m), state.points.debt(m))
        out[f"debt:{m}"] = state.tickets.debt_of(m)
        out[f"count:{m}"] = state.tickets.paid_ticket_count(m)
        out[f"tier:{m}"] = state.tiers.of(m)
    out["cards"] = {cid: (c.unused_sessions, c.used_value_fen, c.closure, c.remaining_sessions)
                    for cid, c in state.packages.cards.items()}
    totals = {s: state.commissions.lifetime_fen(s)
              for s in state.commissions.staff_ids()}
    out["commission"] = {s: t for s, t in totals.items() if t}
    out["coupons"] = {cid: c.used for cid, c in state.coupons.coupons.items()}
    return out


@dataclass
class MoneyBooks:
    """Both sides of the store's money: what came in, and where it is now.

    Every fen taken from outside (cash, bank card, WeChat, Alipay, net of what went back)
    plus what members owe on tickets is either revenue earned, stored-value principal still
    owed to members, or paid value of open package cards not yet used, less the bonus money
    (赠送金) in them: bonus is the store's gift, never taken in and never earned. A card's
    own debt is on neither side (its unpaid sessions are not usable).
    """

    cash_in: int
    ticket_debt: int
    revenue: int
    principal_owed: int
    card_value: int

    @property
    def balanced(self) -> bool:
        return (self.cash_in + self.ticket_debt
                == self.revenue + self.principal_owed + self.card_value)


def money_books(history: Iterable[Event], state: SalonState) -> MoneyBooks:
    cash = revenue = 0
    for e in history:
        match e:
            case TicketPaid():
                for s in e.lines:
                    cash += sum(p.amount_fen for p in s.paid if p.method in EXTERNAL)
                    revenue += s.recognised_revenue_fen
            case RechargePaid() | DebtRepaid():
                cash += sum(p.amount_fen for p in e.payments) - e.change_fen
            case RefundPaidOut():
                cash -= e.amount_fen
            case TicketRefunded():
                cash -= sum(p.amount_fen for p in e.returned if p.method in EXTERNAL)
                record = state.tickets.get(e.ticket_id)
                assert record is not None
                for no in e.line_nos:
                    line = record.line(no)
                    assert line is not None
                    revenue -= line.recognised_revenue_fen
            case _:
                pass
    debt = 0
    for (ticket_id, line_no), owed in state.tickets.debts.items():
        record = state.tickets.get(ticket_id)
        line = record.line(line_no) if record is not None else None
        assert line is not None
        debt += 0 if line.card_id else owed
    cards = sum(c.paid_fen - c.consumed_value_fen - c.bonus_fen
                for c in state.packages.cards.values() if not c.closed)
    return MoneyBooks(cash, debt, revenue, state.accounts.liability_fen(), cards)
