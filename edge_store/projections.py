"""TinyDB projections of current state: a document per member, card, coupon, item, staff
member, appointment, product's stock and walk-in.

The kiosk queries these through TinyDB (``store.projections.table("members").search(...)``).
They are derived: after each commit the documents the events touched are rebuilt
from the domain state, and at start-up all of them are, so they are never written
to disk (the snapshot and the journal are the durable copy).

Member documents are the exception at start-up: 20,000 of them take about 0.3 s to
build, so ``rebuild`` gives each member its document id and builds the document when it
is first needed: a lookup builds its one, anything reading the whole table (a TinyDB
query through ``table``, ``dump``) builds all that are left first. A document built
late is the one ``rebuild`` would have built: from the same state (a member a commit
changed has been rebuilt by ``update`` already) as of the same time.

TinyDB's own table writes re-read and re-key the whole table on every change, which
at 20,000 members is milliseconds per commit. So the projections own the storage:
``_HeldStorage`` keeps TinyDB's raw ``{table: {doc_id: document}}`` dict, documents
are put into it directly and the table's query cache is cleared. Reads, queries and
the query cache stay TinyDB's. Hot lookups (card UID, mobile, barcode) go through
dict indexes, never a scan.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Document, Table

from edge_store.codec import encode
from salon.events import Event
from salon.member_book import CardStatus
from salon.state import SalonState

__all__ = ["TABLES", "Projections"]

TABLES = ("members", "package_cards", "coupons", "services", "products", "plans", "staff",
          "appointments", "stock", "walk_ins")
"""The projected tables: ``appointments`` holds the appointments the book holds (any
status; built at its first read after an open), ``stock`` one document per product (its
level, name and threshold, and every product with a level that left the price list),
``walk_ins`` the queue and who is in service."""

_MEMBER_FIELDS = ("member_id", "to_member_id")
_CARD_FIELDS = ("card_id", "old_card_id", "new_card_id", "from_card_id", "to_card_id")
_COUPON_FIELDS = ("coupon_id",)
_APPOINTMENT_FIELDS = ("appointment_id", "appointment")
_PRODUCT_FIELDS = ("product_id",)
_WALK_IN_FIELDS = ("walk_in_id", "walk_in")
_STAFF_EVENTS = frozenset({"StaffHired", "StaffChanged", "StaffLeft"})
_CATALOG_EVENTS = frozenset({"PriceListPublished"})


@dataclass(frozen=True)
class _Touches:
    """The fields of an event type naming documents to rebuild; whether it changes the
    catalog or the staff tables."""

    members: tuple[str, ...]
    cards: tuple[str, ...]
    coupons: tuple[str, ...]
    catalog: bool
    staff: bool
    appointments: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    walk_ins: tuple[str, ...] = ()


@functools.cache
def _touches(cls: Any) -> _Touches:
    """Worked out once per event type: a commit's events are looked at by what they have."""
    fields = {f.name for f in dataclasses.fields(cls)}

    def present(names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(name for name in names if name in fields or hasattr(cls, name))

    return _Touches(
        present(_MEMBER_FIELDS), present(_CARD_FIELDS), present(_COUPON_FIELDS),
        cls.type_name in _CATALOG_EVENTS, cls.type_name in _STAFF_EVENTS,
        present(_APPOINTMENT_FIELDS), present(_PRODUCT_FIELDS), present(_WALK_IN_FIELDS),
    )


class _HeldStorage(Storage):
    """Keeps TinyDB's raw tables in memory and hands out the same dict (no copy)."""

    def __init__(self) -> None:
        self.data: dict[str, dict[str, Any]] = {}

    def read(self) -> dict[str, dict[str, Any]]:
        return self.data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        self.data = data


class Projections:
    """The documents of current state, kept in step with ``SalonState`` by ``update``."""

    def __init__(self) -> None:
        self.db = TinyDB(storage=_HeldStorage)
        self._storage: _HeldStorage = self.db.storage  # type: ignore[assignment]
        self._ids: dict[str, dict[str, int]] = {name: {} for name in TABLES}
        for name in TABLES:
            self._storage.data.setdefault(name, {})
        self._unbuilt: set[str] = set()
        """Members whose document ``rebuild`` left to first use (see the module's text)."""
        self._rebuilt_from: tuple[SalonState, datetime] | None = None
        self._changed: set[str] = set()
        """Tables written since their query caches were last cleared."""
        self._appointments_unbuilt = False
        """``rebuild`` left the appointments table to first use: a year of a busy store's
        appointments took half a second to encode, and an open needs none of them."""

    @property
    def unbuilt_members(self) -> int:
        """How many member documents are still to be built (0 once the table was read)."""
        return len(self._unbuilt)

    def table(self, name: str) -> Table:
        """The TinyDB table, every document in it (member documents left to first use are
        built now: about 0.3 s for 20,000, once)."""
        if name not in self._ids:
            raise KeyError(f"no projection named {name!r}; there are {', '.join(TABLES)}")
        if name == "members" and self._unbuilt:
            self._build_members()
        if name == "appointments":
            self._build_appointments()
        return self.db.table(name)

    def _build_members(self) -> None:
        for member_id in list(self._unbuilt):
            self._build_late(member_id)
        # In document id order, as a rebuild of them all and the updates after it leave
        # them (a query returns them in this order).
        docs = self._storage.data["members"]
        self._storage.data["members"] = dict(sorted(docs.items(), key=lambda kv: int(kv[0])))
        self._clear_caches()

    def _build_late(self, member_id: str) -> None:
        """The document ``rebuild`` left to first use: from its state, as of its time."""
        assert self._rebuilt_from is not None
        state, now = self._rebuilt_from
        self._member(state, member_id, now)

    # ------------------------------------------------------------------ writes

    def rebuild(self, state: SalonState, now: datetime) -> None:
        """Every document from scratch (start-up, verify)."""
        for name in TABLES:
            self._storage.data[name] = {}
            self._ids[name] = {}
        # Each member's document id now, in the members' order, as building them all would
        # give; the documents at first use.
        self._ids["members"] = {member_id: i for i, member_id in
                                enumerate(state.members.members, start=1)}
        self._unbuilt = set(self._ids["members"])
        self._rebuilt_from = (state, now)
        for card_id in state.packages.cards:
            self._put("package_cards", card_id, encode(state.packages.cards[card_id]))
        for coupon_id, coupon in state.coupons.coupons.items():
            self._put("coupons", coupon_id, encode(coupon))
        self._catalog(state)
        self._staff(state)
        self._appointments_unbuilt = True
        self._walk_ins(state)
        self._changed.update(TABLES)
        self._clear_caches()

    def update(self, state: SalonState, events: Iterable[Event], now: datetime) -> None:
        """Rebuild the documents these events touched."""
        members: set[str] = set()
        cards: set[str] = set()
        coupon_ids: set[str] = set()
        catalog = staff = False
        appointments: set[str] = set()
        products: set[str] = set()
        walk_ins = False
        for event in events:
            cls: Any = type(event)  # a class is hashable; mypy's Hashable says not
            touches = _touches(cls)
            for name in touches.members:
                value = getattr(event, name)
                if value:
                    members.add(value)
            for name in touches.cards:
                value = getattr(event, name)
                if value:
                    cards.add(value)
            for name in touches.coupons:
                value = getattr(event, name)
                if value:
                    coupon_ids.add(value)
            catalog |= touches.catalog
            staff |= touches.staff
            for name in touches.appointments:
                value = getattr(event, name)
                appointments.add(value if isinstance(value, str) else value.appointment_id)
            for name in touches.products:
                products.add(getattr(event, name))
            walk_ins |= bool(touches.walk_ins)
        for member_id in members:
            self._member(state, member_id, now)
        for card_id in cards:
            card = state.packages.cards.get(card_id)
            if card is not None:
                self._put("package_cards", card_id, encode(card))
                self._member(state, card.member_id, now)
        for coupon_id in coupon_ids:
            coupon = state.coupons.coupons.get(coupon_id)
            if coupon is not None:
                self._put("coupons", coupon_id, encode(coupon))
        if catalog:
            self._catalog(state)  # the stock documents carry the products' names too
        else:
            for product_id in products:
                self._stock_doc(state, product_id)
        if staff:
            self._staff(state)
        if appointments and not self._appointments_unbuilt:
            filed = self._ids["appointments"]
            if len(filed) + len(appointments - filed.keys()) != len(
                    state.appointments.appointments):
                self._appointments(state)  # some left the book (KEPT_DAYS): all again
            else:
                for appointment_id in appointments:
                    self._put("appointments", appointment_id,
                              encode(state.appointments.appointments[appointment_id]))
        if walk_ins:
            self._walk_ins(state)  # a queue: small, and walk-ins leave it
        self._clear_caches()

    def _member(self, state: SalonState, member_id: str, now: datetime) -> None:
        self._unbuilt.discard(member_id)
        member = state.members.members.get(member_id)
        if member is None:
            return
        doc: dict[str, Any] = encode(member)
        doc["tier_id"] = state.tiers.tier_ids.get(member_id, "")
        doc["card_uids"] = [
            link.card_uid for link in state.members.cards_of(member_id)
            if link.status is CardStatus.ACTIVE
        ]
        doc["principal_fen"], doc["bonus_fen"] = state.accounts.balances_fen(member_id, now)
        doc["points"] = state.points.balance(member_id, now)
        doc["debt_fen"] = state.tickets.debt_of(member_id)
        doc["package_card_ids"] = [c.card_id for c in state.packages.cards_of(member_id)]
        self._put("members", member_id, doc)

    def _catalog(self, state: SalonState) -> None:
        for name, items in (
            ("services", state.catalog.services),
            ("products", state.catalog.products),
            ("plans", state.catalog.plans),
        ):
            self._reset(name)
            for key, item in items.items():
                doc = encode(item)
                doc["price_list_version"] = state.catalog.version
                self._put(name, key, doc)
        # The stock documents carry the products' names and thresholds.
        self._reset("stock")
        for product_id in sorted(set(state.catalog.products) | set(state.stock.levels)):
            self._stock_doc(state, product_id)

    def _stock_doc(self, state: SalonState, product_id: str) -> None:
        product = state.catalog.products.get(product_id)
        self._put("stock", product_id, {
            "product_id": product_id, "level": state.stock.level(product_id),
            "name": product.name if product is not None else "",
            "low_stock_at": product.low_stock_at if product is not None else 0,
            "on_price_list": product is not None,
        })

    def _build_appointments(self) -> None:
        """The appointments table ``rebuild`` left to first use, from the state as it is."""
        if self._appointments_unbuilt:
            assert self._rebuilt_from is not None
            self._appointments_unbuilt = False
            self._appointments(self._rebuilt_from[0])
            self._clear_caches()

    def _appointments(self, state: SalonState) -> None:
        self._reset("appointments")
        for appointment_id, appt in state.appointments.appointments.items():
            self._put("appointments", appointment_id, encode(appt))

    def _walk_ins(self, state: SalonState) -> None:
        self._reset("walk_ins")
        for walk_in_id, walk_in in state.queue.walk_ins.items():
            self._put("walk_ins", walk_in_id, encode(walk_in))

    def _staff(self, state: SalonState) -> None:
        self._reset("staff")
        for staff_id, person in state.staff.staff.items():
            self._put("staff", staff_id, encode(person))

    def _reset(self, table: str) -> None:
        """Empty ``table`` to be filled again."""
        self._storage.data[table], self._ids[table] = {}, {}
        self._changed.add(table)

    def _put(self, table: str, key: str, doc: dict[str, Any]) -> None:
        ids = self._ids[table]
        doc_id = ids.get(key)
        if doc_id is None:
            doc_id = ids[key] = len(ids) + 1
        self._storage.data[table][str(doc_id)] = doc
        self._changed.add(table)

    def _clear_caches(self) -> None:
        """TinyDB's query caches of the tables written since the last call (a checkout
        writes one document: clearing all seven tables was a fifth of an update's time in
        a profile)."""
        for name in self._changed:
            self.db.table(name).clear_cache()
        self._changed.clear()

    # ------------------------------------------------------------------ reads

    def get(self, table: str, key: str) -> Document | None:
        """The document of one entity by its domain id (member id, card id, ...)."""
        if table == "appointments":
            self._build_appointments()
        doc_id = self._ids[table].get(key)
        if doc_id is None:
            return None
        if key in self._unbuilt and table == "members":
            self._build_late(key)
            self._clear_caches()
        found = self.db.table(table).get(doc_id=doc_id)
        return found if isinstance(found, Document) else None

    def dump(self) -> dict[str, dict[str, Any]]:
        """Every table keyed by domain id (for verify's comparison)."""
        if self._unbuilt:
            self._build_members()
        self._build_appointments()
        return {
            name: {key: self._storage.data[name][str(doc_id)] for key, doc_id in ids.items()}
            for name, ids in self._ids.items()
        }
