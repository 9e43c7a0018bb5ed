"""The cash drawer: a kick pulse through the receipt printer, or a relay on a GPIO pin.

A drawer's solenoid is fired by a short pulse. Most drawers hang off the printer's
RJ-11 "DK" port and are kicked with ESC p; a drawer without a printer port is
switched by a relay on a GPIO pin, which must never click at boot or at exit.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from gpiozero import DigitalOutputDevice

from devices.errors import DeviceError, DeviceErrorCode
from devices.gpio_config import (
    ConfigProblem,
    PinFactory,
    build_gpio,
    check_common,
    check_pin,
    check_range,
    config_error,
)

__all__ = [
    "KickPin",
    "PrinterKickConfig",
    "PrinterKickDrawer",
    "RelayDrawer",
    "RelayDrawerConfig",
    "kick_command",
]

log = logging.getLogger(__name__)

_ESC_P = b"\x1bp"
_KICK_UNIT_MS = 2  # ESC p counts its on and off times in 2 ms steps
_KICK_MAX_MS = 255 * _KICK_UNIT_MS
_BOOT_PULL_UP = range(9)  # BCM 0-8 come up pulled high on a Pi 4 and older; 9-27 low


class KickPin(IntEnum):
    """The ``m`` of ESC p: which pin of the printer's drawer port carries the pulse."""

    PIN_2 = 0
    PIN_5 = 1


def kick_command(pin: KickPin, on_ms: int, off_ms: int) -> bytes:
    """ESC p m t1 t2: ``on_ms`` of pulse then at least ``off_ms`` before the next."""
    return _ESC_P + bytes((pin, on_ms // _KICK_UNIT_MS, off_ms // _KICK_UNIT_MS))


@dataclass(frozen=True, slots=True)
class PrinterKickConfig:
    """A drawer on the printer's port; both pins are kicked unless told otherwise,
    since which one a drawer is wired to varies from cable to cable."""

    device_id: str
    on_ms: int = 50
    off_ms: int = 500
    pins: tuple[KickPin, ...] = (KickPin.PIN_2, KickPin.PIN_5)

    def __post_init__(self) -> None:
        check_common(self.device_id)
        for field, value in (("on_ms", self.on_ms), ("off_ms", self.off_ms)):
            if not isinstance(value, int) or value % _KICK_UNIT_MS:
                raise config_error(self.device_id, field, ConfigProblem.OUT_OF_RANGE)
        check_range(self.device_id, "on_ms", self.on_ms, 0, _KICK_MAX_MS)
        # Printers stretch an off time shorter than the pulse to the pulse's length anyway.
        check_range(self.device_id, "off_ms", self.off_ms, self.on_ms - 1, _KICK_MAX_MS)
        kick_pins = set(KickPin)
        if (not self.pins or len(set(self.pins)) != len(self.pins)
                or not all(pin in kick_pins for pin in self.pins)):
            raise config_error(self.device_id, "pins", ConfigProblem.OUT_OF_RANGE)


class PrinterKickDrawer:
    """The ``CashDrawer`` port over the receipt printer's raw channel (``send_raw``)."""

    def __init__(self, config: PrinterKickConfig, send_raw: Callable[[bytes], None]) -> None:
        self._config = config
        self._send_raw = send_raw
        # One write for every pin: a receipt cannot land between the two kicks.
        self._command = b"".join(kick_command(pin, config.on_ms, config.off_ms)
                                 for pin in config.pins)

    @property
    def device_id(self) -> str:
        return self._config.device_id

    def open_drawer(self) -> None:
        try:
            self._send_raw(self._command)
        except DeviceError as err:
            raise self._failed(err.code.value) from err
        except OSError as err:  # a printer adapter that let its transport's error through
            raise self._failed(errno.errorcode.get(err.errno or 0, type(err).__name__)) from err

    def close(self) -> None:
        """Nothing to release: the printer adapter owns (and closes) the printer."""

    def _failed(self, reason: str) -> DeviceError:
        return DeviceError(DeviceErrorCode.DRAWER_FAILED,
                           {"device": self.device_id, "reason": reason})


@dataclass(frozen=True, slots=True)
class RelayDrawerConfig:
    """A relay module on one pin.

    Before this program runs, the pin is what the board's power-on pull makes it (on a
    Pi 4 and older: BCM 0-8 pulled up, 9-27 pulled down): put an active-high relay on
    9-27 and an active-low one on 0-8, or it clicks at boot.
    """

    device_id: str
    pin: int
    active_high: bool = True  # False for the common relay boards that switch on a low input
    pulse_s: float = 0.1
    rest_s: float = 0.4  # after a pulse, the solenoid's time to drop out before another

    def __post_init__(self) -> None:
        check_common(self.device_id, active_high=self.active_high)
        check_pin(self.device_id, "pin", self.pin)
        check_range(self.device_id, "pulse_s", self.pulse_s, 0.0, 2.0)
        check_range(self.device_id, "rest_s", self.rest_s, 0.0, 10.0)

    def pins(self) -> dict[str, int]:
        return {"pin": self.pin}


class RelayDrawer:
    """The ``CashDrawer`` port as a relay pulsed from a GPIO pin, off the caller's thread.

    The pin is claimed at its inactive level (no click at boot) and driven inactive
    before it is released on close; after that it is an input, so the relay board's
    own pull resistor must hold it inactive (most boards have one). A kick during a
    pulse or its rest is dropped: two in a row must not merge into one long pulse,
    and the drawer is opening anyway.
    """

    def __init__(self, config: RelayDrawerConfig, *, pin_factory: PinFactory,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._config = config
        self._clock = clock
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._pulsing = False
        self._closed = False
        self._ready_at = float("-inf")
        self._worker: threading.Thread | None = None
        self._relay: Any = build_gpio(config.device_id, [config.pin], lambda: DigitalOutputDevice(
            config.pin, active_high=config.active_high, initial_value=False,
            pin_factory=pin_factory))
        if (config.pin in _BOOT_PULL_UP) == config.active_high:
            log.warning("drawer %s: GPIO%d is pulled to the relay's active level at power-on;"
                        " it may click at boot", config.device_id, config.pin)

    @property
    def device_id(self) -> str:
        return self._config.device_id

    def open_drawer(self) -> None:
        """Start one pulse and return; DRAWER_FAILED if closed or the pin cannot be set."""
        with self._lock:
            if self._closed:
                raise DeviceError(DeviceErrorCode.DRAWER_FAILED,
                                  {"device": self.device_id, "reason": "closed"})
            now = self._clock()
            if self._pulsing or now < self._ready_at:
                log.info("drawer %s: kick dropped, the last one is still pulsing or resting",
                         self.device_id)
                return
            try:
                self._relay.on()
            # The pin libraries raise their own types (lgpio.error, RuntimeError, ...).
            except Exception as err:
                raise DeviceError(DeviceErrorCode.DRAWER_FAILED,
                                  {"device": self.device_id, "reason": type(err).__name__}) from err
            self._pulsing = True
            self._ready_at = now + self._config.pulse_s + self._config.rest_s
            self._worker = threading.Thread(target=self._end_pulse,
                                            name=f"drawer-{self.device_id}", daemon=True)
            self._worker.start()

    def close(self) -> None:
        """End a pulse under way, leave the pin inactive and release it; safe twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._stop.set()
            worker = self._worker
        if worker is not None:
            worker.join()
        with self._lock:
            self._relay.off()
            self._relay.close()

    def _end_pulse(self) -> None:
        self._stop.wait(self._config.pulse_s)
        with self._lock:
            try:
                self._relay.off()
            except Exception:  # nobody to raise to on this thread; close() tries again
                log.exception("drawer %s: could not end the pulse", self.device_id)
            self._pulsing = False
