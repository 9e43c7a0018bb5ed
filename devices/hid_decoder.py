"""Key events to scanned text: the state machine behind a keyboard-wedge scanner (no I/O).

Fed the ``evdev.InputEvent``\\ s a device sent, it tracks Shift (left and right),
CapsLock and NumLock, types characters through a ``devices.keymap`` layout, and ends a
scan on Enter, keypad Enter or Tab, or on a gap between key presses longer than
``idle_gap`` (measured on the events' own timestamps, so a batch read late is judged by
when the keys were pressed). ``poll(now)`` ends a scan that had no terminator once the
gap has passed. A scan that ended more than ``stale_after`` seconds before it was handed
over is dropped (nobody is waiting for it any more), and so is a burst shorter than
``min_length`` (a person typing on a keyboard taken for a scanner); both are counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from evdev import InputEvent, ecodes

from devices.errors import config_invalid
from devices.keymap import Layout

__all__ = ["DEFAULT_TERMINATORS", "DecoderSettings", "HidDecoder"]

DEFAULT_TERMINATORS = frozenset({ecodes.KEY_ENTER, ecodes.KEY_KPENTER, ecodes.KEY_TAB})

_SHIFTS = frozenset({ecodes.KEY_LEFTSHIFT, ecodes.KEY_RIGHTSHIFT})
# A key pressed with Ctrl, Alt or Meta is a shortcut, not text: it types nothing.
_CHORDS = frozenset({
    ecodes.KEY_LEFTCTRL, ecodes.KEY_RIGHTCTRL, ecodes.KEY_LEFTALT, ecodes.KEY_RIGHTALT,
    ecodes.KEY_LEFTMETA, ecodes.KEY_RIGHTMETA,
})

_UP, _DOWN, _REPEAT = 0, 1, 2


@dataclass(frozen=True, slots=True)
class DecoderSettings:
    """How scans are cut from the key stream; the defaults suit every scanner tried."""

    idle_gap: float = 0.1  # seconds without a key that end a scan
    stale_after: float = 3.0  # seconds after which a finished scan nobody took is dropped
    min_length: int = 3  # shorter bursts are keyboard typing, not scans
    num_lock: bool = True  # NumLock at start: a scanner in keypad mode means digits
    caps_lock: bool = False
    terminators: frozenset[int] = field(default=DEFAULT_TERMINATORS)

    def __post_init__(self) -> None:
        for name, ok in (
            ("idle_gap", self.idle_gap > 0),
            ("stale_after", self.stale_after > self.idle_gap),
            ("min_length", self.min_length >= 1),
        ):
            if not ok:
                raise config_invalid("hid", name, "out of range")


class HidDecoder:
    """One device's key stream; ``feed`` and ``poll`` return the scans they completed."""

    def __init__(self, layout: Layout, settings: DecoderSettings | None = None) -> None:
        self.layout = layout
        self.settings = settings or DecoderSettings()
        self.stale_dropped = 0
        self.short_dropped = 0
        self._chars: list[str] = []
        self._last_key: float | None = None  # timestamp of the last key press
        self._shifts: set[int] = set()
        self._chords: set[int] = set()
        self._caps_lock = self.settings.caps_lock
        self._num_lock = self.settings.num_lock

    @property
    def pending(self) -> bool:
        """A scan has begun and has not ended yet."""
        return bool(self._chars)

    def idle_deadline(self) -> float | None:
        """When the scan under way ends if no key comes (a timestamp); None if none is."""
        if not self._chars or self._last_key is None:
            return None
        return self._last_key + self.settings.idle_gap

    def reset(self) -> None:
        """Forget the scan under way and the held keys (the device was closed or replugged)."""
        self._chars.clear()
        self._last_key = None
        self._shifts.clear()
        self._chords.clear()
        self._caps_lock = self.settings.caps_lock
        self._num_lock = self.settings.num_lock

    def feed(self, event: InputEvent, now: float) -> list[str]:
        """Take one event read at ``now`` (same clock as event timestamps); scans it ended."""
        if event.type != ecodes.EV_KEY:
            return []  # EV_SYN, EV_MSC (scan codes), EV_LED: nothing to type
        done: list[str] = []
        if event.value == _DOWN:
            # Gaps are measured between presses: a person's key-up often comes just before
            # the next press, a scanner's presses all come within a few milliseconds.
            at = event.timestamp()
            if self._gap_passed(at):
                self._finish(done, now)
            self._last_key = at
        self._key(event.code, event.value, done, now)
        return done

    def feed_all(self, events: list[InputEvent], now: float) -> list[str]:
        done: list[str] = []
        for event in events:
            done.extend(self.feed(event, now))
        return done

    def poll(self, now: float) -> list[str]:
        """End the scan under way if its keys stopped more than ``idle_gap`` before ``now``."""
        done: list[str] = []
        if self._gap_passed(now):
            self._finish(done, now)
        return done

    def _gap_passed(self, at: float) -> bool:
        return (
            bool(self._chars)
            and self._last_key is not None
            and at - self._last_key > self.settings.idle_gap
        )

    def _key(self, code: int, value: int, done: list[str], now: float) -> None:
        if code in _SHIFTS or code in _CHORDS:
            held = self._shifts if code in _SHIFTS else self._chords
            if value == _UP:
                held.discard(code)
            else:
                held.add(code)
            return
        # Autorepeat types nothing: a scanner never holds a key, so a repeat is the
        # kernel's soft repeat after a late key-up report and would double a character.
        if value != _DOWN:
            return
        if code == ecodes.KEY_CAPSLOCK:
            self._caps_lock = not self._caps_lock
        elif code == ecodes.KEY_NUMLOCK:
            self._num_lock = not self._num_lock
        elif code in self.settings.terminators:
            self._finish(done, now)
        elif not self._chords:
            char = self.layout.char(
                code, shift=bool(self._shifts), caps_lock=self._caps_lock, num_lock=self._num_lock
            )
            if char is not None:
                self._chars.append(char)

    def _finish(self, done: list[str], now: float) -> None:
        text = "".join(self._chars)
        ended = self._last_key
        self._chars.clear()
        if not text:
            return  # a lone Enter or Tab: nothing was scanned
        if len(text) < self.settings.min_length:
            self.short_dropped += 1
        elif ended is not None and now - ended > self.settings.stale_after:
            self.stale_dropped += 1
        else:
            done.append(text)
