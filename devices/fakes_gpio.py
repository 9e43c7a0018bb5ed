"""Fakes of the light, buzzer, call button and drawer ports, to drive and inspect in tests."""

from __future__ import annotations

from collections.abc import Callable

from devices.errors import DeviceError, DeviceErrorCode
from devices.ports import Beep, Signal

__all__ = ["FakeBuzzer", "FakeCallButton", "FakeDrawer", "FakeIndicator"]


class FakeIndicator:
    """Records every signal shown, in order (``shown[-1]`` is what the light says now)."""

    def __init__(self, device_id: str = "light") -> None:
        self._device_id = device_id
        self.shown: list[Signal] = []
        self.closed = False

    @property
    def device_id(self) -> str:
        return self._device_id

    def show(self, signal: Signal) -> None:
        self.shown.append(signal)

    def close(self) -> None:
        self.closed = True


class FakeBuzzer:
    def __init__(self, device_id: str = "buzzer") -> None:
        self._device_id = device_id
        self.beeps: list[Beep] = []
        self.closed = False

    @property
    def device_id(self) -> str:
        return self._device_id

    def beep(self, beep: Beep) -> None:
        self.beeps.append(beep)

    def close(self) -> None:
        self.closed = True


class FakeCallButton:
    """``press()`` is a person pressing it: every handler is called, as on the real one."""

    def __init__(self, device_id: str = "call_button") -> None:
        self._device_id = device_id
        self._handlers: list[Callable[[], None]] = []
        self.closed = False

    @property
    def device_id(self) -> str:
        return self._device_id

    def on_press(self, handler: Callable[[], None]) -> None:
        self._handlers.append(handler)

    def press(self) -> None:
        if not self.closed:
            for handler in list(self._handlers):
                handler()

    def close(self) -> None:
        self.closed = True


class FakeDrawer:
    """Counts ``kicks``; ``fail_next()`` makes the next kick raise DRAWER_FAILED instead."""

    def __init__(self, device_id: str = "drawer") -> None:
        self._device_id = device_id
        self.kicks = 0
        self.closed = False
        self._fail_reason: str | None = None

    @property
    def device_id(self) -> str:
        return self._device_id

    def fail_next(self, reason: str = DeviceErrorCode.PRINTER_OFFLINE.value) -> None:
        self._fail_reason = reason

    def open_drawer(self) -> None:
        reason, self._fail_reason = self._fail_reason, None
        if reason is None and self.closed:
            reason = "closed"
        if reason is not None:
            raise DeviceError(DeviceErrorCode.DRAWER_FAILED,
                              {"device": self._device_id, "reason": reason})
        self.kicks += 1

    def close(self) -> None:
        self.closed = True
