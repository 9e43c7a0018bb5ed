"""The payment PIN of a stored-value account: setting it, checking it, locking after failures."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from salon.commands import Command, handles
from salon.config import StoredValuePolicy
from salon.context import Context
from salon.errors import DomainError, ErrorCode
from salon.events import Event
from salon.staff import Permission, audit, require

if TYPE_CHECKING:
    from salon.state import SalonState

__all__ = [
    "PIN_ITERATIONS",
    "PIN_LENGTH",
    "PaymentPinAccepted",
    "PaymentPinRejected",
    "PaymentPinSet",
    "PinBook",
    "PinChange",
    "PinRecord",
    "ResetPaymentPin",
    "SetPaymentPin",
    "check_pin",
    "hash_pin",
    "reset_payment_pin",
    "set_payment_pin",
]

PIN_LENGTH = 6
PIN_ITERATIONS = 100_000
"""PBKDF2 rounds for new PINs; each PIN records its own count so this can rise later."""


class PinChange(StrEnum):
    """How a PIN came to be set: the record of who could have chosen it."""

    FIRST = "first"
    """The member's first PIN, keyed in at the desk."""
    CHANGED = "changed"
    """The member changed it and proved the old one."""
    RESET = "reset"
    """A manager reset a forgotten PIN (audited; the only way to lift a lockout early)."""


@dataclass(frozen=True, kw_only=True)
class PaymentPinSet(Event):
    """A member's new payment PIN, as a salted hash; resets the failure count."""

    member_id: str
    salt: str
    pin_hash: str
    iterations: int
    change: PinChange


@dataclass(frozen=True, kw_only=True)
class PaymentPinRejected(Event):
    """A wrong PIN; ``failures`` is the count of consecutive failures including this one."""

    member_id: str
    failures: int


@dataclass(frozen=True, kw_only=True)
class PaymentPinAccepted(Event):
    """The right PIN after earlier failures: the failure count starts again from zero."""

    member_id: str


@dataclass(frozen=True, slots=True)
class PinRecord:
    salt: str
    pin_hash: str
    iterations: int
    failures: int = 0
    last_failure_at: datetime | None = None


@dataclass
class PinBook:
    """The PIN of each member who set one, with the count of consecutive failures."""

    records: dict[str, PinRecord] = field(default_factory=dict)

    def apply(self, event: Event) -> None:
        match event:
            case PaymentPinSet():
                self.records[event.member_id] = PinRecord(
                    event.salt, event.pin_hash, event.iterations
                )
            case PaymentPinRejected():
                old = self.records[event.member_id]
                self.records[event.member_id] = replace(
                    old, failures=event.failures, last_failure_at=event.meta.at
                )
            case PaymentPinAccepted():
                old = self.records[event.member_id]
                self.records[event.member_id] = replace(old, failures=0, last_failure_at=None)
            case _:
                pass

    def has_pin(self, member_id: str) -> bool:
        return member_id in self.records


def hash_pin(pin: str, salt: str, iterations: int) -> str:
    return hashlib.pbkdf2_hmac("sha256", pin.encode(), salt.encode(), iterations).hex()


@dataclass(frozen=True, kw_only=True)
class SetPaymentPin(Command):
    """The member sets a PIN at the desk; changing one needs ``old_pin``."""

    member_id: str
    pin: str
    old_pin: str | None = None


@dataclass(frozen=True, kw_only=True)
class ResetPaymentPin(Command):
    """A manager sets a new PIN for a member who forgot theirs, with the reason."""

    member_id: str
    pin: str
    reason: str


def _check_format(pin: str) -> None:
    # isascii: str.isdigit() also accepts full-width and other Unicode digits.
    if len(pin) != PIN_LENGTH or not (pin.isascii() and pin.isdigit()):
        raise DomainError(ErrorCode.PIN_INVALID)


def _pin_set(
    cmd: SetPaymentPin | ResetPaymentPin, ctx: Context, at: datetime, change: PinChange
) -> PaymentPinSet:
    salt = ctx.new_id()
    return PaymentPinSet(
        meta=ctx.meta(cmd.actor_id, at),
        member_id=cmd.member_id,
        salt=salt,
        pin_hash=hash_pin(cmd.pin, salt, PIN_ITERATIONS),
        iterations=PIN_ITERATIONS,
        change=change,
    )


@handles(SetPaymentPin)
def set_payment_pin(state: SalonState, cmd: SetPaymentPin, ctx: Context) -> Sequence[Event]:
    """Any role that takes payments may key in a member's first PIN; a change needs the old.

    The old PIN is checked as at a sale, so a wrong one counts towards the lockout and a
    locked PIN stays locked: otherwise the change would be a way round both.
    """
    require(state.staff, cmd.actor_id, Permission.CHECKOUT)
    state.members.get(cmd.member_id)
    _check_format(cmd.pin)
    at = ctx.clock()
    record = state.accounts.pins.records.get(cmd.member_id)
    if record is None:
        return [_pin_set(cmd, ctx, at, PinChange.FIRST)]
    if cmd.old_pin is None:
        raise DomainError(ErrorCode.PIN_OLD_REQUIRED)
    # Any PaymentPinAccepted is left out: the new PIN's event resets the failures anyway.
    _verify(state.config.stored_value, record, cmd.member_id, cmd.old_pin, ctx, cmd.actor_id, at)
    return [_pin_set(cmd, ctx, at, PinChange.CHANGED)]


@handles(ResetPaymentPin)
def reset_payment_pin(state: SalonState, cmd: ResetPaymentPin, ctx: Context) -> Sequence[Event]:
    """A manager's reset of a forgotten PIN: audited, and it lifts a lockout."""
    require(state.staff, cmd.actor_id, Permission.RESET_PAYMENT_PIN)
    state.members.get(cmd.member_id)
    _check_format(cmd.pin)
    at = ctx.clock()
    return [
        _pin_set(cmd, ctx, at, PinChange.RESET),
        audit(ctx.meta(cmd.actor_id, at), Permission.RESET_PAYMENT_PIN, cmd.member_id,
              cmd.reason),
    ]


def check_pin(
    state: SalonState,
    member_id: str,
    pin: str | None,
    ctx: Context,
    actor_id: str,
    at: datetime,
) -> tuple[Event, ...]:
    """Check the member's payment PIN before a stored-value or package-session spend.

    Returns the events to commit with the sale (a reset of earlier failures). When the store
    requires a PIN, a member who has none is refused (PIN_NOT_SET): spending without one
    would make the requirement optional. A wrong PIN raises PIN_INCORRECT whose ``record``
    holds the failed try, so it counts even though the sale is refused.
    """
    policy = state.config.stored_value
    if not policy.require_pin:
        return ()
    record = state.accounts.pins.records.get(member_id)
    if record is None:
        raise DomainError(ErrorCode.PIN_NOT_SET)
    return _verify(policy, record, member_id, pin, ctx, actor_id, at)


def _verify(
    policy: StoredValuePolicy,
    record: PinRecord,
    member_id: str,
    pin: str | None,
    ctx: Context,
    actor_id: str,
    at: datetime,
) -> tuple[Event, ...]:
    """Check ``pin`` against ``record``: PIN_LOCKED, PIN_REQUIRED or PIN_INCORRECT."""
    failures = record.failures
    if failures >= policy.pin_max_attempts and record.last_failure_at is not None:
        left = record.last_failure_at + timedelta(minutes=policy.pin_lockout_minutes) - at
        if left > timedelta(0):
            minutes = -(-left // timedelta(minutes=1))
            raise DomainError(ErrorCode.PIN_LOCKED, {"minutes": minutes})
        # The lockout is served: a new series of attempts starts.
        failures = 0
    if pin is None:
        raise DomainError(ErrorCode.PIN_REQUIRED)
    given = hash_pin(pin, record.salt, record.iterations)
    if not hmac.compare_digest(given, record.pin_hash):
        failures += 1
        rejected = PaymentPinRejected(
            meta=ctx.meta(actor_id, at), member_id=member_id, failures=failures
        )
        raise DomainError(
            ErrorCode.PIN_INCORRECT,
            {"attempts_left": max(0, policy.pin_max_attempts - failures)},
            record=(rejected,),
        )
    if record.failures > 0:
        return (PaymentPinAccepted(meta=ctx.meta(actor_id, at), member_id=member_id),)
    return ()
