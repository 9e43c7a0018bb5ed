"""Which HID input device is which: stable ids, scanner / card reader / keyboard, overrides.

An input device is named by what survives a reboot or a replug: its udev link in
``/dev/input/by-id`` or its USB ``vendor:product[:serial]``, never ``event3`` (the
kernel numbers nodes in the order they appear). Whether a keyboard-like device is a
scanner, a card reader or a real keyboard is told by an override the engineer saved
for it, the devices the config names, then its name and its maker's USB vendor id.
Also here: the seam over ``evdev.InputDevice`` that this module and
``devices.evdev_input`` open devices through, so tests can hand in a fake.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Protocol

import evdev
from evdev import InputEvent, ecodes

from devices.errors import DeviceError, DeviceErrorCode, config_invalid

__all__ = [
    "DEFAULT_RULES",
    "Basis",
    "Classification",
    "ClassifyRules",
    "DeviceMatch",
    "EvdevLike",
    "HidDevice",
    "HidRole",
    "Opener",
    "OverrideStore",
    "by_id_links",
    "classify",
    "discover",
    "event_nodes",
    "has_text_keys",
    "open_evdev",
]


class DeviceInfoLike(Protocol):
    @property
    def vendor(self) -> int: ...

    @property
    def product(self) -> int: ...


class EvdevLike(Protocol):
    """What is used of ``evdev.InputDevice``."""

    @property
    def fd(self) -> int: ...

    @property
    def path(self) -> str | bytes: ...

    @property
    def name(self) -> str: ...

    @property
    def phys(self) -> str: ...

    @property
    def uniq(self) -> str: ...

    @property
    def info(self) -> DeviceInfoLike: ...

    def capabilities(self) -> Mapping[int, Sequence[object]]: ...

    def read(self) -> Iterator[InputEvent]: ...

    def grab(self) -> None: ...

    def ungrab(self) -> None: ...

    def close(self) -> None: ...


Opener = Callable[[str], EvdevLike]


def open_evdev(path: str) -> EvdevLike:
    """The real opener: an ``evdev.InputDevice`` (read-write if allowed, else read-only)."""
    device: EvdevLike = evdev.InputDevice(path)
    return device


_TEXT_KEYS = frozenset({ecodes.KEY_1, ecodes.KEY_A, ecodes.KEY_KP1})


def has_text_keys(device: EvdevLike) -> bool:
    """Whether it can type: a keyboard interface, not a mouse, touchscreen or media keys."""
    return any(code in _TEXT_KEYS for code in device.capabilities().get(ecodes.EV_KEY, ()))


class HidRole(Enum):
    SCANNER = "scanner"
    CARD_READER = "card_reader"
    KEYBOARD = "keyboard"  # a person's keyboard: never grabbed
    UNKNOWN = "unknown"  # not a keyboard-like device (touchscreen, mouse), or unreadable


class Basis(Enum):
    """Why a device got its role (shown by ``devices doctor``)."""

    OVERRIDE = "override"
    CONFIG = "config"
    NAME = "name"
    VENDOR = "vendor"
    KEYS = "keys"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class HidDevice:
    path: str  # /dev/input/eventN: changes between boots and replugs
    by_id: str  # its /dev/input/by-id link, or "" (no udev, or no link for it)
    name: str
    vendor: int
    product: int
    serial: str  # the device's uniq string; many scanners report none
    phys: str
    can_type: bool
    error: DeviceErrorCode | None = None  # it could not be opened to be looked at

    @property
    def usb_id(self) -> str:
        base = f"{self.vendor:04x}:{self.product:04x}"
        return f"{base}:{self.serial}" if self.serial else base

    @property
    def stable_id(self) -> str:
        """Its name in config and overrides: the by-id link, else vendor:product[:serial]."""
        return self.by_id or self.usb_id

    def ids(self) -> tuple[str, ...]:
        """Every stable name it answers to, the most specific first."""
        names = [self.by_id, self.usb_id, f"{self.vendor:04x}:{self.product:04x}"]
        return tuple(dict.fromkeys(name for name in names if name))


_USB_ID = re.compile(r"([0-9a-fA-F]{4}):([0-9a-fA-F]{4})(?::(.+))?")


@dataclass(frozen=True, slots=True)
class DeviceMatch:
    """How config names a device: a by-id link (path or bare name), or vendor:product[:serial]."""

    by_id: str = ""
    vendor: int | None = None
    product: int | None = None
    serial: str | None = None

    @classmethod
    def parse(cls, text: str, input_dir: str, device_id: str = "") -> DeviceMatch:
        """Read a config value; CONFIG_INVALID if it is empty or names an event node."""
        value = text.strip()
        usb = _USB_ID.fullmatch(value)
        if usb is not None:
            return cls(vendor=int(usb[1], 16), product=int(usb[2], 16), serial=usb[3])
        if not value or re.fullmatch(r"(.*/)?event[0-9]+", value):
            # An eventN node is numbered in plug order: it would name another device later.
            raise config_invalid(device_id, "match", "not a stable id")
        if "/" not in value:
            value = os.path.join(input_dir, "by-id", value)
        return cls(by_id=value)

    def matches(self, device: HidDevice) -> bool:
        if self.by_id:
            return device.by_id == self.by_id or (
                os.path.realpath(self.by_id) == os.path.realpath(device.path)
            )
        return (
            device.vendor == self.vendor
            and device.product == self.product
            and (self.serial is None or device.serial == self.serial)
        )

    def __str__(self) -> str:
        if self.by_id:
            return self.by_id
        base = f"{self.vendor or 0:04x}:{self.product or 0:04x}"
        return f"{base}:{self.serial}" if self.serial is not None else base


def event_nodes(input_dir: str) -> list[str]:
    """The event nodes in ``input_dir`` in kernel order (event2 before event10)."""
    nodes = glob.glob(os.path.join(glob.escape(input_dir), "event*"))
    return sorted(nodes, key=lambda p: (len(os.path.basename(p)), os.path.basename(p)))


def by_id_links(input_dir: str) -> dict[str, str]:
    """Event node (real path) -> its by-id link; the first by name if it has several."""
    links: dict[str, str] = {}
    by_id = os.path.join(input_dir, "by-id")
    with contextlib.suppress(OSError):
        for name in sorted(os.listdir(by_id)):
            link = os.path.join(by_id, name)
            links.setdefault(os.path.realpath(link), link)
    return links


def _describe(path: str, by_id: str, opener: Opener) -> HidDevice:
    try:
        device = opener(path)
    except OSError as err:
        code = (
            DeviceErrorCode.PERMISSION_DENIED
            if err.errno in (errno.EACCES, errno.EPERM)
            else DeviceErrorCode.OPEN_FAILED
        )
        return HidDevice(path, by_id, "", 0, 0, "", "", can_type=False, error=code)
    try:
        return HidDevice(
            path=path, by_id=by_id, name=device.name or "", vendor=device.info.vendor,
            product=device.info.product, serial=device.uniq or "", phys=device.phys or "",
            can_type=has_text_keys(device),
        )
    finally:
        device.close()


def discover(input_dir: str = "/dev/input", opener: Opener = open_evdev) -> list[HidDevice]:
    """Every input device node with its stable id and name (opened briefly, never grabbed)."""
    links = by_id_links(input_dir)
    return [
        _describe(path, links.get(os.path.realpath(path), ""), opener)
        for path in event_nodes(input_dir)
    ]


@dataclass(frozen=True, slots=True)
class ClassifyRules:
    """Name patterns (case-insensitive substrings) and USB vendor ids of each role's makers."""

    card_names: tuple[str, ...] = ("rfid", "card reader", "ic reader", "id reader", "magstripe",
                                   "magnetic", "msr", "nfc")
    scanner_names: tuple[str, ...] = ("barcode", "scan", "hid 0c2e", "qr code")
    card_vendors: frozenset[int] = frozenset({0x0801, 0x0ACD})  # MagTek, ID TECH
    scanner_vendors: frozenset[int] = frozenset({
        0x0C2E,  # Honeywell (Metrologic)
        0x0536,  # Honeywell (Hand Held Products)
        0x05E0,  # Zebra (Symbol)
        0x05F9,  # Datalogic
        0x1EAB,  # Newland
    })
    devices: tuple[tuple[DeviceMatch, HidRole], ...] = ()  # the devices the config names


DEFAULT_RULES = ClassifyRules()


@dataclass(frozen=True, slots=True)
class Classification:
    role: HidRole
    basis: Basis


def _named(name: str, patterns: Iterable[str]) -> bool:
    lowered = name.lower()
    return any(pattern.lower() in lowered for pattern in patterns)


def classify(
    device: HidDevice,
    rules: ClassifyRules = DEFAULT_RULES,
    overrides: Mapping[str, HidRole] | None = None,
) -> Classification:
    """The device's role: its saved override, the config, its name, its maker, its keys."""
    for stable in device.ids():
        if overrides and stable in overrides:
            return Classification(overrides[stable], Basis.OVERRIDE)
    for match, role in rules.devices:
        if match.matches(device):
            return Classification(role, Basis.CONFIG)
    if not device.can_type:
        return Classification(HidRole.UNKNOWN, Basis.NONE)
    # Card readers first: "RFID scanner" is a card reader.
    if _named(device.name, rules.card_names):
        return Classification(HidRole.CARD_READER, Basis.NAME)
    if _named(device.name, rules.scanner_names):
        return Classification(HidRole.SCANNER, Basis.NAME)
    if device.vendor in rules.card_vendors:
        return Classification(HidRole.CARD_READER, Basis.VENDOR)
    if device.vendor in rules.scanner_vendors:
        return Classification(HidRole.SCANNER, Basis.VENDOR)
    return Classification(HidRole.KEYBOARD, Basis.KEYS)


_STORE_VERSION = 1


class OverrideStore:
    """The engineer's saved roles, a small JSON file keyed by stable id, written atomically."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    def load(self) -> dict[str, HidRole]:
        """The saved overrides ({} if none were saved); CONFIG_INVALID if the file is damaged."""
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise self._invalid(type(err).__name__) from err
        if not isinstance(raw, dict) or not isinstance(raw.get("overrides"), dict):
            raise self._invalid("not an overrides file")
        try:
            return {str(key): HidRole(value) for key, value in raw["overrides"].items()}
        except ValueError as err:
            raise self._invalid("unknown role") from err

    def save(self, overrides: Mapping[str, HidRole]) -> None:
        """Replace the file: a temp file in the same directory, fsync, rename, fsync the dir."""
        document = {
            "version": _STORE_VERSION,
            "overrides": {key: role.value for key, role in sorted(overrides.items())},
        }
        data = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
        directory = self.path.parent
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def set(self, stable_id: str, role: HidRole | None) -> dict[str, HidRole]:
        """Save ``role`` for one device (None removes its override); the overrides now."""
        overrides = self.load()
        if role is None:
            overrides.pop(stable_id, None)
        else:
            overrides[stable_id] = role
        self.save(overrides)
        return overrides

    def _invalid(self, reason: str) -> DeviceError:
        return config_invalid("hid_overrides", str(self.path), reason)
