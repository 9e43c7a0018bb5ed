"""The device manager: owns the readers' threads, reports each device's state, reopens.

One thread per input device opens it, reads it and puts what it read on one queue
(the hub drains it on the Kivy clock); a device that fails to open or goes away is
reported MISSING or ERROR and tried again on the next hot-plug event or after
``retry_seconds``. The monitor thread runs the hot-plug watch (started before any
device is opened, so nothing plugged in meanwhile is missed) and restarts a reader
thread that died, reporting it. State changes are logged and queued; retries are not.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime

from devices.errors import DeviceError, DeviceErrorCode
from devices.hotplug import HotplugWatcher
from devices.ports import (
    DeviceKind,
    DeviceState,
    DeviceStateChanged,
    DeviceStatus,
    InputDevice,
    StaffCalled,
)
from salon.scans import DeviceInput

__all__ = ["DeviceManager", "ManagedInput", "QueueItem", "status_of_error"]

log = logging.getLogger(__name__)

QueueItem = DeviceInput | DeviceStateChanged | StaffCalled

_MISSING = {DeviceErrorCode.NOT_FOUND, DeviceErrorCode.UNPLUGGED}


def status_of_error(device_id: str, kind: DeviceKind, err: DeviceError) -> DeviceStatus:
    """MISSING for a device that is not there, ERROR (with the reason) for the rest."""
    state = DeviceState.MISSING if err.code in _MISSING else DeviceState.ERROR
    return DeviceStatus.failed(device_id, kind, state, err)


class ManagedInput:
    """One input device and its reader thread (made again by the manager if it dies)."""

    def __init__(self, device: InputDevice, kind: DeviceKind, manager: DeviceManager) -> None:
        self.device = device
        self.kind = kind
        self.manager = manager
        self.nudge = threading.Event()
        self.is_open = False
        # A read failed and no read has succeeded since: if the next open works and its
        # first read fails too, reopening at once would spin (open, fail, open ...).
        self.failing = False
        self.thread: threading.Thread | None = None
        self.crash: BaseException | None = None
        self.started_at = 0.0  # time.monotonic() of the last start: restarts are spaced

    def start(self) -> None:
        self.crash = None
        self.started_at = time.monotonic()
        self.thread = threading.Thread(
            target=self._run, name=f"device-{self.device.device_id}", daemon=True
        )
        self.thread.start()

    def _run(self) -> None:
        try:
            self._loop()
        except Exception as err:
            # The thread ends here (the monitor restarts it and says so), the device closed
            # so the new thread can open it again. A bug's traceback goes to the log.
            self.crash = err
            log.exception("device %s: reader thread died", self.device.device_id)
            self._close()

    def _loop(self) -> None:
        manager = self.manager
        while not manager.stopping.is_set():
            if not self.is_open:
                self._open()
                continue
            try:
                items = self.device.read(manager.read_timeout)
            except DeviceError as err:
                self._close()
                manager.report(status_of_error(self.device.device_id, self.kind, err))
                if self.failing:
                    # A hot-plug event, a stop, or the retry period, as for a failed open.
                    self.nudge.wait(manager.retry_seconds)
                self.failing = True
                continue
            self.failing = False
            for item in items:
                manager.events.put(item)

    def _open(self) -> None:
        manager = self.manager
        self.nudge.clear()
        try:
            self.device.open()
        except DeviceError as err:
            manager.report(status_of_error(self.device.device_id, self.kind, err))
            # A hot-plug event, a stop, or the retry period, whichever comes first.
            self.nudge.wait(manager.retry_seconds)
            return
        self.is_open = True
        manager.report(DeviceStatus(self.device.device_id, self.kind, DeviceState.CONNECTED))

    def _close(self) -> None:
        self.is_open = False
        try:
            self.device.close()
        except (DeviceError, OSError) as err:
            log.warning("device %s: close failed (%s)", self.device.device_id, err)


class DeviceManager:
    """Input devices read on their own threads into ``events``; every device's state."""

    def __init__(
        self,
        clock: Callable[[], datetime],
        watcher: HotplugWatcher | None = None,
        *,
        retry_seconds: float = 5.0,
        read_timeout: float = 0.2,
        events: queue.Queue[QueueItem] | None = None,
    ) -> None:
        self.clock = clock
        self.watcher = watcher
        self.retry_seconds = retry_seconds
        self.read_timeout = read_timeout
        self.events: queue.Queue[QueueItem] = events if events is not None else queue.Queue()
        self.stopping = threading.Event()
        self.restarts = 0
        self._inputs: list[ManagedInput] = []
        self._status: dict[str, DeviceStatus] = {}
        self._lock = threading.Lock()
        self._monitor: threading.Thread | None = None

    def add_input(self, device: InputDevice, kind: DeviceKind) -> None:
        if self._monitor is not None:
            raise RuntimeError("add devices before start()")
        self._inputs.append(ManagedInput(device, kind, self))
        self._status[device.device_id] = DeviceStatus(
            device.device_id, kind, DeviceState.CONNECTING
        )

    def track(self, status: DeviceStatus) -> None:
        """A device the manager does not read (printer, light ...): its first known state."""
        with self._lock:
            self._status.setdefault(status.device_id, status)

    def start(self) -> None:
        """Start the hot-plug watch, then the readers (which open their devices)."""
        if self.watcher is not None:
            try:
                self.watcher.start()
            except DeviceError as err:
                log.warning("hotplug: no watch (%s); devices are retried every %.0f s",
                            err.code.value, self.retry_seconds)
                self.watcher = None
        for managed in self._inputs:
            managed.start()
        self._monitor = threading.Thread(target=self._watch, name="device-monitor", daemon=True)
        self._monitor.start()

    def report(self, status: DeviceStatus) -> None:
        """Record a device's state; a change is logged and queued as DeviceStateChanged."""
        with self._lock:
            if self._status.get(status.device_id) == status:
                return
            self._status[status.device_id] = status
        if status.state is DeviceState.CONNECTED:
            log.info("device %s: connected", status.device_id)
        else:
            log.warning("device %s: %s (%s)", status.device_id, status.state.value,
                        status.reason.value if status.reason else "-")
        self.events.put(DeviceStateChanged(status, self.clock()))

    def statuses(self) -> list[DeviceStatus]:
        with self._lock:
            return list(self._status.values())

    def staff_called(self, device_id: str) -> None:
        """The call-staff button's handler (it runs on gpiozero's thread: only a queue put)."""
        self.events.put(StaffCalled(device_id, self.clock()))

    def _watch(self) -> None:
        while not self.stopping.is_set():
            if self.watcher is not None:
                try:
                    changes = self.watcher.wait(0.5)
                except OSError as err:
                    log.warning("hotplug: watch failed (%s); retrying on a timer", err)
                    self.watcher.close()
                    self.watcher = None
                    changes = []
                if changes:
                    self._nudge_closed()
            else:
                self.stopping.wait(0.5)
            self._restart_dead()

    def _nudge_closed(self) -> None:
        for managed in self._inputs:
            if not managed.is_open:
                managed.nudge.set()

    def _restart_dead(self) -> None:
        for managed in self._inputs:
            thread = managed.thread
            if thread is None or thread.is_alive() or self.stopping.is_set():
                continue
            if time.monotonic() - managed.started_at < self.retry_seconds:
                continue  # a reader that dies at once again is not restarted in a tight loop
            reason = type(managed.crash).__name__ if managed.crash else "exited"
            self.restarts += 1
            self.report(DeviceStatus(
                managed.device.device_id, managed.kind, DeviceState.ERROR,
                DeviceErrorCode.READER_RESTARTED,
                (("device", managed.device.device_id), ("reason", reason)),
            ))
            managed.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop every thread (each within ``timeout``) and close the devices."""
        self.stopping.set()
        for managed in self._inputs:
            managed.nudge.set()
        for managed in self._inputs:
            if managed.thread is not None:
                managed.thread.join(timeout)
            managed._close()
        if self._monitor is not None:
            self._monitor.join(timeout)
        if self.watcher is not None:
            self.watcher.close()

    def inputs(self) -> Iterable[ManagedInput]:
        return tuple(self._inputs)
