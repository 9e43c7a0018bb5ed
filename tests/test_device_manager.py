"""The device manager: inputs reach the queue, states are reported, devices come back."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from devices.errors import DeviceError, DeviceErrorCode
from devices.fakes_input import FakeCardReader, FakeScanner
from devices.hotplug import HotplugWatcher
from devices.manager import DeviceManager, QueueItem
from devices.ports import DeviceKind, DeviceState, DeviceStateChanged
from salon.scans import BarcodeScanned, CardPresented, DeviceInput

AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
WAIT = 5.0  # the bound on every wait: a bug fails the test instead of hanging it


def _next(events: queue.Queue[QueueItem], want: Callable[[QueueItem], bool]) -> QueueItem:
    """The first queued item ``want`` accepts (others are passed over)."""
    while True:
        item = events.get(timeout=WAIT)
        if want(item):
            return item


def _state(device_id: str, state: DeviceState) -> Callable[[QueueItem], bool]:
    return lambda i: (isinstance(i, DeviceStateChanged) and i.status.device_id == device_id
                      and i.status.state is state)


def test_scans_and_cards_from_two_devices_reach_the_one_queue() -> None:
    scanner, reader = FakeScanner("scanner", lambda: AT), FakeCardReader("reader", lambda: AT)
    manager = DeviceManager(lambda: AT, retry_seconds=0.05, read_timeout=0.05)
    manager.add_input(scanner, DeviceKind.SCANNER)
    manager.add_input(reader, DeviceKind.CARD_READER)
    manager.start()
    try:
        _next(manager.events, _state("scanner", DeviceState.CONNECTED))
        _next(manager.events, _state("reader", DeviceState.CONNECTED))
        scanner.scan("6901234567892")
        reader.present("04:A1:B2:C3")
        got: set[DeviceInput] = set()
        while len(got) < 2:
            item = manager.events.get(timeout=WAIT)
            if not isinstance(item, DeviceStateChanged):
                got.add(item)  # type: ignore[arg-type]
        assert {type(i) for i in got} == {BarcodeScanned, CardPresented}
        assert {s.state for s in manager.statuses()} == {DeviceState.CONNECTED}
    finally:
        manager.stop()
    assert not scanner.opened and not reader.opened


def test_an_unplugged_scanner_is_missing_then_back_on_a_hotplug_event(tmp_path: Path) -> None:
    scanner = FakeScanner("scanner", lambda: AT)
    # A long retry period: only the hot-plug event can bring the scanner back in time.
    manager = DeviceManager(lambda: AT, HotplugWatcher([tmp_path]), retry_seconds=60,
                            read_timeout=0.05)
    manager.add_input(scanner, DeviceKind.SCANNER)
    manager.start()
    try:
        _next(manager.events, _state("scanner", DeviceState.CONNECTED))
        scanner.unplug()
        missing = _next(manager.events, _state("scanner", DeviceState.MISSING))
        assert isinstance(missing, DeviceStateChanged)
        assert missing.status.reason in (DeviceErrorCode.UNPLUGGED, DeviceErrorCode.NOT_FOUND)
        _next(manager.events, lambda i: isinstance(i, DeviceStateChanged)
              and i.status.reason is DeviceErrorCode.NOT_FOUND)
        scanner.replug()
        (tmp_path / "event4").touch()  # the node udev makes for the re-plugged scanner
        _next(manager.events, _state("scanner", DeviceState.CONNECTED))
        scanner.scan("6901234567892")
        assert isinstance(_next(manager.events, lambda i: isinstance(i, BarcodeScanned)),
                          BarcodeScanned)
    finally:
        manager.stop()


def test_a_permission_error_is_an_error_state_with_its_reason() -> None:
    reader = FakeCardReader("reader", lambda: AT)
    reader.open_failures, reader.open_error = 1, DeviceErrorCode.PERMISSION_DENIED
    manager = DeviceManager(lambda: AT, retry_seconds=0.05, read_timeout=0.05)
    manager.add_input(reader, DeviceKind.CARD_READER)
    manager.start()
    try:
        denied = _next(manager.events, _state("reader", DeviceState.ERROR))
        assert isinstance(denied, DeviceStateChanged)
        assert denied.status.reason is DeviceErrorCode.PERMISSION_DENIED
        _next(manager.events, _state("reader", DeviceState.CONNECTED))  # retried on the timer
    finally:
        manager.stop()


class _CrashingScanner(FakeScanner):
    """A reader whose adapter has a bug: its first read raises something unexpected."""

    def __init__(self) -> None:
        super().__init__("scanner", lambda: AT)
        self.crashes = 1

    def read(self, timeout: float) -> list[DeviceInput]:
        if self.crashes:
            self.crashes -= 1
            raise RuntimeError("a bug in the adapter")
        return super().read(timeout)


def test_a_reader_thread_that_dies_is_restarted_and_reported() -> None:
    scanner = _CrashingScanner()
    manager = DeviceManager(lambda: AT, retry_seconds=0.05, read_timeout=0.05)
    manager.add_input(scanner, DeviceKind.SCANNER)
    manager.start()
    try:
        restarted = _next(manager.events, lambda i: isinstance(i, DeviceStateChanged)
                          and i.status.reason is DeviceErrorCode.READER_RESTARTED)
        assert isinstance(restarted, DeviceStateChanged)
        assert ("reason", "RuntimeError") in restarted.status.params
        _next(manager.events, _state("scanner", DeviceState.CONNECTED))
        scanner.scan("6901234567892")
        _next(manager.events, lambda i: isinstance(i, BarcodeScanned))
        assert manager.restarts == 1
    finally:
        manager.stop()


class _FailingReadsScanner(FakeScanner):
    """Opens, but every read fails: a node that stays while the USB hub behind it is dying."""

    def __init__(self) -> None:
        super().__init__("scanner", lambda: AT)
        self.opened_nth = [threading.Event() for _ in range(3)]

    def open(self) -> None:
        super().open()
        if self.open_calls <= len(self.opened_nth):
            self.opened_nth[self.open_calls - 1].set()

    def read(self, timeout: float) -> list[DeviceInput]:
        raise DeviceError(DeviceErrorCode.READ_FAILED, {"device": "scanner", "reason": "EINVAL"})


def test_a_device_whose_reads_keep_failing_is_reopened_on_the_retry_timer_not_in_a_spin() -> None:
    scanner = _FailingReadsScanner()
    manager = DeviceManager(lambda: AT, retry_seconds=60, read_timeout=0.05)
    manager.add_input(scanner, DeviceKind.SCANNER)
    manager.start()
    try:
        # The first failure is reopened at once (an unplug is then told at once) ...
        assert scanner.opened_nth[1].wait(WAIT)
        # ... but failing again straight after that reopen, it waits: a spin reopens at once.
        assert not scanner.opened_nth[2].wait(0.5)
        [managed] = manager.inputs()
        managed.nudge.set()  # what a hot-plug event does
        assert scanner.opened_nth[2].wait(WAIT)
    finally:
        manager.stop()


def test_the_call_button_and_other_devices_report_through_the_manager() -> None:
    manager = DeviceManager(lambda: AT)
    manager.staff_called("call_button")
    item = manager.events.get(timeout=WAIT)
    assert getattr(item, "device_id", None) == "call_button"
