"""Package card refunds (退卡): trace the value refunded to the sales that took its money, and
give every part back the way it came in.

A card's paid value comes from the ticket line that sold it (money paid at the sale, stored
value drawn, repayments of its debt) and, for an upgrade, from the old card's credit; a card
made by a transfer holds value of the card it came from. A refund is traced back along those
links in proportion to where the value came from, and then:

- outside money goes out by the method it came in (or by one method the desk chooses, when the
  original one cannot refund), to whoever holds the card;
- stored value goes back onto the lots it was drawn from, the buyer's account, its bonus part
  (the card's ``bonus_fen``) as bonus: a card refund never turns stored value into cash.
  The card's bonus is what its sessions left of it when they were used, so the sale gives
  back the money that came with that bonus and its repayments the rest (see _resplit);
- each source splits its part over the ways it took money by running shares (see _running):
  no way ever gets back more than it paid, however many refunds reach it;
- each sale takes back its commission, points and tier spend in the share given back, and
  gives back the points redeemed on it in the same share.

Every card keeps what was given back of its value and of each of its sources (the sale, each
repayment; its bonus part too), so refunds reaching one sale more than once (both cards of
a transfer) end exactly at what that sale earned. The rule for a transferred card: its value
is traced in the mix the card it came from has at the time of the refund. Should that
card's debt have been repaid in between, the split between its upgrade credit and its own
money may differ from the one at the transfer, but never passes either total.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from salon import points, tiers
from salon.commissions import CommissionEntry, CommissionReversed
from salon.context import Context
from salon.events import Event
from salon.money import RoundingMode, allocate, mul_div
from salon.package_cards import CardRefundPlan, PackageCard, SourceRefund, TracedRefund
from salon.payments import EXTERNAL_METHODS, Payment, PaymentMethod
from salon.settlement import merge_lot_draws
from salon.stored_value import LotDraw, StoredValueRestored
from salon.tickets import LineSettlement, RefundPaidOut, TicketRecord

if TYPE_CHECKING:
    from salon.state import SalonState

__all__ = ["CardRefund", "plan_refund", "refund_events", "scaled_entries", "share"]


def share(amount: int, num: int, den: int) -> int:
    """``amount × num / den`` rounded half up; nothing when ``num`` or ``den`` is not positive."""
    return mul_div(amount, num, den, RoundingMode.HALF_UP) if den > 0 and num > 0 else 0


def _between(amount: int, before: int, after: int, whole: int) -> int:
    """The part of ``amount`` between shares ``before`` and ``after`` of ``whole``: summed
    over successive refunds it ends exactly at ``amount``."""
    return share(amount, after, whole) - share(amount, before, whole)


def scaled_entries(
    entries: Sequence[CommissionEntry], before: int, after: int, whole: int
) -> tuple[CommissionEntry, ...]:
    """The part of earned entries between shares ``before`` and ``after`` of ``whole``.

    Taking back a share at a time this way ends exactly at the entries once ``after``
    reaches ``whole``, however the refunds were cut.
    """
    out = []
    for e in entries:
        base = _between(e.base_fen, before, after, whole)
        amount = _between(e.amount_fen, before, after, whole)
        if base or amount:
            out.append(replace(e, base_fen=base, amount_fen=amount))
    return tuple(out)


def _scaled_draws(
    draws: Sequence[points.PointsDraw], before: int, after: int, whole: int
) -> list[points.PointsDraw]:
    """The part of a sale's points redemption between shares ``before`` and ``after`` of
    ``whole``: the redeemed points paid for the card as its money did, so they come back in
    the share of the card given back (all of them once ``after`` reaches ``whole``)."""
    out = []
    for d in draws:
        part = _between(d.points, before, after, whole)
        if part:
            out.append(points.PointsDraw(d.lot_id, part))
    return out


@dataclass(frozen=True, slots=True)
class _Source:
    """Money of one card's sale: paid at the sale (its ticket) or by one repayment."""

    source_id: str
    amount_fen: int
    points: int
    outside: tuple[Payment, ...]
    draws: tuple[LotDraw, ...]


@dataclass(frozen=True, slots=True)
class _Origin:
    """A card sold on a ticket line that the refund reaches, and the part traced to it."""

    card: PackageCard
    record: TicketRecord
    sale: LineSettlement
    sources: tuple[_Source, ...]
    traced: TracedRefund


@dataclass(frozen=True, slots=True)
class _Lot:
    """A stored-value lot a traced sale drew from, with the member and ticket that drew."""

    member_id: str
    ticket_id: str
    lot_id: str


@dataclass(frozen=True, slots=True)
class CardRefund:
    """Where a card refund came from, and where each part of it goes."""

    traced: tuple[TracedRefund, ...]
    paid_out: tuple[Payment, ...]
    """Outside money handed to the card's holder, per method."""
    restored: tuple[tuple[str, str, tuple[LotDraw, ...]], ...]
    """(member, ticket that drew, draws) put back on stored-value lots."""
    origins: tuple[_Origin, ...]


def _sources(state: SalonState, ticket_id: str, sale: LineSettlement) -> tuple[_Source, ...]:
    outside = tuple(p for p in sale.paid if p.method in EXTERNAL_METHODS)
    found = [_Source(ticket_id, sale.paid_now_fen, sale.points_earned, outside, sale.sv_draws)]
    for repayment_id, a in state.tickets.repayments_of(ticket_id, sale.line.line_no):
        found.append(_Source(repayment_id, a.amount_fen, a.points_earned, a.paid, ()))
    return tuple(found)


def _trace(state: SalonState, card_id: str, value: int, debt: int) -> list[_Origin]:
    """Follow ``value`` of a card (and the debt its refund cancels) back to the sales."""
    out: list[_Origin] = []
    while True:
        card = state.packages.get(card_id)
        if card.transferred_from:
            card_id = card.transferred_from
            continue
        record = state.tickets.get(card.ticket_id) if card.ticket_id else None
        sale = record.line(card.line_no) if record is not None else None
        if record is None or sale is None:
            return out
        sources = _sources(state, record.paid.ticket_id, sale)
        done = {s.source_id: s.amount_fen for s in card.refunded_money}
        left = [max(0, s.amount_fen - done.get(s.source_id, 0)) for s in sources]
        credit = sale.line.credit_fen
        credit_done = card.refunded_value_fen - sum(done.values())
        wanted = share(credit, card.refunded_value_fen + value, card.paid_fen) - credit_done
        lowest, highest = max(0, value - sum(left)), min(value, credit - credit_done)
        from_credit = max(0, min(max(wanted, lowest), highest))
        money = allocate(value - from_credit, left)
        traced = TracedRefund(
            card_id=card.card_id, value_fen=value, debt_cancelled_fen=debt,
            money=tuple(SourceRefund(s.source_id, m) for s, m in zip(sources, money, strict=True)
                        if m),
        )
        out.append(_Origin(card, record, sale, sources, traced))
        if not from_credit or not sale.line.upgrade_from_card_id:
            return out
        card_id, value, debt = sale.line.upgrade_from_card_id, from_credit, 0


@dataclass(frozen=True, slots=True)
class _Due:
    """The fraction ``num / den`` (den > 0), compared without division."""

    num: int
    den: int

    def __lt__(self, other: _Due) -> bool:
        return self.num * other.den < other.num * self.den


def _running(weights: Sequence[int], total: int) -> list[int]:
    """``total`` (0 to the weights' sum) split over ``weights`` so that every part only grows
    with ``total`` and the parts sum to it: the whole of each weight once ``total`` is all.

    Weight k's i-th fen falls due at ``(i + 1) / weight``: the first ``total`` fen in order
    of falling due (ties to the earlier weight) make the split. So refunds taking a share
    at a time, each as the running split at its end less the one at its start, never give
    a weight more than it is, nor anything back that an earlier refund did not give.
    """
    whole = sum(weights)
    total = max(0, min(total, whole))
    if not whole:
        return [0] * len(weights)
    parts = [w * total // whole for w in weights]
    for _ in range(total - sum(parts)):
        due = [k for k, w in enumerate(weights) if parts[k] < w]
        k = min(due, key=lambda i: (_Due(parts[i] + 1, weights[i]), i))
        parts[k] += 1
    return parts


def _increment(weights: Sequence[int], before: int, now: int) -> list[int]:
    """The running split of ``before + now`` less that of ``before`` (see _running)."""
    after = _running(weights, before + now)
    return [a - b for a, b in zip(after, _running(weights, before), strict=True)]


def _left(origin: _Origin) -> dict[str, tuple[int, int]]:
    """Per source: its money not given back yet, and the bonus money among it."""
    done = {s.source_id: s for s in origin.card.refunded_money}
    out: dict[str, tuple[int, int]] = {}
    for source in origin.sources:
        back = done.get(source.source_id, SourceRefund(source.source_id, 0))
        amount = max(0, source.amount_fen - back.amount_fen)
        bonus = sum(d.bonus_fen for d in source.draws) - back.bonus_fen
        out[source.source_id] = (amount, max(0, min(amount, bonus)))
    return out


def _capped(total: int, weights: Sequence[int], caps: Sequence[int]) -> list[int]:
    """``total`` over ``weights`` but none above its cap; what a cap stops goes to the next
    with room, in order (the parts sum to less only when every cap is reached)."""
    if not caps:
        return []
    parts = [min(p, c) for p, c in zip(allocate(total, weights), caps, strict=True)]
    left = total - sum(parts)
    for k, cap in enumerate(caps):
        more = min(left, cap - parts[k])
        parts[k] += more
        left -= more
    return parts


def _resplit(origin: _Origin, bonus: int) -> _Origin:
    """The origin's money spread over its sources so that ``bonus`` of it is bonus.

    Only the sale can have drawn stored value (a repayment takes outside money), so the
    sale gives back as much as carries ``bonus`` in the mix it has left, and the
    repayments the rest. A card keeps its bonus (``PackageCard.bonus_fen``) by what each
    session consumed when it was used: giving back that bonus, and the money around it in
    the order it came, makes the refund agree with the revenue the sessions recognised.
    """
    left = _left(origin)
    sale, repayments = origin.sources[0], origin.sources[1:]
    total = sum(s.amount_fen for s in origin.traced.money)
    sale_left, bonus_left = left[sale.source_id]
    traced = {s.source_id: s.amount_fen for s in origin.traced.money}
    target = share(bonus, sale_left, bonus_left) if bonus_left else traced.get(
        sale.source_id, 0)
    repayments_left = [left[r.source_id][0] for r in repayments]
    from_sale = max(total - sum(repayments_left), min(target, sale_left, total))
    bonus_here = min(max(bonus, from_sale - (sale_left - bonus_left), 0), bonus_left, from_sale)
    parts = allocate(total - from_sale, repayments_left) if repayments else []
    money = [SourceRefund(sale.source_id, from_sale, bonus_here)]
    money += [SourceRefund(r.source_id, m) for r, m in zip(repayments, parts, strict=True)]
    return replace(origin, traced=replace(origin.traced, money=tuple(
        m for m in money if m.amount_fen)))


def _with_bonus(origins: Sequence[_Origin], bonus: int) -> list[_Origin]:
    """The origins with their money re-split so that ``bonus`` in all is bonus: each takes
    the part of it in the traced mix, none more than its sale's bonus left."""
    traced, caps = [], []
    for origin in origins:
        left = _left(origin)
        sale_left, bonus_left = left[origin.sources[0].source_id]
        given = {s.source_id: s.amount_fen for s in origin.traced.money}
        traced.append(share(given.get(origin.sources[0].source_id, 0), bonus_left, sale_left))
        caps.append(min(bonus_left, sum(given.values())))
    wanted = _capped(bonus, traced if any(traced) else caps, caps)
    return [_resplit(o, b) for o, b in zip(origins, wanted, strict=True)]


def plan_refund(
    state: SalonState, card_id: str, plan: CardRefundPlan, method: PaymentMethod | None
) -> CardRefund:
    """Trace ``plan`` back to its sales and split it into outside money, principal and bonus.

    The bonus part is the card's own (``plan.bonus_fen``): each traced sale gives back the
    bonus part of it its lots can take and, with it, its money in the order it came (see
    _resplit). Each source then splits its part over the ways it took money (outside
    methods, lot principal; lot bonus for the bonus part) by running shares of what it
    already gave back (see _running), so no way ever gets back more than it paid and the
    last refund ends exactly at it. ``method``, when given, pays all the outside money.
    """
    origins = _with_bonus(_trace(state, card_id, plan.refund_fen, plan.debt_cancelled_fen),
                          plan.bonus_fen)
    principal: dict[PaymentMethod | _Lot, int] = {}
    bonus: dict[_Lot, int] = {}
    for origin in origins:
        done = {s.source_id: s for s in origin.card.refunded_money}
        given = {s.source_id: s for s in origin.traced.money}
        paid = origin.record.paid
        for source in origin.sources:
            now = given.get(source.source_id, SourceRefund(source.source_id, 0))
            was = done.get(source.source_id, SourceRefund(source.source_id, 0))
            lots = [_Lot(paid.member_id, paid.ticket_id, d.recharge_id) for d in source.draws]
            keys: list[PaymentMethod | _Lot] = [p.method for p in source.outside] + lots
            weights = [p.amount_fen for p in source.outside]
            weights += [d.principal_fen for d in source.draws]
            parts = _increment(weights, was.amount_fen - was.bonus_fen,
                               now.amount_fen - now.bonus_fen)
            for key, part in zip(keys, parts, strict=True):
                principal[key] = principal.get(key, 0) + part
            parts = _increment([d.bonus_fen for d in source.draws], was.bonus_fen, now.bonus_fen)
            for lot, part in zip(lots, parts, strict=True):
                bonus[lot] = bonus.get(lot, 0) + part
    out: dict[PaymentMethod, int] = {}
    draws: dict[tuple[str, str], list[LotDraw]] = {}
    for key, amount in principal.items():
        if not amount:
            continue
        if isinstance(key, _Lot):
            draws.setdefault((key.member_id, key.ticket_id), []).append(
                LotDraw(key.lot_id, amount, 0))
        else:
            out[method or key] = out.get(method or key, 0) + amount
    for lot, amount in bonus.items():
        if amount:
            draws.setdefault((lot.member_id, lot.ticket_id), []).append(
                LotDraw(lot.lot_id, 0, amount))
    unplaced = plan.refund_fen - sum(bonus.values()) - sum(principal.values())
    if unplaced:
        # No sale to trace it to (its ticket is gone from the store): paid out as before.
        out[method or PaymentMethod.CASH] = out.get(method or PaymentMethod.CASH, 0) + unplaced
    return CardRefund(
        traced=tuple(o.traced for o in origins),
        paid_out=tuple(Payment(m, a) for m, a in out.items() if a),
        restored=tuple((m, t, merge_lot_draws(d)) for (m, t), d in draws.items()),
        origins=tuple(origins),
    )


def refund_events(
    state: SalonState, ctx: Context, actor_id: str, at: datetime, card_id: str,
    holder_id: str, refund: CardRefund,
) -> list[Event]:
    """The money going back (to the holder, onto the lots) and what each sale gives back."""
    events: list[Event] = [
        RefundPaidOut(meta=ctx.meta(actor_id, at), source_id=card_id, member_id=holder_id,
                      method=p.method, amount_fen=p.amount_fen)
        for p in refund.paid_out
    ]
    events.extend(
        StoredValueRestored(meta=ctx.meta(actor_id, at), member_id=member_id,
                            ticket_id=ticket_id, draws=draws)
        for member_id, ticket_id, draws in refund.restored if draws
    )
    events.extend(_take_back(state, ctx, actor_id, at, refund.origins))
    return events


def _take_back(
    state: SalonState, ctx: Context, actor_id: str, at: datetime, origins: Iterable[_Origin]
) -> list[Event]:
    """Commission, points and tier spend of each sale, in the share of it now given back.

    Commission was earned on the card's whole price (credit and debt included), so its
    share is the value given back or debt cancelled of that price; points and spend were
    earned on each source's money, so theirs is the source's money given back.
    """
    events: list[Event] = []
    earned: dict[str, dict[str, int]] = {}
    spend: dict[str, int] = {}
    redeemed: dict[str, tuple[str, list[points.PointsDraw]]] = {}
    for origin in origins:
        card, traced = origin.card, origin.traced
        ticket_id, member_id = origin.record.paid.ticket_id, origin.record.paid.member_id
        before = card.refunded_value_fen + card.refunded_debt_fen
        after = max(before, min(card.price_fen,
                                before + traced.value_fen + traced.debt_cancelled_fen))
        reversal = scaled_entries(origin.sale.commissions, before, after, card.price_fen)
        if reversal:
            events.append(CommissionReversed(meta=ctx.meta(actor_id, at), source_id=ticket_id,
                                             entries=reversal))
        redeemed.setdefault(member_id, (ticket_id, []))[1].extend(
            _scaled_draws(origin.sale.points_draws, before, after, card.price_fen))
        done = {s.source_id: s.amount_fen for s in card.refunded_money}
        given = {s.source_id: s.amount_fen for s in traced.money}
        by_source = earned.setdefault(member_id, {})
        for source in origin.sources:
            was, now = done.get(source.source_id, 0), given.get(source.source_id, 0)
            back = (share(source.points, min(was + now, source.amount_fen), source.amount_fen)
                    - share(source.points, was, source.amount_fen))
            by_source[source.source_id] = by_source.get(source.source_id, 0) + back
            spend[member_id] = spend.get(member_id, 0) + now
    given_back: dict[str, tuple[points.PointsDraw, ...]] = {}
    for member_id, (ticket_id, draws) in redeemed.items():
        if draws:
            # One restore per member, named after the nearest sale (two would both pay the
            # same points debt): the lots are what counts.
            restore = points.restore_event(state, member_id, ticket_id, draws,
                                           ctx.meta(actor_id, at), at)
            events.append(restore)
            given_back[member_id] = restore.given_back()
    for member_id, by_source in earned.items():
        events.extend(points.reverse_events(state, ctx, actor_id, member_id, by_source, at,
                                            given_back.get(member_id, ())))
        points_back = sum(by_source.values())
        if member_id and (points_back or spend[member_id]):
            events.extend(tiers.progress_events(state, member_id, ctx, actor_id, at,
                                                spend_fen=-spend[member_id],
                                                points=-points_back))
    return events
