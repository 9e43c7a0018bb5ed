"""Pay codes at checkout: charge only what the domain accepts, reverse what is not recorded."""

from __future__ import annotations

import copy

import pytest
from support import DESK, STYLIST, make_salon

from hub.checkout_service import CheckoutService
from hub.errors import HubError
from hub.payments import ExternalTerminalProvider, FakePaymentProvider
from kiosk.i18n import render_error
from salon.catalog import ItemKind
from salon.checkout import Checkout
from salon.errors import DomainError, ErrorCode
from salon.payments import Payment, PaymentMethod
from salon.pricing import LineDraft
from salon.staff import StaffShare
from salon.tickets import TicketPaid

WECHAT_CODE = "134567890123456789"
ALIPAY_CODE = "2812345678901234"


def _cut(**changes: object) -> Checkout:
    base = Checkout(
        actor_id=DESK, price_list_version=1,
        lines=(LineDraft(ItemKind.SERVICE, "cut", staff=(StaffShare(STYLIST),)),),
    )
    return base if not changes else Checkout(**{**base.__dict__, **changes})


def test_a_wechat_pay_code_is_charged_and_its_reference_kept_on_the_ticket() -> None:
    salon, _ = make_salon()
    provider = FakePaymentProvider()
    events = CheckoutService(salon, provider).checkout(_cut(), WECHAT_CODE, 12_800)
    paid = next(e for e in events if isinstance(e, TicketPaid))
    assert [c.method for c in provider.charges] == [PaymentMethod.WECHAT]
    assert paid.tendered == (Payment(PaymentMethod.WECHAT, 12_800, provider.charges[0].reference),)


def test_a_pay_code_splits_with_cash() -> None:
    salon, _ = make_salon()
    provider = FakePaymentProvider()
    command = _cut(payments=(Payment(PaymentMethod.CASH, 2_800),))
    events = CheckoutService(salon, provider).checkout(command, ALIPAY_CODE, 10_000)
    paid = next(e for e in events if isinstance(e, TicketPaid))
    assert {p.method for p in paid.tendered} == {PaymentMethod.CASH, PaymentMethod.ALIPAY}


def test_a_ticket_the_domain_refuses_is_never_charged() -> None:
    salon, _ = make_salon()
    provider = FakePaymentProvider()
    before = copy.deepcopy(salon.state)
    with pytest.raises(DomainError) as caught:
        CheckoutService(salon, provider).checkout(_cut(), WECHAT_CODE, 5_000)  # too little
    assert caught.value.code is ErrorCode.PAYMENT_SHORT
    assert provider.charges == [] and salon.state == before


def test_a_garbled_pay_code_is_refused_before_anything_happens() -> None:
    salon, _ = make_salon()
    provider = FakePaymentProvider()
    with pytest.raises(DomainError) as caught:
        CheckoutService(salon, provider).checkout(_cut(), "99x123", 12_800)
    assert caught.value.code is ErrorCode.INVALID_PAY_CODE
    assert provider.charges == []


@pytest.mark.parametrize("setup", ["decline", "offline"])
def test_a_declined_or_unreachable_payment_records_no_sale(setup: str) -> None:
    salon, _ = make_salon()
    provider = FakePaymentProvider()
    if setup == "decline":
        provider.decline(WECHAT_CODE, "balance_low")
    else:
        provider.go_offline()
    history = len(salon.history)
    with pytest.raises(HubError) as caught:
        CheckoutService(salon, provider).checkout(_cut(), WECHAT_CODE, 12_800)
    assert len(salon.history) == history
    assert render_error(caught.value, "zh_CN") != caught.value.code  # a message people read


def test_a_charge_whose_sale_cannot_be_committed_is_reversed() -> None:
    salon, _ = make_salon()
    provider = FakePaymentProvider()

    def disk_full(*_: object) -> None:
        raise OSError(28, "No space left on device")

    salon._commit = disk_full  # type: ignore[method-assign]
    with pytest.raises(OSError):
        CheckoutService(salon, provider).checkout(_cut(), WECHAT_CODE, 12_800)
    assert provider.reversed == provider.charges and len(provider.charges) == 1


def test_the_external_terminal_mode_needs_the_cashier_to_confirm() -> None:
    salon, _ = make_salon()
    answers: list[str | None] = [None, "T20261123-0042"]
    asked: list[tuple[PaymentMethod, int]] = []

    def confirm(method: PaymentMethod, amount_fen: int, _order: str) -> str | None:
        asked.append((method, amount_fen))
        return answers.pop(0)

    service = CheckoutService(salon, ExternalTerminalProvider(confirm))
    with pytest.raises(HubError) as caught:
        service.checkout(_cut(), WECHAT_CODE, 12_800)
    assert caught.value.params == {"reason": "not_confirmed"}
    events = service.checkout(_cut(), WECHAT_CODE, 12_800)
    paid = next(e for e in events if isinstance(e, TicketPaid))
    assert paid.tendered[0].reference == "T20261123-0042"
    assert asked == [(PaymentMethod.WECHAT, 12_800)] * 2


def test_a_terminal_charge_that_cannot_be_recorded_tells_the_cashier_to_refund_it() -> None:
    salon, _ = make_salon()

    def boom(*_: object) -> None:
        raise OSError(30, "Read-only file system")

    salon._commit = boom  # type: ignore[method-assign]
    service = CheckoutService(salon, ExternalTerminalProvider(lambda *_: "T-1"))
    with pytest.raises(HubError) as caught:
        service.checkout(_cut(), WECHAT_CODE, 12_800)
    assert caught.value.code == "payment.reverse_failed"
    assert "T-1" in render_error(caught.value, "zh_CN")
