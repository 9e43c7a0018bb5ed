"""The devices layer's one base error: a stable code (a msgid of kiosk/locale) and parameters."""

from __future__ import annotations

import errno
import termios
from collections.abc import Mapping
from enum import StrEnum

__all__ = [
    "DENIED",
    "GONE",
    "DeviceError",
    "DeviceErrorCode",
    "config_invalid",
    "errno_of",
    "open_failure",
    "reason_of",
]

GONE = frozenset({errno.ENOENT, errno.ENODEV, errno.ENXIO})
"""A device node that is not there (unplugged, never plugged in)."""
DENIED = frozenset({errno.EACCES, errno.EPERM})


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


def config_invalid(device: str, field: str, reason: str, **extra: str | int) -> DeviceError:
    """A setting refused: which device, which field, and why (``reason``: a ``reason.*``
    id of the catalog where one exists, so the message reads in the engineer's language)."""
    return DeviceError(DeviceErrorCode.CONFIG_INVALID,
                       {"device": device, "field": field, "reason": reason, **extra})


def errno_of(err: BaseException) -> int | None:
    """The OS error number under ``err``: libraries (pyserial) keep only the message and
    chain the OSError as the cause."""
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno is not None:
            return seen.errno
        # termios.error is not an OSError; its first argument is the number.
        if isinstance(seen, termios.error) and seen.args and isinstance(seen.args[0], int):
            return seen.args[0]
        seen = seen.__cause__ or seen.__context__
    return None


def reason_of(err: BaseException) -> str:
    """A short stable name of a failure: the errno's (ENODEV, EIO ...) or the error type's."""
    code = errno_of(err)
    return errno.errorcode.get(code, str(code)) if code is not None else type(err).__name__


def open_failure(code: int | None, busy: frozenset[int] = frozenset({errno.EBUSY}),
                 ) -> DeviceErrorCode:
    """Why opening a device node failed, by its errno (``busy``: the numbers that mean
    another process holds it)."""
    if code in GONE:
        return DeviceErrorCode.NOT_FOUND
    if code in DENIED:
        return DeviceErrorCode.PERMISSION_DENIED
    if code in busy:
        return DeviceErrorCode.BUSY
    return DeviceErrorCode.OPEN_FAILED
