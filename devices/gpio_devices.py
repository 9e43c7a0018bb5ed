"""The status light, buzzer and call-staff button on the Pi's GPIO pins, through gpiozero.

Every device is handed the gpiozero pin factory it must use (``pin_factory=``) and
never touches ``gpiozero.Device.pin_factory``: the hub builds one factory with
``default_pin_factory()`` and tests pass ``gpiozero.pins.mock.MockFactory``. Configs
are frozen dataclasses checked when made; ``check_distinct_pins`` checks them together
(the drawer relay in ``devices.drawer`` included). Library errors become ``DeviceError``
here, at the boundary.
"""

from __future__ import annotations

import importlib
import logging
import threading
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum, StrEnum
from functools import partial
from typing import Any, Protocol, TypeVar

from gpiozero import LED, RGBLED, Button
from gpiozero import Buzzer as ZeroBuzzer
from gpiozero.exc import GPIOPinInUse, PinPWMUnsupported

from devices.errors import DeviceError, DeviceErrorCode
from devices.ports import Beep, Signal

__all__ = [
    "BuzzerConfig",
    "CallButtonConfig",
    "ConfigProblem",
    "GpioBuzzer",
    "GpioCallButton",
    "GpioPins",
    "GpioStatusLight",
    "PinBackend",
    "PinFactory",
    "StatusLightConfig",
    "build_gpio",
    "check_common",
    "check_distinct_pins",
    "check_pin",
    "check_range",
    "config_error",
    "default_pin_factory",
]

log = logging.getLogger(__name__)

# gpiozero ships no type information: a pin factory is whatever its Factory classes are.
PinFactory = Any

_T = TypeVar("_T")

BCM_PINS = range(28)  # the 40-pin header's GPIO 0-27 (BCM numbering)
_FIXED_PULL_UP = frozenset({2, 3})  # I2C SDA/SCL carry 1.8 kΩ pull-ups on the board


class ConfigProblem(StrEnum):
    """The ``reason`` of a CONFIG_INVALID raised by a GPIO device's config."""

    NOT_A_BCM_PIN = "not_a_bcm_pin_0_27"
    PIN_USED_TWICE = "pin_used_twice"
    FIXED_PULL_UP = "fixed_pull_up"
    NOT_A_BOOL = "not_a_bool"
    OUT_OF_RANGE = "out_of_range"
    EMPTY = "empty"
    BLUE_OR_AMBER = "one_of_blue_pin_or_amber_pin"


def config_error(device_id: str, field: str, problem: ConfigProblem,
                 **extra: str | int) -> DeviceError:
    return DeviceError(DeviceErrorCode.CONFIG_INVALID,
                       {"device": device_id, "field": field, "reason": problem.value, **extra})


def check_pin(device_id: str, field: str, pin: object) -> None:
    if isinstance(pin, bool) or not isinstance(pin, int) or pin not in BCM_PINS:
        raise config_error(device_id, field, ConfigProblem.NOT_A_BCM_PIN)


def check_range(device_id: str, field: str, value: object, low: float, high: float) -> None:
    """``low < value <= high`` for a length of time (seconds or milliseconds)."""
    if (isinstance(value, bool) or not isinstance(value, int | float)
            or not low < value <= high):
        raise config_error(device_id, field, ConfigProblem.OUT_OF_RANGE)


def check_common(device_id: object, **flags: object) -> None:
    """A device id that is a non-empty string, and flags that are bools (not 0/1, "yes")."""
    if not isinstance(device_id, str) or not device_id:
        raise config_error(str(device_id), "device_id", ConfigProblem.EMPTY)
    for field, value in flags.items():
        if not isinstance(value, bool):
            raise config_error(device_id, field, ConfigProblem.NOT_A_BOOL)


class GpioPins(Protocol):
    """A GPIO device's config: which BCM pin each of its fields names."""

    @property
    def device_id(self) -> str: ...

    def pins(self) -> dict[str, int]: ...


def check_distinct_pins(configs: Iterable[GpioPins]) -> None:
    """CONFIG_INVALID (pin_used_twice) if two fields, in one device or two, name one pin."""
    seen: dict[int, str] = {}
    for config in configs:
        for field, pin in config.pins().items():
            if pin in seen:
                raise config_error(config.device_id, field, ConfigProblem.PIN_USED_TWICE,
                                   pin=pin, other=seen[pin])
            seen[pin] = f"{config.device_id}.{field}"


@dataclass(frozen=True, slots=True)
class StatusLightConfig:
    """The status light: an RGB LED (``blue_pin``) or three LEDs (``amber_pin``), not both.

    An RGB LED shows amber as red with some green; three LEDs are a stack light.
    """

    device_id: str
    red_pin: int
    green_pin: int
    blue_pin: int | None = None
    amber_pin: int | None = None
    active_high: bool = True  # False for a common-anode RGB LED or LEDs the pin sinks
    pwm: bool = True  # RGB only: without PWM amber can only be shown as yellow
    slow_blink_s: float = 0.5  # SYNCING: on and off
    fast_blink_s: float = 0.2  # ATTENTION: on and off

    def __post_init__(self) -> None:
        check_common(self.device_id, active_high=self.active_high, pwm=self.pwm)
        if (self.blue_pin is None) == (self.amber_pin is None):
            raise config_error(self.device_id, "amber_pin", ConfigProblem.BLUE_OR_AMBER)
        for field, pin in self.pins().items():
            check_pin(self.device_id, field, pin)
        check_distinct_pins([self])
        check_range(self.device_id, "slow_blink_s", self.slow_blink_s, 0.0, 10.0)
        check_range(self.device_id, "fast_blink_s", self.fast_blink_s, 0.0, 10.0)

    def pins(self) -> dict[str, int]:
        named = {"red_pin": self.red_pin, "green_pin": self.green_pin,
                 "blue_pin": self.blue_pin, "amber_pin": self.amber_pin}
        return {field: pin for field, pin in named.items() if pin is not None}


@dataclass(frozen=True, slots=True)
class BuzzerConfig:
    """An active buzzer (it makes its own tone when powered) on one pin."""

    device_id: str
    pin: int
    active_high: bool = True
    short_s: float = 0.08  # GOOD, and each of ALERT's three
    long_s: float = 0.5  # REFUSED
    gap_s: float = 0.08  # silence between ALERT's beeps

    def __post_init__(self) -> None:
        check_common(self.device_id, active_high=self.active_high)
        check_pin(self.device_id, "pin", self.pin)
        check_range(self.device_id, "short_s", self.short_s, 0.0, 2.0)
        # A "long" beep no longer than the short one could not be told apart by ear.
        check_range(self.device_id, "long_s", self.long_s, self.short_s, 5.0)
        check_range(self.device_id, "gap_s", self.gap_s, 0.0, 2.0)

    def pins(self) -> dict[str, int]:
        return {"pin": self.pin}


@dataclass(frozen=True, slots=True)
class CallButtonConfig:
    """A push button to GND (``pull_up``, the usual wiring) or to 3.3 V (pull-down)."""

    device_id: str
    pin: int
    pull_up: bool = True
    bounce_s: float = 0.05

    def __post_init__(self) -> None:
        check_common(self.device_id, pull_up=self.pull_up)
        check_pin(self.device_id, "pin", self.pin)
        if not self.pull_up and self.pin in _FIXED_PULL_UP:
            raise config_error(self.device_id, "pull_up", ConfigProblem.FIXED_PULL_UP)
        check_range(self.device_id, "bounce_s", self.bounce_s, 0.0, 1.0)

    def pins(self) -> dict[str, int]:
        return {"pin": self.pin}


class PinBackend(StrEnum):
    """gpiozero's pin libraries, in the order its own default tries them."""

    LGPIO = "lgpio"
    RPIGPIO = "rpigpio"
    NATIVE = "native"


_BACKENDS: dict[PinBackend, str] = {
    PinBackend.LGPIO: "gpiozero.pins.lgpio:LGPIOFactory",
    PinBackend.RPIGPIO: "gpiozero.pins.rpigpio:RPiGPIOFactory",
    PinBackend.NATIVE: "gpiozero.pins.native:NativeFactory",
}


def default_pin_factory(device_id: str = "gpio",
                        backends: Sequence[PinBackend] = tuple(PinBackend)) -> PinFactory:
    """The first of ``backends`` that loads here; NOT_SUPPORTED (why each failed) if none.

    Unlike ``gpiozero.Device.pin_factory`` nothing is stored globally: the caller owns
    the factory, passes it to each device and closes it at exit.
    """
    failures: list[str] = []
    for backend in backends:
        module_name, class_name = _BACKENDS[backend].split(":")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the native fallback warns; we log instead
                factory = getattr(importlib.import_module(module_name), class_name)()
        # Each backend fails its own way: ImportError without its library, lgpio.error
        # or RuntimeError without /dev/gpiochip*, PinUnknownPi off a Pi.
        except Exception as err:
            failures.append(f"{backend.value}: {type(err).__name__}: {str(err)[:80]}")
            continue
        if failures:
            log.info("gpio: using %s (%s)", backend.value, "; ".join(failures))
        return factory
    raise DeviceError(DeviceErrorCode.NOT_SUPPORTED,
                      {"device": device_id, "reason": "no GPIO (" + "; ".join(failures) + ")"})


def build_gpio(device_id: str, pins: Sequence[int], build: Callable[[], _T]) -> _T:
    """``build()`` a gpiozero device with its errors as DeviceError (BUSY, NOT_SUPPORTED ...)."""
    try:
        return build()
    except GPIOPinInUse as err:
        raise DeviceError(DeviceErrorCode.BUSY, {
            "device": device_id, "path": ",".join(f"GPIO{pin}" for pin in pins),
        }) from err
    except PinPWMUnsupported as err:
        raise DeviceError(DeviceErrorCode.NOT_SUPPORTED,
                          {"device": device_id, "reason": "no PWM on these pins"}) from err
    # The pin libraries raise their own types (lgpio.error, RuntimeError, GPIOZeroError).
    except Exception as err:
        raise DeviceError(DeviceErrorCode.OPEN_FAILED,
                          {"device": device_id, "reason": type(err).__name__}) from err


class _Colour(Enum):
    NONE = "none"
    GREEN = "green"
    AMBER = "amber"
    RED = "red"


class _Blink(Enum):
    STEADY = "steady"
    SLOW = "slow"
    FAST = "fast"


_LOOKS: dict[Signal, tuple[_Colour, _Blink]] = {
    Signal.OFF: (_Colour.NONE, _Blink.STEADY),
    Signal.READY: (_Colour.GREEN, _Blink.STEADY),
    Signal.SYNCING: (_Colour.AMBER, _Blink.SLOW),
    Signal.OFFLINE: (_Colour.AMBER, _Blink.STEADY),
    Signal.FAULT: (_Colour.RED, _Blink.STEADY),
    Signal.ATTENTION: (_Colour.RED, _Blink.FAST),
}

# An LED's green die looks far brighter than its red one: a little green reads as amber.
_RGB_PWM = {_Colour.NONE: (0.0, 0.0, 0.0), _Colour.GREEN: (0.0, 1.0, 0.0),
            _Colour.AMBER: (1.0, 0.4, 0.0), _Colour.RED: (1.0, 0.0, 0.0)}
_RGB_ON_OFF = {_Colour.NONE: (0, 0, 0), _Colour.GREEN: (0, 1, 0),
               _Colour.AMBER: (1, 1, 0), _Colour.RED: (1, 0, 0)}


class GpioStatusLight:
    """The ``Indicator`` port: one RGB LED or three LEDs, steady or blinking per Signal."""

    def __init__(self, config: StatusLightConfig, *, pin_factory: PinFactory) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._shown: Signal | None = None
        self._closed = False
        named = config.pins()
        pins = list(named.values())
        self._rgb: Any = None
        self._leds: dict[_Colour, Any] = {}
        if config.blue_pin is not None:
            self._rgb = build_gpio(config.device_id, pins, lambda: RGBLED(
                config.red_pin, config.green_pin, config.blue_pin,
                active_high=config.active_high, pwm=config.pwm, pin_factory=pin_factory))
        else:
            wired = {_Colour.RED: named["red_pin"], _Colour.AMBER: named["amber_pin"],
                     _Colour.GREEN: named["green_pin"]}
            try:
                for colour, pin in wired.items():
                    self._leds[colour] = build_gpio(config.device_id, [pin], partial(
                        LED, pin, active_high=config.active_high, initial_value=False,
                        pin_factory=pin_factory))
            except DeviceError:
                self._release()
                raise

    @property
    def device_id(self) -> str:
        return self._config.device_id

    def show(self, signal: Signal) -> None:
        """Switch to ``signal``'s look; the same signal again leaves a blink undisturbed."""
        colour, blink = _LOOKS[signal]
        with self._lock:
            if self._closed or signal is self._shown:
                return
            self._shown = signal
            if blink is _Blink.STEADY:
                self._steady(colour)
            else:
                period = (self._config.slow_blink_s if blink is _Blink.SLOW
                          else self._config.fast_blink_s)
                self._blink(colour, period)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            # Off first: closing mid-blink would otherwise leave a lamp lit.
            self._steady(_Colour.NONE)
            self._release()

    def _steady(self, colour: _Colour) -> None:
        if self._rgb is not None:
            self._rgb.value = self._rgb_look(colour)
            return
        for led_colour, led in self._leds.items():
            if led_colour is colour:
                led.on()
            else:
                led.off()

    def _blink(self, colour: _Colour, period: float) -> None:
        if self._rgb is not None:
            self._rgb.blink(on_time=period, off_time=period,
                            on_color=self._rgb_look(colour), off_color=(0, 0, 0))
            return
        for led_colour, led in self._leds.items():
            if led_colour is colour:
                led.blink(on_time=period, off_time=period)
            else:
                led.off()

    def _rgb_look(self, colour: _Colour) -> tuple[float, float, float]:
        return (_RGB_PWM if self._config.pwm else _RGB_ON_OFF)[colour]

    def _release(self) -> None:
        if self._rgb is not None:
            self._rgb.close()
        for led in self._leds.values():
            led.close()


class GpioBuzzer:
    """The ``Buzzer`` port: each pattern runs on gpiozero's background thread."""

    def __init__(self, config: BuzzerConfig, *, pin_factory: PinFactory) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._closed = False
        self._buzzer: Any = build_gpio(config.device_id, [config.pin], lambda: ZeroBuzzer(
            config.pin, active_high=config.active_high, initial_value=False,
            pin_factory=pin_factory))

    @property
    def device_id(self) -> str:
        return self._config.device_id

    def beep(self, beep: Beep) -> None:
        """Start ``beep``'s pattern (cutting short one still sounding) and return."""
        c = self._config
        on_s, times = {Beep.GOOD: (c.short_s, 1), Beep.REFUSED: (c.long_s, 1),
                       Beep.ALERT: (c.short_s, 3)}[beep]
        with self._lock:
            if not self._closed:
                self._buzzer.beep(on_time=on_s, off_time=c.gap_s, n=times, background=True)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._buzzer.off()  # a pattern stopped mid-beep would leave it sounding
            self._buzzer.close()


class GpioCallButton:
    """The ``CallButton`` port: handlers run on the pin library's thread at each press."""

    def __init__(self, config: CallButtonConfig, *, pin_factory: PinFactory) -> None:
        self._config = config
        self._handlers: list[Callable[[], None]] = []
        self._button: Any = build_gpio(config.device_id, [config.pin], lambda: Button(
            config.pin, pull_up=config.pull_up, bounce_time=config.bounce_s,
            pin_factory=pin_factory))
        self._button.when_pressed = self._pressed

    @property
    def device_id(self) -> str:
        return self._config.device_id

    def on_press(self, handler: Callable[[], None]) -> None:
        """Add ``handler``; every handler is called, in order, at every press."""
        self._handlers.append(handler)

    def close(self) -> None:
        if self._button is not None:
            self._button.when_pressed = None
            self._button.close()
            self._button = None

    def _pressed(self) -> None:
        for handler in list(self._handlers):
            try:
                handler()
            # The library's callback thread must survive a broken handler: the next
            # press still has to reach the others.
            except Exception:
                log.exception("call button %s: a press handler failed", self.device_id)
