"""The stored-value ledger: recharge lots, the events that move them, and the book.

Each recharge is a lot holding what is left of its principal (本金, a liability of the
store until spent) and its bonus (赠送金, which may expire). A balance is exactly the sum of
the events applied to the lots. The rules that decide these events are in salon.stored_value.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from salon.errors import DomainError, ErrorCode
from salon.events import Event
from salon.indexes import INDEX, group
from salon.stored_value_pin import PinBook

__all__ = [
    "BonusExpired",
    "Lot",
    "LotDraw",
    "LotKind",
    "RechargeRefunded",
    "StoredValueAdjusted",
    "StoredValueBook",
    "StoredValueRecharged",
    "StoredValueRestored",
    "StoredValueSpent",
]


@dataclass(frozen=True, slots=True)
class LotDraw:
    """What one spend takes from (or a restore gives back to) one lot."""

    recharge_id: str
    principal_fen: int
    bonus_fen: int


@dataclass(frozen=True, kw_only=True)
class StoredValueRecharged(Event):
    member_id: str
    recharge_id: str
    principal_fen: int
    bonus_fen: int
    offer_id: str
    bonus_expires_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class StoredValueSpent(Event):
    member_id: str
    ticket_id: str
    draws: tuple[LotDraw, ...]


@dataclass(frozen=True, kw_only=True)
class StoredValueRestored(Event):
    """Gives exactly ``draws`` back to their lots (a refunded or voided ticket)."""

    member_id: str
    ticket_id: str
    draws: tuple[LotDraw, ...]


@dataclass(frozen=True, kw_only=True)
class RechargeRefunded(Event):
    member_id: str
    recharge_id: str
    refund_fen: int
    principal_removed_fen: int
    bonus_removed_fen: int


@dataclass(frozen=True, kw_only=True)
class StoredValueAdjusted(Event):
    """A manager's correction. Increases open a lot named ``adjustment_id``; decreases are
    taken from the existing lots as listed in ``draws``."""

    member_id: str
    adjustment_id: str
    principal_delta_fen: int
    bonus_delta_fen: int
    bonus_expires_at: datetime | None
    draws: tuple[LotDraw, ...]


@dataclass(frozen=True, kw_only=True)
class BonusExpired(Event):
    member_id: str
    recharge_id: str
    bonus_fen: int


class LotKind(StrEnum):
    RECHARGE = "recharge"
    ADJUSTMENT = "adjustment"


@dataclass(frozen=True, slots=True)
class Lot:
    """One recharge (or positive adjustment) and what is left of it."""

    lot_id: str
    member_id: str
    kind: LotKind
    principal_paid_fen: int
    bonus_granted_fen: int
    bonus_expires_at: datetime | None
    principal_fen: int
    """Principal still in the lot."""
    bonus_fen: int
    """Bonus still in the lot, including bonus past its expiry that ExpireBonus has not swept."""
    spent_principal_fen: int = 0
    spent_bonus_fen: int = 0
    refunded: bool = False

    def bonus_expired(self, now: datetime) -> bool:
        return self.bonus_expires_at is not None and now >= self.bonus_expires_at

    def spendable_bonus_fen(self, now: datetime) -> int:
        return 0 if self.bonus_expired(now) else self.bonus_fen


@dataclass
class StoredValueBook:
    """Every member's lots, oldest first, and the payment PINs."""

    lots: dict[str, Lot] = field(default_factory=dict)
    member_lots: dict[str, list[str]] = field(default_factory=dict, metadata=INDEX)
    """Member id -> their lot ids, oldest first (lots never leave ``lots``)."""
    pins: PinBook = field(default_factory=PinBook)

    def reindex(self) -> None:
        self.member_lots = group((lot.member_id, lot_id) for lot_id, lot in self.lots.items())

    def apply(self, event: Event) -> None:
        match event:
            case StoredValueRecharged():
                self._open(
                    Lot(event.recharge_id, event.member_id, LotKind.RECHARGE,
                        event.principal_fen, event.bonus_fen, event.bonus_expires_at,
                        event.principal_fen, event.bonus_fen)
                )
            case StoredValueSpent():
                for draw in event.draws:
                    self._move(draw, -1, spent=True)
            case StoredValueRestored():
                for draw in event.draws:
                    self._move(draw, 1, spent=True)
            case RechargeRefunded():
                lot = self.lots[event.recharge_id]
                self.lots[lot.lot_id] = replace(
                    lot,
                    principal_fen=lot.principal_fen - event.principal_removed_fen,
                    bonus_fen=lot.bonus_fen - event.bonus_removed_fen,
                    refunded=True,
                )
            case StoredValueAdjusted():
                principal = max(0, event.principal_delta_fen)
                bonus = max(0, event.bonus_delta_fen)
                if principal or bonus:
                    self._open(
                        Lot(event.adjustment_id, event.member_id, LotKind.ADJUSTMENT,
                            principal, bonus, event.bonus_expires_at, principal, bonus)
                    )
                for draw in event.draws:
                    self._move(draw, -1, spent=False)
            case BonusExpired():
                lot = self.lots[event.recharge_id]
                self.lots[lot.lot_id] = replace(lot, bonus_fen=lot.bonus_fen - event.bonus_fen)
            case _:
                self.pins.apply(event)

    def _open(self, lot: Lot) -> None:
        self.lots[lot.lot_id] = lot
        self.member_lots.setdefault(lot.member_id, []).append(lot.lot_id)

    def _move(self, draw: LotDraw, sign: int, *, spent: bool) -> None:
        lot = self.lots[draw.recharge_id]
        principal, bonus = sign * draw.principal_fen, sign * draw.bonus_fen
        self.lots[lot.lot_id] = replace(
            lot,
            principal_fen=lot.principal_fen + principal,
            bonus_fen=lot.bonus_fen + bonus,
            spent_principal_fen=lot.spent_principal_fen - (principal if spent else 0),
            spent_bonus_fen=lot.spent_bonus_fen - (bonus if spent else 0),
        )

    def lots_of(self, member_id: str) -> tuple[Lot, ...]:
        """The member's lots, oldest first."""
        return tuple(self.lots[lot_id] for lot_id in self.member_lots.get(member_id, ()))

    def lot(self, recharge_id: str) -> Lot:
        try:
            return self.lots[recharge_id]
        except KeyError:
            raise DomainError(ErrorCode.UNKNOWN_RECHARGE, {"recharge_id": recharge_id}) from None

    def principal_fen(self, member_id: str) -> int:
        # Summed off the ids, no tuple of lots: every commit and start-up asks per member.
        lots = self.lots
        return sum(lots[lot_id].principal_fen for lot_id in self.member_lots.get(member_id, ()))

    def bonus_fen(self, member_id: str) -> int:
        """All bonus still held, including expired bonus not yet swept by ExpireBonus."""
        lots = self.lots
        return sum(lots[lot_id].bonus_fen for lot_id in self.member_lots.get(member_id, ()))

    def spendable_bonus_fen(self, member_id: str, now: datetime) -> int:
        lots = self.lots
        return sum(lots[lot_id].spendable_bonus_fen(now)
                   for lot_id in self.member_lots.get(member_id, ()))

    def balances_fen(self, member_id: str, now: datetime) -> tuple[int, int]:
        """(principal, spendable bonus) of the member at ``now``, in one pass over the lots."""
        lots = self.lots
        principal = bonus = 0
        for lot_id in self.member_lots.get(member_id, ()):
            lot = lots[lot_id]
            principal += lot.principal_fen
            if lot.bonus_fen and not lot.bonus_expired(now):
                bonus += lot.bonus_fen
        return principal, bonus

    def balance_fen(self, member_id: str, now: datetime) -> int:
        """What the member can spend now: principal plus unexpired bonus."""
        return sum(self.balances_fen(member_id, now))

    def liability_fen(self) -> int:
        """Unspent principal of every member: owed to customers, not yet revenue."""
        return sum(lot.principal_fen for lot in self.lots.values())
