"""Payment methods, a payment of a sale, and telling WeChat from Alipay pay codes (付款码)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from salon.errors import DomainError, ErrorCode

__all__ = ["EXTERNAL_METHODS", "Payment", "PaymentMethod", "recognise_pay_code"]


class PaymentMethod(StrEnum):
    CASH = "cash"
    BANK_CARD = "bank_card"
    WECHAT = "wechat"
    ALIPAY = "alipay"
    STORED_VALUE = "stored_value"
    DEBT = "debt"
    """挂账: the part the member owes; repaid later."""


EXTERNAL_METHODS = frozenset(
    {PaymentMethod.CASH, PaymentMethod.BANK_CARD, PaymentMethod.WECHAT, PaymentMethod.ALIPAY}
)
"""Money that comes from outside the store's ledgers: it earns points and counts as paid."""


@dataclass(frozen=True, slots=True)
class Payment:
    """One tender of a sale. ``reference`` is the provider's transaction id for pay codes.

    For cash, ``amount_fen`` is what the customer handed over; change is given back.
    """

    method: PaymentMethod
    amount_fen: int
    reference: str = ""


def recognise_pay_code(code: str) -> PaymentMethod:
    """Tell a scanned 付款码 apart: WeChat 18 digits from 10-15, Alipay 16-24 from 25-30."""
    digits = code.strip()
    if not digits.isascii() or not digits.isdigit():
        raise DomainError(ErrorCode.INVALID_PAY_CODE)
    prefix = int(digits[:2]) if len(digits) >= 2 else -1
    if len(digits) == 18 and 10 <= prefix <= 15:
        return PaymentMethod.WECHAT
    if 16 <= len(digits) <= 24 and 25 <= prefix <= 30:
        return PaymentMethod.ALIPAY
    raise DomainError(ErrorCode.INVALID_PAY_CODE)
