"""The store's configuration from HQ: one frozen policy per area, versioned as a whole."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import StrEnum

from salon.errors import DomainError, ErrorCode
from salon.events import Event
from salon.money import BP_WHOLE, RoundingMode, RoundTo

__all__ = [
    "AppointmentPolicy",
    "CheckoutPolicy",
    "CommissionBand",
    "CommissionMode",
    "CommissionPolicy",
    "CommissionRule",
    "CommissionTarget",
    "ConfigBook",
    "DiscountCap",
    "PackagePolicy",
    "PointsPolicy",
    "RechargeOffer",
    "RechargeRefundRule",
    "ReminderPolicy",
    "SpendOrder",
    "StoreConfig",
    "StoreConfigured",
    "StoredValuePolicy",
    "TierBasis",
    "TierPolicy",
    "TierRule",
]


class SpendOrder(StrEnum):
    BONUS_LAST = "bonus_last"
    """Principal first, bonus (赠送金) only when the principal is gone."""
    PROPORTIONAL = "proportional"
    """Each spend takes principal and bonus in the ratio the balance holds them."""


class RechargeRefundRule(StrEnum):
    PRINCIPAL_LEFT = "principal_left"
    """Refund the principal still unspent in that recharge; its unspent bonus is forfeited."""
    CLAW_BACK_BONUS = "claw_back_bonus"
    """Refund principal paid minus everything spent from that recharge, bonus included."""
    NOT_REFUNDABLE = "not_refundable"


@dataclass(frozen=True, slots=True)
class RechargeOffer:
    """充1000送200: a recharge of at least ``min_principal_fen`` earns a bonus.

    The bonus is ``bonus_fen`` plus ``bonus_bp`` of the principal. Among the offers in
    force, the one with the highest threshold the recharge reaches wins (tiered offers).
    """

    offer_id: str
    min_principal_fen: int
    bonus_fen: int = 0
    bonus_bp: int = 0
    valid_from: datetime | None = None
    valid_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class StoredValuePolicy:
    offers: tuple[RechargeOffer, ...] = ()
    min_recharge_fen: int = 100
    spend_order: SpendOrder = SpendOrder.BONUS_LAST
    refund_rule: RechargeRefundRule = RechargeRefundRule.PRINCIPAL_LEFT
    bonus_valid_days: int | None = None
    """Days a recharge's bonus stays spendable; None: it never expires."""
    require_pin: bool = False
    pin_max_attempts: int = 5
    pin_lockout_minutes: int = 30


@dataclass(frozen=True, slots=True)
class PackagePolicy:
    allow_transfer: bool = False


class TierBasis(StrEnum):
    RECHARGE = "recharge"
    """Cumulative principal recharged (net of refunds)."""
    SPEND = "spend"
    """Cumulative amount paid on tickets (net of refunds)."""
    POINTS = "points"
    """Cumulative points earned (net of reversals)."""


@dataclass(frozen=True, slots=True)
class TierRule:
    """One tier (普通 / 银卡 / 金卡 / 钻石); reached at ``threshold`` of the policy's basis."""

    tier_id: str
    name: str
    rank: int
    threshold: int
    service_discount_bp: int = BP_WHOLE
    product_discount_bp: int = BP_WHOLE
    points_per_yuan: int = 1


@dataclass(frozen=True, slots=True)
class TierPolicy:
    basis: TierBasis = TierBasis.RECHARGE
    tiers: tuple[TierRule, ...] = (TierRule("normal", "普通会员", 0, 0),)


@dataclass(frozen=True, slots=True)
class PointsPolicy:
    enabled: bool = True
    fen_per_point: int = 1
    """Redemption value: with 1, 100 points pay ¥1."""
    max_redeem_bp: int = 5000
    """At most this share of a ticket's amount due may be paid with points."""
    max_redeem_points: int | None = None
    expire_after_years: int | None = 1
    """Points earned in year Y expire at the end of year Y + N (store time); None: never."""


@dataclass(frozen=True, slots=True)
class DiscountCap:
    """The most manual discount a role may give on one ticket without a manager."""

    role: str
    max_bp: int
    max_fen: int


@dataclass(frozen=True, slots=True)
class CheckoutPolicy:
    round_to: RoundTo = RoundTo.FEN
    rounding_mode: RoundingMode = RoundingMode.DOWN
    discount_rounding: RoundingMode = RoundingMode.HALF_UP
    discount_caps: tuple[DiscountCap, ...] = (
        DiscountCap("front_desk", 1000, 5000),
        DiscountCap("stylist", 0, 0),
    )
    allow_debt: bool = True
    price_override_min_bp: int = 5000
    price_override_max_bp: int = 15000
    utc_offset_minutes: int = 480
    """The store's offset from UTC (Asia/Shanghai: +8 h, no DST) for business days."""
    business_day_end_hour: int = 4
    """A business day ends at this local hour of the next calendar day (late salons)."""

    def zone(self) -> timezone:
        """The store's time zone (a fixed offset: China keeps no daylight saving)."""
        return timezone(timedelta(minutes=self.utc_offset_minutes))


class CommissionTarget(StrEnum):
    SERVICE = "service"
    PRODUCT = "product"
    PACKAGE_SALE = "package_sale"
    RECHARGE = "recharge"


class CommissionMode(StrEnum):
    PERCENT = "percent"
    FIXED = "fixed"


@dataclass(frozen=True, slots=True)
class CommissionBand:
    """From ``from_fen`` of the staff member's month-to-date base on, pay ``rate_bp``."""

    from_fen: int
    rate_bp: int


@dataclass(frozen=True, slots=True)
class CommissionRule:
    """A versioned commission rule; the newest version in effect at the sale applies.

    Matching is most specific first: item id, then category, then any; a rule with a
    staff level applies only to that level. Percent rules pay ``designated_bp`` when the
    customer asked for the stylist (指定) and ``rotated_bp`` otherwise (轮牌); with bands,
    each band's rate applies to the part of the base inside it (marginal), and a
    designated sale adds ``designated_bp - rotated_bp`` on top.
    """

    rule_id: str
    version: int
    effective_from: datetime
    target: CommissionTarget
    mode: CommissionMode = CommissionMode.PERCENT
    item_id: str = ""
    category: str = ""
    staff_level: str = ""
    rotated_bp: int = 0
    designated_bp: int = 0
    rotated_fixed_fen: int = 0
    designated_fixed_fen: int = 0
    bands: tuple[CommissionBand, ...] = ()


@dataclass(frozen=True, slots=True)
class CommissionPolicy:
    rules: tuple[CommissionRule, ...] = ()


@dataclass(frozen=True, slots=True)
class AppointmentPolicy:
    """Booking rules (预约); minutes unless named otherwise."""

    slot_step_min: int = 15
    """Free slots are offered at this step from the start of a working span."""
    book_ahead_days: int = 60
    cancel_cutoff_min: int = 120
    """A cancellation later than this before the start is a late one (kept for reports
    and counted with no-shows)."""
    check_in_early_min: int = 60
    """An appointment can be checked in from this long before its start..."""
    no_show_grace_min: int = 15
    """...until this long after it; after that it may be marked a no-show."""
    no_show_flag_count: int = 3
    """A member with this many no-shows (late cancellations included) ..."""
    no_show_flag_days: int = 90
    """...within this many days is flagged at booking."""
    suggestions: int = 3
    """Free slots proposed when a booking is refused."""


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    """Reminders and notices sent through the notifier (SMS, WeChat template messages)."""

    enabled: bool = True
    before_min: tuple[int, ...] = (24 * 60, 120)
    """Appointment reminders this many minutes before the start (the day before, 2 h)."""
    greeting_hour: int = 10
    """Birthday greetings go out from this local hour on the day."""
    low_balance_fen: int = 10_000
    """A stored-value balance below this gets a notice, once per recharge; 0: never."""
    package_expiry_days: int = 7
    """A package card with sessions left gets a notice this many days before it expires."""


@dataclass(frozen=True, slots=True)
class StoreConfig:
    version: int = 0
    store_name: str = ""
    stored_value: StoredValuePolicy = field(default_factory=StoredValuePolicy)
    packages: PackagePolicy = field(default_factory=PackagePolicy)
    tiers: TierPolicy = field(default_factory=TierPolicy)
    points: PointsPolicy = field(default_factory=PointsPolicy)
    checkout: CheckoutPolicy = field(default_factory=CheckoutPolicy)
    commissions: CommissionPolicy = field(default_factory=CommissionPolicy)
    appointments: AppointmentPolicy = field(default_factory=AppointmentPolicy)
    reminders: ReminderPolicy = field(default_factory=ReminderPolicy)


@dataclass(frozen=True, kw_only=True)
class StoreConfigured(Event):
    """HQ's configuration, applied whole; only a newer version replaces the current one."""

    config: StoreConfig


@dataclass
class ConfigBook:
    config: StoreConfig = field(default_factory=StoreConfig)

    def apply(self, event: Event) -> None:
        if isinstance(event, StoreConfigured):
            self.config = event.config

    def check_newer(self, version: int) -> None:
        if version <= self.config.version:
            raise DomainError(
                ErrorCode.CONFIG_NOT_NEWER,
                {"current": self.config.version, "given": version},
            )

