"""The HID decoder turns real evdev key events into scans: modifiers, locks, gaps, staleness."""

from __future__ import annotations

import pytest
from evdev import InputEvent, ecodes
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.errors import DeviceError, DeviceErrorCode
from devices.fakes_evdev import key_events
from devices.hid_decoder import DecoderSettings, HidDecoder
from devices.keymap import LAYOUTS

T0 = 1_700_000_000.0
US = LAYOUTS["us"]


def _decoder(**options: object) -> HidDecoder:
    return HidDecoder(US, DecoderSettings(**options))  # type: ignore[arg-type]


def _key(at: float, code: int, value: int) -> InputEvent:
    us = round(at * 1_000_000)
    return InputEvent(us // 1_000_000, us % 1_000_000, ecodes.EV_KEY, code, value)


def _tap(at: float, *codes: int) -> list[InputEvent]:
    """Each key down and up, 4 ms apart."""
    events = []
    for i, code in enumerate(codes):
        events += [_key(at + i * 0.008, code, 1), _key(at + i * 0.008 + 0.004, code, 0)]
    return events


def _end(events: list[InputEvent]) -> float:
    return events[-1].timestamp()


def _last_press(events: list[InputEvent]) -> float:
    return max(e.timestamp() for e in events if e.type == ecodes.EV_KEY and e.value == 1)


def test_a_scan_ended_by_enter_is_returned_once_enter_is_pressed() -> None:
    decoder = _decoder()
    events = key_events("6901234567892", start=T0)
    now = _end(events)
    before_enter = [e for e in events[:-6]]
    assert decoder.feed_all(before_enter, now) == []
    assert decoder.feed_all(events[-6:], now) == ["6901234567892"]


def test_shifted_characters_are_typed_with_shift() -> None:
    events = key_events('Ab!@#_+{}:"<>?~|', start=T0)
    assert _decoder().feed_all(events, _end(events)) == ['Ab!@#_+{}:"<>?~|']


def test_the_right_shift_key_shifts_too_and_releasing_it_stops_shifting() -> None:
    events = [
        _key(T0, ecodes.KEY_RIGHTSHIFT, 1), *_tap(T0 + 0.01, ecodes.KEY_A),
        _key(T0 + 0.03, ecodes.KEY_RIGHTSHIFT, 0), *_tap(T0 + 0.04, ecodes.KEY_A, ecodes.KEY_A),
        *_tap(T0 + 0.06, ecodes.KEY_ENTER),
    ]
    assert _decoder().feed_all(events, T0 + 0.1) == ["Aaa"]


def test_keypad_enter_and_tab_end_a_scan_too() -> None:
    events = key_events("ABC123", start=T0, terminator=ecodes.KEY_KPENTER)
    events += key_events("XYZ789", start=T0 + 0.2, terminator=ecodes.KEY_TAB)
    assert _decoder().feed_all(events, _end(events)) == ["ABC123", "XYZ789"]


def test_two_scans_back_to_back_without_a_gap_are_two_scans() -> None:
    first = key_events("6901234567892", start=T0)
    second = key_events("134567890123456789", start=_end(first) + 0.004)
    events = first + second
    assert _decoder().feed_all(events, _end(events)) == ["6901234567892", "134567890123456789"]


def test_a_gap_in_the_keys_ends_the_scan_before_the_next_key() -> None:
    first = key_events("1234", start=T0, terminator=None)
    second = key_events("5678", start=_end(first) + 0.3)
    decoder = _decoder()
    press = next(i for i, e in enumerate(second) if e.type == ecodes.EV_KEY)
    assert decoder.feed_all(first, _end(second)) == []
    assert decoder.feed_all(second[:press], _end(second)) == []
    assert decoder.feed(second[press], _end(second)) == ["1234"]
    assert decoder.feed_all(second[press + 1:], _end(second)) == ["5678"]


def test_poll_ends_a_scan_without_terminator_only_once_the_idle_gap_has_passed() -> None:
    decoder = _decoder(idle_gap=0.1)
    events = key_events("ABC123", start=T0, terminator=None)
    last = _last_press(events)
    assert decoder.feed_all(events, last) == []
    assert decoder.pending
    assert decoder.idle_deadline() == pytest.approx(last + 0.1)
    assert decoder.poll(last + 0.05) == []
    assert decoder.poll(last + 0.2) == ["ABC123"]
    assert not decoder.pending
    assert decoder.poll(last + 0.5) == []


def test_a_person_typing_on_a_keyboard_yields_no_scan() -> None:
    decoder = _decoder()
    events = key_events("hello world", start=T0, gap=0.09)  # a key down or up every 90 ms
    now = _end(events)
    assert decoder.feed_all(events, now) + decoder.poll(now + 1) == []
    assert decoder.short_dropped > 0


def test_a_key_pressed_with_ctrl_types_nothing() -> None:
    events = [
        _key(T0, ecodes.KEY_LEFTCTRL, 1), *_tap(T0 + 0.01, ecodes.KEY_C),
        _key(T0 + 0.03, ecodes.KEY_LEFTCTRL, 0),
        *_tap(T0 + 0.04, ecodes.KEY_1, ecodes.KEY_2, ecodes.KEY_3, ecodes.KEY_ENTER),
    ]
    assert _decoder().feed_all(events, T0 + 0.1) == ["123"]


def test_capslock_makes_letters_upper_case_until_pressed_again() -> None:
    events = [
        *_tap(T0, ecodes.KEY_CAPSLOCK, ecodes.KEY_A, ecodes.KEY_B, ecodes.KEY_1),
        _key(T0 + 0.04, ecodes.KEY_LEFTSHIFT, 1), *_tap(T0 + 0.05, ecodes.KEY_C),
        _key(T0 + 0.06, ecodes.KEY_LEFTSHIFT, 0),
        *_tap(T0 + 0.07, ecodes.KEY_CAPSLOCK, ecodes.KEY_D, ecodes.KEY_ENTER),
    ]
    assert _decoder().feed_all(events, T0 + 0.2) == ["AB1cd"]


def test_numlock_switches_the_keypad_between_digits_and_navigation() -> None:
    keypad = (ecodes.KEY_KP1, ecodes.KEY_KP2, ecodes.KEY_KPDOT, ecodes.KEY_KP5)
    events = [
        *_tap(T0, *keypad, ecodes.KEY_KPENTER),  # NumLock is on at start: digits
        *_tap(T0 + 0.05, ecodes.KEY_NUMLOCK, *keypad, ecodes.KEY_7, ecodes.KEY_8, ecodes.KEY_9,
              ecodes.KEY_KPENTER),  # off: the keypad moves the cursor, the main row types
        *_tap(T0 + 0.2, ecodes.KEY_NUMLOCK, *keypad, ecodes.KEY_KPENTER),
    ]
    assert _decoder().feed_all(events, T0 + 0.3) == ["12.5", "789", "12.5"]


def test_numlock_can_start_off() -> None:
    events = _tap(T0, ecodes.KEY_KP1, ecodes.KEY_KP2, ecodes.KEY_KP3, ecodes.KEY_ENTER)
    decoder = _decoder(num_lock=False)
    assert decoder.feed_all(events, T0 + 0.1) == []
    assert decoder.short_dropped == 0  # nothing was typed at all


def test_autorepeat_does_not_double_a_character() -> None:
    events = [
        _key(T0, ecodes.KEY_1, 1), _key(T0 + 0.02, ecodes.KEY_1, 2),
        _key(T0 + 0.04, ecodes.KEY_1, 0),
        *_tap(T0 + 0.05, ecodes.KEY_2, ecodes.KEY_3, ecodes.KEY_ENTER),
    ]
    assert _decoder().feed_all(events, T0 + 0.1) == ["123"]


def test_a_scan_nobody_took_for_seconds_is_dropped_and_counted() -> None:
    events = key_events("6901234567892", start=T0)
    decoder = _decoder(stale_after=3.0)
    assert decoder.feed_all(events, _end(events) + 5.0) == []
    assert decoder.stale_dropped == 1
    fresh = key_events("6901234567892", start=T0 + 10)
    assert decoder.feed_all(fresh, _end(fresh) + 1.0) == ["6901234567892"]
    assert decoder.stale_dropped == 1


def test_a_scan_ended_by_idle_and_polled_late_is_stale_too() -> None:
    events = key_events("6901234567892", start=T0, terminator=None)
    decoder = _decoder()
    decoder.feed_all(events, _end(events))
    assert decoder.poll(_end(events) + 4.0) == []
    assert decoder.stale_dropped == 1


def test_a_lone_enter_is_not_a_scan() -> None:
    decoder = _decoder()
    assert decoder.feed_all(_tap(T0, ecodes.KEY_ENTER), T0 + 0.1) == []
    assert decoder.short_dropped == 0 and decoder.stale_dropped == 0


def test_reset_forgets_a_held_shift_and_the_scan_under_way() -> None:
    decoder = _decoder()
    decoder.feed_all([_key(T0, ecodes.KEY_LEFTSHIFT, 1), *_tap(T0 + 0.01, ecodes.KEY_X)], T0)
    decoder.reset()
    assert not decoder.pending
    events = key_events("abc", start=T0 + 1)
    assert decoder.feed_all(events, _end(events)) == ["abc"]


def test_sync_and_scan_code_events_alone_type_nothing() -> None:
    events = [
        InputEvent(int(T0), 0, ecodes.EV_MSC, ecodes.MSC_SCAN, 0x70004),
        InputEvent(int(T0), 0, ecodes.EV_SYN, ecodes.SYN_REPORT, 0),
    ]
    decoder = _decoder()
    assert decoder.feed_all(events, T0) == []
    assert not decoder.pending and decoder.idle_deadline() is None


@pytest.mark.parametrize(("options", "field"), [
    ({"idle_gap": 0.0}, "idle_gap"),
    ({"idle_gap": 0.5, "stale_after": 0.2}, "stale_after"),
    ({"min_length": 0}, "min_length"),
])
def test_settings_out_of_range_are_config_invalid(options: dict[str, float], field: str) -> None:
    with pytest.raises(DeviceError) as bad:
        DecoderSettings(**options)  # type: ignore[arg-type]
    assert bad.value.code is DeviceErrorCode.CONFIG_INVALID
    assert bad.value.params["field"] == field


_PRINTABLE = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=60)


@settings(max_examples=200, deadline=None)
@given(text=_PRINTABLE, hold_shift=st.booleans(), enter=st.booleans())
def test_any_printable_ascii_typed_on_a_us_keyboard_decodes_back_to_itself(
    text: str, hold_shift: bool, enter: bool
) -> None:
    decoder = _decoder(min_length=1)
    events = key_events(
        text, start=T0, hold_shift=hold_shift, terminator=ecodes.KEY_ENTER if enter else None
    )
    now = _end(events)
    assert decoder.feed_all(events, now) + decoder.poll(now + 0.5) == [text]
