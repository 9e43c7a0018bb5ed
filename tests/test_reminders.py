"""Reminders through the Notifier port: with a fake clock, each one is sent exactly once
across restarts of the hub; a notifier that is down loses nothing; the crash window
between sending and recording sends again under the same key, which the provider drops."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from store_support import open_store
from support import assert_refused, make_salon
from test_checkout import buy_card, member, paid, recharge, sale, svc

from edge_store.errors import StoreError, StoreErrorCode
from edge_store.store import EdgeStore
from hub.demo_data import DEMO_DAY, DESK, MANAGER, STYLIST, seed
from hub.reminders import FakeNotifier, ReminderService, render, solar_of_lunar
from salon.appointments import BookAppointment
from salon.errors import ErrorCode
from salon.members import MemberRegistered, RegisterMember
from salon.payments import PaymentMethod
from salon.reminders import RecordReminderSent, ReminderKind, due_reminders
from salon.schedules import Hours, SetStaffSchedule
from salon.testing import ManualClock

MOBILE = "13812345678"


def _store(path: Path, clock: ManualClock, first: bool = False) -> EdgeStore:
    store = open_store(path, clock)
    if first:
        seed(store)  # type: ignore[arg-type]
        store.execute(SetStaffSchedule(actor_id=MANAGER, staff_id=STYLIST,
                                       week=tuple((Hours(600, 1200),) for _ in range(7))))
    return store


def _booked_in(path: Path, hours: int) -> tuple[EdgeStore, ManualClock]:
    """A store whose member has a cut with Tony ``hours`` after DEMO_DAY (10:00)."""
    clock = ManualClock(DEMO_DAY)
    store = _store(path, clock, first=True)
    store.execute(BookAppointment(actor_id=DESK, service_ids=("CUT",),
                                  start=DEMO_DAY + timedelta(hours=hours), staff_id=STYLIST,
                                  member_id=_member(store)))
    return store, clock


def _member(store: EdgeStore, **kw: object) -> str:
    kw = {"mobile": MOBILE, **kw}
    events = store.execute(RegisterMember(actor_id=DESK, name="张三丰", **kw))  # type: ignore[arg-type]
    return next(e for e in events if isinstance(e, MemberRegistered)).member_id


def test_each_appointment_reminder_goes_once_across_restarts(tmp_path: Path) -> None:
    clock = ManualClock(DEMO_DAY)  # Monday 10:00 in Shanghai
    store = _store(tmp_path, clock, first=True)
    member_id = _member(store)
    start = DEMO_DAY + timedelta(days=2, hours=4)  # Wednesday 14:00
    (booked,) = store.execute(BookAppointment(actor_id=DESK, service_ids=("CUT",), start=start,
                                              staff_id=STYLIST, member_id=member_id))
    appointment_id = booked.appointment.appointment_id  # type: ignore[attr-defined]
    fake = FakeNotifier()

    def hub_restart() -> ReminderService:
        nonlocal store
        store.close()
        store = _store(tmp_path, clock)
        return ReminderService(store, fake)

    service = ReminderService(store, fake)
    assert service.tick() == []  # 52 hours ahead: nothing yet
    clock.advance(hours=28, minutes=1)  # 23 h 59 before
    assert service.tick() == [f"appt:{appointment_id}:1440"]
    assert service.tick() == []
    service = hub_restart()
    assert service.tick() == []
    clock.advance(hours=22)  # 1 h 59 before
    service = hub_restart()
    assert service.tick() == [f"appt:{appointment_id}:120"]
    service = hub_restart()
    clock.advance(hours=3)  # after the start: nothing more
    assert service.tick() == []
    keys = [key for key, _, _ in fake.calls]
    assert keys == [f"appt:{appointment_id}:1440", f"appt:{appointment_id}:120"]
    _, mobile, message = fake.calls[0]
    assert mobile == MOBILE
    assert "丝域美发" in message and "精剪造型" in message and "11-25 14:00" in message
    store.close()


def test_a_hub_that_was_off_sends_only_the_latest_stage(tmp_path: Path) -> None:
    clock = ManualClock(DEMO_DAY)
    store = _store(tmp_path, clock, first=True)
    member_id = _member(store)
    start = DEMO_DAY + timedelta(days=2, hours=4)
    store.execute(BookAppointment(actor_id=DESK, service_ids=("CUT",), start=start,
                                  staff_id=STYLIST, member_id=member_id))
    clock.now = start - timedelta(minutes=90)  # off through the day-before reminder
    fake = FakeNotifier()
    assert [k.rsplit(":", 1)[1] for k in ReminderService(store, fake).tick()] == ["120"]
    store.close()


def test_a_notifier_that_is_down_loses_nothing(tmp_path: Path) -> None:
    store, _ = _booked_in(tmp_path, 3)
    fake = FakeNotifier(down=True)
    service = ReminderService(store, fake)
    assert service.tick() == [] and not fake.calls
    fake.down = False
    assert len(service.tick()) == 1
    assert len(service.tick()) == 0
    store.close()


def test_a_crash_between_sending_and_recording_sends_again_under_the_same_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, _ = _booked_in(tmp_path, 3)
    fake = FakeNotifier()
    execute = store.execute

    def disk_full(command: object) -> object:
        raise StoreError(StoreErrorCode.NOT_DURABLE, {"reason": "disk full"})

    monkeypatch.setattr(store, "execute", disk_full)
    assert ReminderService(store, fake).tick() == []  # sent, not recorded
    monkeypatch.setattr(store, "execute", execute)
    assert len(ReminderService(store, fake).tick()) == 1
    assert len(fake.calls) == 2 and len(fake.delivered) == 1  # the provider drops the second
    assert fake.calls[0][0] == fake.calls[1][0]
    store.close()


def test_birthday_greetings_on_the_solar_or_lunar_day_from_the_greeting_hour(
    tmp_path: Path,
) -> None:
    clock = ManualClock(DEMO_DAY - timedelta(hours=1))  # 09:00 on 2026-11-23
    store = _store(tmp_path, clock, first=True)
    solar = _member(store, birthday=date(1990, 11, 23))
    # 农历 十月十六 is 2026-11-24 (the library's calendar: 中秋 2026 on 25 September and
    # 春节 2027 on 6 February, as published).
    assert solar_of_lunar(2026, 8, 15) == (date(2026, 9, 25),)
    assert solar_of_lunar(2027, 1, 1) == (date(2027, 2, 6),)
    assert solar_of_lunar(2026, 10, 16) == (date(2026, 11, 24),)
    lunar = _member(store, birthday=date(1988, 10, 16), birthday_lunar=True,
                    mobile="13912345678")
    fake = FakeNotifier()
    service = ReminderService(store, fake)
    assert service.tick() == []  # before 10:00
    clock.advance(hours=1)
    assert service.tick() == [f"birthday:{solar}:2026"]
    clock.advance(days=1)
    assert service.tick() == [f"birthday:{lunar}:2026"]
    clock.advance(days=364)  # the solar one again next year, once
    keys = service.tick()
    assert f"birthday:{solar}:2027" in keys and service.tick() == []
    store.close()


def test_messages_render_in_english_too(tmp_path: Path) -> None:
    store, clock = _booked_in(tmp_path, 1)
    (due,) = store.read(lambda s: due_reminders(s, clock()))
    assert due.kind is ReminderKind.APPOINTMENT
    message = store.read(lambda s: render(s, due, "en"))
    assert message.startswith("[丝域美发") and "11-23 11:00" in message and "booked" in message
    store.close()


def test_due_reminders_is_silent_when_disabled(tmp_path: Path) -> None:
    clock = ManualClock(DEMO_DAY)
    store = _store(tmp_path, clock, first=True)
    _member(store, birthday=date(1990, 11, 23))
    state = store.state
    assert len(due_reminders(state, clock())) == 1
    state.configs.config = replace(state.config, reminders=replace(state.config.reminders,
                                                                    enabled=False))
    assert due_reminders(state, clock()) == []
    store.close(snapshot=False)


def test_a_low_balance_notice_once_per_recharge_and_a_package_expiry_notice() -> None:
    salon, clock = make_salon()
    m = member(salon)
    recharge(salon, m, 50_000)  # ¥500 + ¥50 bonus, and 银卡 (95折 on services)
    assert due_reminders(salon.state, clock()) == []
    paid(salon.execute(sale(svc("color"), (PaymentMethod.STORED_VALUE, 36_860), member_id=m)))
    assert due_reminders(salon.state, clock()) == []  # ¥181.40 left: above ¥100
    paid(salon.execute(sale(svc("cut"), (PaymentMethod.STORED_VALUE, 12_160), member_id=m)))
    (low,) = due_reminders(salon.state, clock())
    assert (low.kind, low.amount_fen) == (ReminderKind.LOW_BALANCE, 5_980)
    salon.execute(RecordReminderSent(actor_id="system", key=low.key, kind=low.kind,
                                     member_id=m, subject_id=m))
    assert due_reminders(salon.state, clock()) == []
    recharge(salon, m, 50_000)  # ¥609.80 now, and 金卡 (9折)
    paid(salon.execute(sale(svc("color"), (PaymentMethod.STORED_VALUE, 34_920), member_id=m)))
    paid(salon.execute(sale(svc("cut"), (PaymentMethod.STORED_VALUE, 11_520), member_id=m)))
    assert due_reminders(salon.state, clock()) == []  # ¥145.40
    paid(salon.execute(sale(svc("cut"), (PaymentMethod.STORED_VALUE, 11_520), member_id=m)))
    (again,) = due_reminders(salon.state, clock())  # ¥30.20: the new recharge's notice
    assert again.kind is ReminderKind.LOW_BALANCE and again.key != low.key
    # A package card with sessions left, in the week before it expires (365 days).
    other = member(salon, "13912345678")
    _, card_id = buy_card(salon, other)
    clock.advance(days=357)
    assert not [d for d in due_reminders(salon.state, clock())
                if d.kind is ReminderKind.PACKAGE_EXPIRY]
    clock.advance(days=2)
    (expiry,) = [d for d in due_reminders(salon.state, clock())
                 if d.kind is ReminderKind.PACKAGE_EXPIRY]
    assert expiry.subject_id == card_id and expiry.member_id == other


def test_sent_keys_are_kept_for_kept_days_then_let_go() -> None:
    salon, clock = make_salon()
    for n in range(4):
        salon.execute(RecordReminderSent(actor_id="system", key=f"k{n}",
                                         kind=ReminderKind.BIRTHDAY, member_id="m",
                                         subject_id="m"))
        clock.advance(days=200)
    # Sent on days 0, 200, 400 and 600: at the last, the first is over 400 days old.
    assert list(salon.state.reminders.sent) == ["k1", "k2", "k3"]


def test_a_reminder_is_recorded_once() -> None:
    salon, _ = make_salon()
    record = RecordReminderSent(actor_id="system", key="birthday:m:2026",
                                kind=ReminderKind.BIRTHDAY, member_id="m", subject_id="m")
    salon.execute(record)
    assert_refused(salon, record, ErrorCode.REMINDER_ALREADY_SENT)
