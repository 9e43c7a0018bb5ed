"""Regression tests: a refund takes back exactly what the refunded sale earned.

Points and tier spend of a refunded package card, the commission clawback of an upgrade or a
card bought on debt, points that expired before the refund, and the debt a card refund cancels.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from checkout_helpers import recompute
from hypothesis import given, settings
from hypothesis import strategies as st
from support import DESK, MANAGER, PLANS, PRODUCTS, SERVICES, make_salon
from test_checkout import CASH, DEBT, member, paid, pkg, sale, svc
from test_points import commit, earn, redeem, register

from salon.admin import PublishPriceList
from salon.catalog import ItemKind, PackagePlan
from salon.commissions import CommissionReversed
from salon.engine import Salon
from salon.events import Event
from salon.package_cards import PackageCardRefunded
from salon.payments import Payment
from salon.points import ExpirePoints, PointsDraw, PointsReversed, plan_reverse, reverse_event
from salon.pricing import LineDraft
from salon.refunds import RefundTicket
from salon.sales import RefundPackageCard, RepayDebt
from salon.staff import HQ_ACTOR, StaffShare

FACIAL20 = PackagePlan("facial20", "面部护理20次卡", ("facial",), 20, 0, 350_000, 365)
AFTER_EXPIRY = datetime(2028, 1, 5, 2, 0, tzinfo=UTC)
"""Points earned in 2026 (the seeded store's start) expired at the end of 2027."""


def one(events: tuple[Event, ...], kind: type[Event]) -> Event:
    (found,) = [e for e in events if isinstance(e, kind)]
    return found


def figures(salon: Salon, member_id: str) -> tuple[int, int, int, int]:
    """Points balance, points debt, cumulative tier spend and tier points of the member."""
    progress = salon.state.tiers.of(member_id)
    return (salon.state.points.balance(member_id, salon.ctx.clock()),
            salon.state.points.debt(member_id), progress.spend_fen, progress.points)


def use_sessions(salon: Salon, card_id: str, member_id: str, count: int,
                 version: int = 1) -> None:
    salon.execute(replace(sale(svc("facial", package_card_id=card_id, quantity=count),
                               member_id=member_id), price_list_version=version))


def clawed_back(events: tuple[Event, ...]) -> int:
    back = one(events, CommissionReversed)
    assert isinstance(back, CommissionReversed)
    return sum(e.amount_fen for e in back.entries)


def refund_card(salon: Salon, card_id: str) -> tuple[Event, ...]:
    return salon.execute(RefundPackageCard(actor_id=MANAGER, card_id=card_id, reason="退卡"))


# --- points and tier spend of a package card refund ----------------------------------------


def test_card_refunded_half_gives_back_half_its_points_and_tier_spend() -> None:
    salon, _ = make_salon()
    m = member(salon)
    salon.execute(sale(svc("cut"), (CASH, 12_800), member_id=m))  # 128 points, spend 12800
    before = figures(salon, m)
    ticket = paid(salon.execute(sale(pkg(), (CASH, 198_000), member_id=m)))
    card = ticket.lines[0].card_id
    assert ticket.lines[0].points_earned == 1_980
    use_sessions(salon, card, m, 5)
    events = refund_card(salon, card)
    # half the card's paid value comes back (99000 of 198000): half its 1980 points go
    reversed_ = one(events, PointsReversed)
    assert isinstance(reversed_, PointsReversed)
    assert reversed_.source_id == ticket.ticket_id
    assert (sum(d.points for d in reversed_.draws), reversed_.debt_points) == (990, 0)
    points, debt, spend, tier_points = before
    assert figures(salon, m) == (points + 990, debt, spend + 99_000, tier_points + 990)


def test_full_refund_of_an_unused_card_restores_points_and_tier_spend() -> None:
    salon, _ = make_salon()
    m = member(salon)
    salon.execute(sale(svc("wash"), (CASH, 3_800), member_id=m))
    before = figures(salon, m)
    card = paid(salon.execute(sale(pkg(), (CASH, 198_000), member_id=m))).lines[0].card_id
    refund_card(salon, card)
    assert figures(salon, m) == before


# --- commission clawback share --------------------------------------------------------------


def _upgrade_to_facial20(salon: Salon, member_id: str, old_card: str) -> tuple[str, str]:
    salon.execute(PublishPriceList(actor_id=HQ_ACTOR, version=2, services=SERVICES,
                                   products=PRODUCTS, plans=(*PLANS, FACIAL20)))
    line = LineDraft(ItemKind.PACKAGE, "facial20", upgrade_from_card_id=old_card,
                     staff=(StaffShare(DESK),))
    ticket = paid(salon.execute(replace(sale(line, (CASH, 152_000), member_id=member_id),
                                        price_list_version=2)))
    return ticket.ticket_id, ticket.lines[0].card_id


def test_upgrade_card_refund_claws_back_commission_by_the_share_of_the_whole_price() -> None:
    salon, _ = make_salon()
    m = member(salon)
    old = paid(salon.execute(sale(pkg(), (CASH, 198_000), member_id=m))).lines[0].card_id
    before = figures(salon, m)
    ticket_id, card = _upgrade_to_facial20(salon, m, old)
    # the new card is worth 350000: 198000 credit + 152000 paid now; 10 of 20 sessions used
    use_sessions(salon, card, m, 10, version=2)
    events = refund_card(salon, card)
    refunded = one(events, PackageCardRefunded)
    assert isinstance(refunded, PackageCardRefunded) and refunded.refund_fen == 175_000
    # fixed ¥20 commission × 175000 / 350000, not × 175000 / 152000 (more than was earned)
    assert clawed_back(events) == 1_000
    # Half the card's value comes back, and it is traced to both sales that paid for it:
    # half the upgrade's 1520 points and 152000 spend, and half the old card's 1980 points
    # and 198000 spend (its value came in as the credit). The member keeps what was used.
    back = {e.source_id: sum(d.points for d in e.draws) + e.debt_points
            for e in events if isinstance(e, PointsReversed)}
    old_ticket = salon.state.packages.get(old).ticket_id
    assert back == {ticket_id: 760, old_ticket: 990}
    points, debt, spend, tier_points = before
    assert figures(salon, m) == (points - 990 + 760, debt, spend - 99_000 + 76_000,
                                 tier_points - 990 + 760)


def test_debt_card_refund_claws_back_commission_for_the_refund_and_the_cancelled_debt() -> None:
    salon, _ = make_salon()
    m = member(salon)
    ticket = paid(salon.execute(sale(pkg("facial10", StaffShare(DESK)), (CASH, 98_000),
                                     (DEBT, 100_000), member_id=m)))
    card = ticket.lines[0].card_id
    use_sessions(salon, card, m, 4)  # 4 × 19800 = 79200 of the 98000 paid
    events = refund_card(salon, card)
    refunded = one(events, PackageCardRefunded)
    assert isinstance(refunded, PackageCardRefunded)
    assert (refunded.refund_fen, refunded.debt_cancelled_fen) == (18_800, 100_000)
    # ¥20 × (18800 + 100000) / 198000 = 1200; scaling by the refund alone gave 190
    assert clawed_back(events) == 1_200
    assert salon.state.tickets.debt_of(m) == 0
    # 980 points were earned on the 98000 paid; 18800 of it comes back: 188 points
    # (980 × 18800 / 98000), and the spend left is the 79200 the member used
    assert figures(salon, m) == (980 - 188, 0, 79_200, 980 - 188)


# --- points already lost to expiry ----------------------------------------------------------


def reverse_now(salon: Salon, member_id: str, source_id: str, points: int) -> PointsReversed:
    now = salon.ctx.clock()
    event = reverse_event(salon.state, member_id, source_id, points,
                          salon.ctx.meta(DESK, now), now)
    commit(salon, event)
    return event


def test_reversal_of_an_expired_own_lot_leaves_a_newer_lot_alone() -> None:
    salon, clock = make_salon()
    m = register(salon)
    earn(salon, m, "src", 100)
    clock.now = AFTER_EXPIRY
    salon.execute(ExpirePoints(actor_id=DESK))
    newer = earn(salon, m, "later", 50).lot_id
    assert plan_reverse(salon.state, m, "src", 100, now=clock.now) == ((), 0)
    event = reverse_now(salon, m, "src", 100)
    assert (event.draws, event.debt_points, event.expired_points) == ((), 0, 100)
    assert salon.state.points.lot(newer).left == 50
    points = salon.state.points
    assert (points.debt(m), points.lifetime_earned(m), points.lost_to_expiry("src")) == (0, 50, 0)


def test_spent_points_of_an_expired_lot_are_still_taken_but_the_expired_ones_only_once() -> None:
    salon, clock = make_salon()
    m = register(salon)
    earn(salon, m, "src", 100)
    redeem(salon, m, "t1", 60)  # 60 spent; the other 40 expire
    clock.now = AFTER_EXPIRY
    salon.execute(ExpirePoints(actor_id=DESK))
    newer = earn(salon, m, "later", 100).lot_id
    first = reverse_now(salon, m, "src", 50)
    assert (first.draws, first.expired_points) == ((PointsDraw(newer, 10),), 40)
    second = reverse_now(salon, m, "src", 50)
    assert (second.draws, second.expired_points) == ((PointsDraw(newer, 50),), 0)
    # exactly the 60 spent points came off the newer lot; the 40 expired were not taken twice
    assert salon.state.points.lot(newer).left == 40
    assert (salon.state.points.lifetime_earned(m), salon.state.points.lost_to_expiry("src")) == (
        100, 0)


def test_ticket_refund_after_its_points_expired_does_not_take_newer_points() -> None:
    salon, clock = make_salon()
    m = member(salon)
    old = paid(salon.execute(sale(svc("cut"), (CASH, 12_800), member_id=m)))
    clock.now = AFTER_EXPIRY
    salon.execute(ExpirePoints(actor_id=DESK))
    salon.execute(sale(svc("wash"), (CASH, 3_800), member_id=m))  # 38 newer points
    events = salon.execute(RefundTicket(actor_id=MANAGER, ticket_id=old.ticket_id,
                                        reason="客诉"))
    reversed_ = one(events, PointsReversed)
    assert isinstance(reversed_, PointsReversed)
    assert (reversed_.draws, reversed_.debt_points, reversed_.expired_points) == ((), 0, 128)
    assert (salon.state.points.balance(m, clock.now), salon.state.points.debt(m)) == (38, 0)


# --- the debt a ticket refund of a card cancels ---------------------------------------------


def test_ticket_refund_of_a_card_cancels_only_the_debt_still_owed() -> None:
    salon, _ = make_salon()
    m = member(salon)
    ticket = paid(salon.execute(sale(pkg(), (CASH, 98_000), (DEBT, 100_000), member_id=m)))
    salon.execute(RepayDebt(actor_id=DESK, member_id=m, payments=(Payment(CASH, 40_000),)))
    events = salon.execute(RefundTicket(actor_id=MANAGER, ticket_id=ticket.ticket_id,
                                        reason="不要了"))
    refunded = one(events, PackageCardRefunded)
    assert isinstance(refunded, PackageCardRefunded)
    assert refunded.debt_cancelled_fen == 60_000


# --- property -------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(cash=st.integers(1, 198_000),
       earlier=st.sampled_from([None, ("wash", 3_800), ("cut", 12_800)]),
       sessions=st.integers(0, 10))
def test_card_refund_leaves_the_points_and_spend_of_only_the_paid_value_used(
    cash: int, earlier: tuple[str, int] | None, sessions: int
) -> None:
    salon, _ = make_salon()
    m = member(salon)
    if earlier is not None:
        service, price = earlier
        salon.execute(sale(svc(service), (CASH, price), member_id=m))
    before = figures(salon, m)
    on_debt = ((DEBT, 198_000 - cash),) if cash < 198_000 else ()
    ticket = paid(salon.execute(sale(pkg("facial10", StaffShare(DESK)), (CASH, cash), *on_debt,
                                     member_id=m)))
    card, earned = ticket.lines[0].card_id, ticket.lines[0].points_earned
    used = min(sessions, cash // 19_800)  # only sessions covered by what was paid are usable
    if used:
        use_sessions(salon, card, m, used)
    refund_card(salon, card)
    points, debt, spend, tier_points = figures(salon, m)
    kept = points - before[0]
    assert (debt, spend, tier_points - before[3]) == (before[1], before[2] + used * 19_800, kept)
    # the points kept are the sale's points in the share of its paid value used, to half a point
    assert 2 * abs(kept * cash - earned * used * 19_800) <= cash
    if not used:
        assert figures(salon, m) == before
        assert recompute(salon.history).commission[DESK] == 0
