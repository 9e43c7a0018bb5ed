"""Serial (RS-232, USB-serial) card readers and scanners through pyserial.

``SerialReader`` implements ``devices.ports.CardReader`` and ``Scanner``: it opens a port
by a stable path (``/dev/serial/by-id/...``, which udev re-points when the reader comes
back), decodes its protocol's frames and turns each payload into a typed input. When
the port goes away it closes itself and raises UNPLUGGED, so the device manager can
call ``open()`` again once the path is back. Payloads are never logged.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime

import serial

from devices.errors import DeviceError, DeviceErrorCode, errno_of, open_failure, reason_of
from devices.serial_framing import DecoderCounters, FrameDecoder, PayloadEncoding
from devices.serial_protocols import SerialProtocol, SerialRole
from salon.scans import DeviceInput, classify_card, classify_scan

__all__ = ["SerialReader", "find_protocol"]

log = logging.getLogger(__name__)

# flock(LOCK_EX | LOCK_NB) on a port another process holds fails with EWOULDBLOCK.
_HELD = frozenset({errno.EAGAIN, errno.EWOULDBLOCK, errno.EBUSY})
_UNPLUGGED = frozenset({errno.EIO, errno.ENXIO, errno.ENODEV, errno.EBADF})
_WRITE_TIMEOUT = 1.0
_CLOSE_WAIT = 2.0  # for a read in another thread to leave the port once cancelled
_PROBE_ANSWER_MAX = 4096

_CLASSIFIERS: dict[SerialRole, Callable[[str, str, datetime], DeviceInput]] = {
    SerialRole.CARD_READER: classify_card,
    SerialRole.SCANNER: classify_scan,
}


class SerialReader:
    """A card reader or scanner (``protocol.role``) on a serial port.

    ``clock`` stamps the inputs; ``monotonic`` times partial frames against the
    protocol's ``frame_timeout`` (a wall clock would jump when NTP first syncs a Pi).
    """

    def __init__(
        self,
        device_id: str,
        path: str,
        protocol: SerialProtocol,
        *,
        clock: Callable[[], datetime],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._device_id = device_id
        self._path = path
        self._protocol = protocol
        self._clock = clock
        self._monotonic = monotonic
        self._classify = _CLASSIFIERS[protocol.role]
        self._text_encoding = (
            "utf-8" if protocol.framing.encoding is PayloadEncoding.UTF8 else "ascii"
        )
        self._decoder = FrameDecoder(protocol.framing)
        self._port: serial.Serial | None = None
        self._lock = threading.Lock()
        # Held while pyserial uses the port: closing it under a read would close the fds
        # that read is about to use (and the numbers may already be another file's).
        self._io = threading.Lock()

    @property
    def device_id(self) -> str:
        return self._device_id

    @property
    def path(self) -> str:
        return self._path

    @property
    def protocol(self) -> SerialProtocol:
        return self._protocol

    @property
    def is_open(self) -> bool:
        return self._port is not None

    @property
    def counters(self) -> DecoderCounters:
        """What the decoder dropped and why, since this reader was made (across reopens)."""
        return self._decoder.counters

    def open(self) -> None:
        """Open the port exclusively; NOT_FOUND, PERMISSION_DENIED, BUSY or OPEN_FAILED if not."""
        if self._port is not None:
            return
        p = self._protocol
        try:
            port = serial.Serial(
                self._path, p.baud, bytesize=p.bytesize, parity=p.parity.value,
                stopbits=p.stopbits, timeout=0, write_timeout=_WRITE_TIMEOUT, exclusive=True,
            )
        except (serial.SerialException, OSError, ValueError) as err:
            raise self._open_error(err) from err
        self._decoder.reset()
        with self._lock:
            self._port = port
        log.info("device %s: opened %s (%s)", self._device_id, self._path, p.name)

    def read(self, timeout: float) -> list[DeviceInput]:
        """The inputs of the frames completed by what arrived within ``timeout`` seconds.

        Returns at the first bytes (a frame split over reads completes on a later call).
        UNPLUGGED (and closed) if the port went away; [] if ``close`` was called meanwhile.
        """
        port = self._require_open()
        try:
            with self._io:
                data = self._read_some(port, max(0.0, timeout))
        except Exception as err:
            if self._port is not port:
                # Closed by another thread while we waited: pyserial then fails in many ways.
                return []
            if isinstance(err, serial.SerialException | OSError):
                raise self._lost(err) from err
            raise
        now = self._monotonic()
        # A stalled frame is dropped before new bytes can complete it with another's tail.
        self._decoder.expire(now)
        payloads = self._decoder.feed(data, now) if data else []
        if not payloads:
            return []
        at = self._clock()
        return [self._classify(pl.decode(self._text_encoding), self._device_id, at)
                for pl in payloads]

    def probe(self, timeout: float = 1.0) -> bool:
        """Send the protocol's probe; whether its answer came within ``timeout`` seconds.

        Opens the port if it is closed (and leaves it open). NOT_SUPPORTED if the protocol
        has no probe; UNPLUGGED if the port went away. What is read meanwhile is not decoded.
        """
        p = self._protocol
        if p.probe is None or p.probe_answer is None:
            raise DeviceError(DeviceErrorCode.NOT_SUPPORTED,
                              {"device": self._device_id, "reason": "no_probe"})
        self.open()
        port = self._require_open()
        deadline = self._monotonic() + max(0.0, timeout)
        answer = bytearray()
        try:
            with self._io:
                port.write(p.probe)
                port.flush()
                while len(answer) <= _PROBE_ANSWER_MAX:
                    remaining = deadline - self._monotonic()
                    chunk = self._read_some(port, remaining) if remaining > 0 else b""
                    if not chunk:
                        return False
                    answer += chunk
                    if p.probe_answer.search(answer):
                        return True
                return False
        except Exception as err:
            if self._port is not port:
                return False
            if isinstance(err, serial.SerialException | OSError):
                raise self._lost(err) from err
            raise

    def close(self) -> None:
        """Close the port (waking a read blocked on it); safe to call twice and after a failure."""
        with self._lock:
            port, self._port = self._port, None
        if port is None:
            return
        with contextlib.suppress(serial.SerialException, OSError):
            port.cancel_read()
        idle = self._io.acquire(timeout=_CLOSE_WAIT)
        try:
            with contextlib.suppress(serial.SerialException, OSError):
                port.close()
        finally:
            if idle:
                self._io.release()

    def _require_open(self) -> serial.Serial:
        port = self._port
        if port is None:
            raise DeviceError(DeviceErrorCode.READ_FAILED,
                              {"device": self._device_id, "reason": "not_open"})
        return port

    @staticmethod
    def _read_some(port: serial.Serial, timeout: float) -> bytes:
        """Wait up to ``timeout`` for a first byte, then take whatever else is there."""
        if port.timeout != timeout:
            port.timeout = timeout  # pyserial reconfigures the port on every set
        data: bytes = port.read(1)
        if data:
            waiting: int = port.in_waiting
            if waiting:
                data += port.read(waiting)
        return data

    def _lost(self, err: BaseException) -> DeviceError:
        self.close()
        code = errno_of(err)
        # pyserial reports a port that hung up (a USB reader pulled out, a pty whose master
        # closed) as readable with nothing to read, and keeps no errno for it.
        if code is None or code in _UNPLUGGED:
            log.warning("device %s: gone from %s", self._device_id, self._path)
            return DeviceError(DeviceErrorCode.UNPLUGGED, {"device": self._device_id})
        log.warning("device %s: read failed on %s (%s)", self._device_id, self._path,
                    reason_of(err))
        return DeviceError(DeviceErrorCode.READ_FAILED,
                           {"device": self._device_id, "reason": reason_of(err)})

    def _open_error(self, err: BaseException) -> DeviceError:
        failure = open_failure(errno_of(err), busy=_HELD)
        if failure is DeviceErrorCode.OPEN_FAILED:
            return DeviceError(failure, {"device": self._device_id, "reason": reason_of(err)})
        return DeviceError(failure, {"device": self._device_id, "path": self._path})


def find_protocol(
    device_id: str,
    path: str,
    candidates: Sequence[SerialProtocol],
    *,
    clock: Callable[[], datetime],
    timeout: float = 1.0,
) -> SerialProtocol | None:
    """The first of ``candidates`` (those with a probe) whose probe the port answers.

    Each is tried at its own line settings; open errors (NOT_FOUND, BUSY, ...) are raised.
    """
    for candidate in candidates:
        if candidate.probe is None:
            continue
        reader = SerialReader(device_id, path, candidate, clock=clock)
        try:
            if reader.probe(timeout):
                return candidate
        finally:
            reader.close()
    return None
