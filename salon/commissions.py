"""Commission (提成): choosing the rule in force, splitting a line over stylists, the book.

A line's base is split over its staff shares exactly; each share earns by the most
specific rule in force at the sale for that staff member's level. No matching rule means
no entry (not an entry of 0): the book then only holds what someone is paid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from itertools import pairwise
from typing import TYPE_CHECKING

from salon.config import CommissionMode, CommissionRule, CommissionTarget, StoreConfigured
from salon.errors import DomainError, ErrorCode
from salon.events import Event
from salon.money import BP_WHOLE, RoundingMode, allocate, apply_bp, mul_div
from salon.sales_archive import SalesArchive
from salon.staff import StaffShare

if TYPE_CHECKING:
    from salon.state import SalonState

__all__ = [
    "CommissionBook",
    "CommissionEarned",
    "CommissionEntry",
    "CommissionReversed",
    "banded_amount",
    "compute",
    "pick_rule",
    "validate_shares",
]

_SHANGHAI_OFFSET_MINUTES = 480


@dataclass(frozen=True, slots=True)
class CommissionEntry:
    """One staff member's commission on one line, with the rule version that paid it."""

    staff_id: str
    line_no: int
    base_fen: int
    """This staff member's part of the line's base (业绩)."""
    amount_fen: int
    rule_id: str
    rule_version: int
    designated: bool
    target: CommissionTarget = CommissionTarget.SERVICE
    """What was sold; banded rules count the month's base per target."""


@dataclass(frozen=True, kw_only=True)
class CommissionEarned(Event):
    source_id: str
    entries: tuple[CommissionEntry, ...]


@dataclass(frozen=True, kw_only=True)
class CommissionReversed(Event):
    """Takes exactly these entries, earned by ``source_id``, out of the book (a refund)."""

    source_id: str
    entries: tuple[CommissionEntry, ...]


@dataclass(frozen=True, slots=True)
class _Booked:
    source_id: str
    entry: CommissionEntry
    at: datetime
    """When it was earned: the month it counts in, even when reversed later."""
    month: str = ""
    """The store-local month it was counted in (``YYYY-MM``), so a removal hits the same."""


RECENT_DAYS = 35
"""How long the book keeps each entry itself; month totals are kept for ever.

A reversal of an entry the book still holds takes it out of the month it was earned in;
an older one (or a part of one, after a partial refund) is booked as a negative entry in
the month of the reversal, as payroll does once a month is paid out.
"""


def _month_key(at: datetime, utc_offset_minutes: int) -> str:
    year, month = _month(at, utc_offset_minutes)
    return f"{year:04d}-{month:02d}"


@dataclass
class CommissionBook:
    """Commission per staff member: month totals for ever, the entries of the recent past.

    The cost of booking an entry or asking for a month's base does not grow with the
    store's history: months are summed as entries arrive, and entries older than
    RECENT_DAYS before the newest one are let go (their totals stay).
    """

    _by_staff: dict[str, list[_Booked]] = field(default_factory=dict)
    _months: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    """staff → "YYYY-MM/target" → [amount_fen, base_fen] in the store's offset."""
    _recharges: dict[str, list[CommissionEntry]] = field(default_factory=dict)
    """Standing entries of each recharge, for a recharge refund to reverse: kept for ever
    when no archive is attached; with one, the recharge's events are read back from it."""
    utc_offset_minutes: int = _SHANGHAI_OFFSET_MINUTES
    newest_at: datetime | None = None
    archive: SalesArchive | None = field(
        default=None, compare=False, repr=False, metadata={"transient": True}
    )
    """Attached by the store after loading; never part of a snapshot."""

    def apply(self, event: Event) -> None:
        match event:
            case StoreConfigured():
                self.utc_offset_minutes = event.config.checkout.utc_offset_minutes
            case CommissionEarned():
                for entry in event.entries:
                    self._book(event.source_id, entry, event.meta.at)
                self._let_go(event.meta.at)
            case CommissionReversed():
                for entry in event.entries:
                    self._remove(event.source_id, entry, event.meta.at)
            case _:
                pass

    def _book(self, source_id: str, entry: CommissionEntry, at: datetime) -> None:
        month = _month_key(at, self.utc_offset_minutes)
        self._by_staff.setdefault(entry.staff_id, []).append(
            _Booked(source_id, entry, at, month))
        self._count(entry, month, 1)
        if entry.target is CommissionTarget.RECHARGE and self.archive is None:
            self._recharges.setdefault(source_id, []).append(entry)

    def _count(self, entry: CommissionEntry, month: str, sign: int) -> None:
        totals = self._months.setdefault(entry.staff_id, {})
        cell = totals.setdefault(f"{month}/{entry.target.value}", [0, 0])
        cell[0] += sign * entry.amount_fen
        cell[1] += sign * entry.base_fen

    def _let_go(self, at: datetime) -> None:
        if self.newest_at is None or at > self.newest_at:
            self.newest_at = at
        cutoff = self.newest_at - timedelta(days=RECENT_DAYS)
        for booked_list in self._by_staff.values():
            old = 0
            while old < len(booked_list) and booked_list[old].at < cutoff:
                old += 1
            if old:
                del booked_list[:old]

    def _remove(self, source_id: str, entry: CommissionEntry, at: datetime) -> None:
        if entry.target is CommissionTarget.RECHARGE:
            standing = self._recharges.get(source_id, [])
            if entry in standing:
                standing.remove(entry)
                if not standing:
                    del self._recharges[source_id]
        booked_list = self._by_staff.get(entry.staff_id, [])
        for i, booked in enumerate(booked_list):
            if booked.source_id == source_id and booked.entry == entry:
                del booked_list[i]
                self._count(entry, booked.month, -1)
                return
        # Not an entry the book holds as such (a part of one, scaled by a partial refund,
        # or one let go): book its negative at the reversal's time so totals stay earned
        # minus reversed.
        negative = CommissionEntry(
            entry.staff_id, entry.line_no, -entry.base_fen, -entry.amount_fen,
            entry.rule_id, entry.rule_version, entry.designated, entry.target,
        )
        month = _month_key(at, self.utc_offset_minutes)
        self._by_staff.setdefault(entry.staff_id, []).append(
            _Booked(source_id, negative, at, month))
        self._count(negative, month, 1)

    def _of(self, staff_id: str) -> list[_Booked]:
        return self._by_staff.get(staff_id, [])

    def staff_ids(self) -> tuple[str, ...]:
        """Everyone who ever had an entry, sorted."""
        return tuple(sorted(self._months))

    def entries(self, staff_id: str) -> tuple[CommissionEntry, ...]:
        """The staff member's standing entries of the recent past, in booking order."""
        return tuple(b.entry for b in self._of(staff_id))

    def entries_of_source(self, source_id: str) -> tuple[CommissionEntry, ...]:
        """The standing entries a recharge (any age) or a recent ticket earned: its clawback."""
        if source_id in self._recharges:
            return tuple(self._recharges[source_id])
        if self.archive is not None:
            standing: list[CommissionEntry] = []
            archived = False
            for event in self.archive.events_of(source_id):
                if isinstance(event, CommissionEarned):
                    archived = True
                    standing.extend(event.entries)
                elif isinstance(event, CommissionReversed):
                    # As _remove takes them out of _recharges: an entry reversed as it was.
                    for entry in event.entries:
                        if entry in standing:
                            standing.remove(entry)
            if archived:
                return tuple(standing)
        return tuple(
            b.entry for booked in self._by_staff.values() for b in booked
            if b.source_id == source_id
        )

    def lifetime_fen(self, staff_id: str) -> int:
        """All the commission the staff member ever earned, net of reversals."""
        return sum(cell[0] for cell in self._months.get(staff_id, {}).values())

    def _month_cells(self, staff_id: str, year: int, month: int) -> list[tuple[str, list[int]]]:
        prefix = f"{year:04d}-{month:02d}/"
        totals = self._months.get(staff_id, {})
        return [(key[len(prefix):], cell) for key, cell in totals.items()
                if key.startswith(prefix)]

    def total_fen(
        self, staff_id: str, year: int, month: int,
        utc_offset_minutes: int | None = None,
    ) -> int:
        """Commission of a store-local calendar month.

        Months are summed in the store's configured offset; another offset (a report for
        another zone) is answered from the entries of the recent past only.
        """
        if utc_offset_minutes is not None and utc_offset_minutes != self.utc_offset_minutes:
            return sum(
                b.entry.amount_fen for b in self._of(staff_id)
                if _month(b.at, utc_offset_minutes) == (year, month)
            )
        return sum(cell[0] for _, cell in self._month_cells(staff_id, year, month))

    def month_base_fen(
        self, staff_id: str, at: datetime, utc_offset_minutes: int | None = None,
        target: CommissionTarget | None = None,
    ) -> int:
        """The staff member's base booked so far in the store-local month of ``at``."""
        offset = self.utc_offset_minutes if utc_offset_minutes is None else utc_offset_minutes
        if offset != self.utc_offset_minutes:
            month = _month(at, offset)
            return sum(
                b.entry.base_fen for b in self._of(staff_id)
                if (target is None or b.entry.target == target)
                and b.at <= at and _month(b.at, offset) == month
            )
        year, month_no = _month(at, offset)
        return sum(
            cell[1] for kind, cell in self._month_cells(staff_id, year, month_no)
            if target is None or kind == target.value
        )


def _month(at: datetime, utc_offset_minutes: int) -> tuple[int, int]:
    local = at.astimezone(timezone(timedelta(minutes=utc_offset_minutes)))
    return local.year, local.month


def validate_shares(state: SalonState, shares: tuple[StaffShare, ...], line_no: int) -> None:
    """Refuse a line's staff shares unless they are known, active, distinct, sum to 10000."""
    invalid = DomainError(ErrorCode.STAFF_SHARES_INVALID, {"line_no": line_no})
    if not shares:
        raise invalid
    for share in shares:
        state.staff.active(share.staff_id)
    if len({s.staff_id for s in shares}) != len(shares):
        raise invalid
    if any(s.share_bp <= 0 for s in shares) or sum(s.share_bp for s in shares) != BP_WHOLE:
        raise invalid


def _in_force(rules: Sequence[CommissionRule], at: datetime) -> list[CommissionRule]:
    """The version of each rule id in force at ``at``: the highest one already effective."""
    best: dict[str, CommissionRule] = {}
    for rule in rules:
        if rule.effective_from > at:
            continue
        current = best.get(rule.rule_id)
        if current is None or rule.version > current.version:
            best[rule.rule_id] = rule
    return list(best.values())


def _specificity(
    rule: CommissionRule, item_id: str, category: str, level: str
) -> tuple[int, int] | None:
    """How closely ``rule`` fits (item 2 / category 1 / any 0, level-specific 1); None: no fit."""
    if rule.staff_level and rule.staff_level != level:
        return None
    level_fit = 1 if rule.staff_level else 0
    if rule.item_id:
        return (2, level_fit) if rule.item_id == item_id else None
    if rule.category:
        return (1, level_fit) if rule.category == category else None
    return (0, level_fit)


def pick_rule(
    rules: Sequence[CommissionRule], target: CommissionTarget, item_id: str, category: str,
    level: str, at: datetime,
) -> CommissionRule | None:
    """The rule paying a sale at ``at``: most specific first, level-specific before general.

    Each rule id counts with its version in force at ``at`` only, so a ticket dated before
    v2 took effect is paid by v1. Equal fits go to the latest effective_from, then rule id.
    """
    fits: list[tuple[tuple[int, int], datetime, str, CommissionRule]] = []
    for rule in _in_force(rules, at):
        if rule.target != target:
            continue
        fit = _specificity(rule, item_id, category, level)
        if fit is not None:
            fits.append((fit, rule.effective_from, rule.rule_id, rule))
    if not fits:
        return None
    return max(fits, key=lambda f: (f[0], f[1], f[2]))[3]


def _rate_at(rule: CommissionRule, base: int) -> int:
    """The marginal rate at a month-to-date base: the last band started, else rotated_bp."""
    rate = rule.rotated_bp
    for band in sorted(rule.bands, key=lambda b: b.from_fen):
        if band.from_fen <= base:
            rate = band.rate_bp
    return rate


def banded_amount(rule: CommissionRule, month_base_fen: int, base_fen: int,
                  designated: bool) -> int:
    """Commission on ``base_fen`` arriving on top of ``month_base_fen``, band by band.

    Each band's rate applies to the part of [month base, month base + base) inside it;
    below the first band the rule's rotated_bp applies. A negative base walks back down.
    """
    low, high = sorted((month_base_fen, month_base_fen + base_fen))
    edges = sorted({low, high, *(b.from_fen for b in rule.bands if low < b.from_fen < high)})
    bp_fen = sum((b - a) * _rate_at(rule, a) for a, b in pairwise(edges))
    if designated:
        bp_fen += (high - low) * (rule.designated_bp - rule.rotated_bp)
    sign = -1 if base_fen < 0 else 1
    return sign * mul_div(bp_fen, 1, BP_WHOLE, RoundingMode.HALF_UP)


def _amount(rule: CommissionRule, part_fen: int, share: StaffShare, month_base: int) -> int:
    if rule.mode is CommissionMode.FIXED:
        fixed = rule.designated_fixed_fen if share.designated else rule.rotated_fixed_fen
        sign = -1 if part_fen < 0 else 1
        return sign * mul_div(fixed, share.share_bp, BP_WHOLE, RoundingMode.HALF_UP)
    if rule.bands:
        return banded_amount(rule, month_base, part_fen, share.designated)
    bp = rule.designated_bp if share.designated else rule.rotated_bp
    return apply_bp(part_fen, bp, RoundingMode.HALF_UP)


def compute(
    state: SalonState,
    *,
    source_id: str,
    line_no: int,
    target: CommissionTarget,
    item_id: str,
    category: str,
    base_fen: int,
    shares: tuple[StaffShare, ...],
    at: datetime,
    pending: Sequence[CommissionEntry] = (),
) -> tuple[CommissionEntry, ...]:
    """The commission entries of one line of ``source_id`` sold at ``at``.

    ``base_fen`` is split over ``shares`` by share_bp exactly (the parts sum to it).
    ``pending`` are entries of earlier lines of the same ticket, not in the book yet:
    banded rules count them into the month-to-date base. A FIXED amount is scaled by the
    share and carries the sign of the base (a base of 0 still pays: the work was done).
    """
    validate_shares(state, shares, line_no)
    offset = state.config.checkout.utc_offset_minutes
    rules = state.config.commissions.rules
    parts = allocate(base_fen, [s.share_bp for s in shares])
    entries: list[CommissionEntry] = []
    for share, part in zip(shares, parts, strict=True):
        level = state.staff.get(share.staff_id).level
        rule = pick_rule(rules, target, item_id, category, level, at)
        if rule is None:
            continue
        month_base = state.commissions.month_base_fen(share.staff_id, at, offset, target)
        month_base += sum(
            e.base_fen for e in pending if e.staff_id == share.staff_id and e.target == target
        )
        entries.append(
            CommissionEntry(
                staff_id=share.staff_id,
                line_no=line_no,
                base_fen=part,
                amount_fen=_amount(rule, part, share, month_base),
                rule_id=rule.rule_id,
                rule_version=rule.version,
                designated=share.designated,
                target=target,
            )
        )
    return tuple(entries)
