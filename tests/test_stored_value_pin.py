"""The payment PIN of a stored-value account: stored hashed, checked, locked after failures."""

from __future__ import annotations

import pytest
from support import DESK, MANAGER, assert_refused, make_salon
from value_helpers import commit, register, sv_policy

from salon.engine import Salon
from salon.errors import DomainError, ErrorCode
from salon.events import Event
from salon.staff import HQ_ACTOR
from salon.stored_value import (
    PaymentPinAccepted,
    PaymentPinRejected,
    PaymentPinSet,
    ResetPaymentPin,
    SetPaymentPin,
    check_pin,
)
from salon.stored_value_pin import PIN_ITERATIONS, hash_pin
from salon.testing import ManualClock

PIN = "246810"


def pin_salon(**policy: object) -> tuple[Salon, ManualClock, str]:
    salon, clock = make_salon(stored_value=sv_policy(require_pin=True, **policy))
    member = register(salon)
    salon.execute(SetPaymentPin(actor_id=DESK, member_id=member, pin=PIN))
    return salon, clock, member


def check(salon: Salon, member: str, pin: str | None) -> tuple[Event, ...]:
    """check_pin as checkout uses it: its events, or the refused try committed anyway."""
    try:
        events = check_pin(salon.state, member, pin, salon.ctx, DESK, salon.ctx.clock())
    except DomainError as err:
        commit(salon, *err.record)
        raise
    commit(salon, *events)
    return events


def refusal(salon: Salon, member: str, pin: str | None) -> DomainError:
    with pytest.raises(DomainError) as caught:
        check(salon, member, pin)
    return caught.value


def test_the_pin_is_stored_as_a_salted_pbkdf2_hash() -> None:
    salon, _ = make_salon()
    member = register(salon)
    (event,) = salon.execute(SetPaymentPin(actor_id=DESK, member_id=member, pin=PIN))
    assert isinstance(event, PaymentPinSet)
    assert event.iterations == PIN_ITERATIONS
    assert PIN not in event.pin_hash and event.salt
    assert event.pin_hash == hash_pin(PIN, event.salt, PIN_ITERATIONS)
    assert salon.state.accounts.pins.has_pin(member)


def test_two_members_with_the_same_pin_get_different_hashes() -> None:
    salon, _ = make_salon()
    hashes = set()
    for mobile in ("13800138000", "13900139000"):
        member = register(salon, mobile)
        (event,) = salon.execute(SetPaymentPin(actor_id=DESK, member_id=member, pin=PIN))
        assert isinstance(event, PaymentPinSet)
        hashes.add(event.pin_hash)
    assert len(hashes) == 2


@pytest.mark.parametrize("pin", ["12345", "1234567", "12a456", "１２３４５６", "", "12 456"])
def test_a_pin_must_be_six_ascii_digits(pin: str) -> None:
    salon, _ = make_salon()
    member = register(salon)
    assert_refused(salon, SetPaymentPin(actor_id=DESK, member_id=member, pin=pin),
                   ErrorCode.PIN_INVALID)


@pytest.mark.parametrize(
    ("actor", "member", "code"),
    [(HQ_ACTOR, "m", ErrorCode.PERMISSION_DENIED), (DESK, "nobody", ErrorCode.UNKNOWN_MEMBER)],
)
def test_setting_a_pin_refusals(actor: str, member: str, code: ErrorCode) -> None:
    salon, _ = make_salon()
    member_id = register(salon) if member == "m" else member
    assert_refused(salon, SetPaymentPin(actor_id=actor, member_id=member_id, pin=PIN), code)


def test_no_pin_is_asked_when_the_store_does_not_require_one() -> None:
    salon, _ = make_salon()
    member = register(salon)
    salon.execute(SetPaymentPin(actor_id=DESK, member_id=member, pin=PIN))
    assert check(salon, member, "000000") == ()
    assert check(salon, member, None) == ()


def test_a_member_who_never_set_a_pin_is_refused_when_the_store_requires_one() -> None:
    salon, _ = make_salon(stored_value=sv_policy(require_pin=True))
    member = register(salon)
    err = refusal(salon, member, None)
    assert err.code is ErrorCode.PIN_NOT_SET and err.record == ()


def test_the_right_pin_passes_without_events() -> None:
    salon, _, member = pin_salon()
    assert check(salon, member, PIN) == ()


def test_a_missing_pin_is_refused() -> None:
    salon, _, member = pin_salon()
    err = refusal(salon, member, None)
    assert err.code is ErrorCode.PIN_REQUIRED and err.record == ()


def test_a_wrong_pin_is_refused_and_the_failed_try_is_recorded() -> None:
    salon, _, member = pin_salon()
    err = refusal(salon, member, "135790")
    assert err.code is ErrorCode.PIN_INCORRECT
    assert err.params == {"attempts_left": 4}
    (rejected,) = err.record
    assert isinstance(rejected, PaymentPinRejected) and rejected.failures == 1
    assert refusal(salon, member, "135790").params == {"attempts_left": 3}


def test_the_right_pin_after_failures_resets_the_count() -> None:
    salon, _, member = pin_salon()
    refusal(salon, member, "000000")
    refusal(salon, member, "000000")
    (accepted,) = check(salon, member, PIN)
    assert isinstance(accepted, PaymentPinAccepted)
    assert salon.state.accounts.pins.records[member].failures == 0
    assert refusal(salon, member, "000000").params == {"attempts_left": 4}


def test_too_many_failures_lock_the_account_until_the_lockout_has_passed() -> None:
    salon, clock, member = pin_salon(pin_max_attempts=3, pin_lockout_minutes=30)
    assert [refusal(salon, member, "000000").params["attempts_left"] for _ in range(3)] == [
        2, 1, 0,
    ]
    err = refusal(salon, member, PIN)
    assert err.code is ErrorCode.PIN_LOCKED and err.params == {"minutes": 30}
    assert err.record == ()
    clock.advance(minutes=10, seconds=30)
    assert refusal(salon, member, PIN).params == {"minutes": 20}
    clock.advance(minutes=19, seconds=30)
    assert isinstance(check(salon, member, PIN)[0], PaymentPinAccepted)


def test_after_a_lockout_a_new_series_of_attempts_starts() -> None:
    salon, clock, member = pin_salon(pin_max_attempts=2, pin_lockout_minutes=5)
    refusal(salon, member, "000000")
    refusal(salon, member, "000000")
    clock.advance(minutes=5)
    assert refusal(salon, member, "000000").params == {"attempts_left": 1}
    assert refusal(salon, member, "000000").params == {"attempts_left": 0}
    assert refusal(salon, member, PIN).code is ErrorCode.PIN_LOCKED


def test_only_a_managers_reset_unlocks_the_account() -> None:
    salon, _, member = pin_salon(pin_max_attempts=1)
    refusal(salon, member, "000000")
    assert refusal(salon, member, PIN).code is ErrorCode.PIN_LOCKED
    assert_refused(salon, SetPaymentPin(actor_id=DESK, member_id=member, pin="975310",
                                        old_pin=PIN), ErrorCode.PIN_LOCKED)
    salon.execute(ResetPaymentPin(actor_id=MANAGER, member_id=member, pin="975310",
                                  reason="会员忘记密码"))
    assert check(salon, member, "975310") == ()
