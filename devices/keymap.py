"""Keyboard layouts as data: which character a key code types, for HID scanners and readers.

A scanner that acts as a keyboard sends key codes, not characters; the host's layout
decides what they mean. The kiosk has no X display to ask (and grabs the device so X
never sees it), so each layout is a table built from ``evdev.ecodes`` names: the main
keys as (plain, shifted), the keypad keys that type only with NumLock on, and the keys
CapsLock affects. The scanner must be configured for the same layout (US is what every
scanner ships with).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from evdev import ecodes

from devices.errors import DeviceError, DeviceErrorCode

__all__ = ["LAYOUTS", "Keystroke", "Layout", "keymap"]


@dataclass(frozen=True, slots=True)
class Keystroke:
    """How a character is typed: this key, with or without Shift."""

    code: int
    shift: bool


@dataclass(frozen=True)
class Layout:
    """One keyboard layout: key code -> the characters it types."""

    name: str
    keys: Mapping[int, tuple[str, str]]  # code -> (plain, shifted), whatever NumLock says
    keypad: Mapping[int, str]  # code -> character with NumLock on (navigation when off)
    caps_keys: frozenset[int]  # the keys CapsLock turns to their shifted character
    _strokes: dict[str, Keystroke] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        strokes: dict[str, Keystroke] = {}
        # Main keys first, so '/' is typed on the main row rather than on the keypad.
        for code, (plain, shifted) in self.keys.items():
            strokes.setdefault(plain, Keystroke(code, shift=False))
            strokes.setdefault(shifted, Keystroke(code, shift=True))
        for code, char in self.keypad.items():
            strokes.setdefault(char, Keystroke(code, shift=False))
        object.__setattr__(self, "_strokes", strokes)

    def char(self, code: int, *, shift: bool, caps_lock: bool, num_lock: bool) -> str | None:
        """The character ``code`` types in this modifier state; None for a key that types none."""
        pair = self.keys.get(code)
        if pair is not None:
            # CapsLock inverts Shift on letters only, as on every PC keyboard: with both, 'a'.
            shifted = shift != (caps_lock and code in self.caps_keys)
            return pair[1] if shifted else pair[0]
        if num_lock:
            return self.keypad.get(code)
        return None

    def keystroke(self, char: str) -> Keystroke | None:
        """The key (and Shift) that types ``char`` with CapsLock off; None if none does."""
        return self._strokes.get(char)


def _build(
    name: str, keys: Mapping[str, tuple[str, str]], keypad: Mapping[str, str]
) -> Layout:
    codes = {ecodes.ecodes[key]: pair for key, pair in keys.items()}
    caps = frozenset(
        code for code, (plain, shifted) in codes.items()
        if plain.isalpha() and shifted == plain.upper() and plain != shifted
    )
    return Layout(
        name=name,
        keys=MappingProxyType(codes),
        keypad=MappingProxyType({ecodes.ecodes[key]: char for key, char in keypad.items()}),
        caps_keys=caps,
    )


_US_KEYS: dict[str, tuple[str, str]] = {
    **{f"KEY_{letter.upper()}": (letter, letter.upper()) for letter in string.ascii_lowercase},
    "KEY_GRAVE": ("`", "~"),
    "KEY_1": ("1", "!"),
    "KEY_2": ("2", "@"),
    "KEY_3": ("3", "#"),
    "KEY_4": ("4", "$"),
    "KEY_5": ("5", "%"),
    "KEY_6": ("6", "^"),
    "KEY_7": ("7", "&"),
    "KEY_8": ("8", "*"),
    "KEY_9": ("9", "("),
    "KEY_0": ("0", ")"),
    "KEY_MINUS": ("-", "_"),
    "KEY_EQUAL": ("=", "+"),
    "KEY_LEFTBRACE": ("[", "{"),
    "KEY_RIGHTBRACE": ("]", "}"),
    "KEY_BACKSLASH": ("\\", "|"),
    "KEY_SEMICOLON": (";", ":"),
    "KEY_APOSTROPHE": ("'", '"'),
    "KEY_COMMA": (",", "<"),
    "KEY_DOT": (".", ">"),
    "KEY_SLASH": ("/", "?"),
    "KEY_SPACE": (" ", " "),
    # The keypad's operators type whatever NumLock says.
    "KEY_KPSLASH": ("/", "/"),
    "KEY_KPASTERISK": ("*", "*"),
    "KEY_KPMINUS": ("-", "-"),
    "KEY_KPPLUS": ("+", "+"),
}

_US_KEYPAD: dict[str, str] = {
    **{f"KEY_KP{digit}": str(digit) for digit in range(10)},
    "KEY_KPDOT": ".",
}

LAYOUTS: Mapping[str, Layout] = MappingProxyType({"us": _build("us", _US_KEYS, _US_KEYPAD)})


def keymap(name: str) -> Layout:
    """The layout called ``name``; DeviceError(UNKNOWN_LAYOUT) if there is none."""
    layout = LAYOUTS.get(name.strip().lower())
    if layout is None:
        raise DeviceError(DeviceErrorCode.UNKNOWN_LAYOUT, {"layout": name})
    return layout
