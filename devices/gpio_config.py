"""The GPIO devices' configs, checked when made, and the gpiozero pin factory they are built on.

A config is a frozen dataclass that refuses a bad value with a DeviceError
CONFIG_INVALID naming the field (``config_error``); ``check_distinct_pins`` checks
several together (the drawer relay in ``devices.drawer`` included).
``default_pin_factory`` picks the pin library the hub hands every device, and
``build_gpio`` turns a gpiozero device's construction errors into DeviceError.
"""

from __future__ import annotations

import importlib
import logging
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from gpiozero.exc import GPIOPinInUse, PinPWMUnsupported

from devices.errors import DeviceError, DeviceErrorCode, config_invalid

__all__ = [
    "BCM_PINS",
    "BuzzerConfig",
    "CallButtonConfig",
    "ConfigProblem",
    "GpioPins",
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
    return config_invalid(device_id, field, problem.value, **extra)


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
