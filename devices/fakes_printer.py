"""A fake receipt printer to drive and inspect in tests: paper out, offline, a failing next job.

It implements ``devices.ports.ReceiptPrinter`` and ``send_raw`` like
``devices.escpos_printer.EscposPrinter``; a receipt it cannot print raises the same
``DeviceError`` the real one would, and ``status()`` says what a real one would answer.
"""

from __future__ import annotations

import threading

from devices.errors import DeviceError, DeviceErrorCode
from devices.ports import DeviceKind, DeviceState, DeviceStatus
from devices.receipt_doc import Receipt

__all__ = ["FakePrinter"]


class FakePrinter:
    """``printed`` holds the receipts printed, in order; ``raw`` the bytes of ``send_raw``."""

    def __init__(self, device_id: str = "printer") -> None:
        self._device_id = device_id
        self._lock = threading.Lock()  # the spool prints from its own thread
        self.printed: list[Receipt] = []
        self.raw = bytearray()
        self.closed = False
        self._fault: DeviceErrorCode | None = None
        self._next: list[DeviceErrorCode] = []

    @property
    def device_id(self) -> str:
        return self._device_id

    def paper_out(self) -> None:
        """Until ``online()``, every job fails with PAPER_OUT."""
        self._fault = DeviceErrorCode.PAPER_OUT

    def offline(self) -> None:
        """Until ``online()``, every job and ``send_raw`` fail with PRINTER_OFFLINE."""
        self._fault = DeviceErrorCode.PRINTER_OFFLINE

    def online(self) -> None:
        """Paper loaded, cable back: the printer works again."""
        self._fault = None

    def fail_next(self, code: DeviceErrorCode) -> None:
        """The next print fails once with ``code`` (queued: call twice for two)."""
        with self._lock:
            self._next.append(code)

    def print_receipt(self, receipt: Receipt) -> None:
        with self._lock:
            code = self._next.pop(0) if self._next else self._fault
            if code is not None:
                raise self._error(code)
            self.printed.append(receipt)

    def send_raw(self, data: bytes) -> None:
        with self._lock:
            if self._fault is DeviceErrorCode.PRINTER_OFFLINE:
                raise self._error(self._fault)
            self.raw += data

    def status(self) -> DeviceStatus:
        fault = self._fault
        if fault is None:
            return DeviceStatus(self._device_id, DeviceKind.PRINTER, DeviceState.CONNECTED)
        return DeviceStatus.failed(self._device_id, DeviceKind.PRINTER, DeviceState.ERROR,
                                   self._error(fault))

    def close(self) -> None:
        self.closed = True

    def _error(self, code: DeviceErrorCode) -> DeviceError:
        params: dict[str, str | int] = {"device": self._device_id}
        if code is DeviceErrorCode.PRINTER_OFFLINE:
            params["reason"] = "unplugged"
        return DeviceError(code, params)
