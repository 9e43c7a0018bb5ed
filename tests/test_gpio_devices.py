"""The status light, buzzer and call button, scripted on gpiozero's mock pins.

Blink and beep patterns are read from the pins' recorded state changes (each entry
says how long the pin held its previous state), never from how long a test took.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from itertools import pairwise
from pathlib import Path

import gpiozero
import pytest
from gpiozero.pins.mock import MockFactory, MockPin, MockPWMPin

from devices import gpio_config
from devices.errors import DeviceError, DeviceErrorCode
from devices.fakes_gpio import FakeBuzzer, FakeCallButton, FakeIndicator
from devices.gpio_devices import (
    BuzzerConfig,
    CallButtonConfig,
    GpioBuzzer,
    GpioCallButton,
    GpioStatusLight,
    PinBackend,
    StatusLightConfig,
    check_distinct_pins,
    default_pin_factory,
)
from devices.ports import Beep, Buzzer, CallButton, Indicator, Signal

RED, AMBER, GREEN, BLUE, BUZZ, PUSH = 17, 27, 22, 23, 24, 25
SLOW, FAST = 0.3, 0.03


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    pins = MockFactory()
    yield pins
    pins.close()


@pytest.fixture
def pwm_factory() -> Iterator[MockFactory]:
    pins = MockFactory(pin_class=MockPWMPin)
    yield pins
    pins.close()


def wait_for(ready: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError("the pins never reached the expected state")
        time.sleep(0.005)


def held(pin: MockPin) -> list[tuple[float, float]]:
    """Each finished stretch of the pin's history: (state, seconds it was held)."""
    states = pin.states
    return [(float(before.state), after.timestamp) for before, after in pairwise(states)]


def on_times(pin: MockPin) -> list[float]:
    return [seconds for state, seconds in held(pin) if state > 0]


def levels(pin: MockPin) -> list[float]:
    return [float(entry.state) for entry in pin.states]


def stack_light(factory: MockFactory, active_high: bool = True) -> GpioStatusLight:
    config = StatusLightConfig("light", red_pin=RED, green_pin=GREEN, amber_pin=AMBER,
                               active_high=active_high, slow_blink_s=SLOW, fast_blink_s=FAST)
    return GpioStatusLight(config, pin_factory=factory)


def rgb_light(factory: MockFactory, pwm: bool = True) -> GpioStatusLight:
    config = StatusLightConfig("light", red_pin=RED, green_pin=GREEN, blue_pin=BLUE, pwm=pwm,
                               slow_blink_s=SLOW, fast_blink_s=FAST)
    return GpioStatusLight(config, pin_factory=factory)


def buzzer(factory: MockFactory) -> GpioBuzzer:
    return GpioBuzzer(BuzzerConfig("buzzer", BUZZ, short_s=0.03, long_s=0.6, gap_s=0.03),
                      pin_factory=factory)


def config_problem(make: Callable[[], object]) -> dict[str, str | int]:
    with pytest.raises(DeviceError) as caught:
        make()
    assert caught.value.code is DeviceErrorCode.CONFIG_INVALID
    return caught.value.params


# --- configs -------------------------------------------------------------------------

@pytest.mark.parametrize("pin", [28, -1, True, "17", None])
def test_a_pin_that_is_not_bcm_0_to_27_is_refused_naming_device_and_field(pin: object) -> None:
    params = config_problem(lambda: BuzzerConfig("buzzer", pin))  # type: ignore[arg-type]
    assert params == {"device": "buzzer", "field": "pin", "reason": "not_a_bcm_pin_0_27"}


def test_bcm_pins_0_and_27_are_accepted() -> None:
    assert BuzzerConfig("low", 0).pins() == {"pin": 0}
    assert BuzzerConfig("high", 27).pins() == {"pin": 27}


def test_a_light_naming_one_pin_twice_is_refused() -> None:
    params = config_problem(lambda: StatusLightConfig("light", RED, GREEN, amber_pin=RED))
    assert params["reason"] == "pin_used_twice"
    assert params["field"] == "amber_pin"
    assert params["other"] == "light.red_pin"


@pytest.mark.parametrize("blue, amber", [(None, None), (BLUE, AMBER)])
def test_a_light_is_either_rgb_or_three_leds(blue: int | None, amber: int | None) -> None:
    params = config_problem(lambda: StatusLightConfig("light", RED, GREEN, blue, amber))
    assert params["reason"] == "one_of_blue_pin_or_amber_pin"


def test_two_devices_on_one_pin_are_refused_naming_both() -> None:
    light = StatusLightConfig("light", RED, GREEN, amber_pin=AMBER)
    button = CallButtonConfig("call", GREEN)
    check_distinct_pins([light, BuzzerConfig("buzzer", BUZZ)])
    with pytest.raises(DeviceError) as caught:
        check_distinct_pins([light, BuzzerConfig("buzzer", BUZZ), button])
    assert caught.value.params == {"device": "call", "field": "pin", "reason": "pin_used_twice",
                                   "pin": GREEN, "other": "light.green_pin"}


def test_active_high_must_be_a_bool() -> None:
    params = config_problem(lambda: BuzzerConfig("buzzer", BUZZ, active_high="no"))  # type: ignore[arg-type]
    assert (params["field"], params["reason"]) == ("active_high", "not_a_bool")


def test_a_long_beep_must_be_longer_than_the_short_one() -> None:
    params = config_problem(lambda: BuzzerConfig("buzzer", BUZZ, short_s=0.3, long_s=0.3))
    assert (params["field"], params["reason"]) == ("long_s", "out_of_range")


@pytest.mark.parametrize("pin", [2, 3])
def test_a_pull_down_button_on_a_pin_with_a_board_pull_up_is_refused(pin: int) -> None:
    params = config_problem(lambda: CallButtonConfig("call", pin, pull_up=False))
    assert (params["field"], params["reason"]) == ("pull_up", "fixed_pull_up")
    assert CallButtonConfig("call", pin, pull_up=True).pin == pin


# --- the pin factory -----------------------------------------------------------------

@pytest.mark.skipif(Path("/dev/gpiochip0").exists(), reason="this machine has GPIO")
def test_without_gpio_the_factory_is_not_supported_naming_each_backend() -> None:
    with pytest.raises(DeviceError) as caught:
        default_pin_factory("gpio")
    assert caught.value.code is DeviceErrorCode.NOT_SUPPORTED
    reason = str(caught.value.params["reason"])
    assert all(backend.value in reason for backend in PinBackend)
    assert caught.value.params["device"] == "gpio"
    assert gpiozero.Device.pin_factory is None


def test_the_first_backend_that_loads_is_returned_not_stored_globally(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(gpio_config._BACKENDS, PinBackend.NATIVE,
                        "gpiozero.pins.mock:MockFactory")
    pins = default_pin_factory("gpio", [PinBackend.LGPIO, PinBackend.NATIVE])
    assert isinstance(pins, MockFactory)
    assert gpiozero.Device.pin_factory is None


# --- the status light ----------------------------------------------------------------

@pytest.mark.parametrize("signal, lit", [
    (Signal.READY, GREEN), (Signal.OFFLINE, AMBER), (Signal.FAULT, RED), (Signal.OFF, None),
])
def test_three_leds_light_the_one_colour_of_a_steady_signal(
        factory: MockFactory, signal: Signal, lit: int | None) -> None:
    light: Indicator = stack_light(factory)
    light.show(Signal.ATTENTION)
    light.show(signal)
    assert {pin: factory.pin(pin).state for pin in (RED, AMBER, GREEN)} == {
        pin: pin == lit for pin in (RED, AMBER, GREEN)}
    light.close()


def test_active_low_leds_are_lit_by_a_low_pin(factory: MockFactory) -> None:
    light = stack_light(factory, active_high=False)
    light.show(Signal.READY)
    assert (factory.pin(GREEN).state, factory.pin(RED).state, factory.pin(AMBER).state) == (
        False, True, True)
    light.close()


def test_an_rgb_led_shows_fault_as_red_only(pwm_factory: MockFactory) -> None:
    light = rgb_light(pwm_factory)
    light.show(Signal.FAULT)
    assert [pwm_factory.pin(pin).state for pin in (RED, GREEN, BLUE)] == [1.0, 0.0, 0.0]
    light.close()


def test_an_rgb_led_with_pwm_shows_amber_as_red_and_some_green(pwm_factory: MockFactory) -> None:
    light = rgb_light(pwm_factory)
    light.show(Signal.OFFLINE)
    red, green, blue = (pwm_factory.pin(pin).state for pin in (RED, GREEN, BLUE))
    assert red == 1.0 and 0.0 < green < 1.0 and blue == 0.0
    light.close()


def test_an_rgb_led_without_pwm_shows_amber_as_red_and_green(factory: MockFactory) -> None:
    light = rgb_light(factory, pwm=False)
    light.show(Signal.OFFLINE)
    assert [factory.pin(pin).state for pin in (RED, GREEN, BLUE)] == [True, True, False]
    light.close()


def test_an_rgb_led_with_pwm_on_pins_without_pwm_is_not_supported(factory: MockFactory) -> None:
    with pytest.raises(DeviceError) as caught:
        rgb_light(factory, pwm=True)
    assert caught.value.code is DeviceErrorCode.NOT_SUPPORTED
    assert caught.value.params["device"] == "light"


def test_syncing_blinks_amber_slowly_and_nothing_else(factory: MockFactory) -> None:
    light = stack_light(factory)
    light.show(Signal.SYNCING)
    amber = factory.pin(AMBER)
    wait_for(lambda: len(amber.states) >= 5)
    light.close()
    assert levels(amber)[:5] == [0, 1, 0, 1, 0]
    assert all(seconds >= SLOW * 0.99 for _, seconds in held(amber)[1:4])
    assert len(factory.pin(RED).states) == len(factory.pin(GREEN).states) == 1


def test_attention_blinks_red_faster_than_syncing(factory: MockFactory) -> None:
    light = stack_light(factory)
    light.show(Signal.ATTENTION)
    red = factory.pin(RED)
    wait_for(lambda: len(red.states) >= 5)
    light.close()
    assert levels(red)[:5] == [0, 1, 0, 1, 0]
    assert all(FAST * 0.99 <= seconds < SLOW for seconds in on_times(red)[:2])


def test_an_rgb_led_blinks_amber_with_red_and_green_together(pwm_factory: MockFactory) -> None:
    light = rgb_light(pwm_factory)
    light.show(Signal.SYNCING)
    red, green = pwm_factory.pin(RED), pwm_factory.pin(GREEN)
    wait_for(lambda: len(green.states) >= 4)
    light.close()
    assert levels(red)[:4] == [0.0, 1.0, 0.0, 1.0]
    assert levels(green)[:4] == [0.0, 0.4, 0.0, 0.4]
    assert len(pwm_factory.pin(BLUE).states) == 1


def test_showing_the_same_blink_again_does_not_restart_it(factory: MockFactory) -> None:
    light = stack_light(factory)
    light.show(Signal.SYNCING)
    amber = factory.pin(AMBER)
    wait_for(lambda: len(amber.states) >= 3)  # on, then off: mid-pattern
    light.show(Signal.SYNCING)
    wait_for(lambda: len(amber.states) >= 5)
    light.close()
    # A restart lights it at once, cutting short the phase it came in; a loaded machine
    # only makes phases longer, so this cannot fail for being slow.
    assert levels(amber)[:5] == [0, 1, 0, 1, 0]
    assert all(seconds >= SLOW * 0.99 for _, seconds in held(amber)[1:4])


def test_a_steady_signal_stops_the_blink(factory: MockFactory) -> None:
    light = stack_light(factory)
    light.show(Signal.SYNCING)
    amber = factory.pin(AMBER)
    wait_for(lambda: amber.state is True)
    light.show(Signal.READY)
    seen = len(amber.states)
    time.sleep(SLOW * 1.5)  # longer than a blink phase: a live blink thread would show
    assert (amber.state, len(amber.states)) == (False, seen)
    assert factory.pin(GREEN).state is True
    light.close()


def test_closing_mid_blink_leaves_the_light_off_and_frees_its_pins(factory: MockFactory) -> None:
    light = stack_light(factory)
    light.show(Signal.SYNCING)
    wait_for(lambda: factory.pin(AMBER).state is True)
    light.close()
    light.close()
    assert [factory.pin(pin).state for pin in (RED, AMBER, GREEN)] == [False, False, False]
    light.show(Signal.FAULT)  # after close: nothing to light, and no error at shutdown
    assert factory.pin(RED).state is False
    stack_light(factory).close()  # the pins were released: they can be taken again


def test_a_pin_held_by_another_device_is_busy(factory: MockFactory) -> None:
    light = stack_light(factory)
    with pytest.raises(DeviceError) as caught:
        GpioBuzzer(BuzzerConfig("buzzer", RED), pin_factory=factory)
    assert caught.value.code is DeviceErrorCode.BUSY
    assert caught.value.params == {"device": "buzzer", "path": f"GPIO{RED}"}
    light.close()


def test_a_light_that_cannot_take_its_last_pin_gives_back_the_others(
        factory: MockFactory) -> None:
    blocker = GpioBuzzer(BuzzerConfig("buzzer", GREEN), pin_factory=factory)
    with pytest.raises(DeviceError):
        stack_light(factory)
    blocker.close()
    stack_light(factory).close()


# --- the buzzer ----------------------------------------------------------------------

def test_good_is_one_short_beep(factory: MockFactory) -> None:
    sounder: Buzzer = buzzer(factory)
    pin = factory.pin(BUZZ)
    sounder.beep(Beep.GOOD)
    wait_for(lambda: len(pin.states) >= 3)
    assert levels(pin) == [0, 1, 0]
    (on,) = on_times(pin)
    assert 0.03 * 0.99 <= on < 0.6
    sounder.close()


def test_refused_is_one_long_beep_that_sounds_after_beep_returns(factory: MockFactory) -> None:
    sounder = buzzer(factory)
    pin = factory.pin(BUZZ)
    sounder.beep(Beep.REFUSED)
    assert len(pin.states) < 3  # beep() came back before the long beep was over
    wait_for(lambda: len(pin.states) >= 3)
    assert levels(pin) == [0, 1, 0]
    assert on_times(pin)[0] >= 0.6 * 0.99
    sounder.close()


def test_alert_is_three_short_beeps_with_gaps(factory: MockFactory) -> None:
    sounder = buzzer(factory)
    pin = factory.pin(BUZZ)
    sounder.beep(Beep.ALERT)
    wait_for(lambda: len(pin.states) >= 7)
    assert levels(pin) == [0, 1, 0, 1, 0, 1, 0]
    assert all(0.03 * 0.99 <= on < 0.6 for on in on_times(pin))
    assert all(off >= 0.03 * 0.99 for state, off in held(pin)[1:] if state == 0)
    sounder.close()


def test_closing_mid_beep_silences_the_buzzer(factory: MockFactory) -> None:
    sounder = buzzer(factory)
    sounder.beep(Beep.REFUSED)
    sounder.close()
    assert factory.pin(BUZZ).state is False
    sounder.beep(Beep.GOOD)
    assert factory.pin(BUZZ).state is False


# --- the call button -----------------------------------------------------------------

def test_pressing_the_button_to_ground_calls_the_handler_once(factory: MockFactory) -> None:
    button: CallButton = GpioCallButton(CallButtonConfig("call", PUSH), pin_factory=factory)
    presses: list[str] = []
    button.on_press(lambda: presses.append("pressed"))
    pin = factory.pin(PUSH)
    assert pin.pull == "up"
    pin.drive_low()
    pin.drive_high()  # released: not a press
    assert presses == ["pressed"]
    pin.drive_low()
    assert presses == ["pressed", "pressed"]
    button.close()


def test_a_pull_down_button_is_pressed_by_a_high_pin(factory: MockFactory) -> None:
    config = CallButtonConfig("call", PUSH, pull_up=False)
    button = GpioCallButton(config, pin_factory=factory)
    presses: list[int] = []
    button.on_press(lambda: presses.append(1))
    factory.pin(PUSH).drive_high()
    assert presses == [1]
    button.close()


def test_the_bounce_time_is_set_on_the_pin(factory: MockFactory) -> None:
    button = GpioCallButton(CallButtonConfig("call", PUSH, bounce_s=0.12), pin_factory=factory)
    assert factory.pin(PUSH).bounce == pytest.approx(0.12)
    button.close()


def test_a_failing_handler_does_not_stop_the_others(factory: MockFactory) -> None:
    button = GpioCallButton(CallButtonConfig("call", PUSH), pin_factory=factory)
    presses: list[str] = []

    def broken() -> None:
        raise RuntimeError("handler bug")

    button.on_press(broken)
    button.on_press(lambda: presses.append("second"))
    factory.pin(PUSH).drive_low()
    assert presses == ["second"]
    button.close()


def test_a_closed_button_calls_nobody(factory: MockFactory) -> None:
    button = GpioCallButton(CallButtonConfig("call", PUSH), pin_factory=factory)
    presses: list[int] = []
    button.on_press(lambda: presses.append(1))
    button.close()
    button.close()
    factory.pin(PUSH).drive_low()
    assert presses == []


@pytest.fixture(params=["fake", "gpio"])
def pressable(request: pytest.FixtureRequest,
              factory: MockFactory) -> Iterator[tuple[CallButton, Callable[[], None]]]:
    if request.param == "fake":
        fake = FakeCallButton("call")
        yield fake, fake.press
        return
    real = GpioCallButton(CallButtonConfig("call", PUSH), pin_factory=factory)
    pin = factory.pin(PUSH)

    def press() -> None:
        pin.drive_low()
        pin.drive_high()

    yield real, press
    real.close()


def test_every_handler_is_called_in_order_at_every_press(
        pressable: tuple[CallButton, Callable[[], None]]) -> None:
    button, press = pressable
    calls: list[str] = []
    button.on_press(lambda: calls.append("manager"))
    button.on_press(lambda: calls.append("light"))
    press()
    press()
    assert calls == ["manager", "light", "manager", "light"]
    assert button.device_id == "call"


# --- the fakes -----------------------------------------------------------------------

def test_the_fake_light_and_buzzer_record_what_they_were_told() -> None:
    light: Indicator = FakeIndicator()
    sounder: Buzzer = FakeBuzzer()
    light.show(Signal.READY)
    light.show(Signal.ATTENTION)
    sounder.beep(Beep.REFUSED)
    light.close()
    assert isinstance(light, FakeIndicator) and isinstance(sounder, FakeBuzzer)
    assert light.shown == [Signal.READY, Signal.ATTENTION]
    assert light.closed
    assert sounder.beeps == [Beep.REFUSED]
