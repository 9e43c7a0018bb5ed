"""Regression tests for the second review: package card refunds that gave bonus money out as
cash or kept what the refunded money earned, a package sold without SELL_PACKAGE, bonus money
counted as revenue through a card, bad input accepted, and a void blocked by a card refund.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from support import (
    CONFIG,
    DESK,
    MANAGER,
    OWNER,
    PLANS,
    PRODUCTS,
    SERVICES,
    STYLIST,
    assert_refused,
    make_salon,
)
from test_checkout import (
    CASH,
    DEBT,
    SV,
    WECHAT,
    buy_card,
    member,
    paid,
    pkg,
    prd,
    recharge,
    sale,
    svc,
)
from test_refund_reversals import figures

from edge_store.codec import decode_event, encode_event
from salon.admin import ChangeStaff, PublishPriceList
from salon.catalog import ItemKind, PackagePlan
from salon.checkout import Checkout
from salon.commands import Command
from salon.config import PackagePolicy, RechargeRefundRule, SpendOrder
from salon.engine import Salon
from salon.errors import ErrorCode
from salon.events import Event
from salon.package_cards import (
    PackageCardRefunded,
    PackageCardSold,
    PackageSessionUsed,
    TransferPackageSessions,
)
from salon.payments import Payment, PaymentMethod
from salon.points import ExpirePoints
from salon.pricing import LineDraft
from salon.refunds import RefundTicket, VoidTicket
from salon.sales import HoldTicket, RefundPackageCard, RepayDebt
from salon.staff import HQ_ACTOR, Role, StaffShare
from salon.stored_value import StoredValueRestored
from salon.tickets import RefundPaidOut, TicketRefunded

CUT10 = PackagePlan("cut10", "剪发10次卡", ("cut",), 10, 0, 120_000, 365)
FACIAL20 = PackagePlan("facial20", "面部护理20次卡", ("facial",), 20, 0, 350_000, 365)


def _publish_v2(salon: Salon) -> None:
    salon.execute(PublishPriceList(actor_id=HQ_ACTOR, version=2, services=SERVICES,
                                   products=PRODUCTS, plans=(*PLANS, CUT10, FACIAL20)))


def v2(command: Checkout) -> Checkout:
    return replace(command, price_list_version=2)


def refund_card(salon: Salon, card_id: str, **kw: object) -> tuple[Event, ...]:
    return salon.execute(RefundPackageCard(actor_id=MANAGER, card_id=card_id, reason="退卡",
                                           **kw))  # type: ignore[arg-type]


def paid_out(events: tuple[Event, ...]) -> dict[PaymentMethod, int]:
    out: dict[PaymentMethod, int] = {}
    for e in events:
        if isinstance(e, RefundPaidOut):
            out[e.method] = out.get(e.method, 0) + e.amount_fen
    return out


def restored(events: tuple[Event, ...]) -> tuple[int, int]:
    """(principal, bonus) a command put back on stored-value lots."""
    draws = [d for e in events if isinstance(e, StoredValueRestored) for d in e.draws]
    return sum(d.principal_fen for d in draws), sum(d.bonus_fen for d in draws)


def commission_left(salon: Salon, staff_id: str) -> int:
    return salon.state.commissions.lifetime_fen(staff_id)


# -- 1. a card refund gives stored value back as stored value --------------------------------


def test_a_card_bought_with_stored_value_goes_back_to_its_lots_bonus_as_bonus() -> None:
    salon, clock = make_salon(stored_value=replace(
        CONFIG.stored_value, refund_rule=RechargeRefundRule.NOT_REFUNDABLE))
    m = member(salon)
    lot = recharge(salon, m, 100_000)  # 充1000送200: ¥1,000 principal, ¥200 bonus
    _publish_v2(salon)
    card = paid(salon.execute(v2(sale(pkg("cut10"), (SV, 120_000), member_id=m)))).lines[0].card_id
    salon.execute(v2(sale(svc("cut", package_card_id=card), member_id=m)))
    events = refund_card(salon, card)
    # ¥1,080 unused: it was bought with ¥1,000 principal and ¥200 bonus, so ¥900 principal and
    # ¥180 bonus go back to the recharge; not a fen leaves the store as cash.
    assert paid_out(events) == {}
    assert restored(events) == (90_000, 18_000)
    (back,) = [e for e in events if isinstance(e, StoredValueRestored)]
    assert {d.recharge_id for d in back.draws} == {lot} and back.member_id == m
    assert salon.state.accounts.balance_fen(m, clock()) == 108_000
    assert salon.state.accounts.principal_fen(m) == 90_000


def test_a_card_paid_by_wechat_and_stored_value_gives_each_part_back_its_own_way() -> None:
    salon, _ = make_salon()
    m = member(salon)
    recharge(salon, m, 50_000)  # ¥500 principal + ¥50 bonus
    card = paid(salon.execute(sale(pkg(), (SV, 55_000), (WECHAT, 143_000),
                                   member_id=m))).lines[0].card_id
    salon.execute(sale(svc("facial", package_card_id=card), member_id=m))  # 19800 used
    events = refund_card(salon, card)
    # 178200 back, in the card's mix: 143/198 WeChat, 50/198 principal, 5/198 bonus.
    assert paid_out(events) == {WECHAT: 128_700}
    assert restored(events) == (45_000, 4_500)
    (refunded,) = [e for e in events if isinstance(e, PackageCardRefunded)]
    assert refunded.refund_fen == 178_200


def test_a_refund_method_given_pays_only_the_outside_money_that_way() -> None:
    salon, _ = make_salon()
    m = member(salon)
    recharge(salon, m, 50_000)
    card = paid(salon.execute(sale(pkg(), (SV, 55_000), (WECHAT, 143_000),
                                   member_id=m))).lines[0].card_id
    events = refund_card(salon, card, method=CASH)
    assert paid_out(events) == {CASH: 143_000}
    assert restored(events) == (50_000, 5_000)


# -- 3. card refunds after an upgrade or a transfer ------------------------------------------


def test_refunding_an_upgraded_card_takes_back_what_the_old_cards_sale_earned_too() -> None:
    salon, clock = make_salon()
    _publish_v2(salon)
    m = member(salon)
    old = paid(salon.execute(v2(sale(pkg("facial10", StaffShare(STYLIST)), (CASH, 198_000),
                                     member_id=m)))).lines[0].card_id
    upgrade = LineDraft(ItemKind.PACKAGE, "facial20", upgrade_from_card_id=old,
                        staff=(StaffShare(STYLIST),))
    new = paid(salon.execute(v2(sale(upgrade, (CASH, 152_000), member_id=m)))).lines[0].card_id
    events = refund_card(salon, new)
    assert paid_out(events) == {CASH: 350_000}
    assert figures(salon, m) == (0, 0, 0, 0)
    assert commission_left(salon, STYLIST) == 0
    assert salon.state.points.balance(m, clock()) == 0


def test_a_half_used_upgraded_card_leaves_each_sale_the_share_used() -> None:
    salon, _ = make_salon()
    _publish_v2(salon)
    m = member(salon)
    old = paid(salon.execute(v2(sale(pkg("facial10", StaffShare(STYLIST)), (CASH, 198_000),
                                     member_id=m)))).lines[0].card_id
    upgrade = LineDraft(ItemKind.PACKAGE, "facial20", upgrade_from_card_id=old,
                        staff=(StaffShare(STYLIST),))
    new = paid(salon.execute(v2(sale(upgrade, (CASH, 152_000), member_id=m)))).lines[0].card_id
    salon.execute(v2(sale(svc("facial", package_card_id=new, quantity=10), member_id=m)))
    refund_card(salon, new)
    # Half the ¥3,500 was used: each sale keeps half its points, spend and ¥20 commission.
    assert figures(salon, m) == (990 + 760, 0, 175_000, 990 + 760)
    assert commission_left(salon, STYLIST) == 1_000 + 1_000


def _transfer_store() -> tuple[Salon, str, str, str]:
    salon, _ = make_salon(packages=PackagePolicy(allow_transfer=True))
    a, b = member(salon), member(salon, "13900139000")
    card = paid(salon.execute(sale(pkg("facial10", StaffShare(STYLIST)), (CASH, 198_000),
                                   member_id=a))).lines[0].card_id
    return salon, a, b, card


def _transfer(salon: Salon, card: str, to: str, sessions: int) -> str:
    events = salon.execute(TransferPackageSessions(actor_id=MANAGER, card_id=card,
                                                   to_member_id=to, sessions=sessions,
                                                   reason="转给朋友"))
    return str(events[0].to_card_id)  # type: ignore[attr-defined]


@pytest.mark.parametrize("child_first", [True, False])
def test_refunding_both_cards_of_a_transfer_takes_back_everything_the_sale_earned(
    child_first: bool,
) -> None:
    salon, a, b, card = _transfer_store()
    child = _transfer(salon, card, b, 5)
    out: dict[PaymentMethod, int] = {}
    for c in (child, card) if child_first else (card, child):
        for method, amount in paid_out(refund_card(salon, c)).items():
            out[method] = out.get(method, 0) + amount
    assert out == {CASH: 198_000}
    assert figures(salon, a) == (0, 0, 0, 0)
    assert figures(salon, b) == (0, 0, 0, 0)
    assert commission_left(salon, STYLIST) == 0


def test_a_transferred_cards_refund_is_traced_to_the_sale_that_took_its_money() -> None:
    # The rule for transfers: the moved value came from the card's sale, so its refund takes
    # back from that sale (A's points, spend, the stylist's commission) in the share refunded;
    # outside money is handed to whoever refunds the card, stored value goes back to the
    # account it was drawn from.
    salon, a, b, card = _transfer_store()
    child = _transfer(salon, card, b, 5)
    salon.execute(sale(svc("facial", package_card_id=child), member_id=b))  # 19800 used
    events = refund_card(salon, child)
    assert [(e.member_id, e.amount_fen) for e in events if isinstance(e, RefundPaidOut)] == [
        (b, 79_200)]
    assert figures(salon, a) == (1_980 - 792, 0, 198_000 - 79_200, 1_980 - 792)
    assert commission_left(salon, STYLIST) == 2_000 - 800


def test_a_transferred_card_bought_with_stored_value_goes_back_to_the_buyers_lots() -> None:
    salon, _ = make_salon(packages=PackagePolicy(allow_transfer=True))
    a, b = member(salon), member(salon, "13900139000")
    recharge(salon, a, 200_000)  # ¥2,000 principal + ¥200 bonus
    card = paid(salon.execute(sale(pkg(), (SV, 198_000), member_id=a))).lines[0].card_id
    child = _transfer(salon, card, b, 5)
    events = refund_card(salon, child)
    assert paid_out(events) == {}
    assert sum(restored(events)) == 99_000
    (back,) = [e for e in events if isinstance(e, StoredValueRestored)]
    assert back.member_id == a


# -- 4. selling a package card needs SELL_PACKAGE --------------------------------------------


def test_a_stylist_cannot_sell_a_package_card_without_an_approver() -> None:
    salon, _ = make_salon()
    m = member(salon)
    assert_refused(salon, sale(pkg(), (CASH, 198_000), actor=STYLIST, member_id=m),
                   ErrorCode.PERMISSION_DENIED)
    # A stylist may still take payment for a service.
    salon.execute(sale(svc("cut"), (CASH, 12_800), actor=STYLIST, member_id=m))


def test_a_stylist_sells_a_package_card_with_the_front_desks_approval() -> None:
    salon, _ = make_salon()
    m = member(salon)
    ticket = paid(salon.execute(sale(pkg(), (CASH, 198_000), actor=STYLIST, member_id=m,
                                     approver_id=DESK)))
    assert ticket.approver_id == DESK


def test_a_stylist_cannot_upgrade_a_package_card_either() -> None:
    salon, _ = make_salon()
    m = member(salon)
    _, old = buy_card(salon, m)
    _publish_v2(salon)
    upgrade = LineDraft(ItemKind.PACKAGE, "facial20", upgrade_from_card_id=old)
    assert_refused(salon, v2(sale(upgrade, (CASH, 152_000), actor=STYLIST, member_id=m)),
                   ErrorCode.PERMISSION_DENIED)


# -- 5. bonus money spent through a card is no revenue ---------------------------------------


def test_sessions_of_a_card_bought_with_bonus_money_recognise_only_the_principal() -> None:
    salon, _ = make_salon(stored_value=replace(CONFIG.stored_value,
                                               spend_order=SpendOrder.BONUS_LAST))
    m = member(salon)
    recharge(salon, m, 100_000)  # ¥1,000 principal + ¥200 bonus
    _publish_v2(salon)
    sale_ticket = paid(salon.execute(v2(sale(pkg("cut10"), (SV, 120_000), member_id=m))))
    card = sale_ticket.lines[0].card_id
    revenue = 0
    for _ in range(10):
        used = paid(salon.execute(v2(sale(svc("cut", package_card_id=card), member_id=m))))
        revenue += sum(s.recognised_revenue_fen for s in used.lines)
    assert revenue == 100_000


def test_a_session_refunded_by_ticket_takes_its_bonus_share_back_onto_the_card() -> None:
    salon, _ = make_salon()
    m = member(salon)
    recharge(salon, m, 100_000)
    _publish_v2(salon)
    card = paid(salon.execute(v2(sale(pkg("cut10"), (SV, 120_000),
                                      member_id=m)))).lines[0].card_id
    used = paid(salon.execute(v2(sale(svc("cut", package_card_id=card), member_id=m))))
    assert used.lines[0].recognised_revenue_fen == 10_000
    salon.execute(RefundTicket(actor_id=MANAGER, ticket_id=used.ticket_id, reason="客诉"))
    events = refund_card(salon, card)
    assert restored(events) == (100_000, 20_000)


def test_a_card_sale_recorded_before_bonus_was_kept_still_reads() -> None:
    salon, _ = make_salon()
    m = member(salon)
    sold = next(e for e in salon.execute(sale(pkg(), (CASH, 198_000), member_id=m))
                if isinstance(e, PackageCardSold))
    for event in (sold, next(e for e in salon.execute(sale(
            svc("facial", package_card_id=sold.card_id), member_id=m))
            if isinstance(e, PackageSessionUsed))):
        record = encode_event(event)
        del record["bonus_fen"]
        assert decode_event(record) == event


# -- 6. bad input ----------------------------------------------------------------------------


def _bad_inputs(m: str) -> list[tuple[Command, ErrorCode]]:
    return [
        (RepayDebt(actor_id=DESK, member_id=m, payments=()), ErrorCode.INVALID_INPUT),
        (HoldTicket(actor_id=DESK, lines=(svc("nope"),)), ErrorCode.UNKNOWN_SERVICE),
        (HoldTicket(actor_id=DESK, lines=(prd("nope"),)), ErrorCode.UNKNOWN_PRODUCT),
        (HoldTicket(actor_id=DESK, lines=(pkg("nope"),)), ErrorCode.UNKNOWN_PLAN),
        (ChangeStaff(actor_id=OWNER, staff_id=STYLIST, name=" ", role=Role.STYLIST,
                     level="junior", reason="改名"), ErrorCode.INVALID_INPUT),
        (ExpirePoints(actor_id=DESK, member_id="nobody"), ErrorCode.UNKNOWN_MEMBER),
    ]


@pytest.mark.parametrize("case", range(len(_bad_inputs(""))))
def test_bad_input_is_refused(case: int) -> None:
    salon, _ = make_salon()
    m = member(salon)
    salon.execute(sale(svc("cut"), (DEBT, 12_800), member_id=m))
    command, code = _bad_inputs(m)[case]
    assert_refused(salon, command, code)


def test_a_staff_name_is_kept_trimmed_when_changed() -> None:
    salon, _ = make_salon()
    salon.execute(ChangeStaff(actor_id=OWNER, staff_id=STYLIST, name=" Tony Lee ",
                              role=Role.STYLIST, level="senior", reason="改名"))
    assert salon.state.staff.get(STYLIST).name == "Tony Lee"


# -- 7. a void after a card refund -----------------------------------------------------------


def test_a_ticket_whose_card_was_refunded_can_still_be_voided_for_the_rest() -> None:
    salon, _ = make_salon()
    m = member(salon)
    ticket = paid(salon.execute(sale((pkg(), prd("sh1")), (CASH, 198_000 + 16_800),
                                     member_id=m)))
    card_back = paid_out(refund_card(salon, ticket.lines[0].card_id))
    events = salon.execute(VoidTicket(actor_id=MANAGER, ticket_id=ticket.ticket_id,
                                      reason="录错"))
    (voided,) = [e for e in events if isinstance(e, TicketRefunded)]
    assert voided.line_nos == (2,) and voided.void
    assert voided.returned == (Payment(CASH, 16_800),)
    assert card_back[CASH] + 16_800 == 198_000 + 16_800
    assert figures(salon, m) == (0, 0, 0, 0)
    # Nothing is left to undo: the card line was settled by its own refund and now counts
    # as refunded with the void.
    assert voided.settled_line_nos == (1,)
    assert_refused(salon, VoidTicket(actor_id=MANAGER, ticket_id=ticket.ticket_id,
                                     reason="再作废"), ErrorCode.TICKET_ALREADY_REFUNDED)


def test_a_void_skips_a_card_that_was_upgraded_into_a_refunded_card() -> None:
    salon, _ = make_salon()
    _publish_v2(salon)
    m = member(salon)
    first = paid(salon.execute(v2(sale((pkg(), prd("sh1")), (CASH, 198_000 + 16_800),
                                       member_id=m))))
    upgrade = LineDraft(ItemKind.PACKAGE, "facial20",
                        upgrade_from_card_id=first.lines[0].card_id)
    new = paid(salon.execute(v2(sale(upgrade, (CASH, 152_000), member_id=m)))).lines[0].card_id
    refund_card(salon, new)
    events = salon.execute(RefundTicket(actor_id=MANAGER, ticket_id=first.ticket_id,
                                        reason="退货"))
    (refunded,) = [e for e in events if isinstance(e, TicketRefunded)]
    assert refunded.line_nos == (2,)
    assert figures(salon, m) == (0, 0, 0, 0)

