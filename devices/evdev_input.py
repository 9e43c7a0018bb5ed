"""The evdev adapter for HID scanners and card readers: find by stable id, grab, read, decode.

A keyboard-wedge scanner or card reader is opened by the stable id config gives it
(a ``/dev/input/by-id`` link, or ``vendor:product[:serial]`` looked for over the event
nodes) and grabbed (EVIOCGRAB), so its keystrokes reach no other reader of the device:
not X, not the kiosk's text fields. ``read`` waits on the fd with ``select``, decodes
the key events (``devices.hid_decoder``) and hands back typed inputs
(``salon.scans``). A device that goes away raises ``DeviceError(UNPLUGGED)`` with its
fd already released, so the device manager can ``open()`` it again when it is back.
evdev itself is reached only through the ``opener`` seam (``devices.hid_identity``).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import select
import threading
from collections.abc import Callable
from datetime import datetime

from devices.errors import (
    DENIED,
    GONE,
    DeviceError,
    DeviceErrorCode,
    config_invalid,
    open_failure,
    reason_of,
)
from devices.hid_decoder import DecoderSettings, HidDecoder
from devices.hid_identity import (
    DeviceMatch,
    EvdevLike,
    Opener,
    event_nodes,
    has_text_keys,
    open_evdev,
)
from devices.keymap import Layout, keymap
from devices.ports import DeviceKind
from salon.scans import DeviceInput, classify_card, classify_scan

__all__ = ["EvdevInput"]

log = logging.getLogger(__name__)

_CLASSIFIERS: dict[DeviceKind, Callable[[str, str, datetime], DeviceInput]] = {
    DeviceKind.SCANNER: classify_scan,
    DeviceKind.CARD_READER: classify_card,
}
# What a read on a node that was unplugged raises (EIO from some USB host drivers).
_UNPLUGGED = frozenset({errno.ENODEV, errno.ENXIO, errno.EIO})


class EvdevInput:
    """A scanner (``DeviceKind.SCANNER``) or card reader (``CARD_READER``) read through evdev.

    Implements ``devices.ports.Scanner`` and ``CardReader``. ``clock`` stamps the inputs
    and is the "now" that scans are judged idle and stale against (the events carry the
    kernel's wall-clock timestamps, so it should be a wall clock).
    """

    def __init__(
        self,
        device_id: str,
        match: str | DeviceMatch,
        kind: DeviceKind,
        *,
        clock: Callable[[], datetime],
        layout: Layout | str = "us",
        settings: DecoderSettings | None = None,
        input_dir: str = "/dev/input",
        opener: Opener = open_evdev,
    ) -> None:
        classify = _CLASSIFIERS.get(kind)
        if classify is None:
            raise config_invalid(device_id, "kind", kind.value)
        self._device_id = device_id
        self.kind = kind
        self.match = match if isinstance(match, DeviceMatch) else DeviceMatch.parse(
            match, input_dir, device_id
        )
        self.input_dir = input_dir
        self._classify = classify
        self._clock = clock
        self._opener = opener
        self._decoder = HidDecoder(keymap(layout) if isinstance(layout, str) else layout, settings)
        self._device: EvdevLike | None = None
        self._path = ""
        self._lock = threading.Lock()

    @property
    def device_id(self) -> str:
        return self._device_id

    @property
    def path(self) -> str:
        """The event node it has open ("" when closed): for ``devices doctor`` only."""
        return self._path if self._device is not None else ""

    @property
    def is_open(self) -> bool:
        return self._device is not None

    @property
    def stale_dropped(self) -> int:
        return self._decoder.stale_dropped

    @property
    def short_dropped(self) -> int:
        return self._decoder.short_dropped

    def open(self) -> None:
        """Find and grab the device; DeviceError NOT_FOUND, PERMISSION_DENIED, BUSY, OPEN_FAILED."""
        if self._device is not None:
            return
        path, device = self._find()
        try:
            device.grab()
        except OSError as err:
            with contextlib.suppress(OSError):
                device.close()
            code = (
                DeviceErrorCode.BUSY if err.errno == errno.EBUSY
                else DeviceErrorCode.NOT_FOUND if err.errno in GONE
                else DeviceErrorCode.OPEN_FAILED
            )
            raise self._error(code, path, err) from err
        self._decoder.reset()
        with self._lock:
            self._device, self._path = device, path
        log.info("device %s: grabbed %s", self._device_id, path)

    def read(self, timeout: float) -> list[DeviceInput]:
        """Inputs completed within ``timeout`` s; UNPLUGGED (fd released) if the device went."""
        device = self._device
        if device is None:
            raise DeviceError(DeviceErrorCode.READ_FAILED, {
                "device": self._device_id, "reason": "not open",
            })
        wait = max(0.0, timeout)
        deadline = self._decoder.idle_deadline()
        if deadline is not None:
            # Wake up when the scan under way turns idle, to end it without a terminator.
            wait = min(wait, max(0.0, deadline - self._clock().timestamp()))
        try:
            ready, _, _ = select.select([device.fd], [], [], wait)
            events = list(device.read()) if ready else []
        except BlockingIOError:
            events = []  # woken with nothing to read
        except (OSError, ValueError) as err:
            raise self._lost(err) from err
        at = self._clock()
        now = at.timestamp()
        texts = self._decoder.feed_all(events, now) + self._decoder.poll(now)
        return [self._classify(text, self._device_id, at) for text in texts]

    def close(self) -> None:
        """Ungrab and close; safe to call twice and after a failure."""
        with self._lock:
            device, self._device = self._device, None
        if device is None:
            return
        with contextlib.suppress(OSError):
            device.ungrab()
        with contextlib.suppress(OSError):
            device.close()
        self._decoder.reset()

    def _lost(self, err: BaseException) -> DeviceError:
        self.close()
        if isinstance(err, OSError) and err.errno in _UNPLUGGED:
            log.info("device %s: gone from %s", self._device_id, self._path)
            return DeviceError(DeviceErrorCode.UNPLUGGED, {"device": self._device_id})
        return DeviceError(DeviceErrorCode.READ_FAILED, {
            "device": self._device_id, "reason": reason_of(err),
        })

    def _error(self, code: DeviceErrorCode, path: str, err: BaseException | None) -> DeviceError:
        if code is DeviceErrorCode.OPEN_FAILED:
            return DeviceError(code, {
                "device": self._device_id, "reason": reason_of(err) if err else "unknown",
            })
        return DeviceError(code, {"device": self._device_id, "path": path})

    def _open_node(self, path: str) -> EvdevLike:
        try:
            return self._opener(path)
        except OSError as err:
            raise self._error(open_failure(err.errno), path, err) from err

    def _find(self) -> tuple[str, EvdevLike]:
        if self.match.by_id:
            path = self.match.by_id
            if not os.path.lexists(path):
                raise self._error(DeviceErrorCode.NOT_FOUND, path, None)
            try:
                real = os.path.realpath(path)
            except OSError:  # unplugged between the check and the reading of the link
                raise self._error(DeviceErrorCode.NOT_FOUND, path, None) from None
            return real, self._open_node(path)
        return self._find_usb()

    def _find_usb(self) -> tuple[str, EvdevLike]:
        """The first event node of the vendor:product[:serial] that types (a USB scanner
        often has more: a consumer-control or system-control node next to its keyboard)."""
        found: list[tuple[str, EvdevLike]] = []
        denied = ""
        for path in event_nodes(self.input_dir):
            try:
                device = self._opener(path)
            except OSError as err:
                if err.errno in DENIED and not denied:
                    denied = path
                continue
            info = device.info
            if (
                info.vendor == self.match.vendor
                and info.product == self.match.product
                and (self.match.serial is None or device.uniq == self.match.serial)
            ):
                found.append((path, device))
            else:
                device.close()
        if not found:
            if denied:
                # It may well be the one we cannot read: say what the engineer can fix.
                raise self._error(DeviceErrorCode.PERMISSION_DENIED, denied, None)
            raise self._error(DeviceErrorCode.NOT_FOUND, str(self.match), None)
        chosen = next((item for item in found if has_text_keys(item[1])), found[0])
        for _, device in found:
            if device is not chosen[1]:
                device.close()
        return chosen
