"""The devices layer's ports: what the hub asks of scanners, readers, printer, drawer and lights.

Each port is a small ``typing.Protocol``; one adapter module per library implements it
(evdev, pyserial, python-escpos, gpiozero) and ``devices.fakes`` has a fake of each.
Input devices do not call back: the device manager's reader thread calls ``read``
in a loop and puts what it returns on the hub's queue, so an adapter holds no thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum, StrEnum
from typing import Protocol

from devices.errors import DeviceError, DeviceErrorCode
from devices.receipt_doc import Receipt
from salon.scans import DeviceInput

__all__ = [
    "Beep",
    "Buzzer",
    "CallButton",
    "CardReader",
    "CashDrawer",
    "DeviceKind",
    "DeviceState",
    "DeviceStateChanged",
    "DeviceStatus",
    "Indicator",
    "InputDevice",
    "ReceiptPrinter",
    "Scanner",
    "Signal",
    "StaffCalled",
]


class DeviceKind(StrEnum):
    SCANNER = "scanner"
    CARD_READER = "card_reader"
    PRINTER = "printer"
    DRAWER = "drawer"
    LIGHT = "light"
    BUZZER = "buzzer"
    BUTTON = "button"


class DeviceState(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    MISSING = "missing"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """One device as a person should see it; ``reason`` says why it is missing or in error."""

    device_id: str
    kind: DeviceKind
    state: DeviceState
    reason: DeviceErrorCode | None = None
    params: tuple[tuple[str, str | int], ...] = ()

    @classmethod
    def failed(cls, device_id: str, kind: DeviceKind, state: DeviceState,
               err: DeviceError) -> DeviceStatus:
        """The device in ``state`` because of ``err`` (its code the reason, its params kept)."""
        return cls(device_id, kind, state, err.code, tuple(sorted(err.params.items())))


@dataclass(frozen=True, slots=True)
class DeviceStateChanged:
    status: DeviceStatus
    at: datetime


@dataclass(frozen=True, slots=True)
class StaffCalled:
    """The optional "call staff" button was pressed."""

    device_id: str
    at: datetime


class Signal(Enum):
    """What the status light says (colour, and steady or blinking)."""

    OFF = "off"
    READY = "ready"  # green, steady
    SYNCING = "syncing"  # amber, blinking
    OFFLINE = "offline"  # amber, steady
    FAULT = "fault"  # red, steady
    ATTENTION = "attention"  # red, blinking: someone pressed "call staff", a device is gone
    STOCK_LOW = "stock_low"  # green, blinking: ready, and a product is below its threshold


class Beep(Enum):
    GOOD = "good"  # one short beep: a scan or card that was accepted
    REFUSED = "refused"  # one long beep: an unknown card, a garbled scan
    ALERT = "alert"  # three short beeps


class InputDevice(Protocol):
    """A scanner or card reader, read by the manager's thread until it fails or is closed."""

    @property
    def device_id(self) -> str: ...

    def open(self) -> None:
        """Open (and grab) the device; ``DeviceError`` with NOT_FOUND, BUSY, ... if it cannot."""

    def read(self, timeout: float) -> list[DeviceInput]:
        """What was read within ``timeout`` seconds (maybe nothing); ``DeviceError`` if gone."""
        ...

    def close(self) -> None:
        """Release the device; safe to call twice and after a failure."""


class Scanner(InputDevice, Protocol):
    """A barcode / QR scanner: BarcodeScanned, PayCodeScanned, ScanGarbled."""


class CardReader(InputDevice, Protocol):
    """A member card reader (RFID/NFC, magstripe): CardPresented, ScanGarbled."""


class ReceiptPrinter(Protocol):
    @property
    def device_id(self) -> str: ...

    def print_receipt(self, receipt: Receipt) -> None:
        """Send the whole receipt; ``DeviceError`` (PRINTER_OFFLINE, PAPER_OUT, ...) if not."""

    def status(self) -> DeviceStatus:
        """Ask the printer (a short timeout); never raises: no answer is STATUS_UNKNOWN."""
        ...

    def close(self) -> None: ...


class CashDrawer(Protocol):
    @property
    def device_id(self) -> str: ...

    def open_drawer(self) -> None:
        """One short kick pulse; ``DeviceError(DRAWER_FAILED)`` if it could not be sent."""

    def close(self) -> None: ...


class Indicator(Protocol):
    @property
    def device_id(self) -> str: ...

    def show(self, signal: Signal) -> None: ...

    def close(self) -> None:
        """Switch the light off and release its pins."""


class Buzzer(Protocol):
    @property
    def device_id(self) -> str: ...

    def beep(self, beep: Beep) -> None:
        """Start the pattern and return at once (the pattern runs in the background)."""

    def close(self) -> None: ...


class CallButton(Protocol):
    @property
    def device_id(self) -> str: ...

    def on_press(self, handler: Callable[[], None]) -> None:
        """Call ``handler`` (from the library's thread) on every press; it must not block."""

    def close(self) -> None: ...
