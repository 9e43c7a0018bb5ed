"""Serial frames as data, and a pure incremental decoder that finds them in a byte stream.

A serial card reader or scanner sends each read as a frame: an optional start sequence
(STX), the payload (hex, decimal or text), an optional checksum, an optional trailer
(many EM4100 readers put CR LF before ETX) and an end sequence (ETX, or a line ending).
``FrameDecoder`` is fed whatever bytes arrived and returns the payloads of the frames
they completed; noise, bad checksums, overlong and stalled frames are dropped and
counted, never raised. It does no I/O and reads no clock: time is passed in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum, StrEnum
from functools import reduce
from operator import xor

from devices.errors import DeviceError, DeviceErrorCode

__all__ = [
    "MAX_FRAME_LEN",
    "Checksum",
    "ConfigReason",
    "DecoderCounters",
    "FrameDecoder",
    "Framing",
    "PayloadEncoding",
]

MAX_FRAME_LEN = 4096
"""No reader's frame comes near this; a larger max_len is a configuration mistake."""


class ConfigReason(StrEnum):
    """Why a configured field was refused: the ``reason`` param of CONFIG_INVALID."""

    MISSING = "missing"
    WRONG_TYPE = "wrong_type"
    OUT_OF_RANGE = "out_of_range"
    UNKNOWN_VALUE = "unknown_value"
    UNKNOWN_FIELD = "unknown_field"
    EMPTY = "empty"
    CONFLICT = "conflict"
    BAD_PATTERN = "bad_pattern"


class Checksum(StrEnum):
    """What follows the payload (before the trailer) to check it."""

    NONE = "none"
    XOR = "xor"  # one byte: XOR of the payload's bytes
    SUM8 = "sum8"  # one byte: sum of the payload's bytes, modulo 256
    HEX_XOR = "hex_xor"  # two hex characters: XOR of the bytes the hex payload spells (EM4100)

    @property
    def width(self) -> int:
        return _CHECKSUM_WIDTH[self]

    @property
    def binary(self) -> bool:
        """A binary checksum byte may equal the start or end byte, so neither is final."""
        return self in (Checksum.XOR, Checksum.SUM8)


_CHECKSUM_WIDTH = {Checksum.NONE: 0, Checksum.XOR: 1, Checksum.SUM8: 1, Checksum.HEX_XOR: 2}


class PayloadEncoding(StrEnum):
    """What a payload must consist of; a frame whose payload does not is malformed."""

    HEX = "hex"
    DECIMAL = "decimal"
    ASCII = "ascii"  # printable ASCII
    UTF8 = "utf8"  # printable UTF-8 text: QR codes carry Chinese text


_HEX_DIGITS = frozenset(b"0123456789ABCDEFabcdef")
_DEC_DIGITS = frozenset(b"0123456789")


def _encoding_ok(payload: bytes, encoding: PayloadEncoding) -> bool:
    if encoding is PayloadEncoding.HEX:
        return all(b in _HEX_DIGITS for b in payload)
    if encoding is PayloadEncoding.DECIMAL:
        return all(b in _DEC_DIGITS for b in payload)
    if encoding is PayloadEncoding.ASCII:
        return all(0x20 <= b <= 0x7E for b in payload)
    try:
        return payload.decode("utf-8").isprintable()
    except UnicodeDecodeError:
        return False


def _checksum_ok(checksum: Checksum, payload: bytes, check: bytes) -> bool:
    if checksum is Checksum.NONE:
        return True
    if checksum is Checksum.XOR:
        return reduce(xor, payload, 0) == check[0]
    if checksum is Checksum.SUM8:
        return sum(payload) & 0xFF == check[0]
    if len(payload) % 2 or not all(b in _HEX_DIGITS for b in check):
        return False
    return reduce(xor, bytes.fromhex(payload.decode("ascii")), 0) == int(check, 16)


def _invalid(field: str, reason: ConfigReason) -> DeviceError:
    return DeviceError(DeviceErrorCode.CONFIG_INVALID, {"field": field, "reason": reason.value})


@dataclass(frozen=True, slots=True)
class Framing:
    """How one protocol frames a read; invalid combinations raise CONFIG_INVALID.

    ``max_len`` bounds what lies between start and end (payload, checksum, trailer);
    ``payload_len`` is the exact payload length where the protocol fixes it (10 for
    EM4100), which also settles a binary checksum that happens to equal the end byte.
    ``frame_timeout`` (seconds) drops a frame that began but did not end in time.
    """

    end: bytes
    start: bytes = b""
    trailer: bytes = b""
    checksum: Checksum = Checksum.NONE
    encoding: PayloadEncoding = PayloadEncoding.ASCII
    max_len: int = 64
    payload_len: int | None = None
    frame_timeout: float = 0.5

    def __post_init__(self) -> None:
        if not self.end:
            raise _invalid("end", ConfigReason.EMPTY)
        if self.start == self.end:
            raise _invalid("start", ConfigReason.CONFLICT)
        if not 1 <= self.max_len <= MAX_FRAME_LEN:
            raise _invalid("max_len", ConfigReason.OUT_OF_RANGE)
        if self.payload_len is not None:
            fixed = self.payload_len + self.checksum.width + len(self.trailer)
            if self.payload_len < 1 or fixed > self.max_len:
                raise _invalid("payload_len", ConfigReason.OUT_OF_RANGE)
        if not (math.isfinite(self.frame_timeout) and self.frame_timeout > 0):
            raise _invalid("frame_timeout", ConfigReason.OUT_OF_RANGE)
        if self.checksum is Checksum.HEX_XOR and self.encoding is not PayloadEncoding.HEX:
            raise _invalid("checksum", ConfigReason.CONFLICT)

    @property
    def lines(self) -> bool:
        """No start sequence: every byte after an end begins the next frame."""
        return not self.start


@dataclass(frozen=True, slots=True)
class DecoderCounters:
    """What a decoder has seen so far, for ``devices doctor``; never the payloads."""

    frames: int = 0
    garbage_bytes: int = 0  # outside any frame (and what was left of a dropped one), blank lines
    bad_checksums: int = 0
    malformed: int = 0  # payload not of its encoding or length
    overlong: int = 0  # no end within max_len
    truncated: int = 0  # cut short by the start of the next frame
    expired: int = 0  # began but did not end within frame_timeout


class _State(Enum):
    IDLE = "idle"  # waiting for a start sequence (for lines: for the first byte)
    FRAME = "frame"
    SKIP = "skip"  # lines only: the rest of an overlong line, up to its end


class _Fail(Enum):
    EMPTY = "empty"
    MALFORMED = "malformed"
    BAD_CHECKSUM = "bad_checksum"


def _held_prefix(buf: bytearray, seq: bytes) -> int:
    """How many bytes at the end of ``buf`` could be the beginning of ``seq``."""
    for keep in range(min(len(seq) - 1, len(buf)), 0, -1):
        if buf.endswith(seq[:keep]):
            return keep
    return 0


class FrameDecoder:
    """Finds ``framing``'s frames in bytes fed in pieces; the same bytes in any pieces
    give the same payloads and counts (time only matters through ``expire``)."""

    def __init__(self, framing: Framing) -> None:
        self._framing = framing
        self._buf = bytearray()
        self._state = _State.IDLE
        self._started: float | None = None
        self._scan = 0  # where to look for the next end: ends before it were rejected
        self._failure: tuple[int, _Fail] | None = None  # first rejected end (binary checksum)
        self._counts: dict[str, int] = dict.fromkeys(DecoderCounters.__slots__, 0)

    @property
    def framing(self) -> Framing:
        return self._framing

    @property
    def counters(self) -> DecoderCounters:
        return DecoderCounters(**self._counts)

    @property
    def pending(self) -> int:
        """Bytes held back: a partial frame, or what may begin a start or end sequence."""
        return len(self._buf)

    def reset(self) -> None:
        """Forget any partial frame (the port was reopened); the counters stay."""
        self._buf.clear()
        self._enter(_State.IDLE, None)

    def feed(self, data: bytes, now: float | None = None) -> list[bytes]:
        """The payloads of the frames ``data`` completed, in order.

        ``now`` (monotonic seconds) is when ``data`` arrived; a frame begun in it is timed
        from then. Without it the frame is timed from the next ``expire`` call.
        """
        self._buf += data
        payloads: list[bytes] = []
        while self._step(payloads, now):
            pass
        return payloads

    def expire(self, now: float) -> None:
        """Drop a frame that began more than ``frame_timeout`` seconds before ``now``."""
        if self._state is _State.IDLE:
            return
        if self._started is None:
            self._started = now
            return
        if now - self._started <= self._framing.frame_timeout:
            return
        if self._state is _State.FRAME:
            self._count_drop("expired")
        if self._framing.lines:
            self._buf.clear()
        # Otherwise the bytes stay: a start among them begins the next frame.
        self._enter(_State.IDLE, None)

    def _step(self, payloads: list[bytes], now: float | None) -> bool:
        """One decision about the held bytes; False when more bytes are needed."""
        if self._state is _State.IDLE:
            return self._seek_start(now)
        if self._state is _State.SKIP:
            return self._skip_line()
        return self._in_frame(payloads)

    def _enter(self, state: _State, now: float | None) -> None:
        self._state = state
        self._started = now
        self._scan = 0
        self._failure = None

    def _seek_start(self, now: float | None) -> bool:
        start, buf = self._framing.start, self._buf
        if not buf:
            return False
        at = buf.find(start)
        if at < 0:
            dropped = len(buf) - _held_prefix(buf, start)
            self._counts["garbage_bytes"] += dropped
            del buf[:dropped]
            return False
        self._counts["garbage_bytes"] += at
        del buf[: at + len(start)]
        self._enter(_State.FRAME, now)
        return True

    def _skip_line(self) -> bool:
        end, buf = self._framing.end, self._buf
        at = buf.find(end)
        if at < 0:
            del buf[: len(buf) - _held_prefix(buf, end)]
            return False
        del buf[: at + len(end)]
        self._enter(_State.IDLE, None)
        return True

    def _in_frame(self, payloads: list[bytes]) -> bool:
        framing, buf = self._framing, self._buf
        at = buf.find(framing.end, self._scan)
        # A body longer than max_len, or one that can no longer end within it.
        reach = at if at >= 0 else len(buf) - len(framing.end) + 1
        if reach > framing.max_len:
            self._count_drop("overlong")
            # Kept bytes are rescanned: a start among them is where the next frame begins.
            self._enter(_State.SKIP if framing.lines else _State.IDLE, None)
            return True
        if at < 0:
            self._scan = max(self._scan, len(buf) - len(framing.end) + 1)
            return False
        offset, result = self._best_candidate(at)
        if isinstance(result, bytes):
            if offset:
                self._count_prefix(offset)
            self._counts["frames"] += 1
            payloads.append(result)
            del buf[: at + len(framing.end)]
            self._enter(_State.IDLE, None)
            return True
        if framing.checksum.binary and result is not _Fail.EMPTY:
            # This "end" may have been the checksum byte: the frame may end further on.
            if self._failure is None:
                self._failure = (at, result)
            self._scan = at + 1
            return True
        if self._failure is None:
            self._failure = (at, result)
        self._count_drop("malformed", blank=len(framing.start) + at + len(framing.end))
        del buf[: at + len(framing.end)]
        self._enter(_State.IDLE, None)
        return True

    def _best_candidate(self, end_at: int) -> tuple[int, bytes | _Fail]:
        """The first valid frame body ending at ``end_at``: from the frame's start, else
        from a start sequence inside it (the frame before it was cut short)."""
        start, buf = self._framing.start, self._buf
        offsets = [0]
        if start:
            found = buf.find(start, 0, end_at)
            while found >= 0:
                offsets.append(found + len(start))
                found = buf.find(start, found + 1, end_at)
        result: bytes | _Fail = _Fail.EMPTY
        for offset in offsets:
            result = self._check(bytes(buf[offset:end_at]))
            if isinstance(result, bytes):
                return offset, result
        return offsets[-1], result

    def _check(self, body: bytes) -> bytes | _Fail:
        framing = self._framing
        if framing.trailer:
            body = body.removesuffix(framing.trailer)
        width = framing.checksum.width
        if len(body) <= width:
            return _Fail.EMPTY if not body else _Fail.MALFORMED
        payload, check = body[: len(body) - width], body[len(body) - width :]
        if not _encoding_ok(payload, framing.encoding):
            return _Fail.MALFORMED
        if framing.payload_len is not None and len(payload) != framing.payload_len:
            return _Fail.MALFORMED
        if not _checksum_ok(framing.checksum, payload, check):
            return _Fail.BAD_CHECKSUM
        return payload

    def _count_prefix(self, offset: int) -> None:
        """Count what came before the start of the frame that was accepted."""
        if self._failure is not None and self._failure[0] < offset:
            self._count_drop("truncated")
        else:
            self._counts["truncated"] += 1

    def _count_drop(self, default: str, blank: int = 0) -> None:
        """Count a dropped frame: as its first rejected end's failure, if it had one."""
        failure = None if self._failure is None else self._failure[1]
        if failure is _Fail.EMPTY:
            self._counts["garbage_bytes"] += blank
        else:
            self._counts[_FAIL_COUNTER.get(failure, default)] += 1


_FAIL_COUNTER: dict[_Fail | None, str] = {
    _Fail.BAD_CHECKSUM: "bad_checksums",
    _Fail.MALFORMED: "malformed",
}
