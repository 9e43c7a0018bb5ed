"""The devices layer's one base error: a stable code (a msgid of kiosk/locale) and parameters."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

__all__ = ["DeviceError", "DeviceErrorCode"]


class DeviceErrorCode(StrEnum):
    """Why a device cannot be used; each value is a msgid in kiosk/locale/*.po.

    The same codes are the ``reason`` of a ``DeviceStatus`` that is missing or in error,
    so the kiosk's status screen and ``salon-edge devices doctor`` read the same words.
    """

    CONFIG_INVALID = "device.config_invalid"  # device, field, reason
    NOT_FOUND = "device.not_found"  # device, path
    PERMISSION_DENIED = "device.permission_denied"  # device, path
    BUSY = "device.busy"  # device, path: another process holds it (grabbed, locked)
    UNPLUGGED = "device.unplugged"  # device
    OPEN_FAILED = "device.open_failed"  # device, reason
    READ_FAILED = "device.read_failed"  # device, reason
    UNKNOWN_LAYOUT = "device.unknown_layout"  # layout
    READER_RESTARTED = "device.reader_restarted"  # device, reason: its thread died
    NOT_SUPPORTED = "device.not_supported"  # device, reason: e.g. no GPIO on this machine
    PRINTER_OFFLINE = "printer.offline"  # device, reason
    PAPER_OUT = "printer.paper_out"  # device
    PAPER_LOW = "printer.paper_low"  # device
    COVER_OPEN = "printer.cover_open"  # device
    PRINTER_FAULT = "printer.fault"  # device: cutter jam, overheating, unrecoverable error
    STATUS_UNKNOWN = "printer.status_unknown"  # device: it did not answer a status query
    UNPRINTABLE = "printer.unprintable"  # device, char: text its code page cannot encode
    DRAWER_FAILED = "drawer.failed"  # device, reason


class DeviceError(Exception):
    """An error the engineer who sets up the store (or the cashier) can act on."""

    def __init__(
        self, code: DeviceErrorCode, params: Mapping[str, str | int] | None = None
    ) -> None:
        self.code = code
        self.params: dict[str, str | int] = dict(params or {})
        detail = ", ".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        super().__init__(code.value + (f" ({detail})" if detail else ""))
