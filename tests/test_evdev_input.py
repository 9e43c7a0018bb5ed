"""The evdev adapter behind the opener seam: find by stable id, grab, read typed inputs, unplug.

There is no /dev/input nor uinput on the test machine, so the devices are
``devices.fakes_evdev`` fakes: real ``evdev.InputEvent``\\ s on a real pipe fd (``select``
runs for real), nodes and by-id links made in a temporary directory.
"""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from evdev import InputEvent, ecodes

import devices.evdev_input as evdev_input
from devices.errors import DeviceError, DeviceErrorCode
from devices.evdev_input import EvdevInput
from devices.fakes_evdev import FakeEvdevBus, FakeEvdevDevice
from devices.fakes_input import FakeCardReader, FakeInput, FakeScanner
from devices.hid_decoder import DecoderSettings
from devices.manager import DeviceManager
from devices.ports import DeviceKind, DeviceState, DeviceStateChanged, InputDevice
from salon.scans import (
    BarcodeScanned,
    CardPresented,
    CardSource,
    PayCodeScanned,
    Symbology,
    Wallet,
)

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
BY_ID = "usb-Honeywell_Imaging___Mobility_1900_19015B4E1D-event-kbd"


class Clock:
    """The injected wall clock; tests move it."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def at(self, seconds: float) -> float:
        """The event timestamp ``seconds`` after T0 (to type keys at)."""
        return (T0 + timedelta(seconds=seconds)).timestamp()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def bus(tmp_path: Path) -> FakeEvdevBus:
    return FakeEvdevBus(str(tmp_path / "input"))


def _adapter(
    bus: FakeEvdevBus, clock: Clock, match: str = BY_ID,
    kind: DeviceKind = DeviceKind.SCANNER, **options: object,
) -> EvdevInput:
    return EvdevInput(
        "front-scanner", match, kind, clock=clock, input_dir=bus.input_dir, opener=bus,
        **options,  # type: ignore[arg-type]
    )


def _plugged(bus: FakeEvdevBus, clock: Clock, settings: DecoderSettings | None = None,
             ) -> tuple[FakeEvdevDevice, EvdevInput]:
    """A scanner plugged in under its by-id link, and the adapter, opened (grabbed) on it."""
    scanner = FakeEvdevDevice()
    bus.plug(scanner, by_id=BY_ID)
    adapter = _adapter(bus, clock, settings=settings)
    adapter.open()
    return scanner, adapter


def _code(err: pytest.ExceptionInfo[DeviceError]) -> DeviceErrorCode:
    return err.value.code


def test_a_link_that_goes_while_it_is_read_is_not_found(
    bus: FakeEvdevBus, clock: Clock, monkeypatch: pytest.MonkeyPatch,
) -> None:
    bus.plug(FakeEvdevDevice(), by_id=BY_ID)

    def unplugged_meanwhile(path: str) -> str:  # the link went after the check for it
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)

    monkeypatch.setattr(evdev_input.os.path, "realpath", unplugged_meanwhile)
    with pytest.raises(DeviceError) as err:  # not an OSError that kills the reader thread
        _adapter(bus, clock).open()
    assert _code(err) is DeviceErrorCode.NOT_FOUND


def test_open_finds_the_device_by_its_by_id_link_and_grabs_it(
    bus: FakeEvdevBus, clock: Clock
) -> None:
    scanner = FakeEvdevDevice()
    node = bus.plug(scanner, by_id=BY_ID)
    adapter = _adapter(bus, clock)
    adapter.open()
    assert scanner.grabbed
    assert scanner.grabbed_by is scanner.handles[0]
    assert adapter.path == os.path.realpath(node)


def test_a_grabbed_device_sends_its_keys_to_no_other_reader(
    bus: FakeEvdevBus, clock: Clock
) -> None:
    scanner = FakeEvdevDevice()
    node = bus.plug(scanner, by_id=BY_ID)
    other = bus(node)  # what X or the kiosk's own input provider would have open
    adapter = _adapter(bus, clock)
    adapter.open()
    scanner.type("6901234567892", start=clock.at(0))
    assert adapter.read(0.0) == [
        BarcodeScanned("front-scanner", T0, "6901234567892", Symbology.EAN13)
    ]
    with pytest.raises(BlockingIOError):
        list(other.read())


def test_a_bare_by_id_name_is_looked_for_in_the_by_id_directory(
    bus: FakeEvdevBus, clock: Clock
) -> None:
    bus.plug(FakeEvdevDevice(), by_id=BY_ID)
    adapter = _adapter(bus, clock, match=BY_ID)
    assert adapter.match.by_id == os.path.join(bus.input_dir, "by-id", BY_ID)
    adapter.open()
    assert adapter.is_open


def test_open_by_vendor_and_product_finds_the_device_whatever_its_event_number(
    bus: FakeEvdevBus, clock: Clock
) -> None:
    bus.plug(FakeEvdevDevice("Logitech USB Keyboard", vendor=0x046D, product=0xC31C))
    scanner = FakeEvdevDevice()
    node = bus.plug(scanner)
    adapter = _adapter(bus, clock, match="0c2e:0b61")
    adapter.open()
    assert adapter.path == os.path.realpath(node)
    assert scanner.grabbed


def test_the_serial_tells_two_identical_scanners_apart(bus: FakeEvdevBus, clock: Clock) -> None:
    first = FakeEvdevDevice(uniq="A1")
    second = FakeEvdevDevice(uniq="B2")
    bus.plug(first)
    bus.plug(second)
    adapter = _adapter(bus, clock, match="0c2e:0b61:B2")
    adapter.open()
    assert second.grabbed and not first.grabbed
    assert first.handles == []  # the node looked at and not wanted was closed


def test_the_node_that_types_is_chosen_over_the_scanners_media_keys_node(
    bus: FakeEvdevBus, clock: Clock
) -> None:
    controls = FakeEvdevDevice("Honeywell 1900 Consumer Control", can_type=False)
    keyboard = FakeEvdevDevice()
    bus.plug(controls)
    bus.plug(keyboard)
    _adapter(bus, clock, match="0c2e:0b61").open()
    assert keyboard.grabbed and not controls.grabbed
    assert controls.handles == []


def test_a_missing_device_is_not_found(bus: FakeEvdevBus, clock: Clock) -> None:
    with pytest.raises(DeviceError) as by_link:
        _adapter(bus, clock).open()
    assert _code(by_link) is DeviceErrorCode.NOT_FOUND
    assert by_link.value.params["path"] == os.path.join(bus.input_dir, "by-id", BY_ID)
    with pytest.raises(DeviceError) as by_usb:
        _adapter(bus, clock, match="05e0:1200").open()
    assert _code(by_usb) is DeviceErrorCode.NOT_FOUND
    assert by_usb.value.params["path"] == "05e0:1200"


def test_a_node_we_may_not_read_is_permission_denied(bus: FakeEvdevBus, clock: Clock) -> None:
    node = bus.plug(FakeEvdevDevice(), by_id=BY_ID)
    bus.denied.add(os.path.realpath(node))
    with pytest.raises(DeviceError) as by_link:
        _adapter(bus, clock).open()
    assert _code(by_link) is DeviceErrorCode.PERMISSION_DENIED
    # Searching by USB id cannot see inside an unreadable node: that is what to fix.
    with pytest.raises(DeviceError) as by_usb:
        _adapter(bus, clock, match="0c2e:0b61").open()
    assert _code(by_usb) is DeviceErrorCode.PERMISSION_DENIED
    assert by_usb.value.params["path"] == node


def test_a_device_another_process_grabbed_is_busy_and_our_fd_is_closed(
    bus: FakeEvdevBus, clock: Clock
) -> None:
    scanner = FakeEvdevDevice()
    node = bus.plug(scanner, by_id=BY_ID)
    bus(node).grab()
    adapter = _adapter(bus, clock)
    with pytest.raises(DeviceError) as busy:
        adapter.open()
    assert _code(busy) is DeviceErrorCode.BUSY
    assert busy.value.params == {"device": "front-scanner", "path": os.path.realpath(node)}
    assert len(scanner.handles) == 1  # only the other process's
    assert not adapter.is_open


def test_unplugging_raises_unplugged_and_releases_the_fd(bus: FakeEvdevBus, clock: Clock) -> None:
    scanner, adapter = _plugged(bus, clock)
    handle = scanner.handles[0]
    bus.unplug(scanner)
    with pytest.raises(DeviceError) as gone:
        adapter.read(1.0)
    assert _code(gone) is DeviceErrorCode.UNPLUGGED
    assert gone.value.params == {"device": "front-scanner"}
    assert handle.closed and scanner.handles == []
    assert not adapter.is_open
    adapter.close()  # the manager closes after a failure: harmless


def test_after_a_replug_the_device_opens_again_on_its_new_node(
    bus: FakeEvdevBus, clock: Clock
) -> None:
    scanner = FakeEvdevDevice()
    first = bus.plug(scanner, by_id=BY_ID)
    adapter = _adapter(bus, clock)
    adapter.open()
    bus.unplug(scanner)
    with pytest.raises(DeviceError):
        adapter.read(0.0)
    with pytest.raises(DeviceError) as missing:
        adapter.open()
    assert _code(missing) is DeviceErrorCode.NOT_FOUND
    second = bus.plug(scanner, by_id=BY_ID)
    assert second != first
    adapter.open()
    assert scanner.grabbed
    scanner.type("ABC-123", start=clock.at(0))
    assert adapter.read(0.0) == [BarcodeScanned("front-scanner", T0, "ABC-123", Symbology.CODE128)]


@pytest.mark.parametrize(("error", "code"), [
    (errno.EIO, DeviceErrorCode.UNPLUGGED),  # what some USB host drivers say on a pull
    (errno.EINVAL, DeviceErrorCode.READ_FAILED),
])
def test_a_failing_read_is_reported_and_releases_the_fd(
    bus: FakeEvdevBus, clock: Clock, error: int, code: DeviceErrorCode
) -> None:
    scanner, adapter = _plugged(bus, clock)
    handle = scanner.handles[0]
    scanner.fail_reads(error)
    with pytest.raises(DeviceError) as failed:
        adapter.read(1.0)
    assert _code(failed) is code
    assert handle.closed and not scanner.grabbed
    assert not adapter.is_open


def test_reading_a_closed_adapter_is_read_failed(bus: FakeEvdevBus, clock: Clock) -> None:
    with pytest.raises(DeviceError) as closed:
        _adapter(bus, clock).read(0.0)
    assert _code(closed) is DeviceErrorCode.READ_FAILED


def test_a_pay_code_is_read_as_a_pay_code_stamped_by_the_clock(
    bus: FakeEvdevBus, clock: Clock
) -> None:
    scanner, adapter = _plugged(bus, clock)
    scanner.type("134567890123456789", start=clock.at(0))
    clock.now = T0 + timedelta(seconds=0.2)
    assert adapter.read(0.0) == [
        PayCodeScanned("front-scanner", clock.now, "134567890123456789", Wallet.WECHAT)
    ]


def test_a_card_reader_presents_cards(bus: FakeEvdevBus, clock: Clock) -> None:
    reader = FakeEvdevDevice("Sycreader RFID Technology IC Reader", vendor=0xFFFF, product=0x0035)
    bus.plug(reader)
    adapter = _adapter(bus, clock, match="ffff:0035", kind=DeviceKind.CARD_READER)
    adapter.open()
    reader.type("04a1b2c3", start=clock.at(0))
    assert adapter.read(0.0) == [
        CardPresented("front-scanner", T0, "04A1B2C3", CardSource.RFID)
    ]


def test_a_scan_without_terminator_ends_when_the_idle_gap_has_passed(
    bus: FakeEvdevBus, clock: Clock
) -> None:
    scanner, adapter = _plugged(bus, clock)
    scanner.type("6901234567892", start=clock.at(0), terminator=None)
    clock.now = T0 + timedelta(seconds=0.06)  # 4 ms a key event: still typing
    assert adapter.read(0.0) == []
    clock.now = T0 + timedelta(seconds=0.5)
    assert adapter.read(5.0) == [  # no waiting: the scan is already idle
        BarcodeScanned("front-scanner", clock.now, "6901234567892", Symbology.EAN13)
    ]


def test_a_scan_read_long_after_it_was_typed_is_dropped(bus: FakeEvdevBus, clock: Clock) -> None:
    scanner, adapter = _plugged(bus, clock, settings=DecoderSettings(stale_after=3.0))
    scanner.type("6901234567892", start=clock.at(-10))
    assert adapter.read(0.0) == []
    assert adapter.stale_dropped == 1


def test_a_read_waiting_in_select_wakes_when_keys_arrive(bus: FakeEvdevBus, clock: Clock) -> None:
    scanner, adapter = _plugged(bus, clock)
    got: list[object] = []
    reader = threading.Thread(target=lambda: got.extend(adapter.read(60.0)))
    reader.start()
    scanner.type("6901234567892", start=clock.at(0))
    reader.join(30.0)
    assert not reader.is_alive()
    assert got == [BarcodeScanned("front-scanner", T0, "6901234567892", Symbology.EAN13)]


def test_the_fake_device_does_not_hang_when_pushed_more_than_a_pipe_holds(
    bus: FakeEvdevBus, clock: Clock
) -> None:
    scanner, adapter = _plugged(bus, clock)

    def push_many() -> None:
        for _ in range(70_000):
            scanner.push([])

    pusher = threading.Thread(target=push_many, daemon=True)
    pusher.start()
    pusher.join(30.0)
    assert not pusher.is_alive()  # 70,000 wake-ups are more than a 64 KiB pipe holds
    scanner.type("6901234567892", start=clock.at(0))
    assert adapter.read(0.0) == [
        BarcodeScanned("front-scanner", T0, "6901234567892", Symbology.EAN13)
    ]


def test_close_ungrabs_and_can_be_called_twice(bus: FakeEvdevBus, clock: Clock) -> None:
    scanner, adapter = _plugged(bus, clock)
    adapter.close()
    adapter.close()
    assert not scanner.grabbed and scanner.handles == []
    assert adapter.path == ""


def test_an_event_node_is_refused_as_a_stable_id(bus: FakeEvdevBus, clock: Clock) -> None:
    for match in ("/dev/input/event3", "event3", " "):
        with pytest.raises(DeviceError) as bad:
            _adapter(bus, clock, match=match)
        assert _code(bad) is DeviceErrorCode.CONFIG_INVALID
        assert bad.value.params["field"] == "match"


def test_only_scanners_and_card_readers_are_read(bus: FakeEvdevBus, clock: Clock) -> None:
    with pytest.raises(DeviceError) as bad:
        _adapter(bus, clock, kind=DeviceKind.PRINTER)
    assert _code(bad) is DeviceErrorCode.CONFIG_INVALID


def test_an_unknown_layout_is_refused_at_construction(bus: FakeEvdevBus, clock: Clock) -> None:
    with pytest.raises(DeviceError) as bad:
        _adapter(bus, clock, layout="azerty")
    assert _code(bad) is DeviceErrorCode.UNKNOWN_LAYOUT


# The port's contract, run against the fake scanner and the evdev adapter alike.


@dataclass
class Rig:
    device: InputDevice
    scan: Callable[[str], None]
    unplug: Callable[[], None]
    replug: Callable[[], None]


@pytest.fixture(params=["fake", "evdev"])
def rig(request: pytest.FixtureRequest, bus: FakeEvdevBus, clock: Clock) -> Iterator[Rig]:
    if request.param == "fake":
        fake = FakeScanner("front-scanner", clock=clock)
        yield Rig(fake, fake.scan, fake.unplug, fake.replug)
        return
    scanner = FakeEvdevDevice()
    bus.plug(scanner, by_id=BY_ID)

    def replug() -> None:
        bus.plug(scanner, by_id=BY_ID)

    yield Rig(
        _adapter(bus, clock),
        lambda text: scanner.type(text, start=clock.at(0)),
        lambda: bus.unplug(scanner),
        replug,
    )


def test_contract_a_scan_is_read_as_a_typed_input(rig: Rig) -> None:
    rig.device.open()
    rig.scan("6901234567892")
    assert rig.device.read(1.0) == [
        BarcodeScanned("front-scanner", T0, "6901234567892", Symbology.EAN13)
    ]


def test_contract_nothing_read_is_an_empty_list(rig: Rig) -> None:
    rig.device.open()
    assert rig.device.read(0.0) == []


def test_contract_unplug_then_replug(rig: Rig) -> None:
    rig.device.open()
    rig.unplug()
    with pytest.raises(DeviceError) as gone:
        rig.device.read(1.0)
    assert gone.value.code is DeviceErrorCode.UNPLUGGED
    rig.device.close()
    with pytest.raises(DeviceError) as missing:
        rig.device.open()
    assert missing.value.code is DeviceErrorCode.NOT_FOUND
    rig.replug()
    rig.device.open()
    rig.scan("6901234567892")
    assert len(rig.device.read(1.0)) == 1


def test_contract_reading_before_open_fails(rig: Rig) -> None:
    with pytest.raises(DeviceError) as closed:
        rig.device.read(0.0)
    assert closed.value.code is DeviceErrorCode.READ_FAILED


def test_the_fake_fails_to_open_as_often_as_told() -> None:
    fake: FakeInput = FakeScanner()
    fake.open_failures = 2
    fake.open_error = DeviceErrorCode.BUSY
    for _ in range(2):
        with pytest.raises(DeviceError) as failed:
            fake.open()
        assert failed.value.code is DeviceErrorCode.BUSY
    fake.open()
    assert fake.opened and fake.grabbed and fake.open_calls == 3


def test_the_fake_readers_read_wakes_when_a_card_is_presented() -> None:
    reader = FakeCardReader(clock=lambda: T0)
    reader.open()
    got: list[object] = []
    thread = threading.Thread(target=lambda: got.extend(reader.read(60.0)))
    thread.start()
    reader.present("04A1B2C3")
    thread.join(30.0)
    assert not thread.is_alive()
    assert got == [CardPresented("card_reader", T0, "04A1B2C3", CardSource.RFID)]


def test_keys_typed_on_the_keypad_reach_the_adapter_as_digits(
    bus: FakeEvdevBus, clock: Clock
) -> None:
    scanner, adapter = _plugged(bus, clock)
    start = round(clock.at(0) * 1_000_000)
    codes = [ecodes.ecodes[f"KEY_KP{d}"] for d in "6901234567892"] + [ecodes.KEY_KPENTER]
    events = []
    for i, code in enumerate(codes):
        at = start + i * 4000
        events += [InputEvent(at // 10**6, at % 10**6, ecodes.EV_KEY, code, v) for v in (1, 0)]
    scanner.push(events)
    assert adapter.read(0.0) == [
        BarcodeScanned("front-scanner", T0, "6901234567892", Symbology.EAN13)
    ]


def test_the_device_manager_reads_the_adapter_and_reopens_it_after_a_replug(
    bus: FakeEvdevBus, clock: Clock
) -> None:
    scanner = FakeEvdevDevice()
    bus.plug(scanner, by_id=BY_ID)
    manager = DeviceManager(clock, retry_seconds=0.02, read_timeout=0.02)
    manager.add_input(_adapter(bus, clock), DeviceKind.SCANNER)

    def next_item(kind: type[object]) -> object:
        while True:
            item = manager.events.get(timeout=10)
            if isinstance(item, kind):
                return item

    def next_state() -> tuple[DeviceState, DeviceErrorCode | None]:
        item = next_item(DeviceStateChanged)
        assert isinstance(item, DeviceStateChanged)
        return item.status.state, item.status.reason

    manager.start()
    try:
        assert next_state() == (DeviceState.CONNECTED, None)
        scanner.type("6901234567892", start=clock.at(0))
        assert next_item(BarcodeScanned) == BarcodeScanned(
            "front-scanner", T0, "6901234567892", Symbology.EAN13
        )
        bus.unplug(scanner)
        assert next_state() == (DeviceState.MISSING, DeviceErrorCode.UNPLUGGED)
        assert next_state() == (DeviceState.MISSING, DeviceErrorCode.NOT_FOUND)
        bus.plug(scanner, by_id=BY_ID)
        assert next_state() == (DeviceState.CONNECTED, None)
        assert scanner.grabbed
    finally:
        manager.stop()
    assert not scanner.grabbed and scanner.handles == []
