"""The demo store's setup: what HQ would push (config, price list) and the store's staff."""

from __future__ import annotations

from datetime import UTC, datetime

from salon.admin import ConfigureStore, HireStaff, PublishPriceList
from salon.catalog import PackagePlan, Product, Service
from salon.config import (
    CommissionMode,
    CommissionPolicy,
    CommissionRule,
    CommissionTarget,
    PointsPolicy,
    RechargeOffer,
    StoreConfig,
    StoredValuePolicy,
    TierBasis,
    TierPolicy,
    TierRule,
)
from salon.engine import Salon
from salon.staff import HQ_ACTOR, Role

__all__ = ["DEMO_DAY", "DESK", "MANAGER", "OWNER", "STYLIST", "seed"]

DEMO_DAY = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
OWNER, MANAGER, DESK, STYLIST = "S001", "S002", "S003", "S004"
_SINCE = datetime(2026, 1, 1, tzinfo=UTC)

CONFIG = StoreConfig(
    version=1,
    store_name="丝域美发 · 徐汇店",
    stored_value=StoredValuePolicy(
        offers=(
            RechargeOffer("R500", 50_000, bonus_fen=5_000),
            RechargeOffer("R1000", 100_000, bonus_fen=20_000),
            RechargeOffer("R3000", 300_000, bonus_fen=80_000),
        ),
    ),
    tiers=TierPolicy(
        basis=TierBasis.RECHARGE,
        tiers=(
            TierRule("normal", "普通会员", 0, 0),
            TierRule("silver", "银卡", 1, 50_000, 9500, 9800, 1),
            TierRule("gold", "金卡", 2, 100_000, 9000, 9500, 2),
            TierRule("diamond", "钻石", 3, 500_000, 8500, 9000, 3),
        ),
    ),
    points=PointsPolicy(fen_per_point=1, max_redeem_bp=5000),
    commissions=CommissionPolicy(
        rules=(
            CommissionRule("SVC", 1, _SINCE, CommissionTarget.SERVICE, rotated_bp=1000,
                           designated_bp=1500),
            CommissionRule("PRD", 1, _SINCE, CommissionTarget.PRODUCT, rotated_bp=500,
                           designated_bp=500),
            CommissionRule("PKG", 1, _SINCE, CommissionTarget.PACKAGE_SALE,
                           mode=CommissionMode.FIXED, rotated_fixed_fen=3_000,
                           designated_fixed_fen=3_000),
            CommissionRule("RCH", 1, _SINCE, CommissionTarget.RECHARGE, rotated_bp=300,
                           designated_bp=300),
        )
    ),
)

SERVICES = (
    Service("CUT", "精剪造型", "hair", 12_800, 45),
    Service("WASH", "洗吹", "hair", 3_800, 20),
    Service("COLOR", "染发", "hair", 38_800, 120, ("senior", "director")),
    Service("FACIAL", "面部深层护理", "beauty", 29_800, 60),
)
PRODUCTS = (
    Product("P-SH", "修护洗发水 500ml", "SKU-SH500", "6901234567892", 16_800, 7_000,
            low_stock_at=5),
    Product("P-MASK", "补水面膜 5片", "SKU-MSK05", "6920000000017", 9_900, 3_000),
)
PLANS = (
    PackagePlan("FACIAL10", "面部护理10次卡", ("FACIAL",), 10, 0, 198_000, 365),
)


def seed(salon: Salon) -> None:
    """Apply HQ's config and price list and hire the store's staff."""
    salon.execute(HireStaff(actor_id=HQ_ACTOR, staff_id=OWNER, name="林总", role=Role.OWNER,
                            level="owner", reason="开店"))
    for staff_id, name, role, level in (
        (MANAGER, "王店长", Role.MANAGER, "director"),
        (DESK, "小陈", Role.FRONT_DESK, "desk"),
        (STYLIST, "Tony", Role.STYLIST, "senior"),
    ):
        salon.execute(HireStaff(actor_id=OWNER, staff_id=staff_id, name=name, role=role,
                                level=level, reason="入职"))
    salon.execute(ConfigureStore(actor_id=HQ_ACTOR, config=CONFIG))
    salon.execute(PublishPriceList(actor_id=HQ_ACTOR, version=1, services=SERVICES,
                                   products=PRODUCTS, plans=PLANS))
