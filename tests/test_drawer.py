"""The cash drawer: ESC p through the printer's raw channel, and a relay on a mock GPIO pin."""

from __future__ import annotations

import errno
import logging
import time
from collections.abc import Callable, Iterator

import pytest
from gpiozero.pins.mock import MockFactory, MockPin

from devices.drawer import (
    KickPin,
    PrinterKickConfig,
    PrinterKickDrawer,
    RelayDrawer,
    RelayDrawerConfig,
    kick_command,
)
from devices.errors import DeviceError, DeviceErrorCode
from devices.fakes_gpio import FakeDrawer
from devices.gpio_devices import BuzzerConfig, GpioBuzzer, check_distinct_pins
from devices.ports import CashDrawer

RELAY = 26


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    pins = MockFactory()
    yield pins
    pins.close()


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def wait_for(ready: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError("the pin never reached the expected state")
        time.sleep(0.005)


def levels(pin: MockPin) -> list[bool]:
    return [bool(entry.state) for entry in pin.states]


def relay(factory: MockFactory, clock: Clock | None = None, *, active_high: bool = True,
          pulse_s: float = 0.05) -> RelayDrawer:
    config = RelayDrawerConfig("drawer", RELAY, active_high=active_high, pulse_s=pulse_s)
    return RelayDrawer(config, pin_factory=factory, clock=clock or Clock())


class Recorder:
    def __init__(self, error: Exception | None = None) -> None:
        self.sent: list[bytes] = []
        self.error = error

    def __call__(self, data: bytes) -> None:
        if self.error is not None:
            raise self.error
        self.sent.append(data)


# --- through the printer -------------------------------------------------------------

def test_the_kick_command_is_esc_p_with_times_in_two_millisecond_steps() -> None:
    assert kick_command(KickPin.PIN_2, 50, 500) == bytes([0x1B, 0x70, 0, 25, 250])
    assert kick_command(KickPin.PIN_5, 100, 200) == bytes([0x1B, 0x70, 1, 50, 100])


def test_a_kick_through_the_printer_pulses_both_pins_in_one_write() -> None:
    send_raw = Recorder()
    drawer: CashDrawer = PrinterKickDrawer(PrinterKickConfig("drawer"), send_raw)
    drawer.open_drawer()
    assert send_raw.sent == [bytes([0x1B, 0x70, 0, 25, 250, 0x1B, 0x70, 1, 25, 250])]
    drawer.close()


def test_a_drawer_wired_to_pin_5_can_be_kicked_on_that_pin_alone() -> None:
    send_raw = Recorder()
    config = PrinterKickConfig("drawer", on_ms=120, off_ms=240, pins=(KickPin.PIN_5,))
    PrinterKickDrawer(config, send_raw).open_drawer()
    assert send_raw.sent == [bytes([0x1B, 0x70, 1, 60, 120])]


def test_a_printer_error_is_a_drawer_failure_naming_it() -> None:
    offline = DeviceError(DeviceErrorCode.PRINTER_OFFLINE, {"device": "printer"})
    drawer = PrinterKickDrawer(PrinterKickConfig("drawer"), Recorder(offline))
    with pytest.raises(DeviceError) as caught:
        drawer.open_drawer()
    assert caught.value.code is DeviceErrorCode.DRAWER_FAILED
    assert caught.value.params == {"device": "drawer", "reason": "printer.offline"}
    assert caught.value.__cause__ is offline


def test_a_transport_error_let_through_by_the_printer_is_a_drawer_failure() -> None:
    drawer = PrinterKickDrawer(PrinterKickConfig("drawer"), Recorder(OSError(errno.EIO, "I/O")))
    with pytest.raises(DeviceError) as caught:
        drawer.open_drawer()
    assert caught.value.params == {"device": "drawer", "reason": "EIO"}


@pytest.mark.parametrize("field, settings", [
    ("on_ms", {"on_ms": 51}),  # not a whole number of 2 ms steps
    ("on_ms", {"on_ms": 0}),
    ("on_ms", {"on_ms": 512, "off_ms": 512}),  # t1 is one byte: 510 ms at most
    ("off_ms", {"on_ms": 100, "off_ms": 50}),
    ("pins", {"pins": ()}),
    ("pins", {"pins": (KickPin.PIN_2, KickPin.PIN_2)}),
    ("pins", {"pins": (2,)}),
])
def test_a_kick_the_printer_cannot_send_is_refused(field: str, settings: dict[str, object]) -> None:
    with pytest.raises(DeviceError) as caught:
        PrinterKickConfig("drawer", **settings)  # type: ignore[arg-type]
    assert caught.value.code is DeviceErrorCode.CONFIG_INVALID
    assert caught.value.params["field"] == field


# --- the relay -----------------------------------------------------------------------

def test_the_relay_does_not_click_when_built_or_closed(factory: MockFactory) -> None:
    pin = factory.pin(RELAY)
    drawer = relay(factory)
    assert pin.function == "output"
    drawer.close()
    drawer.close()
    assert levels(pin) == [False]


def test_the_relay_pin_is_driven_inactive_whatever_level_it_was_found_at(
        factory: MockFactory) -> None:
    pin = factory.pin(RELAY)
    pin.drive_high()  # e.g. left high by the last program that used it
    drawer = relay(factory)
    assert pin.state is False
    drawer.close()


@pytest.mark.parametrize("pin, active_high, warned", [
    (5, True, True), (5, False, False), (RELAY, True, False), (RELAY, False, True),
])
def test_a_relay_on_a_pin_pulled_to_its_active_level_at_power_on_is_warned_of(
        factory: MockFactory, caplog: pytest.LogCaptureFixture,
        pin: int, active_high: bool, warned: bool) -> None:
    config = RelayDrawerConfig("drawer", pin, active_high=active_high)
    with caplog.at_level(logging.WARNING, logger="devices.drawer"):
        RelayDrawer(config, pin_factory=factory).close()
    assert any("click at boot" in record.message for record in caplog.records) is warned


def test_an_active_low_relay_stays_high_from_boot_to_close(factory: MockFactory) -> None:
    pin = factory.pin(RELAY)
    pin.drive_high()  # the relay board's pull-up holds its input inactive before we start
    pin.clear_states()
    drawer = relay(factory, active_high=False)
    drawer.close()
    assert levels(pin) == [True]


def test_a_kick_is_one_pulse_at_least_as_long_as_configured(factory: MockFactory) -> None:
    pin = factory.pin(RELAY)
    drawer = relay(factory, pulse_s=0.05)
    drawer.open_drawer()
    wait_for(lambda: len(pin.states) >= 3)
    drawer.close()
    assert levels(pin) == [False, True, False]
    assert pin.states[2].timestamp >= 0.05 * 0.99


def test_an_active_low_relay_pulses_low(factory: MockFactory) -> None:
    pin = factory.pin(RELAY)
    pin.drive_high()
    pin.clear_states()
    drawer = relay(factory, active_high=False)
    drawer.open_drawer()
    wait_for(lambda: len(pin.states) >= 3)
    drawer.close()
    assert levels(pin) == [True, False, True]


def test_the_kick_returns_while_the_pulse_runs_and_close_ends_it(factory: MockFactory) -> None:
    pin = factory.pin(RELAY)
    drawer = relay(factory, pulse_s=2.0)
    drawer.open_drawer()
    assert pin.state is True  # the caller is back before the pulse is over
    drawer.close()
    assert levels(pin) == [False, True, False]


def test_kicks_in_quick_succession_give_separate_pulses_not_one_long_one(
        factory: MockFactory) -> None:
    pin = factory.pin(RELAY)
    clock = Clock()
    drawer = relay(factory, clock)
    drawer.open_drawer()
    drawer.open_drawer()  # during the pulse: dropped
    wait_for(lambda: len(pin.states) >= 3)
    clock.now += 0.2  # past the pulse, inside its rest
    drawer.open_drawer()
    assert levels(pin) == [False, True, False]
    clock.now += 1.0  # rested
    drawer.open_drawer()
    wait_for(lambda: len(pin.states) >= 5)
    drawer.close()
    assert levels(pin) == [False, True, False, True, False]


def test_a_kick_while_the_pulse_is_on_is_dropped_even_if_the_clock_says_rested(
        factory: MockFactory, caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    drawer = relay(factory, clock, pulse_s=2.0)
    drawer.open_drawer()
    clock.now += 60.0  # the clock jumped; the pulse thread has not ended the pulse yet
    with caplog.at_level(logging.INFO, logger="devices.drawer"):
        drawer.open_drawer()
    drawer.close()
    assert [record.message for record in caplog.records] == [
        "drawer drawer: kick dropped, the last one is still pulsing or resting"]
    assert levels(factory.pin(RELAY)) == [False, True, False]


def test_a_closed_relay_refuses_to_kick(factory: MockFactory) -> None:
    drawer = relay(factory)
    drawer.close()
    with pytest.raises(DeviceError) as caught:
        drawer.open_drawer()
    assert caught.value.code is DeviceErrorCode.DRAWER_FAILED
    assert caught.value.params == {"device": "drawer", "reason": "closed"}


def test_a_relay_on_a_pin_in_use_is_busy(factory: MockFactory) -> None:
    buzzer = GpioBuzzer(BuzzerConfig("buzzer", RELAY), pin_factory=factory)
    with pytest.raises(DeviceError) as caught:
        relay(factory)
    assert caught.value.code is DeviceErrorCode.BUSY
    buzzer.close()


def test_the_relay_pin_is_checked_with_the_other_gpio_devices() -> None:
    with pytest.raises(DeviceError) as caught:
        check_distinct_pins([BuzzerConfig("buzzer", RELAY), RelayDrawerConfig("drawer", RELAY)])
    assert caught.value.params["other"] == "buzzer.pin"


@pytest.mark.parametrize("settings", [{"pin": 40}, {"pulse_s": 0}, {"pulse_s": 3.0},
                                      {"rest_s": -1.0}, {"active_high": 1}])
def test_a_relay_config_out_of_range_is_refused(settings: dict[str, object]) -> None:
    values: dict[str, object] = {"device_id": "drawer", "pin": RELAY, **settings}
    with pytest.raises(DeviceError) as caught:
        RelayDrawerConfig(**values)  # type: ignore[arg-type]
    assert caught.value.code is DeviceErrorCode.CONFIG_INVALID
    assert caught.value.params["field"] == next(iter(settings))


# --- every drawer --------------------------------------------------------------------

@pytest.fixture(params=["fake", "printer", "relay"])
def drawer_and_breaker(request: pytest.FixtureRequest, factory: MockFactory
                       ) -> Iterator[tuple[CashDrawer, Callable[[], None]]]:
    """A working drawer and what makes its next kick fail."""
    if request.param == "fake":
        fake = FakeDrawer("drawer")
        yield fake, fake.fail_next
    elif request.param == "printer":
        send_raw = Recorder()

        def unplug_printer() -> None:
            send_raw.error = DeviceError(DeviceErrorCode.PRINTER_OFFLINE, {"device": "p"})

        yield PrinterKickDrawer(PrinterKickConfig("drawer"), send_raw), unplug_printer
    else:
        real = relay(factory)
        yield real, real.close
        real.close()


def test_a_drawer_opens_and_says_drawer_failed_when_it_cannot(
        drawer_and_breaker: tuple[CashDrawer, Callable[[], None]]) -> None:
    drawer, break_it = drawer_and_breaker
    drawer.open_drawer()
    break_it()
    with pytest.raises(DeviceError) as caught:
        drawer.open_drawer()
    assert caught.value.code is DeviceErrorCode.DRAWER_FAILED
    assert caught.value.params["device"] == drawer.device_id == "drawer"


def test_the_fake_drawer_counts_kicks_and_fails_only_the_next_one() -> None:
    drawer = FakeDrawer()
    drawer.open_drawer()
    drawer.fail_next()
    with pytest.raises(DeviceError):
        drawer.open_drawer()
    drawer.open_drawer()
    assert drawer.kicks == 2
