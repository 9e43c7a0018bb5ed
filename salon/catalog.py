"""The catalog HQ publishes: services, products and package plans, with the price-list version."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from salon.errors import DomainError, ErrorCode
from salon.events import Event
from salon.indexes import INDEX

__all__ = [
    "CatalogBook",
    "ItemKind",
    "PackagePlan",
    "PriceListPublished",
    "Product",
    "Service",
]


class ItemKind(StrEnum):
    SERVICE = "service"
    PRODUCT = "product"
    PACKAGE = "package"
    """A package card (次卡/疗程卡) sold on a ticket."""


@dataclass(frozen=True, slots=True)
class Service:
    service_id: str
    name: str
    category: str
    price_fen: int
    duration_min: int
    staff_levels: tuple[str, ...] = ()
    """Staff levels allowed to do it; empty: anyone."""
    buffer_min: int = 0
    """Time after it before the staff member's next appointment (clean-up, 收拾)."""
    resource_kind: str = ""
    """A kind of the store's resources it needs while it lasts (a bed 床位, a room); ""
    for none (``salon.schedules.Resource``)."""
    backbar: tuple[tuple[str, int], ...] = ()
    """(product id, quantity) of backbar products (院用) one of it uses (``salon.stock``)."""

    @property
    def occupies_min(self) -> int:
        """How long it holds its staff member (and resource): duration and buffer."""
        return self.duration_min + self.buffer_min


@dataclass(frozen=True, slots=True)
class Product:
    product_id: str
    name: str
    sku: str
    barcode: str
    price_fen: int
    cost_fen: int
    category: str = "retail"
    low_stock_at: int = 0
    """Below this many on hand a low-stock alert is raised; 0: never."""


@dataclass(frozen=True, slots=True)
class PackagePlan:
    """A package card for sale: ``sessions`` paid for plus ``bonus_sessions`` free ones."""

    plan_id: str
    name: str
    service_ids: tuple[str, ...]
    sessions: int
    bonus_sessions: int
    price_fen: int
    valid_days: int
    category: str = "package"


@dataclass(frozen=True, kw_only=True)
class PriceListPublished(Event):
    """HQ's whole catalog at one version; HQ wins, an older version is refused."""

    version: int
    services: tuple[Service, ...]
    products: tuple[Product, ...]
    plans: tuple[PackagePlan, ...] = ()


@dataclass
class CatalogBook:
    version: int = 0
    services: dict[str, Service] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    plans: dict[str, PackagePlan] = field(default_factory=dict)
    by_barcode: dict[str, str] = field(default_factory=dict, metadata=INDEX)

    def reindex(self) -> None:
        self.by_barcode = {p.barcode: p.product_id for p in self.products.values() if p.barcode}

    def apply(self, event: Event) -> None:
        if isinstance(event, PriceListPublished):
            self.version = event.version
            self.services = {s.service_id: s for s in event.services}
            self.products = {p.product_id: p for p in event.products}
            self.plans = {p.plan_id: p for p in event.plans}
            self.by_barcode = {p.barcode: p.product_id for p in event.products if p.barcode}

    def service(self, service_id: str) -> Service:
        try:
            return self.services[service_id]
        except KeyError:
            raise DomainError(ErrorCode.UNKNOWN_SERVICE, {"service_id": service_id}) from None

    def product(self, product_id: str) -> Product:
        try:
            return self.products[product_id]
        except KeyError:
            raise DomainError(ErrorCode.UNKNOWN_PRODUCT, {"product_id": product_id}) from None

    def product_by_barcode(self, barcode: str) -> Product:
        product_id = self.by_barcode.get(barcode.strip())
        if product_id is None:
            raise DomainError(ErrorCode.UNKNOWN_PRODUCT, {"product_id": barcode.strip()})
        return self.products[product_id]

    def plan(self, plan_id: str) -> PackagePlan:
        try:
            return self.plans[plan_id]
        except KeyError:
            raise DomainError(ErrorCode.UNKNOWN_PLAN, {"plan_id": plan_id}) from None

    def check_version(self, given: int) -> None:
        """Refuse a ticket priced from a price list that is not the one in force."""
        if given != self.version:
            raise DomainError(
                ErrorCode.PRICE_LIST_MISMATCH, {"expected": self.version, "given": given}
            )

    def check_newer(self, version: int) -> None:
        if version <= self.version:
            raise DomainError(ErrorCode.PRICE_LIST_OLD, {"current": self.version, "given": version})
