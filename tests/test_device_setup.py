"""The hub builds every device from config (or as fakes), and the self-test uses them all."""

from __future__ import annotations

from datetime import UTC, datetime

from gpiozero.pins.mock import MockFactory, MockPWMPin

from devices.config import DevicesConfig, InputConfig, parse_config
from devices.doctor import self_test
from devices.errors import DeviceErrorCode
from devices.fakes import FakeBuzzer, FakeDrawer, FakeIndicator, FakePrinter
from devices.ports import Beep, DeviceKind, DeviceState, Signal
from devices.receipt_doc import Receipt, Text
from hub.device_setup import build_devices, fake_devices

AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
GPIO = {
    "light": {"id": "light", "red_pin": 17, "green_pin": 27, "blue_pin": 22},
    "buzzer": {"id": "buzzer", "pin": 23},
    "call_button": {"id": "call", "pin": 24},
    "drawer": {"id": "drawer", "via": "relay", "pin": 25},
}


def test_gpio_devices_are_built_on_the_pin_factory_given() -> None:
    factory = MockFactory(pin_class=MockPWMPin)
    devices = build_devices(parse_config(GPIO), lambda: AT, pin_factory=factory, watch=False)
    try:
        assert devices.light is not None and devices.buzzer is not None
        assert devices.drawer is not None and devices.button is not None
        devices.light.show(Signal.FAULT)
        assert factory.pin(17).state == 1 and factory.pin(27).state == 0
        factory.pin(24).drive_low()  # someone presses "call staff"
        called = devices.manager.events.get(timeout=5)
        assert getattr(called, "device_id", None) == "call"
        states = {s.device_id: s.state for s in devices.manager.statuses()}
        assert states == dict.fromkeys(("light", "buzzer", "call", "drawer"),
                                       DeviceState.CONNECTED)
    finally:
        devices.close()


def test_without_gpio_the_gpio_devices_are_reported_not_supported_and_left_out() -> None:
    devices = build_devices(parse_config(GPIO), lambda: AT, watch=False)  # no GPIO here
    try:
        assert devices.light is None and devices.buzzer is None and devices.drawer is None
        reasons = {s.device_id: s.reason for s in devices.manager.statuses()}
        assert reasons == dict.fromkeys(("light", "buzzer", "call", "drawer"),
                                        DeviceErrorCode.NOT_SUPPORTED)
    finally:
        devices.close()


def test_an_input_that_cannot_be_built_is_reported_and_the_others_still_run() -> None:
    config = DevicesConfig(inputs=(
        InputConfig("bad", DeviceKind.SCANNER, evdev="0c2e:0b61", layout="no-such"),
        InputConfig("good", DeviceKind.SCANNER, evdev="0c2e:0b62"),
    ))
    devices = build_devices(config, lambda: AT, watch=False)
    try:
        assert [d.device_id for d in devices.inputs] == ["good"]
        states = {s.device_id: (s.state, s.reason) for s in devices.manager.statuses()}
        assert states["bad"] == (DeviceState.ERROR, DeviceErrorCode.UNKNOWN_LAYOUT)
        assert states["good"][0] is DeviceState.CONNECTING
    finally:
        devices.close()


def test_fake_devices_cover_every_port_and_start_connected() -> None:
    devices = fake_devices(lambda: AT)
    try:
        kinds = {s.kind for s in devices.manager.statuses()}
        assert kinds == set(DeviceKind)
    finally:
        devices.close()


def test_the_self_test_reports_each_device_and_one_failure_stops_no_other() -> None:
    printer, drawer = FakePrinter("printer"), FakeDrawer("drawer")
    light, buzzer = FakeIndicator("light"), FakeBuzzer("buzzer")
    drawer.fail_next()
    receipt = Receipt("self-test", (Text("设备自检"),))
    results = self_test(receipt, printer, drawer, light, buzzer, sleep=lambda _: None)
    outcome = {r.device_id: (r.error.code if r.error else None) for r in results}
    assert outcome == {"printer": None, "drawer": DeviceErrorCode.DRAWER_FAILED,
                       "light": None, "buzzer": None}
    assert printer.printed == [receipt]
    assert light.shown[-2:] == [Signal.ATTENTION, Signal.READY]
    assert buzzer.beeps == [Beep.GOOD]


def test_a_drawer_on_the_printer_shows_the_printer_state() -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
    # Nothing listens on ``port`` now: the printer is offline, and so is its drawer.
    config = parse_config({
        "printer": {"id": "printer", "connection": "network", "host": "127.0.0.1",
                    "port": port, "timeout": 1.0, "status_timeout": 0.2},
        "drawer": {"id": "drawer", "via": "printer"},
    })
    devices = build_devices(config, lambda: AT, watch=False)
    try:
        assert devices.spool is not None
        devices.spool.check_status()
        assert devices.spool.wait_idle(10)
        states = {s.device_id: (s.state, s.reason) for s in devices.manager.statuses()}
        assert states["printer"] == states["drawer"]
        assert states["drawer"][0] is DeviceState.ERROR
    finally:
        devices.close()
