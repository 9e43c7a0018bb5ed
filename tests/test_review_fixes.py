"""Regression tests for defects a review found: each one lost money, points or an audit."""

from __future__ import annotations

from dataclasses import replace

import pytest
from support import CONFIG, DESK, MANAGER, PLANS, PRODUCTS, SERVICES, assert_refused, make_salon
from test_checkout import CASH, audits, buy_card, member, paid, pkg, sale, svc

from hub.checkout_service import CheckoutService
from hub.payments import FakePaymentProvider
from salon.admin import PublishPriceList
from salon.catalog import ItemKind, PackagePlan
from salon.checkout import Checkout
from salon.engine import Salon
from salon.errors import DomainError, ErrorCode
from salon.payments import Payment, PaymentMethod
from salon.pricing import LineDraft
from salon.refunds import RefundTicket, VoidTicket
from salon.sales import RefundPackageCard
from salon.staff import HQ_ACTOR, Permission
from salon.stored_value import AdjustStoredValue, SetPaymentPin
from salon.stored_value_pin import PaymentPinRejected
from salon.tickets import TicketRefunded

FACIAL20 = PackagePlan("facial20", "面部护理20次卡", ("facial",), 20, 0, 350_000, 365)


def _with_facial20(salon: Salon) -> None:
    salon.execute(PublishPriceList(actor_id=HQ_ACTOR, version=2, services=SERVICES,
                                   products=PRODUCTS, plans=(*PLANS, FACIAL20)))


def v2(command: Checkout) -> Checkout:
    """The same sale priced from price list version 2."""
    return replace(command, price_list_version=2)


def _upgrade(card_id: str, **kw: object) -> LineDraft:
    return LineDraft(ItemKind.PACKAGE, "facial20", upgrade_from_card_id=card_id, **kw)  # type: ignore[arg-type]


def test_voiding_an_upgrade_reopens_the_old_card_instead_of_losing_its_value() -> None:
    salon, _ = make_salon()
    m = member(salon)
    _, old = buy_card(salon, m)
    _with_facial20(salon)
    up = paid(salon.execute(v2(sale(_upgrade(old), (CASH, 152_000), member_id=m))))
    events = salon.execute(VoidTicket(actor_id=MANAGER, ticket_id=up.ticket_id, reason="错单"))
    (voided,) = [e for e in events if isinstance(e, TicketRefunded)]
    # Only the money paid for the upgrade goes back; the credit goes back as the old card.
    assert voided.returned == (Payment(CASH, 152_000),)
    assert salon.state.packages.get(old).remaining_sessions == 10
    # The new card went with the void: it cannot be refunded as a card a second time.
    assert_refused(salon, RefundPackageCard(actor_id=MANAGER, card_id=up.lines[0].card_id,
                                            reason="退卡"), ErrorCode.PACKAGE_CLOSED)


def test_a_card_still_in_debt_cannot_be_upgraded() -> None:
    salon, _ = make_salon()
    m = member(salon)
    ticket = paid(salon.execute(sale(pkg(), (CASH, 100_000), (PaymentMethod.DEBT, 98_000),
                                     member_id=m)))
    _with_facial20(salon)
    assert_refused(salon, v2(sale(_upgrade(ticket.lines[0].card_id), (CASH, 250_000),
                                  member_id=m)),
                   ErrorCode.PACKAGE_UNPAID_SESSIONS)


def test_an_override_below_the_upgrade_credit_is_refused_cleanly() -> None:
    salon, _ = make_salon()
    m = member(salon)
    _, old = buy_card(salon, m)
    _with_facial20(salon)
    assert_refused(
        salon,
        v2(sale((_upgrade(old, override_unit_fen=180_000), svc("wash")), (CASH, 3_800),
                actor=MANAGER, member_id=m, reason="活动价")),
        ErrorCode.PACKAGE_UPGRADE_SMALLER,
    )


def test_a_session_cannot_be_refunded_onto_a_card_already_refunded() -> None:
    salon, _ = make_salon()
    m = member(salon)
    _, card = buy_card(salon, m)
    used = paid(salon.execute(sale(svc("facial", package_card_id=card), member_id=m)))
    salon.execute(RefundPackageCard(actor_id=MANAGER, card_id=card, reason="退卡"))
    assert_refused(salon, RefundTicket(actor_id=MANAGER, ticket_id=used.ticket_id, reason="x"),
                   ErrorCode.PACKAGE_CLOSED)


def test_principal_a_manager_added_earns_no_points() -> None:
    salon, _ = make_salon()
    m = member(salon)
    salon.execute(AdjustStoredValue(actor_id=MANAGER, member_id=m, principal_delta_fen=100_000,
                                    bonus_delta_fen=0, reason="客诉补偿"))
    ticket = paid(salon.execute(sale(svc("color", ), (PaymentMethod.STORED_VALUE, 38_800),
                                     member_id=m)))
    assert sum(s.points_earned for s in ticket.lines) == 0


def test_a_managers_own_discount_is_audited_and_needs_a_reason() -> None:
    salon, _ = make_salon()
    assert_refused(salon, sale(svc("cut"), (CASH, 2_800), actor=MANAGER,
                               manual_discount_fen=10_000), ErrorCode.REASON_REQUIRED)
    salon.execute(sale(svc("cut"), (CASH, 2_800), actor=MANAGER, manual_discount_fen=10_000,
                       reason="老客户"))
    (entry,) = audits(salon, Permission.DISCOUNT_OVER_CAP)
    assert entry.meta.actor_id == MANAGER and entry.reason == "老客户"


def test_only_an_approver_who_approved_something_is_recorded() -> None:
    salon, _ = make_salon()
    ticket = paid(salon.execute(sale(svc("cut"), (CASH, 12_800), approver_id="nobody")))
    assert ticket.approver_id == ""


def test_wrong_pins_through_a_pay_code_count_towards_the_lockout() -> None:
    salon, _ = make_salon(stored_value=replace(CONFIG.stored_value, require_pin=True,
                                               pin_max_attempts=3))
    m = member(salon)
    salon.execute(SetPaymentPin(actor_id=DESK, member_id=m, pin="246810"))
    _, card = buy_card(salon, m)
    service = CheckoutService(salon, FakePaymentProvider())
    codes = []
    for _ in range(3):
        with pytest.raises(DomainError) as caught:
            service.checkout(sale((svc("facial", package_card_id=card), svc("wash")),
                                  member_id=m, pin="000000"), "134567890123456789", 3_800)
        codes.append(caught.value.code)
    assert codes[:2] == [ErrorCode.PIN_INCORRECT] * 2
    assert sum(isinstance(e, PaymentPinRejected) for e in salon.history) == 3
    with pytest.raises(DomainError) as caught:
        service.checkout(sale((svc("facial", package_card_id=card), svc("wash")),
                              member_id=m, pin="246810"), "134567890123456789", 3_800)
    assert caught.value.code is ErrorCode.PIN_LOCKED
