"""The checkout use case: validate the ticket, charge a pay code, then commit the sale.

The order matters: the domain decides first (nothing is charged for a ticket it would
refuse), the pay code is charged second, and the sale is committed last. If the commit then
fails, the charge is reversed, so a customer never pays for a sale the store did not record.
"""

from __future__ import annotations

from dataclasses import replace

from hub.errors import HubError
from hub.payments import Charge, PaymentProvider
from salon.checkout import Checkout
from salon.commands import decide
from salon.engine import Salon
from salon.errors import DomainError
from salon.events import Event
from salon.payments import Payment, recognise_pay_code

__all__ = ["CheckoutService"]


class CheckoutService:
    def __init__(self, salon: Salon, provider: PaymentProvider) -> None:
        self.salon = salon
        self.provider = provider

    def checkout(
        self, command: Checkout, pay_code: str = "", pay_code_amount_fen: int = 0
    ) -> tuple[Event, ...]:
        """Commit ``command``; with ``pay_code``, charge that amount to it as one more tender."""
        if not pay_code:
            return self.salon.execute(command)
        method = recognise_pay_code(pay_code)
        pending = Payment(method, pay_code_amount_fen, "pending")
        trial = replace(command, payments=(*command.payments, pending))
        # A dry run on the current state: refusals surface before any money moves.
        try:
            decide(self.salon.state, trial, self.salon.ctx)
        except DomainError as err:
            self.salon.record_refusal(err)  # a wrong PIN counts towards the lockout here too
            raise
        order_id = self.salon.ctx.new_id()
        charge = self.provider.charge(pay_code.strip(), method, pay_code_amount_fen, order_id)
        paid = replace(
            command,
            payments=(*command.payments, Payment(method, charge.amount_fen, charge.reference)),
        )
        try:
            return self.salon.execute(paid)
        except Exception as err:
            # Whatever stopped the commit (a refusal, a full disk), the money goes back.
            self._reverse(charge, err)
            raise

    def _reverse(self, charge: Charge, cause: Exception) -> None:
        try:
            self.provider.reverse(charge)
        except HubError as err:
            raise HubError(
                "payment.reverse_failed", {"reference": charge.reference, "reason": err.code}
            ) from cause
