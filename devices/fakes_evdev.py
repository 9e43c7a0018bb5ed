"""Fakes below the HID port: an evdev device behind the opener seam, and typed key events.

``FakeEvdevBus`` stands in for ``/dev/input`` and the evdev opener: it makes the event
nodes and by-id links in a directory and hands out ``FakeEvdevDevice`` handles that
yield real ``evdev.InputEvent``\\ s on a real fd (a pipe, so ``select`` works), unplug
(reads raise ENODEV) and refuse a grab (EBUSY). ``key_events`` types text as a
keyboard would, Shift and all.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from evdev import DeviceInfo, InputEvent, ecodes

from devices.keymap import LAYOUTS, Layout

__all__ = ["FakeEvdevBus", "FakeEvdevDevice", "FakeEvdevHandle", "key_events"]


def _event(at_us: int, type_: int, code: int, value: int) -> InputEvent:
    return InputEvent(at_us // 1_000_000, at_us % 1_000_000, type_, code, value)


def key_events(
    text: str,
    *,
    layout: Layout | None = None,
    start: float = 1_700_000_000.0,
    gap: float = 0.004,
    terminator: int | None = ecodes.KEY_ENTER,
    hold_shift: bool = False,
) -> list[InputEvent]:
    """``text`` typed as a keyboard would: each key down then up, each with its scan code
    (EV_MSC) and a SYN_REPORT, Shift pressed around a shifted character (held across a run
    of them with ``hold_shift``), keys ``gap`` seconds apart, then ``terminator``."""
    keys = layout or LAYOUTS["us"]
    at = round(start * 1_000_000)
    step = round(gap * 1_000_000)
    events: list[InputEvent] = []
    shift_down = False

    def press(code: int, value: int) -> None:
        nonlocal at
        events.append(_event(at, ecodes.EV_MSC, ecodes.MSC_SCAN, 0x70000 + code))
        events.append(_event(at, ecodes.EV_KEY, code, value))
        events.append(_event(at, ecodes.EV_SYN, ecodes.SYN_REPORT, 0))
        at += step

    for char in text:
        stroke = keys.keystroke(char)
        if stroke is None:
            raise ValueError(f"layout {keys.name} has no key for {char!r}")
        if shift_down and (not stroke.shift or not hold_shift):
            press(ecodes.KEY_LEFTSHIFT, 0)
            shift_down = False
        if stroke.shift and not shift_down:
            press(ecodes.KEY_LEFTSHIFT, 1)
            shift_down = True
        press(stroke.code, 1)
        press(stroke.code, 0)
    if shift_down:
        press(ecodes.KEY_LEFTSHIFT, 0)
    if terminator is not None:
        press(terminator, 1)
        press(terminator, 0)
    return events


class FakeEvdevDevice:
    """One input device as the kernel has it: every open gets its own handle (fd), a grab
    gives one handle all the events and makes other grabs fail with EBUSY."""

    def __init__(
        self,
        name: str = "Honeywell Imaging & Mobility 1900",
        *,
        vendor: int = 0x0C2E,
        product: int = 0x0B61,
        uniq: str = "",
        phys: str = "usb-3f980000.usb-1.2/input0",
        can_type: bool = True,
    ) -> None:
        self.name = name
        self.info = DeviceInfo(bustype=0x03, vendor=vendor, product=product, version=0x0111)
        self.uniq = uniq
        self.phys = phys
        self.can_type = can_type
        self.plugged = True
        self.read_errno: int | None = None  # reads fail with this (see fail_reads)
        self.opens = 0
        self.handles: list[FakeEvdevHandle] = []  # the open ones
        self.grabbed_by: FakeEvdevHandle | None = None
        self.lock = threading.RLock()

    @property
    def grabbed(self) -> bool:
        return self.grabbed_by is not None

    def open_handle(self, path: str) -> FakeEvdevHandle:
        with self.lock:
            handle = FakeEvdevHandle(self, path)
            self.handles.append(handle)
            self.opens += 1
            return handle

    def push(self, events: Sequence[InputEvent]) -> None:
        """The device sends ``events``: to the handle that grabbed it, else to every open one."""
        with self.lock:
            receivers = [self.grabbed_by] if self.grabbed_by else list(self.handles)
            for handle in receivers:
                handle.deliver(events)

    def type(self, text: str, **options: Any) -> None:
        """``push`` of ``key_events(text, **options)``."""
        self.push(key_events(text, **options))

    def unplug(self) -> None:
        """The cable is pulled: select wakes, reads raise ENODEV until each fd is closed."""
        with self.lock:
            self.plugged = False
            for handle in self.handles:
                handle.wake()

    def fail_reads(self, error: int) -> None:
        """Every read from now on raises OSError(``error``): EIO as a dying hub, EINVAL ..."""
        with self.lock:
            self.read_errno = error
            for handle in self.handles:
                handle.wake()

    def replug(self) -> None:
        with self.lock:
            self.plugged = True
            self.read_errno = None


class FakeEvdevHandle:
    """One open of a ``FakeEvdevDevice``: what the opener seam returns (an ``EvdevLike``)."""

    def __init__(self, device: FakeEvdevDevice, path: str) -> None:
        self.device = device
        self.path = path
        self.fd, self._write_fd = os.pipe()
        os.set_blocking(self.fd, False)
        os.set_blocking(self._write_fd, False)
        self._events: deque[InputEvent] = deque()

    @property
    def name(self) -> str:
        return self.device.name

    @property
    def phys(self) -> str:
        return self.device.phys

    @property
    def uniq(self) -> str:
        return self.device.uniq

    @property
    def info(self) -> DeviceInfo:
        return self.device.info

    @property
    def closed(self) -> bool:
        return self.fd < 0

    def capabilities(self) -> Mapping[int, Sequence[int]]:
        keys = list(range(ecodes.KEY_ESC, ecodes.KEY_KPDOT + 1)) if self.device.can_type else [
            ecodes.KEY_MUTE, ecodes.KEY_VOLUMEDOWN, ecodes.KEY_VOLUMEUP,
        ]
        return {ecodes.EV_SYN: [ecodes.SYN_REPORT], ecodes.EV_KEY: keys}

    def deliver(self, events: Sequence[InputEvent]) -> None:
        self._events.extend(events)
        self.wake()

    def wake(self) -> None:
        if self._write_fd >= 0:
            # A full pipe is readable already; blocking here would hang under the lock.
            with contextlib.suppress(BlockingIOError):
                os.write(self._write_fd, b"!")

    def read(self) -> Iterator[InputEvent]:
        with self.device.lock:
            if self.fd < 0:
                raise OSError(errno.EBADF, os.strerror(errno.EBADF))
            if not self.device.plugged:
                raise OSError(errno.ENODEV, os.strerror(errno.ENODEV))
            if self.device.read_errno is not None:
                raise OSError(self.device.read_errno, os.strerror(self.device.read_errno))
            with contextlib.suppress(BlockingIOError):
                os.read(self.fd, 4096)
            if not self._events:
                raise BlockingIOError(errno.EAGAIN, os.strerror(errno.EAGAIN))
            batch = list(self._events)
            self._events.clear()
        return iter(batch)

    def grab(self) -> None:
        with self.device.lock:
            if not self.device.plugged:
                raise OSError(errno.ENODEV, os.strerror(errno.ENODEV))
            if self.device.grabbed_by is not None:
                raise OSError(errno.EBUSY, os.strerror(errno.EBUSY))
            self.device.grabbed_by = self

    def ungrab(self) -> None:
        with self.device.lock:
            if not self.device.plugged:
                raise OSError(errno.ENODEV, os.strerror(errno.ENODEV))
            if self.device.grabbed_by is self:
                self.device.grabbed_by = None

    def close(self) -> None:
        with self.device.lock:
            if self.fd < 0:
                return
            os.close(self.fd)
            os.close(self._write_fd)
            self.fd = self._write_fd = -1
            if self.device.grabbed_by is self:
                self.device.grabbed_by = None  # closing an fd releases its grab
            self.device.handles.remove(self)


class FakeEvdevBus:
    """``/dev/input`` in a directory: event nodes and by-id links for plugged fake devices,
    and the opener that opens them. A device plugged again gets a new eventN, as it would."""

    def __init__(self, input_dir: str) -> None:
        self.input_dir = input_dir
        self.denied: set[str] = set()  # node paths whose open raises EACCES
        self._nodes: dict[str, FakeEvdevDevice] = {}  # real path of the node -> device
        self._links: dict[int, str] = {}
        self._next = 0
        os.makedirs(os.path.join(input_dir, "by-id"), exist_ok=True)

    def plug(self, device: FakeEvdevDevice, by_id: str = "") -> str:
        """Make a node for ``device`` (and its by-id link if named); the node's path."""
        node = os.path.join(self.input_dir, f"event{self._next}")
        self._next += 1
        with open(node, "wb"):
            pass
        self._nodes[os.path.realpath(node)] = device
        device.replug()
        if by_id:
            link = os.path.join(self.input_dir, "by-id", by_id)
            os.symlink(os.path.join("..", os.path.basename(node)), link)
            self._links[id(device)] = link
        return node

    def unplug(self, device: FakeEvdevDevice) -> None:
        """Pull it out: reads on its open fds fail and udev removes its node and link."""
        device.unplug()
        for node, known in list(self._nodes.items()):
            if known is device:
                del self._nodes[node]
                os.unlink(node)
        link = self._links.pop(id(device), "")
        if link:
            os.unlink(link)

    def __call__(self, path: str) -> FakeEvdevHandle:
        node = os.path.realpath(path)
        if node in self.denied or path in self.denied:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
        device = self._nodes.get(node)
        if device is None:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
        return device.open_handle(path)
