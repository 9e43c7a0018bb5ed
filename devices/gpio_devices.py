"""The status light, buzzer and call-staff button on the Pi's GPIO pins, through gpiozero.

Every device is handed the gpiozero pin factory it must use (``pin_factory=``) and
never touches ``gpiozero.Device.pin_factory``: the hub builds one factory with
``default_pin_factory()`` and tests pass ``gpiozero.pins.mock.MockFactory``. The
configs, their checks and the pin factory live in ``devices.gpio_config`` and are
re-exported here. Library errors become ``DeviceError`` here, at the boundary.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from enum import Enum
from functools import partial
from typing import Any

from gpiozero import LED, RGBLED, Button
from gpiozero import Buzzer as ZeroBuzzer

from devices.errors import DeviceError
from devices.gpio_config import (
    BuzzerConfig,
    CallButtonConfig,
    ConfigProblem,
    GpioPins,
    PinBackend,
    PinFactory,
    StatusLightConfig,
    build_gpio,
    check_common,
    check_distinct_pins,
    check_pin,
    check_range,
    config_error,
    default_pin_factory,
)
from devices.ports import Beep, Signal

# The configs and the pin factory are re-exported: callers import them with the devices.
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
    Signal.STOCK_LOW: (_Colour.GREEN, _Blink.SLOW),
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
