"""Serial reader protocols as data: line settings, framing, role and an optional probe.

A store's config names a protocol from the registry (``protocol = "stx-etx-hex"``) and
may override any field of it, or describes one from scratch; ``protocol_from_config``
checks every field and says which one is wrong (CONFIG_INVALID: device, field, reason).
Byte fields are given as strings, one character per byte (TOML's "\\u0002" is STX), or
as lists of byte values.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, fields, replace
from enum import Enum, StrEnum
from typing import TypeVar

from devices.errors import DeviceError, DeviceErrorCode
from devices.ports import DeviceKind
from devices.serial_framing import (
    MAX_FRAME_LEN,
    Checksum,
    ConfigReason,
    Framing,
    PayloadEncoding,
)

__all__ = [
    "PROTOCOLS",
    "PROTOCOL_KEYS",
    "Parity",
    "SerialProtocol",
    "SerialRole",
    "protocol",
    "protocol_from_config",
]


class SerialRole(StrEnum):
    """What the reads are: card UIDs (classify_card) or scanned codes (classify_scan)."""

    CARD_READER = DeviceKind.CARD_READER.value
    SCANNER = DeviceKind.SCANNER.value

    @property
    def kind(self) -> DeviceKind:
        return DeviceKind(self.value)


class Parity(StrEnum):
    """Values are pyserial's parity letters; the config spells the names."""

    NONE = "N"
    EVEN = "E"
    ODD = "O"
    MARK = "M"
    SPACE = "S"


_BAUD_RANGE = (50, 4_000_000)
_BYTESIZES = (5, 6, 7, 8)
_STOPBITS = (1, 1.5, 2)


@dataclass(frozen=True, slots=True)
class SerialProtocol:
    """How to talk to one kind of serial reader.

    ``probe`` is sent to ask the device who it is and ``probe_answer`` is searched for in
    what comes back; most card readers only ever send, so most protocols have neither.
    """

    name: str
    framing: Framing
    role: SerialRole = SerialRole.CARD_READER
    baud: int = 9600
    bytesize: int = 8
    parity: Parity = Parity.NONE
    stopbits: float = 1
    probe: bytes | None = None
    probe_answer: re.Pattern[bytes] | None = None

    def __post_init__(self) -> None:
        def invalid(field: str, reason: ConfigReason) -> DeviceError:
            params = {"field": field, "reason": reason.value}
            return DeviceError(DeviceErrorCode.CONFIG_INVALID, params)

        if not self.name:
            raise invalid("name", ConfigReason.EMPTY)
        if not _BAUD_RANGE[0] <= self.baud <= _BAUD_RANGE[1]:
            raise invalid("baud", ConfigReason.OUT_OF_RANGE)
        if self.bytesize not in _BYTESIZES:
            raise invalid("bytesize", ConfigReason.UNKNOWN_VALUE)
        if self.stopbits not in _STOPBITS:
            raise invalid("stopbits", ConfigReason.UNKNOWN_VALUE)
        if self.probe == b"":
            raise invalid("probe", ConfigReason.EMPTY)
        if (self.probe is None) != (self.probe_answer is None):
            raise invalid("probe_answer" if self.probe else "probe", ConfigReason.MISSING)


_STX, _ETX = b"\x02", b"\x03"

PROTOCOLS: Mapping[str, SerialProtocol] = {
    p.name: p
    for p in (
        # EM4100 125 kHz readers (RDM6300, ID-12/ID-20 and their clones): STX, 10 hex
        # digits, 2 hex digits of XOR, CR LF (ID-12 sends it, RDM6300 does not), ETX.
        SerialProtocol(
            "stx-etx-hex",
            Framing(
                start=_STX, end=_ETX, trailer=b"\r\n", checksum=Checksum.HEX_XOR,
                encoding=PayloadEncoding.HEX, payload_len=10, max_len=32,
            ),
        ),
        # Readers that print one UID per line (hex or decimal, as the reader is set up).
        SerialProtocol("line-crlf", Framing(end=b"\r\n", max_len=64)),
        SerialProtocol("line-cr", Framing(end=b"\r", max_len=64)),
        # Serial barcode / QR scanners: a code per line; QR payloads are long and may be
        # Chinese text.
        SerialProtocol(
            "scanner-cr",
            Framing(end=b"\r", encoding=PayloadEncoding.UTF8, max_len=2048),
            role=SerialRole.SCANNER,
        ),
        SerialProtocol(
            "scanner-crlf",
            Framing(end=b"\r\n", encoding=PayloadEncoding.UTF8, max_len=2048),
            role=SerialRole.SCANNER,
        ),
    )
}


def protocol(name: str) -> SerialProtocol:
    """The registered protocol ``name``; CONFIG_INVALID (field "protocol") if none is."""
    try:
        return PROTOCOLS[name]
    except KeyError:
        params = {"field": "protocol", "reason": ConfigReason.UNKNOWN_VALUE.value}
        raise DeviceError(DeviceErrorCode.CONFIG_INVALID, params) from None


_FRAMING_KEYS = frozenset(f.name for f in fields(Framing))
_LINE_KEYS = frozenset({"role", "baud", "bytesize", "parity", "stopbits", "probe", "probe_answer"})
PROTOCOL_KEYS = frozenset({"protocol"}) | _FRAMING_KEYS | _LINE_KEYS
"""The config keys ``protocol_from_config`` reads."""


class _Invalid(Exception):
    def __init__(self, field: str, reason: ConfigReason) -> None:
        super().__init__(field, reason)
        self.field = field
        self.reason = reason


def protocol_from_config(
    device_id: str,
    config: Mapping[str, object],
    *,
    other_keys: Collection[str] = (),
    kind: DeviceKind | None = None,
) -> SerialProtocol:
    """The protocol a device's config describes: a registered one (``protocol``) with
    any fields overridden, or (without ``protocol``) one built from its fields, of
    which ``end`` is required. ``other_keys`` belong to the caller and are skipped;
    any other unknown key is refused so a misspelt field does not go unnoticed.
    ``kind`` is what the device is configured as (its table): it sets the role, so a
    scanner on "line-cr" reads codes, not cards; a ``role`` key must then agree.
    """
    try:
        built = _build(config, frozenset(other_keys))
        if kind is None:
            return built
        if kind.value not in set(SerialRole):
            raise _Invalid("kind", ConfigReason.UNKNOWN_VALUE)
        role = SerialRole(kind.value)
        if "role" in config and built.role is not role:
            raise _Invalid("role", ConfigReason.CONFLICT)
        return replace(built, role=role)
    except _Invalid as err:
        field, reason = err.field, err.reason
    except DeviceError as err:
        field, reason = str(err.params["field"]), ConfigReason(str(err.params["reason"]))
    params = {"device": device_id, "field": field, "reason": reason.value}
    raise DeviceError(DeviceErrorCode.CONFIG_INVALID, params)


def _build(config: Mapping[str, object], other_keys: frozenset[str]) -> SerialProtocol:
    for key in config:
        if key not in PROTOCOL_KEYS and key not in other_keys:
            raise _Invalid(key, ConfigReason.UNKNOWN_FIELD)
    if "protocol" in config:
        base = protocol(_text(config, "protocol"))
        framing_changes = {k: _FRAMING_PARSERS[k](config, k) for k in _FRAMING_KEYS & set(config)}
        framing = replace(base.framing, **framing_changes)  # type: ignore[arg-type]
    else:
        if "end" not in config:
            raise _Invalid("end", ConfigReason.MISSING)
        base = None
        framing_args = {k: _FRAMING_PARSERS[k](config, k) for k in _FRAMING_KEYS & set(config)}
        framing = Framing(**framing_args)  # type: ignore[arg-type]
    changes = {k: _LINE_PARSERS[k](config, k) for k in _LINE_KEYS & set(config)}
    if base is None:
        return SerialProtocol("custom", framing, **changes)  # type: ignore[arg-type]
    return replace(base, framing=framing, **changes)  # type: ignore[arg-type]


def _text(config: Mapping[str, object], key: str) -> str:
    value = config[key]
    if not isinstance(value, str):
        raise _Invalid(key, ConfigReason.WRONG_TYPE)
    return value


def _int(config: Mapping[str, object], key: str, low: int, high: int) -> int:
    value = config[key]
    # bool is an int to Python, never to a person writing "baud = true".
    if not isinstance(value, int) or isinstance(value, bool):
        raise _Invalid(key, ConfigReason.WRONG_TYPE)
    if not low <= value <= high:
        raise _Invalid(key, ConfigReason.OUT_OF_RANGE)
    return value


def _number(config: Mapping[str, object], key: str) -> float:
    value = config[key]
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise _Invalid(key, ConfigReason.WRONG_TYPE)
    if not (math.isfinite(value) and value > 0):
        raise _Invalid(key, ConfigReason.OUT_OF_RANGE)
    return float(value)


def _bytes(config: Mapping[str, object], key: str) -> bytes:
    value = config[key]
    if isinstance(value, str):
        if any(ord(ch) > 0xFF for ch in value):
            raise _Invalid(key, ConfigReason.OUT_OF_RANGE)
        return value.encode("latin-1")
    if isinstance(value, list | tuple):
        if not all(isinstance(b, int) and not isinstance(b, bool) for b in value):
            raise _Invalid(key, ConfigReason.WRONG_TYPE)
        if not all(0 <= b <= 0xFF for b in value):
            raise _Invalid(key, ConfigReason.OUT_OF_RANGE)
        return bytes(value)
    raise _Invalid(key, ConfigReason.WRONG_TYPE)


_E = TypeVar("_E", bound=Enum)


def _choice(enum: type[_E], *, by_name: bool = False) -> Callable[[Mapping[str, object], str], _E]:
    def parse(config: Mapping[str, object], key: str) -> _E:
        text = _text(config, key).strip().lower()
        for member in enum:
            if text == (member.name.lower() if by_name else str(member.value)):
                return member
        raise _Invalid(key, ConfigReason.UNKNOWN_VALUE)

    return parse


def _pattern(config: Mapping[str, object], key: str) -> re.Pattern[bytes]:
    source = _bytes(config, key)
    try:
        return re.compile(source)
    except re.error:
        raise _Invalid(key, ConfigReason.BAD_PATTERN) from None


def _stopbits(config: Mapping[str, object], key: str) -> float:
    value = _number(config, key)
    if value not in _STOPBITS:
        raise _Invalid(key, ConfigReason.UNKNOWN_VALUE)
    return value


def _optional_len(config: Mapping[str, object], key: str) -> int:
    return _int(config, key, 1, MAX_FRAME_LEN)


_Parser = Callable[[Mapping[str, object], str], object]

_FRAMING_PARSERS: dict[str, _Parser] = {
    "start": _bytes,
    "end": _bytes,
    "trailer": _bytes,
    "checksum": _choice(Checksum),
    "encoding": _choice(PayloadEncoding),
    "max_len": _optional_len,
    "payload_len": _optional_len,
    "frame_timeout": _number,
}
_LINE_PARSERS: dict[str, _Parser] = {
    "role": _choice(SerialRole),
    "baud": lambda config, key: _int(config, key, *_BAUD_RANGE),
    "bytesize": lambda config, key: _int(config, key, _BYTESIZES[0], _BYTESIZES[-1]),
    "parity": _choice(Parity, by_name=True),
    "stopbits": _stopbits,
    "probe": _bytes,
    "probe_answer": _pattern,
}
