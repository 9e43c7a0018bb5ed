"""The whole current state of one store, rebuilt by applying events to its slices."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from salon.appointments import AppointmentBook
from salon.catalog import CatalogBook
from salon.commissions import CommissionBook
from salon.config import ConfigBook, StoreConfig
from salon.coupons import CouponBook
from salon.events import Event
from salon.members import MemberBook
from salon.package_cards import PackageBook
from salon.points import PointsBook
from salon.queue import QueueBook
from salon.reminders import ReminderBook
from salon.schedules import ScheduleBook
from salon.shifts import ShiftBook
from salon.staff import StaffBook
from salon.stock import StockBook
from salon.stored_value import StoredValueBook
from salon.tickets import TicketBook
from salon.tiers import TierBook

__all__ = ["STATE_VERSION", "SalonState"]

STATE_VERSION = 1
"""Bump when a slice's fields change so that an older snapshot would be read wrongly.

Snapshots carry it; one of another version is not loaded, and the store replays its
journal instead (events keep their meaning across versions; state layouts need not).
"""


@dataclass
class SalonState:
    """One slice per area; each slice applies the events it knows and ignores the rest."""

    configs: ConfigBook = field(default_factory=ConfigBook)
    staff: StaffBook = field(default_factory=StaffBook)
    catalog: CatalogBook = field(default_factory=CatalogBook)
    members: MemberBook = field(default_factory=MemberBook)
    tiers: TierBook = field(default_factory=TierBook)
    accounts: StoredValueBook = field(default_factory=StoredValueBook)
    packages: PackageBook = field(default_factory=PackageBook)
    points: PointsBook = field(default_factory=PointsBook)
    coupons: CouponBook = field(default_factory=CouponBook)
    commissions: CommissionBook = field(default_factory=CommissionBook)
    tickets: TicketBook = field(default_factory=TicketBook)
    schedules: ScheduleBook = field(default_factory=ScheduleBook)
    appointments: AppointmentBook = field(default_factory=AppointmentBook)
    shifts: ShiftBook = field(default_factory=ShiftBook)
    queue: QueueBook = field(default_factory=QueueBook)
    stock: StockBook = field(default_factory=StockBook)
    reminders: ReminderBook = field(default_factory=ReminderBook)

    @property
    def config(self) -> StoreConfig:
        return self.configs.config

    def apply(self, event: Event) -> None:
        self.configs.apply(event)
        self.staff.apply(event)
        self.catalog.apply(event)
        self.members.apply(event)
        self.tiers.apply(event)
        self.accounts.apply(event)
        self.packages.apply(event)
        self.points.apply(event)
        self.coupons.apply(event)
        self.commissions.apply(event)
        self.tickets.apply(event)
        self.schedules.apply(event)
        self.appointments.apply(event)
        self.shifts.apply(event)
        self.queue.apply(event)
        self.stock.apply(event)
        self.reminders.apply(event)

    def apply_all(self, events: Iterable[Event]) -> None:
        for event in events:
            self.apply(event)

    def reindex(self) -> None:
        """Rebuild every book's indexes from its records (salon.indexes): after a snapshot."""
        self.members.reindex()
        self.accounts.reindex()
        self.packages.reindex()
        self.coupons.reindex()
        self.catalog.reindex()
        self.tickets.reindex()
        self.appointments.reindex()
