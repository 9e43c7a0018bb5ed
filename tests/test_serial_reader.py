"""The serial reader through a real pty pair: the test holds the master, as the reader's
hardware would; pyserial opens the slave (through a symlink, as /dev/serial/by-id is)."""

from __future__ import annotations

import errno
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from functools import reduce
from operator import xor
from pathlib import Path
from types import FrameType

import pytest

from devices.errors import DeviceError, DeviceErrorCode
from devices.serial_protocols import SerialProtocol, protocol, protocol_from_config
from devices.serial_reader import SerialReader, find_protocol
from salon.scans import (
    BarcodeScanned,
    CardPresented,
    CardSource,
    DeviceInput,
    GarbledReason,
    PayCodeScanned,
    ScanGarbled,
    Symbology,
    Wallet,
)

AT = datetime(2025, 3, 8, 10, 30, tzinfo=timezone(timedelta(hours=8)))
EM4100 = protocol("stx-etx-hex")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _deadline() -> Iterator[None]:
    """Fail a test that hangs instead of hanging the suite (there is no pytest-timeout)."""

    def hung(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError("a blocking call in this test did not return")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.setitimer(signal.ITIMER_REAL, 15)
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)


def card_frame(uid: str) -> bytes:
    check = reduce(xor, bytes.fromhex(uid), 0)
    return b"\x02" + uid.encode() + b"%02X\r\n\x03" % check


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class PtyDevice:
    """The device's end of a serial line: what it sends, what it was sent, pulling it out."""

    def __init__(self) -> None:
        self.master, slave = os.openpty()
        self.slave_path = os.ttyname(slave)
        os.close(slave)  # pyserial opens its own; the master keeps the pty alive

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def received(self, size: int, timeout: float = 2.0) -> bytes:
        got = b""
        deadline = time.monotonic() + timeout
        while len(got) < size:
            left = max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self.master], [], [], left)
            if not ready:
                break
            try:
                got += os.read(self.master, size - len(got))
            except OSError as err:
                # The master reads EIO while nobody has the slave open (between two opens).
                if err.errno != errno.EIO:
                    raise
                time.sleep(0.01)
        return got

    def unplug(self) -> None:
        if self.master >= 0:
            os.close(self.master)
            self.master = -1


@pytest.fixture
def pty() -> Iterator[PtyDevice]:
    device = PtyDevice()
    yield device
    device.unplug()


@pytest.fixture
def by_id(tmp_path: Path, pty: PtyDevice) -> Path:
    """A stable link to the reader's port, re-pointed when it comes back (as udev does)."""
    link = tmp_path / "usb-EM4100_Reader-if00-port0"
    link.symlink_to(pty.slave_path)
    return link


def plug_in(link: Path, target: str) -> None:
    fresh = link.with_name(link.name + ".new")
    fresh.symlink_to(target)
    os.replace(fresh, link)  # atomically, as udev makes its links


def wait_until_reading(thread: threading.Thread) -> None:
    """Until ``thread`` is inside pyserial's read, so the test acts on a blocked read."""
    for _ in range(500):
        frame = sys._current_frames().get(thread.ident or -1)
        while frame is not None:
            if frame.f_code.co_name == "read" and frame.f_code.co_filename.endswith(
                "serialposix.py"
            ):
                return
            frame = frame.f_back
        time.sleep(0.01)
    raise AssertionError("the reading thread never got to read")


def make_reader(path: Path | str, proto: SerialProtocol = EM4100,
                monotonic: FakeMonotonic | None = None) -> SerialReader:
    if monotonic is None:
        return SerialReader("front-rfid", str(path), proto, clock=lambda: AT)
    return SerialReader("front-rfid", str(path), proto, clock=lambda: AT, monotonic=monotonic)


@pytest.fixture
def reader(by_id: Path) -> Iterator[SerialReader]:
    # A clock that stands still: a loaded machine's pauses never expire a frame half read.
    r = make_reader(by_id, monotonic=FakeMonotonic())
    r.open()
    yield r
    r.close()


def read_inputs(reader: SerialReader, count: int, attempts: int = 40) -> list[DeviceInput]:
    """Read until ``count`` inputs came (a frame may arrive over several reads)."""
    got: list[DeviceInput] = []
    for _ in range(attempts):
        got += reader.read(0.1)
        if len(got) >= count:
            break
    return got


def card(uid: str) -> CardPresented:
    return CardPresented("front-rfid", AT, uid, CardSource.RFID)


# --- reading -----------------------------------------------------------------------------


def test_card_frames_become_card_presented_inputs(reader: SerialReader, pty: PtyDevice) -> None:
    pty.send(card_frame("0A1B2C3D4E") + card_frame("1122AABBCC"))
    assert read_inputs(reader, 2) == [card("0A1B2C3D4E"), card("1122AABBCC")]
    assert reader.counters.frames == 2


def test_garbage_between_and_inside_frames_is_counted_not_read(
    reader: SerialReader, pty: PtyDevice
) -> None:
    pty.send(b"\x00\xff\x11\x13noise\x03\r\n")
    pty.send(card_frame("0A1B2C3D4E"))
    pty.send(b"\x020A1B\x95\x9e2C3D4E4E\r\n\x03")  # noise inside a frame
    pty.send(b"\x020A1B2C")  # cut short by the next frame
    pty.send(card_frame("1122AABBCC") + b"\xfe\xfe")
    assert read_inputs(reader, 2) == [card("0A1B2C3D4E"), card("1122AABBCC")]
    assert read_inputs(reader, 1, attempts=2) == []
    counters = reader.counters
    assert (counters.garbage_bytes, counters.malformed, counters.truncated) == (12 + 2, 1, 1)


def test_frame_written_in_chunks_with_pauses_is_read_once(
    reader: SerialReader, pty: PtyDevice
) -> None:
    frame = card_frame("0A1B2C3D4E")

    def trickle() -> None:
        for i in range(0, len(frame), 3):
            pty.send(frame[i:i + 3])
            time.sleep(0.03)

    writer = threading.Thread(target=trickle)
    writer.start()
    got = read_inputs(reader, 1)
    writer.join(timeout=5)
    assert got == [card("0A1B2C3D4E")]
    assert reader.counters.frames == 1
    assert reader.counters.garbage_bytes == 0


def test_first_half_of_a_frame_is_no_read_yet(reader: SerialReader, pty: PtyDevice) -> None:
    frame = card_frame("0A1B2C3D4E")
    pty.send(frame[:7])
    assert reader.read(0.5) == []
    pty.send(frame[7:])
    assert read_inputs(reader, 1) == [card("0A1B2C3D4E")]


def test_bad_checksum_is_counted_and_dropped(reader: SerialReader, pty: PtyDevice) -> None:
    pty.send(b"\x020A1B2C3D4E00\r\n\x03" + card_frame("0A1B2C3D4E"))
    assert read_inputs(reader, 1) == [card("0A1B2C3D4E")]
    assert reader.counters.bad_checksums == 1


def test_overlong_frame_is_dropped_and_the_next_read(reader: SerialReader, pty: PtyDevice) -> None:
    pty.send(b"\x02" + b"0A" * 40 + b"\r\n\x03" + card_frame("0A1B2C3D4E"))
    assert read_inputs(reader, 1) == [card("0A1B2C3D4E")]
    assert reader.counters.overlong == 1


def test_stalled_frame_is_dropped_after_its_timeout(by_id: Path, pty: PtyDevice) -> None:
    clock = FakeMonotonic()
    r = make_reader(by_id, monotonic=clock)
    r.open()
    try:
        frame = card_frame("0A1B2C3D4E")
        pty.send(frame[:6])
        assert r.read(1.0) == []  # at least the STX was read and the frame began
        clock.now += EM4100.framing.frame_timeout + 0.1
        pty.send(frame[6:])
        assert read_inputs(r, 1, attempts=3) == []
        assert r.counters.expired == 1
        pty.send(frame)
        assert read_inputs(r, 1) == [card("0A1B2C3D4E")]
    finally:
        r.close()


def test_line_reader_reads_a_uid_per_line(by_id: Path, pty: PtyDevice) -> None:
    r = make_reader(by_id, protocol("line-crlf"))
    r.open()
    try:
        pty.send(b"04a1b2c3\r\n\r\n3735928559\r\nx\r\n")
        got = read_inputs(r, 3)
    finally:
        r.close()
    assert got == [card("04A1B2C3"), card("3735928559"),
                   ScanGarbled("front-rfid", AT, GarbledReason.BAD_CARD, 1)]


def test_scanner_lines_become_barcodes_and_pay_codes(by_id: Path, pty: PtyDevice) -> None:
    r = SerialReader("door-scanner", str(by_id), protocol("scanner-cr"), clock=lambda: AT)
    r.open()
    try:
        pty.send(b"6901234567892\r134567890123456789\r")
        got = read_inputs(r, 2)
    finally:
        r.close()
    assert got == [
        BarcodeScanned("door-scanner", AT, "6901234567892", Symbology.EAN13),
        PayCodeScanned("door-scanner", AT, "134567890123456789", Wallet.WECHAT),
    ]


def test_read_with_nothing_sent_returns_nothing(reader: SerialReader) -> None:
    assert reader.read(0.05) == []
    assert reader.read(0) == []


# --- unplugged and back ---------------------------------------------------------------------


def test_reader_unplugged_raises_unplugged_and_closes(reader: SerialReader, pty: PtyDevice) -> None:
    pty.send(card_frame("0A1B2C3D4E"))
    assert read_inputs(reader, 1) == [card("0A1B2C3D4E")]
    pty.unplug()
    with pytest.raises(DeviceError) as caught:
        for _ in range(20):
            reader.read(0.5)
    assert caught.value.code is DeviceErrorCode.UNPLUGGED
    assert caught.value.params == {"device": "front-rfid"}
    assert not reader.is_open
    reader.close()  # a second close is harmless
    with pytest.raises(DeviceError) as caught:
        reader.read(0.1)
    assert caught.value.code is DeviceErrorCode.READ_FAILED


def _interrupted_read(
    reader: SerialReader, interrupt: Callable[[], None]
) -> list[BaseException | list[DeviceInput]]:
    """What a read blocked in another thread ended with once ``interrupt`` ran."""
    outcome: list[BaseException | list[DeviceInput]] = []

    def wait_for_card() -> None:
        try:
            outcome.append(reader.read(10.0))
        except DeviceError as err:
            outcome.append(err)

    waiting = threading.Thread(target=wait_for_card)
    waiting.start()
    wait_until_reading(waiting)
    interrupt()
    waiting.join(timeout=5)
    assert not waiting.is_alive()
    return outcome


def test_unplug_wakes_a_read_blocked_in_another_thread(
    reader: SerialReader, pty: PtyDevice
) -> None:
    outcome = _interrupted_read(reader, pty.unplug)
    assert len(outcome) == 1 and isinstance(outcome[0], DeviceError)
    assert outcome[0].code is DeviceErrorCode.UNPLUGGED


def test_close_from_another_thread_ends_a_blocked_read_quietly(
    reader: SerialReader, pty: PtyDevice
) -> None:
    assert _interrupted_read(reader, reader.close) == [[]]


def test_reader_back_on_the_same_link_opens_again(by_id: Path, pty: PtyDevice) -> None:
    r = make_reader(by_id)
    r.open()
    try:
        pty.send(b"\x020A1B")  # a partial frame when it is pulled out
        assert r.read(0.5) == []
        pty.unplug()
        by_id.unlink()  # udev removes the by-id link of a reader that was pulled out
        with pytest.raises(DeviceError):
            for _ in range(20):
                r.read(0.5)
        with pytest.raises(DeviceError) as caught:
            r.open()
        assert caught.value.code is DeviceErrorCode.NOT_FOUND

        back = PtyDevice()
        try:
            plug_in(by_id, back.slave_path)
            r.open()
            back.send(b"2C3D4E4E\r\n\x03" + card_frame("1122AABBCC"))
            assert read_inputs(r, 1) == [card("1122AABBCC")]
            assert r.counters.frames == 1  # the old partial frame was not completed
        finally:
            r.close()
            back.unplug()
    finally:
        r.close()


# --- opening -----------------------------------------------------------------------------------


def test_missing_port_is_not_found_with_its_path(tmp_path: Path) -> None:
    missing = tmp_path / "usb-nothing-if00-port0"
    with pytest.raises(DeviceError) as caught:
        make_reader(missing).open()
    assert caught.value.code is DeviceErrorCode.NOT_FOUND
    assert caught.value.params == {"device": "front-rfid", "path": str(missing)}


def test_port_held_by_another_reader_is_busy(reader: SerialReader, by_id: Path) -> None:
    second = make_reader(by_id)
    with pytest.raises(DeviceError) as caught:
        second.open()
    assert caught.value.code is DeviceErrorCode.BUSY
    assert not second.is_open


def test_a_file_that_is_no_tty_fails_to_open_saying_so(tmp_path: Path) -> None:
    not_a_port = tmp_path / "ttyUSB0"
    not_a_port.write_bytes(b"")
    with pytest.raises(DeviceError) as caught:
        make_reader(not_a_port).open()
    assert caught.value.code is DeviceErrorCode.OPEN_FAILED
    assert caught.value.params == {"device": "front-rfid", "reason": "ENOTTY"}


_OPEN_AS_NOBODY = """
import sys
from datetime import datetime
from devices.errors import DeviceError
from devices.serial_protocols import protocol
from devices.serial_reader import SerialReader
try:
    SerialReader("front-rfid", sys.argv[1], protocol("stx-etx-hex"), clock=datetime.now).open()
except DeviceError as err:
    print(err.code.value, err.params["path"])
"""


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root and setpriv to open the port as another user")
def test_port_of_another_user_is_permission_denied(pty: PtyDevice) -> None:
    # A pty's slave belongs to its creator (mode 0600 here): user "nobody" may not open it.
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    run = subprocess.run(
        [*nobody, sys.executable, "-c", _OPEN_AS_NOBODY, pty.slave_path],
        capture_output=True, text=True, timeout=20, cwd=ROOT, check=False,
    )
    assert run.stdout.split() == [DeviceErrorCode.PERMISSION_DENIED.value, pty.slave_path], (
        run.stderr
    )


def test_open_twice_keeps_the_port(reader: SerialReader, pty: PtyDevice) -> None:
    reader.open()
    pty.send(card_frame("0A1B2C3D4E"))
    assert read_inputs(reader, 1) == [card("0A1B2C3D4E")]


# --- probing -----------------------------------------------------------------------------------

ASKING = protocol_from_config("front-rfid", {
    "protocol": "line-cr", "probe": "\u0016M\r", "probe_answer": r"REV\d+\.",
})


def answer(pty: PtyDevice, expect: bytes, reply: bytes) -> threading.Thread:
    """The device: answers ``reply`` once it has been sent ``expect``."""

    def respond() -> None:
        if pty.received(len(expect), timeout=10.0) == expect:
            pty.send(reply)

    responder = threading.Thread(target=respond)
    responder.start()
    return responder


def test_probe_sends_the_probe_and_knows_the_answer(by_id: Path, pty: PtyDevice) -> None:
    r = make_reader(by_id, ASKING)
    responder = answer(pty, b"\x16M\r", b"\x06 REV12.")
    try:
        assert r.probe(timeout=3.0)
    finally:
        responder.join(timeout=5)
        r.close()


def test_probe_without_an_answer_or_with_another_is_false(by_id: Path, pty: PtyDevice) -> None:
    r = make_reader(by_id, ASKING)
    try:
        assert not r.probe(timeout=0.2)
        responder = answer(pty, b"\x16M\r", b"\x15 unknown command\r")
        assert not r.probe(timeout=0.5)
        responder.join(timeout=5)
    finally:
        r.close()


def test_probe_of_a_protocol_without_one_is_not_supported(reader: SerialReader) -> None:
    with pytest.raises(DeviceError) as caught:
        reader.probe()
    assert caught.value.code is DeviceErrorCode.NOT_SUPPORTED


def test_find_protocol_picks_the_one_the_port_answers(by_id: Path, pty: PtyDevice) -> None:
    other = protocol_from_config("front-rfid", {
        "protocol": "line-crlf", "probe": "ID?\r", "probe_answer": "^nope",
    })
    responder = answer(pty, b"ID?\r\x16M\r", b"REV3.")
    # Long enough for the responder to answer ASKING on a loaded machine; "other" waits it out.
    found = find_protocol("front-rfid", str(by_id), [EM4100, other, ASKING],
                          clock=lambda: AT, timeout=1.5)
    responder.join(timeout=5)
    assert found is ASKING
