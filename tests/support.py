"""A seeded store for tests: staff of every role, a catalog, a configuration."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime

from salon.admin import ConfigureStore, HireStaff, PublishPriceList
from salon.catalog import PackagePlan, Product, Service
from salon.config import (
    CommissionMode,
    CommissionPolicy,
    CommissionRule,
    CommissionTarget,
    RechargeOffer,
    StoreConfig,
    StoredValuePolicy,
    TierBasis,
    TierPolicy,
    TierRule,
)
from salon.context import Context
from salon.engine import Salon
from salon.errors import DomainError
from salon.staff import HQ_ACTOR, Role
from salon.testing import ManualClock, SequentialIds

START = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, a Monday

OWNER, MANAGER, DESK, STYLIST, STYLIST2 = "owner", "mgr", "desk", "tony", "amy"

TIERS = TierPolicy(
    basis=TierBasis.RECHARGE,
    tiers=(
        TierRule("normal", "普通会员", 0, 0),
        TierRule("silver", "银卡", 1, 50_000, 9500, 9800, 1),
        TierRule("gold", "金卡", 2, 100_000, 9000, 9500, 2),
        TierRule("diamond", "钻石", 3, 500_000, 8500, 9000, 3),
    ),
)

CONFIG = StoreConfig(
    version=1,
    store_name="丝域美发 · 徐汇店",
    stored_value=StoredValuePolicy(
        offers=(
            RechargeOffer("r500", 50_000, bonus_fen=5_000),
            RechargeOffer("r1000", 100_000, bonus_fen=20_000),
        ),
    ),
    tiers=TIERS,
    commissions=CommissionPolicy(
        rules=(
            CommissionRule(
                "svc", 1, START.replace(year=2020), CommissionTarget.SERVICE,
                rotated_bp=1000, designated_bp=1500,
            ),
            CommissionRule(
                "prd", 1, START.replace(year=2020), CommissionTarget.PRODUCT, rotated_bp=500,
                designated_bp=500,
            ),
            CommissionRule(
                "pkg", 1, START.replace(year=2020), CommissionTarget.PACKAGE_SALE,
                mode=CommissionMode.FIXED, rotated_fixed_fen=2_000, designated_fixed_fen=2_000,
            ),
            CommissionRule(
                "rch", 1, START.replace(year=2020), CommissionTarget.RECHARGE, rotated_bp=300,
                designated_bp=300,
            ),
        )
    ),
)

SERVICES = (
    Service("cut", "精剪", "hair", 12_800, 45),
    Service("wash", "洗吹", "hair", 3_800, 20),
    Service("color", "染发", "hair", 38_800, 120, ("senior", "director")),
    Service("facial", "面部护理", "beauty", 29_800, 60),
)
PRODUCTS = (
    Product("sh1", "修护洗发水", "SKU-SH1", "6901234567892", 16_800, 7_000),
    Product("mask", "补水面膜", "SKU-MSK", "6920000000017", 9_900, 3_000, "beauty_retail"),
)
PLANS = (PackagePlan("facial10", "面部护理10次卡", ("facial",), 10, 0, 198_000, 365),)


def make_salon(config: StoreConfig = CONFIG, **config_changes: object) -> tuple[Salon, ManualClock]:
    """A store with an owner, a manager, a front desk, two stylists, prices and config."""
    clock = ManualClock(START)
    salon = Salon(Context("store-001", clock, SequentialIds("ev")))
    salon.execute(HireStaff(actor_id=HQ_ACTOR, staff_id=OWNER, name="林总", role=Role.OWNER,
                            level="owner", reason="开店"))
    for staff_id, name, role, level in (
        (MANAGER, "王店长", Role.MANAGER, "director"),
        (DESK, "小陈", Role.FRONT_DESK, "desk"),
        (STYLIST, "Tony", Role.STYLIST, "senior"),
        (STYLIST2, "Amy", Role.STYLIST, "junior"),
    ):
        salon.execute(HireStaff(actor_id=OWNER, staff_id=staff_id, name=name, role=role,
                                level=level, reason="入职"))
    salon.execute(ConfigureStore(actor_id=HQ_ACTOR, config=replace(config, **config_changes)))
    salon.execute(PublishPriceList(actor_id=HQ_ACTOR, version=1, services=SERVICES,
                                   products=PRODUCTS, plans=PLANS))
    return salon, clock


def assert_refused(salon: Salon, command: object, code: object) -> DomainError:
    """Run ``command``, expect refusal with ``code``, and prove the state did not change."""
    from salon.commands import Command

    assert isinstance(command, Command)
    before = copy.deepcopy(salon.state)
    history = len(salon.history)
    try:
        salon.execute(command)
    except DomainError as err:
        assert err.code == code, f"expected {code}, got {err.code} {err.params}"
        if not err.record:
            assert salon.state == before, "a refused command changed the state"
            assert len(salon.history) == history
        return err
    raise AssertionError(f"{type(command).__name__} was not refused (expected {code})")
