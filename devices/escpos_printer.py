"""The ESC/POS receipt printer adapter over python-escpos's USB, serial, network and file links.

python-escpos is used for its connections only; the bytes come from
``devices.escpos_bytes`` and go through ``_raw()``. What 3.1 does that is worked around
here (read in its sources): ``Network._read`` waits the whole connect timeout (60 s by
default) and ``Serial._read`` waits for 16 bytes, so status reads set a short timeout
of their own; ``File`` cannot read at all, so a character device (``/dev/usb/lp0``) is
opened read-write here to read status answers; ``Usb`` without pyusb raises from
``__del__``, so it is never built then; the ``device`` property opens on first use and
asserts after a failed open, so links are opened explicitly. Every library error
becomes a ``DeviceError`` at this boundary.
"""

from __future__ import annotations

import logging
import os
import select
import stat
import threading
import time
from collections.abc import Callable
from typing import IO, Any

from escpos.printer import File, Network, Serial, Usb
from escpos.printer import usb as escpos_usb

from devices.errors import DeviceError, DeviceErrorCode
from devices.escpos_bytes import Rendered, StatusQuery, receipt_bytes, status_query
from devices.escpos_decode import read_status
from devices.ports import DeviceKind, DeviceState, DeviceStatus
from devices.printer_config import ConnectionKind, PrinterConfig, printer_config
from devices.receipt_doc import Receipt

# The settings and their reader live in devices.printer_config; they are re-exported
# here because callers (devices.config, the tests) import them with the adapter.
__all__ = ["ConnectionKind", "EscposPrinter", "PrinterConfig", "printer_config"]

log = logging.getLogger(__name__)


class _DeviceFile(File):  # type: ignore[misc]
    """``File`` that reads, and does not hang: a character device is opened non-blocking.

    usblp blocks a write for as long as the printer is out of paper, and ``File`` has no
    ``_read``; so ``/dev/usb/lp0`` is opened read-write, writes wait at most ``timeout``
    and a status answer is read with select. A plain file is appended to.
    """

    def __init__(self, devfile: str, timeout: float, **kwargs: Any) -> None:
        super().__init__(devfile, **kwargs)
        self.write_timeout = timeout
        self._fd: int | None = None

    def open(self, raise_not_found: bool = True) -> None:
        # Never created: a missing /dev/usb/lp0 is "not found", not a new plain file; and
        # not "wb" as File opens it, which would empty a plain file at every reconnect.
        handle: IO[bytes]
        if stat.S_ISCHR(os.stat(self.devfile).st_mode):
            self._fd = os.open(self.devfile, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            handle = os.fdopen(self._fd, "r+b", buffering=0)
        else:
            handle = os.fdopen(os.open(self.devfile, os.O_WRONLY | os.O_APPEND), "ab")
        self.device = handle

    def _raw(self, msg: bytes) -> None:
        if self._fd is None:
            super()._raw(msg)
            return
        view, deadline = memoryview(msg), time.monotonic() + self.write_timeout
        while view:
            _, ready, _ = select.select([], [self._fd], [], max(deadline - time.monotonic(), 0))
            if not ready:
                raise TimeoutError("the printer took no data")
            try:
                view = view[os.write(self._fd, view):]
            except BlockingIOError:
                continue

    def read_answer(self, timeout: float) -> bytes | None:
        if self._fd is None:
            return None  # a plain file: nothing ever answers
        ready, _, _ = select.select([self._fd], [], [], timeout)
        try:
            return os.read(self._fd, 16) or None if ready else None
        except BlockingIOError:
            return None

    def close(self) -> None:
        super().close()
        self._fd = None


class _Link:
    """One open connection: write, and read a status answer within a timeout."""

    def __init__(self, printer: Any, kind: ConnectionKind, config: PrinterConfig) -> None:
        self.printer, self.kind, self.config = printer, kind, config

    def write(self, data: bytes) -> None:
        self.printer._raw(data)

    def read(self, timeout: float) -> bytes | None:
        """The answer, or None if none came; ConnectionError if the other end closed."""
        device = self.printer.device
        if self.kind is ConnectionKind.NETWORK:
            device.settimeout(timeout)
            try:
                data: bytes = device.recv(16)
            except (TimeoutError, BlockingIOError):  # a timeout of 0 makes it non-blocking
                return None
            finally:
                device.settimeout(self.config.timeout)
            if not data:
                raise ConnectionError("the printer closed the connection")
            return data
        if self.kind is ConnectionKind.SERIAL:
            device.timeout = timeout
            return bytes(device.read(1)) or None
        if self.kind is ConnectionKind.USB:
            try:
                wait_ms = max(int(timeout * 1000), 1)  # 0 would be libusb's "wait forever"
                return bytes(device.read(self.printer.in_ep, 16, wait_ms)) or None
            except Exception as err:  # pyusb's USBTimeoutError, not importable without pyusb
                if type(err).__name__ == "USBTimeoutError":
                    return None
                raise
        answer: bytes | None = self.printer.read_answer(timeout)
        return answer

    def drain(self) -> None:
        """Drop a late answer to an earlier query, so it is not read as this one's."""
        while self.read(0.0):
            pass

    def close(self) -> None:
        try:
            self.printer.close()
        except OSError as err:
            log.debug("closing printer %s: %s", self.config.device_id, err)


def _reason(err: BaseException) -> str:
    if isinstance(err, ConnectionRefusedError):
        return "connection refused"
    if isinstance(err, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
        return "connection lost"
    if isinstance(err, TimeoutError) or type(err).__name__ == "SerialTimeoutException":
        return "timed out"
    if isinstance(err, ConnectionError):
        return "connection closed"
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    return type(err).__name__


def _translate(config: PrinterConfig, err: BaseException) -> DeviceError:
    """A library or OS error as the DeviceError a person can act on."""
    if isinstance(err, DeviceError):
        return err
    cause = err.__context__ if type(err).__name__ == "DeviceNotFoundError" else err
    device, path = config.device_id, config.address
    number = getattr(cause, "errno", None)
    if isinstance(cause, FileNotFoundError) or number == 2:
        return DeviceError(DeviceErrorCode.NOT_FOUND, {"device": device, "path": path})
    if isinstance(cause, PermissionError) or number == 13:
        return DeviceError(DeviceErrorCode.PERMISSION_DENIED, {"device": device, "path": path})
    if number == 16:
        return DeviceError(DeviceErrorCode.BUSY, {"device": device, "path": path})
    if number == 19:  # ENODEV: the USB printer behind /dev/usb/lp0 went away
        return DeviceError(DeviceErrorCode.UNPLUGGED, {"device": device})
    if isinstance(cause, AssertionError):  # Usb.open's way of saying "not found"
        return DeviceError(DeviceErrorCode.NOT_FOUND, {"device": device, "path": path})
    return DeviceError(DeviceErrorCode.PRINTER_OFFLINE,
                       {"device": device, "reason": _reason(cause or err)})


class EscposPrinter:
    """A ``devices.ports.ReceiptPrinter`` (and ``send_raw`` for the drawer behind it).

    A network printer is connected per job (an idle socket is often dropped by the
    printer and would swallow the next receipt); the others stay open until an error.
    Around each receipt the printer is asked its status: a printer that answers "paper
    out" before gets nothing sent, and an answer after catches a connection dropped or
    paper run out mid-receipt. A printer that does not answer is printed to anyway.
    """

    def __init__(self, config: PrinterConfig) -> None:
        self._config = config
        self._format = config.print_format()
        self._lock = threading.Lock()
        self._link: _Link | None = None
        self._last = self._status(DeviceState.CONNECTING)

    @property
    def device_id(self) -> str:
        return self._config.device_id

    def render(self, receipt: Receipt) -> Rendered:
        """The bytes ``print_receipt`` sends for ``receipt`` (``devices doctor`` shows them)."""
        return receipt_bytes(receipt, self._format)

    def print_receipt(self, receipt: Receipt) -> None:
        rendered = self.render(receipt)
        if rendered.layout.replaced:
            log.warning("receipt %s: %d characters not printable, printed as '?': %s",
                        receipt.job_id, len(rendered.layout.replaced),
                        " ".join(f"U+{ord(c):04X}" for c in rendered.layout.replaced))
        self._locked(lambda link: self._print(link, rendered.data))

    def send_raw(self, data: bytes) -> None:
        """Send bytes as they are (the drawer kick); DeviceError if they could not be."""
        self._locked(lambda link: link.write(data))

    def status(self) -> DeviceStatus:
        """Ask the printer; never raises. While a receipt prints, the last status seen."""
        if not self._lock.acquire(timeout=self._config.status_timeout):
            return self._last
        try:
            link = self._open()
            status = self._query(link)
            if self._config.connection is ConnectionKind.NETWORK:
                self._drop()
        except DeviceError as err:
            self._drop()
            status = self._status(DeviceState.ERROR, err.code, err.params)
        except Exception as err:  # the port's promise: a status query never raises
            log.exception("status of printer %s", self.device_id)
            self._drop()
            status = self._status(DeviceState.ERROR, DeviceErrorCode.PRINTER_OFFLINE,
                                  {"device": self.device_id, "reason": type(err).__name__})
        finally:
            self._lock.release()
        self._last = status
        return status

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _locked(self, action: Callable[[_Link], None]) -> None:
        with self._lock:
            try:
                action(self._open())
            except DeviceError as err:
                self._drop()
                self._last = self._status(DeviceState.ERROR, err.code, err.params)
                raise
            except (OSError, ValueError) as err:
                self._drop()
                error = _translate(self._config, err)
                self._last = self._status(DeviceState.ERROR, error.code, error.params)
                raise error from err
            if self._config.connection is ConnectionKind.NETWORK:
                self._drop()

    def _print(self, link: _Link, data: bytes) -> None:
        before = self._query(link)
        if before.state is DeviceState.ERROR and before.reason is not None:
            raise DeviceError(before.reason, dict(before.params))
        link.write(data)
        after = self._query(link)
        if after.state is DeviceState.ERROR and after.reason is not None:
            raise DeviceError(after.reason, dict(after.params))
        self._last = after

    def _query(self, link: _Link) -> DeviceStatus:
        """DLE EOT 1, 2 and 4; raises DeviceError if the link broke while asking."""
        answers: dict[StatusQuery, int] = {}
        try:
            for query in (StatusQuery.PRINTER, StatusQuery.OFFLINE_CAUSE, StatusQuery.PAPER):
                link.drain()
                link.write(status_query(query))
                answer = link.read(self._config.status_timeout)
                if answer is None:
                    break
                answers[query] = answer[-1]
        except (OSError, ValueError) as err:
            raise _translate(self._config, err) from err
        state, reason = read_status(answers)
        return self._status(state, reason)

    def _status(self, state: DeviceState, reason: DeviceErrorCode | None = None,
                params: dict[str, str | int] | None = None) -> DeviceStatus:
        values = dict(params or ({"device": self.device_id} if reason else {}))
        return DeviceStatus(self.device_id, DeviceKind.PRINTER, state, reason,
                            tuple(sorted(values.items())))

    def _open(self) -> _Link:
        if self._link is None:
            printer = self._build()
            try:
                printer.open(raise_not_found=True)
                if self._config.connection is ConnectionKind.SERIAL:
                    printer.device.write_timeout = self._config.timeout
            except Exception as err:
                raise _translate(self._config, err) from err
            self._link = _Link(printer, self._config.connection, self._config)
        return self._link

    def _drop(self) -> None:
        if self._link is not None:
            self._link.close()
            self._link = None

    def _build(self) -> Any:
        c = self._config
        kind = c.connection
        if kind is ConnectionKind.NETWORK:
            return Network(c.host, c.port, timeout=c.timeout, profile=c.profile)
        if kind is ConnectionKind.SERIAL:
            return Serial(c.serial_port, baudrate=c.baudrate, timeout=c.status_timeout,
                          profile=c.profile)
        if kind is ConnectionKind.FILE:
            return _DeviceFile(c.path, c.timeout, profile=c.profile)
        if not escpos_usb.is_usable():
            raise DeviceError(DeviceErrorCode.NOT_SUPPORTED,
                              {"device": c.device_id, "reason": "pyusb is not installed"})
        return Usb(c.usb_vendor_id, c.usb_product_id, timeout=int(c.timeout * 1000),
                   in_ep=c.usb_in_ep, out_ep=c.usb_out_ep, profile=c.profile)
