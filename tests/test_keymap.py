"""Keyboard layouts as data: the US table types what a US keyboard types, with its locks."""

from __future__ import annotations

import string

import pytest
from evdev import ecodes

from devices.errors import DeviceError, DeviceErrorCode
from devices.keymap import LAYOUTS, keymap

US = LAYOUTS["us"]


def _char(code: int, *, shift: bool = False, caps: bool = False, num: bool = True) -> str | None:
    return US.char(code, shift=shift, caps_lock=caps, num_lock=num)


def test_letters_type_lower_case_and_upper_case_with_shift() -> None:
    assert _char(ecodes.KEY_A) == "a"
    assert _char(ecodes.KEY_Z, shift=True) == "Z"


def test_the_digit_row_types_its_symbols_with_shift() -> None:
    shifted = "".join(
        _char(ecodes.ecodes[f"KEY_{d}"], shift=True) or "" for d in "1234567890"
    )
    assert shifted == "!@#$%^&*()"


def test_capslock_turns_letters_upper_case_but_leaves_digits_and_symbols() -> None:
    assert _char(ecodes.KEY_Q, caps=True) == "Q"
    assert _char(ecodes.KEY_1, caps=True) == "1"
    assert _char(ecodes.KEY_MINUS, caps=True) == "-"


def test_shift_with_capslock_types_a_lower_case_letter() -> None:
    assert _char(ecodes.KEY_Q, shift=True, caps=True) == "q"
    assert _char(ecodes.KEY_1, shift=True, caps=True) == "!"


def test_keypad_digits_type_only_with_numlock_on() -> None:
    assert _char(ecodes.KEY_KP7) == "7"
    assert _char(ecodes.KEY_KPDOT) == "."
    assert _char(ecodes.KEY_KP7, num=False) is None  # Home
    assert _char(ecodes.KEY_KPDOT, num=False) is None  # Delete


def test_keypad_operators_type_whatever_numlock_says() -> None:
    assert _char(ecodes.KEY_KPPLUS, num=False) == "+"
    assert _char(ecodes.KEY_KPASTERISK) == "*"


def test_keys_that_type_nothing_map_to_none() -> None:
    for code in (ecodes.KEY_F1, ecodes.KEY_LEFT, ecodes.KEY_ESC, ecodes.KEY_LEFTSHIFT):
        assert _char(code) is None


def test_every_printable_ascii_character_has_a_key_that_types_it_back() -> None:
    for char in string.printable[:95]:  # digits, letters, punctuation, space
        stroke = US.keystroke(char)
        assert stroke is not None, char
        assert _char(stroke.code, shift=stroke.shift) == char


def test_slash_is_typed_on_the_main_row_not_the_keypad() -> None:
    stroke = US.keystroke("/")
    assert stroke is not None and stroke.code == ecodes.KEY_SLASH


def test_a_layout_is_found_whatever_its_case() -> None:
    assert keymap(" US ") is US


def test_an_unknown_layout_is_refused_with_its_name() -> None:
    with pytest.raises(DeviceError) as caught:
        keymap("dvorak")
    assert caught.value.code is DeviceErrorCode.UNKNOWN_LAYOUT
    assert caught.value.params == {"layout": "dvorak"}
