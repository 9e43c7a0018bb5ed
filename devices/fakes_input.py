"""Fakes for HID input at the port: a scanner and a card reader the manager and hub can drive.

``FakeScanner`` / ``FakeCardReader`` implement the ports for tests of the manager and
the hub (``scan("6901234567892")``, ``present("04A1B2C3")``, ``unplug()``). The fakes
below the port (an evdev device behind the opener seam, ``key_events``) are in
``devices.fakes_evdev`` and re-exported here.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime

from devices.errors import DeviceError, DeviceErrorCode
from devices.fakes_evdev import FakeEvdevBus, FakeEvdevDevice, FakeEvdevHandle, key_events
from salon.scans import DeviceInput, classify_card, classify_scan

__all__ = [
    "FakeCardReader",
    "FakeEvdevBus",
    "FakeEvdevDevice",
    "FakeEvdevHandle",
    "FakeInput",
    "FakeScanner",
    "key_events",
]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class FakeInput:
    """A scanner or card reader as the port sees it; what it was given is read once open."""

    def __init__(
        self,
        device_id: str,
        classify: Callable[[str, str, datetime], DeviceInput],
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._device_id = device_id
        self._classify = classify
        self._clock = clock
        self._queued: deque[str] = deque()
        self._ready = threading.Condition()
        self.opened = False
        self.grabbed = False
        self.plugged = True
        self.open_calls = 0
        self.open_failures = 0  # the next this many open() calls fail with open_error
        self.open_error = DeviceErrorCode.NOT_FOUND
        self._lost = False  # unplugged while open: the next read raises UNPLUGGED

    @property
    def device_id(self) -> str:
        return self._device_id

    def open(self) -> None:
        with self._ready:
            self.open_calls += 1
            if not self.plugged:
                raise DeviceError(DeviceErrorCode.NOT_FOUND, {
                    "device": self._device_id, "path": f"fake:{self._device_id}",
                })
            if self.open_failures > 0:
                self.open_failures -= 1
                raise DeviceError(self.open_error, {
                    "device": self._device_id, "path": f"fake:{self._device_id}",
                })
            self.opened = self.grabbed = True

    def read(self, timeout: float) -> list[DeviceInput]:
        with self._ready:
            if self._lost:
                self._lost = False
                raise DeviceError(DeviceErrorCode.UNPLUGGED, {"device": self._device_id})
            if not self.opened:
                raise DeviceError(DeviceErrorCode.READ_FAILED, {
                    "device": self._device_id, "reason": "not open",
                })
            self._ready.wait_for(lambda: bool(self._queued) or self._lost, max(0.0, timeout))
            if self._lost:
                return []  # the next read says UNPLUGGED, as a real one would
            texts = list(self._queued)
            self._queued.clear()
        at = self._clock()
        return [self._classify(text, self._device_id, at) for text in texts]

    def close(self) -> None:
        with self._ready:
            self.opened = self.grabbed = False

    def feed(self, text: str) -> None:
        """Queue raw text as the device would have typed it (read once it is open)."""
        with self._ready:
            self._queued.append(text)
            self._ready.notify_all()

    def unplug(self) -> None:
        """Pull the cable: the device is closed, its next read raises UNPLUGGED, open fails."""
        with self._ready:
            self.plugged = False
            self._lost = self.opened
            self.opened = self.grabbed = False
            self._queued.clear()
            self._ready.notify_all()

    def replug(self) -> None:
        with self._ready:
            self.plugged = True


class FakeScanner(FakeInput):
    def __init__(
        self, device_id: str = "scanner", clock: Callable[[], datetime] = _utc_now
    ) -> None:
        super().__init__(device_id, classify_scan, clock)

    def scan(self, code: str) -> None:
        self.feed(code)


class FakeCardReader(FakeInput):
    def __init__(
        self, device_id: str = "card_reader", clock: Callable[[], datetime] = _utc_now
    ) -> None:
        super().__init__(device_id, classify_card, clock)

    def present(self, uid: str) -> None:
        self.feed(uid)
