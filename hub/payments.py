"""The pay-code payment port (付款码: WeChat Pay / Alipay), its fake, and the terminal mode.

A real provider needs merchant credentials and the internet, so what ships now is the port,
a fake for tests and demos, and ``ExternalTerminalProvider``: the customer pays on the
store's own payment terminal and the cashier confirms it on the kiosk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from hub.errors import HubError
from salon.payments import PaymentMethod

__all__ = [
    "Charge",
    "ExternalTerminalProvider",
    "FakePaymentProvider",
    "PaymentProvider",
    "declined",
    "unavailable",
]


@dataclass(frozen=True, slots=True)
class Charge:
    method: PaymentMethod
    amount_fen: int
    reference: str
    """The provider's transaction id, kept on the ticket for reconciliation and reversal."""


class PaymentProvider(Protocol):
    def charge(
        self, pay_code: str, method: PaymentMethod, amount_fen: int, order_id: str
    ) -> Charge:
        """Take ``amount_fen`` with the customer's pay code; raise HubError when it fails."""
        ...

    def reverse(self, charge: Charge) -> None:
        """Give a charge back (the sale could not be recorded); raise HubError if it fails."""
        ...


def declined(reason: str) -> HubError:
    return HubError("payment.declined", {"reason": reason})


def unavailable() -> HubError:
    return HubError("payment.unavailable")


@dataclass
class FakePaymentProvider:
    """Accepts every code unless told otherwise: ``decline(code, reason)``, ``go_offline()``."""

    charges: list[Charge] = field(default_factory=list)
    reversed: list[Charge] = field(default_factory=list)
    declines: dict[str, str] = field(default_factory=dict)
    offline: bool = False

    def decline(self, pay_code: str, reason: str) -> None:
        self.declines[pay_code] = reason

    def go_offline(self) -> None:
        self.offline = True

    def charge(
        self, pay_code: str, method: PaymentMethod, amount_fen: int, order_id: str
    ) -> Charge:
        if self.offline:
            raise unavailable()
        if pay_code in self.declines:
            raise declined(self.declines[pay_code])
        made = Charge(method, amount_fen, f"FAKE-{method.value}-{order_id}-{len(self.charges) + 1}")
        self.charges.append(made)
        return made

    def reverse(self, charge: Charge) -> None:
        if self.offline:
            raise unavailable()
        self.reversed.append(charge)


@dataclass
class ExternalTerminalProvider:
    """The cashier confirms that the store's own terminal showed the payment as done.

    ``confirm(method, amount_fen, order_id)`` asks the cashier and returns the terminal's
    transaction number, or None when the terminal did not show success.
    """

    confirm: Callable[[PaymentMethod, int, str], str | None]

    def charge(
        self, pay_code: str, method: PaymentMethod, amount_fen: int, order_id: str
    ) -> Charge:
        reference = self.confirm(method, amount_fen, order_id)
        if reference is None:
            raise declined("not_confirmed")
        return Charge(method, amount_fen, reference.strip() or f"TERMINAL-{order_id}")

    def reverse(self, charge: Charge) -> None:
        # The money was taken on a terminal the hub cannot drive: the cashier must refund it
        # there, so the hub says so instead of pretending it was given back.
        raise HubError("payment.reverse_on_terminal", {"reference": charge.reference})
