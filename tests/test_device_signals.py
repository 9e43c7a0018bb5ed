"""The status light and buzzer say what the store and its devices are doing."""

from __future__ import annotations

from datetime import UTC, datetime

from devices.errors import DeviceErrorCode
from devices.ports import Beep, DeviceKind, DeviceState, DeviceStatus, Signal
from hub.device_signals import beep_for, status_signal
from salon.scans import classify_card, classify_scan

AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
OK = [DeviceStatus("scanner", DeviceKind.SCANNER, DeviceState.CONNECTED),
      DeviceStatus("printer", DeviceKind.PRINTER, DeviceState.CONNECTED)]


def _signal(devices: list[DeviceStatus] = OK, **state: object) -> Signal:
    given = {"store_writable": True, "online": True, "unsent_records": 0, **state}
    return status_signal(devices, **given)  # type: ignore[arg-type]


def test_green_when_all_is_well_and_amber_when_offline_or_syncing() -> None:
    assert _signal() is Signal.READY
    assert _signal(unsent_records=3) is Signal.SYNCING
    assert _signal(online=False, unsent_records=3) is Signal.OFFLINE


def test_a_product_below_its_threshold_blinks_green_below_every_other_state() -> None:
    assert _signal(low_stock=True) is Signal.STOCK_LOW
    assert _signal(low_stock=True, unsent_records=1) is Signal.SYNCING
    assert _signal(low_stock=True, store_writable=False) is Signal.FAULT


def test_red_when_the_store_cannot_commit_or_a_counter_device_is_gone() -> None:
    assert _signal(store_writable=False) is Signal.FAULT
    paper_out = DeviceStatus("printer", DeviceKind.PRINTER, DeviceState.ERROR,
                             DeviceErrorCode.PAPER_OUT)
    assert _signal([OK[0], paper_out]) is Signal.FAULT
    gone = DeviceStatus("scanner", DeviceKind.SCANNER, DeviceState.MISSING,
                        DeviceErrorCode.UNPLUGGED)
    assert _signal([gone, OK[1]], online=False) is Signal.FAULT


def test_a_broken_buzzer_does_not_turn_the_light_red_and_a_call_blinks_it() -> None:
    buzzer = DeviceStatus("buzzer", DeviceKind.BUZZER, DeviceState.ERROR,
                          DeviceErrorCode.NOT_SUPPORTED)
    assert _signal([*OK, buzzer]) is Signal.READY
    assert _signal(staff_called=True) is Signal.ATTENTION


def test_a_good_read_beeps_short_and_a_garbled_read_or_refused_card_long() -> None:
    assert beep_for(classify_scan("6901234567892", "scanner", AT)) is Beep.GOOD
    assert beep_for(classify_scan("6901234567893", "scanner", AT)) is Beep.REFUSED
    card = classify_card("04A1B2C3", "reader", AT)
    assert beep_for(card) is Beep.GOOD
    assert beep_for(card, refused=True) is Beep.REFUSED
