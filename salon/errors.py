"""Domain refusals: one error type with a stable code and parameters for the i18n catalog."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from salon.events import Event

__all__ = ["DomainError", "ErrorCode", "invalid_input"]


class ErrorCode(StrEnum):
    """Stable refusal codes; each is a msgid in kiosk/locale/*.po.

    Parameters whose name ends in ``_fen`` are amounts of money.
    """

    # input
    INVALID_INPUT = "input.invalid"  # field, reason
    NEGATIVE_QUANTITY = "input.negative_quantity"  # field
    NEGATIVE_AMOUNT = "input.negative_amount"  # field
    CONFIG_NOT_NEWER = "config.not_newer"  # current, given
    # staff and permissions
    UNKNOWN_STAFF = "staff.unknown"  # staff_id
    STAFF_INACTIVE = "staff.inactive"  # staff_id
    STAFF_EXISTS = "staff.exists"  # staff_id
    STAFF_ID_RESERVED = "staff.id_reserved"  # staff_id
    PERMISSION_DENIED = "staff.permission_denied"  # staff_id, role, permission
    REASON_REQUIRED = "audit.reason_required"  # act
    # members and cards
    UNKNOWN_MEMBER = "member.unknown"  # member_id
    MEMBER_EXISTS = "member.exists"  # member_id
    INVALID_MOBILE = "member.invalid_mobile"
    MOBILE_TAKEN = "member.mobile_taken"  # mobile_masked
    INVALID_NAME = "member.invalid_name"
    MEMBER_BLACKLISTED = "member.blacklisted"  # reason
    UNKNOWN_CARD = "card.unknown"  # card_uid
    INVALID_CARD_UID = "card.invalid_uid"
    CARD_BLOCKED = "card.blocked"  # card_uid, reason
    CARD_TAKEN = "card.taken"  # card_uid
    CARD_NOT_LINKED = "card.not_linked"  # card_uid, member_id
    # catalog
    UNKNOWN_SERVICE = "catalog.unknown_service"  # service_id
    UNKNOWN_PRODUCT = "catalog.unknown_product"  # product_id
    UNKNOWN_PLAN = "catalog.unknown_plan"  # plan_id
    PRICE_LIST_MISMATCH = "catalog.price_list_mismatch"  # expected, given
    PRICE_LIST_OLD = "catalog.price_list_old"  # current, given
    STAFF_NOT_QUALIFIED = "catalog.staff_not_qualified"  # staff_id, service_id
    # stored value
    RECHARGE_TOO_SMALL = "stored_value.recharge_too_small"  # min_fen
    INSUFFICIENT_BALANCE = "stored_value.insufficient_balance"  # balance_fen, needed_fen=shortfall
    UNKNOWN_RECHARGE = "stored_value.unknown_recharge"  # recharge_id
    RECHARGE_ALREADY_REFUNDED = "stored_value.recharge_refunded"  # recharge_id
    RECHARGE_NOT_REFUNDABLE = "stored_value.recharge_not_refundable"  # recharge_id
    ADJUST_BELOW_ZERO = "stored_value.adjust_below_zero"  # balance_fen
    PIN_REQUIRED = "stored_value.pin_required"
    PIN_INCORRECT = "stored_value.pin_incorrect"  # attempts_left
    PIN_LOCKED = "stored_value.pin_locked"  # minutes
    PIN_INVALID = "stored_value.pin_invalid"
    PIN_NOT_SET = "stored_value.pin_not_set"
    PIN_OLD_REQUIRED = "stored_value.pin_old_required"
    # package cards
    UNKNOWN_PACKAGE_CARD = "package.unknown"  # card_id
    PACKAGE_EXPIRED = "package.expired"  # card_id
    PACKAGE_EXHAUSTED = "package.exhausted"  # card_id
    PACKAGE_UNPAID_SESSIONS = "package.unpaid_sessions"  # card_id
    PACKAGE_NOT_FOR_SERVICE = "package.not_for_service"  # card_id, service_id
    PACKAGE_NOT_OWNED = "package.not_owned"  # card_id
    PACKAGE_TRANSFER_FORBIDDEN = "package.transfer_forbidden"
    PACKAGE_CLOSED = "package.closed"  # card_id
    PACKAGE_UPGRADE_SMALLER = "package.upgrade_smaller"  # plan_id
    PACKAGE_UPGRADED_IN_TICKET = "package.upgraded_in_ticket"  # card_id
    # points
    INSUFFICIENT_POINTS = "points.insufficient"  # balance, needed
    POINTS_OVER_CAP = "points.over_cap"  # max_points
    POINTS_NOT_ALLOWED = "points.not_allowed"
    # coupons
    UNKNOWN_COUPON = "coupon.unknown"  # coupon
    COUPON_USED = "coupon.used"
    COUPON_NOT_YET_VALID = "coupon.not_yet_valid"
    COUPON_EXPIRED = "coupon.expired"
    COUPON_MIN_SPEND = "coupon.min_spend"  # min_spend_fen
    COUPON_NOT_APPLICABLE = "coupon.not_applicable"
    COUPON_NOT_YOURS = "coupon.not_yours"
    COUPON_NEW_CUSTOMERS_ONLY = "coupon.new_customers_only"
    COUPON_EXISTS = "coupon.exists"  # coupon
    COUPON_OVER_CAP = "coupon.over_cap"  # cap_bp, cap_fen
    # tickets and checkout
    EMPTY_TICKET = "ticket.empty"
    UNKNOWN_TICKET = "ticket.unknown"  # ticket_id
    TICKET_EXISTS = "ticket.exists"  # ticket_id
    TICKET_NOT_HELD = "ticket.not_held"  # ticket_id
    TICKET_ALREADY_REFUNDED = "ticket.already_refunded"  # ticket_id
    UNKNOWN_LINE = "ticket.unknown_line"  # line_no
    LINE_ALREADY_REFUNDED = "ticket.line_refunded"  # line_no
    STAFF_SHARES_INVALID = "ticket.staff_shares_invalid"  # line_no
    MEMBER_REQUIRED = "ticket.member_required"  # method
    PAYMENT_SHORT = "ticket.payment_short"  # due_fen, paid_fen
    PAYMENT_OVER = "ticket.payment_over"  # due_fen, paid_fen
    CHANGE_ONLY_CASH = "ticket.change_only_cash"
    DISCOUNT_OVER_CAP = "ticket.discount_over_cap"  # cap_bp, cap_fen
    PRICE_OVERRIDE_OUT_OF_LIMITS = "ticket.price_override_limits"  # min_fen, max_fen
    INVALID_PAY_CODE = "ticket.invalid_pay_code"
    PAY_METHOD_NOT_ALLOWED = "ticket.pay_method_not_allowed"  # method
    DEBT_NOT_ALLOWED = "ticket.debt_not_allowed"
    NO_DEBT = "ticket.no_debt"
    REPAY_OVER_DEBT = "ticket.repay_over_debt"  # debt_fen
    PACKAGE_USED = "ticket.package_used"  # card_id: refund it with RefundPackageCard
    PACKAGE_UPGRADE_USED = "ticket.upgrade_card_used"  # card_id, old_card_id
    # schedules and appointments
    UNKNOWN_SCHEDULE_EXCEPTION = "schedule.unknown_exception"  # exception_id
    UNKNOWN_RESOURCE = "schedule.unknown_resource"  # resource_id
    NO_RESOURCE_FREE = "appointment.no_resource_free"  # kind, next_free
    UNKNOWN_APPOINTMENT = "appointment.unknown"  # appointment_id
    APPOINTMENT_IN_PAST = "appointment.in_past"
    APPOINTMENT_TOO_FAR = "appointment.too_far"  # days
    STORE_CLOSED = "appointment.store_closed"  # day, next_free
    STAFF_NOT_WORKING = "appointment.staff_not_working"  # staff_id, next_free
    STAFF_BUSY = "appointment.staff_busy"  # staff_id, next_free
    NO_STAFF_FREE = "appointment.no_staff_free"  # next_free
    APPOINTMENT_STATUS = "appointment.status"  # appointment_id, status
    NO_SHOW_TOO_EARLY = "appointment.no_show_too_early"  # minutes
    CHECK_IN_WINDOW = "appointment.check_in_window"  # minutes_early, minutes_late
    # clocking in, the walk-in queue and the rotation board
    ALREADY_CLOCKED_IN = "queue.already_clocked_in"  # staff_id
    NOT_CLOCKED_IN = "queue.not_clocked_in"  # staff_id
    STAFF_IN_SERVICE = "queue.staff_in_service"  # staff_id
    STAFF_NOT_IDLE = "queue.staff_not_idle"  # staff_id, state
    ALREADY_IN_QUEUE = "queue.already_in_queue"  # member_id
    QUEUE_EMPTY = "queue.empty"  # category
    NO_STAFF_IDLE = "queue.no_staff_idle"  # category
    UNKNOWN_WALK_IN = "queue.unknown_walk_in"  # walk_in_id
    WALK_IN_STATUS = "queue.walk_in_status"  # walk_in_id, status
    # stock
    UNKNOWN_PURCHASE_ORDER = "stock.unknown_po"  # po_id
    PURCHASE_ORDER_STATUS = "stock.po_status"  # po_id, status
    RECEIVE_OVER_ORDER = "stock.receive_over_order"  # product_id, outstanding
    INSUFFICIENT_STOCK = "stock.insufficient"  # product_id, level
    STOCK_TAKE_OPEN = "stock.take_open"  # take_id
    NO_STOCK_TAKE = "stock.no_take"
    DEPOSIT_SHORT = "stock.deposit_short"  # product_id, held
    # reminders
    REMINDER_ALREADY_SENT = "reminder.already_sent"  # key
    # shifts and the day close
    NO_OPEN_SHIFT = "shift.none_open"
    SHIFT_ALREADY_OPEN = "shift.already_open"  # shift_id, cashier_id
    CASH_OUT_OVER_TILL = "shift.cash_out_over_till"  # cash_fen
    DAY_ALREADY_CLOSED = "shift.day_closed"  # business_day
    NO_SHIFTS_THAT_DAY = "shift.no_shifts"  # business_day


class DomainError(Exception):
    """A command refused by a rule. ``record`` holds events to commit anyway (a failed PIN try)."""

    def __init__(
        self,
        code: ErrorCode,
        params: Mapping[str, str | int] | None = None,
        *,
        record: tuple[Event, ...] = (),
    ) -> None:
        self.code = code
        self.params: dict[str, str | int] = dict(params or {})
        self.record = record
        detail = ", ".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        super().__init__(f"{code.value}" + (f" ({detail})" if detail else ""))


def invalid_input(field_name: str, reason: str) -> DomainError:
    """The refusal of a value that is wrong in itself: ``field`` and why (INVALID_INPUT)."""
    return DomainError(ErrorCode.INVALID_INPUT, {"field": field_name, "reason": reason})
