"""The ESC/POS printer against real links: a TCP listener on 127.0.0.1, a pty, a file.

The listener plays a network printer on port 9100's protocol: it records every byte and
answers DLE EOT status queries as told (or never). What it recorded is decoded with
``devices.escpos_decode`` to prove what reached the printer.
"""

from __future__ import annotations

import os
import re
import select
import socket
import threading
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.drawer import KickPin, kick_command
from devices.errors import DeviceError, DeviceErrorCode
from devices.escpos_decode import Op, Printed, decode, replay
from devices.escpos_printer import ConnectionKind, EscposPrinter, PrinterConfig, printer_config
from devices.fakes_printer import FakePrinter
from devices.ports import DeviceState
from devices.receipt_doc import Align
from devices.receipt_layout import lay_out
from devices.receipt_preview import sample_receipt
from devices.text_width import display_width

GOOD = {1: 0x12, 2: 0x12, 4: 0x12}
PAPER_OUT = {1: 0x1A, 2: 0x32, 4: 0x72}  # offline; stopped by paper end; no paper


def _answer(data: bytearray, scanned: int, answers: dict[int, int] | None) -> tuple[bytes, int]:
    """Answers to the DLE EOT n in data[scanned:], and how far data has been scanned."""
    out = bytearray()
    at = data.find(b"\x10\x04", max(scanned - 2, 0))
    while at != -1 and at + 2 < len(data):
        if answers is not None and data[at + 2] in answers:
            out.append(answers[data[at + 2]])
        scanned = at + 3
        at = data.find(b"\x10\x04", scanned)
    return bytes(out), max(scanned, len(data) - 2)


class Listener:
    """A network receipt printer on 127.0.0.1 (a free port), one connection at a time."""

    def __init__(self, answers: dict[int, int] | None = GOOD) -> None:
        self.answers = answers
        self.drop_after: int | None = None
        self.received: list[bytes] = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._done = threading.Condition()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._server], [], [], 0.05)
            if ready:
                connection, _ = self._server.accept()
                with connection:
                    data = self._serve(connection)
                with self._done:
                    self.received.append(bytes(data))
                    self._done.notify_all()

    def _serve(self, connection: socket.socket) -> bytearray:
        data, scanned = bytearray(), 0
        connection.settimeout(0.05)
        while not self._stop.is_set():
            try:
                chunk = connection.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                break
            data += chunk
            if self.drop_after is not None and len(data) >= self.drop_after:
                break  # closing with the rest unread: the printer was switched off
            reply, scanned = _answer(data, scanned, self.answers)
            if reply:
                connection.sendall(reply)
        return data

    def wait(self, connections: int, timeout: float = 5.0) -> list[bytes]:
        with self._done:
            assert self._done.wait_for(lambda: len(self.received) >= connections, timeout)
            return list(self.received)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._server.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def network(port: int, width: int = 32, **kwargs: object) -> EscposPrinter:
    config = PrinterConfig("front", ConnectionKind.NETWORK, host="127.0.0.1", port=port,
                           width=width, timeout=2.0, status_timeout=0.2, **kwargs)  # type: ignore[arg-type]
    return EscposPrinter(config)


def printed(data: bytes) -> Printed:
    return replay(decode(data))


@pytest.mark.parametrize("columns", [32, 48])
def test_a_network_receipt_arrives_as_gbk_text_in_lined_up_columns(
    listener: Listener, columns: int
) -> None:
    printer = network(listener.port, columns)
    printer.print_receipt(sample_receipt())
    (data,) = listener.wait(1)
    ops = decode(data)
    assert Op("chinese", True) in ops  # FS &: the printer reads GBK double-byte text
    paper = replay(ops)
    expected = lay_out(sample_receipt(), columns)
    texts = [line.text for line in paper.lines]
    assert texts == [line.text for line in expected.lines if hasattr(line, "text")]
    (principal,) = [t for t in texts if t.startswith("储值余额（本金）")]
    assert principal.endswith(" ￥1,150.20")
    rows = [t for t in texts if re.search(r"\S {2,}\S", t)]  # label, padding, value
    assert len(rows) >= 15
    assert {display_width(t, ambiguous=2) for t in rows} == {columns}  # all end at the edge
    assert paper.of("qr") == ["https://r.example.cn/e/T20261123-0001"]
    assert paper.items[-1] == Op("cut", (True, 0))


def test_a_printer_answering_paper_out_gets_nothing_and_reports_paper_out() -> None:
    server = Listener(PAPER_OUT)
    try:
        printer = network(server.port)
        status = printer.status()
        assert (status.state, status.reason) == (DeviceState.ERROR, DeviceErrorCode.PAPER_OUT)
        with pytest.raises(DeviceError) as raised:
            printer.print_receipt(sample_receipt())
        assert raised.value.code is DeviceErrorCode.PAPER_OUT
        sent = server.wait(2)[1]
        assert {op.name for op in decode(sent)} == {"status_query"}  # no receipt bytes
    finally:
        server.close()


def test_a_printer_that_never_answers_is_status_unknown_and_still_prints() -> None:
    server = Listener(answers=None)
    try:
        printer = network(server.port)
        status = printer.status()
        assert (status.state, status.reason) == (DeviceState.CONNECTED,
                                                 DeviceErrorCode.STATUS_UNKNOWN)
        printer.print_receipt(sample_receipt())
        paper = printed(server.wait(2)[1])
        assert paper.lines[0].text == "丝域美发 · 徐汇店"
        assert paper.items[-1] == Op("cut", (True, 0))
    finally:
        server.close()


def test_a_connection_dropped_mid_receipt_is_offline_and_the_printer_recovers(
    listener: Listener,
) -> None:
    listener.drop_after = 200
    printer = network(listener.port)
    with pytest.raises(DeviceError) as raised:
        printer.print_receipt(sample_receipt())
    assert raised.value.code is DeviceErrorCode.PRINTER_OFFLINE
    assert printer.status().state is DeviceState.CONNECTED  # a new connection is fine
    listener.drop_after = None
    printer.print_receipt(sample_receipt())
    assert printed(listener.wait(3)[2]).items[-1] == Op("cut", (True, 0))


def test_a_refused_connection_is_printer_offline_and_status_does_not_raise() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
    printer = network(port)
    with pytest.raises(DeviceError) as raised:
        printer.print_receipt(sample_receipt())
    assert raised.value.code is DeviceErrorCode.PRINTER_OFFLINE
    assert raised.value.params == {"device": "front", "reason": "connection refused"}
    status = printer.status()
    assert (status.state, status.reason) == (DeviceState.ERROR, DeviceErrorCode.PRINTER_OFFLINE)


def test_send_raw_delivers_drawer_kicks_on_both_pins(listener: Listener) -> None:
    printer = network(listener.port)
    printer.send_raw(kick_command(KickPin.PIN_2, 50, 500))
    printer.send_raw(kick_command(KickPin.PIN_5, 100, 200))
    sent = b"".join(listener.wait(2))
    assert [op.value for op in decode(sent)] == [(0, 50, 500), (1, 100, 200)]


def test_a_printer_without_a_chinese_font_gets_the_receipt_as_an_image(
    listener: Listener,
) -> None:
    printer = network(listener.port, has_chinese_font=False, encoding="CP437")
    printer.print_receipt(sample_receipt())
    ops = decode(listener.wait(1)[0])
    assert not [op for op in ops if op.name in ("text", "chinese")]
    rasters = [op.value for op in ops if op.name == "raster"]
    assert {size[0] for size in rasters if isinstance(size, tuple)} == {384}
    assert sum(size[1] for size in rasters if isinstance(size, tuple)) > 1000
    assert replay(ops).items[-1] == Op("cut", (True, 0))


def test_an_english_receipt_on_a_code_page_printer_is_text(listener: Listener) -> None:
    from devices.receipt_doc import Receipt, Row, Text

    printer = network(listener.port, has_chinese_font=False, encoding="CP858")
    printer.print_receipt(Receipt("e1", (Text("Café Zoë"), Row("Due", "¥12.00"))))
    ops = decode(listener.wait(1)[0], code_pages={19: "cp858"})
    assert Op("code_page", 19) in ops  # CP858 in python-escpos's default profile
    assert [line.text for line in replay(ops).lines] == ["Café Zoë", f"Due{' ' * 23}¥12.00"]


class PtyPrinter:
    """A printer at the far end of a pty: the adapter opens the pty's device path."""

    def __init__(self, answers: dict[int, int] | None = GOOD) -> None:
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)  # what a usblp node is: bytes in, bytes out, untouched
        self.path = os.ttyname(self._slave)
        self.answers = answers
        self.data = bytearray()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        scanned = 0
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                self.data += os.read(self.master, 65536)
                reply, scanned = _answer(self.data, scanned, self.answers)
                if reply:
                    os.write(self.master, reply)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        os.close(self.master)
        os.close(self._slave)


@pytest.mark.parametrize("kind", [ConnectionKind.SERIAL, ConnectionKind.FILE])
def test_serial_and_device_file_printers_print_and_answer_status(kind: ConnectionKind) -> None:
    far = PtyPrinter(PAPER_OUT)
    where = {"serial_port": far.path} if kind is ConnectionKind.SERIAL else {"path": far.path}
    printer = EscposPrinter(PrinterConfig("p", kind, status_timeout=0.2, **where))  # type: ignore[arg-type]
    try:
        assert printer.status().reason is DeviceErrorCode.PAPER_OUT
        far.answers = GOOD
        printer.print_receipt(sample_receipt())
        assert printer.status().state is DeviceState.CONNECTED
    finally:
        printer.close()
        far.close()
    paper = printed(bytes(far.data))
    assert paper.lines[-1].text == "谢谢惠顾，欢迎再次光临！"
    assert paper.of("cut") == [(True, 0)]


def test_a_plain_file_takes_the_receipt_and_its_status_is_unknown(tmp_path: Path) -> None:
    out = tmp_path / "lp0"
    out.touch()
    printer = EscposPrinter(PrinterConfig("p", ConnectionKind.FILE, path=str(out),
                                          status_timeout=0.05))
    printer.print_receipt(sample_receipt())
    printer.close()
    assert printer.status().reason is DeviceErrorCode.STATUS_UNKNOWN
    assert printed(out.read_bytes()).of("qr") == ["https://r.example.cn/e/T20261123-0001"]


def test_a_missing_device_file_is_not_found_and_not_created(tmp_path: Path) -> None:
    path = tmp_path / "lp0"  # /dev/usb/lp0 while the printer is unplugged
    printer = EscposPrinter(PrinterConfig("p", ConnectionKind.FILE, path=str(path)))
    with pytest.raises(DeviceError) as raised:
        printer.print_receipt(sample_receipt())
    assert (raised.value.code, raised.value.params) == (
        DeviceErrorCode.NOT_FOUND, {"device": "p", "path": str(path)})
    assert printer.status().reason is DeviceErrorCode.NOT_FOUND
    assert not path.exists()


def test_a_usb_printer_that_is_not_plugged_in_is_not_found() -> None:
    # pyusb and its libusb backend are installed by the setup (pyproject, apt-packages).
    printer = EscposPrinter(PrinterConfig("u", ConnectionKind.USB, usb_vendor_id=0x0416,
                                          usb_product_id=0x5011))
    with pytest.raises(DeviceError) as raised:
        printer.print_receipt(sample_receipt())
    assert (raised.value.code, raised.value.params) == (
        DeviceErrorCode.NOT_FOUND, {"device": "u", "path": "usb:0416:5011"})
    assert printer.status().reason is DeviceErrorCode.NOT_FOUND


@pytest.mark.parametrize(("fields", "field"), [
    ({"connection": ConnectionKind.NETWORK}, "host"),
    ({"connection": ConnectionKind.NETWORK, "host": "10.0.0.9", "port": 0}, "port"),
    ({"connection": ConnectionKind.USB, "usb_product_id": 1}, "usb_vendor_id"),
    ({"connection": ConnectionKind.SERIAL, "serial_port": "/dev/ttyS0", "baudrate": 1234},
     "baudrate"),
    ({"connection": ConnectionKind.FILE}, "path"),
    ({"connection": ConnectionKind.FILE, "path": "/dev/usb/lp0", "width": 40}, "width"),
    ({"connection": ConnectionKind.FILE, "path": "/dev/usb/lp0", "profile": "nope"}, "profile"),
    ({"connection": ConnectionKind.FILE, "path": "/dev/usb/lp0", "encoding": "utf-8"},
     "encoding"),
    ({"connection": ConnectionKind.FILE, "path": "/dev/usb/lp0", "has_chinese_font": False},
     "encoding"),
    ({"connection": ConnectionKind.FILE, "path": "/dev/usb/lp0", "status_timeout": 9.0},
     "status_timeout"),
    ({"connection": ConnectionKind.FILE, "path": "/dev/usb/lp0", "timeout": float("inf")},
     "timeout"),
    ({"connection": ConnectionKind.FILE, "path": "/dev/usb/lp0", "timeout": float("nan")},
     "timeout"),
    ({"connection": "network", "host": "10.0.0.9"}, "connection"),
])
def test_a_bad_printer_config_names_its_field(fields: dict[str, object], field: str) -> None:
    with pytest.raises(DeviceError) as raised:
        PrinterConfig("front", **fields)  # type: ignore[arg-type]
    assert raised.value.code is DeviceErrorCode.CONFIG_INVALID
    assert raised.value.params["field"] == field
    assert raised.value.params["device"] == "front"


def test_the_settings_table_becomes_a_printer_config() -> None:
    config = printer_config({"id": "front", "connection": "network", "host": "10.0.0.9",
                             "width": 48, "status_timeout": 1, "has_chinese_font": True})
    assert config == PrinterConfig("front", ConnectionKind.NETWORK, host="10.0.0.9", width=48,
                                   status_timeout=1.0)
    assert config.print_format().columns == 48


@pytest.mark.parametrize(("table", "field", "reason"), [
    ({"connection": "network", "host": "h"}, "id", "missing"),
    ({"id": "p", "host": "h"}, "connection", "missing"),
    ({"id": "p", "connection": "bluetooth"}, "connection", "one of usb, serial, network, file"),
    ({"id": "p", "connection": ["usb"]}, "connection", "one of usb, serial, network, file"),
    ({"id": "p", "connection": "network", "host": "h", "hots": "h"}, "hots", "unknown key"),
    ({"id": "p", "connection": "network", "host": "h", "port": "9100"}, "port", "not a int"),
    ({"id": "p", "connection": "network", "host": "h", "width": True}, "width", "not a int"),
    ({"id": "p", "connection": "file", "path": "/dev/usb/lp0", "has_chinese_font": 1},
     "has_chinese_font", "not a bool"),
])
def test_a_bad_settings_table_names_the_key(table: dict[str, object], field: str,
                                           reason: str) -> None:
    with pytest.raises(DeviceError) as raised:
        printer_config(table)
    assert raised.value.code is DeviceErrorCode.CONFIG_INVALID
    assert (raised.value.params["field"], raised.value.params["reason"]) == (field, reason)


class _NetworkDriver:
    """Drives the listener the way the fake is driven, for the contract test."""

    def __init__(self, server: Listener) -> None:
        self.server = server
        self.printer = network(server.port)

    def printed(self) -> int:
        return sum(b"\x1b@" in data for data in self.server.received)

    def paper_out(self) -> None:
        self.server.answers = PAPER_OUT

    def online(self) -> None:
        self.server.answers = GOOD


class _FakeDriver:
    def __init__(self) -> None:
        self.printer = FakePrinter("front")

    def printed(self) -> int:
        return len(self.printer.printed)

    def paper_out(self) -> None:
        self.printer.paper_out()

    def online(self) -> None:
        self.printer.online()


@pytest.fixture(params=["fake", "network"])
def driver(request: pytest.FixtureRequest, listener: Listener) -> _FakeDriver | _NetworkDriver:
    return _FakeDriver() if request.param == "fake" else _NetworkDriver(listener)


def test_contract_paper_out_refuses_the_receipt_until_paper_is_loaded(
    driver: _FakeDriver | _NetworkDriver,
) -> None:
    printer = driver.printer
    assert printer.device_id == "front"
    assert printer.status().state is DeviceState.CONNECTED
    driver.paper_out()
    with pytest.raises(DeviceError) as raised:
        printer.print_receipt(sample_receipt())
    assert raised.value.code is DeviceErrorCode.PAPER_OUT
    assert dict(printer.status().params) == {"device": "front"}
    driver.online()
    printer.print_receipt(sample_receipt())
    if isinstance(driver, _NetworkDriver):
        driver.server.wait(4)
    assert driver.printed() == 1
    printer.close()


def test_the_byte_stream_styles_lines_and_ends_with_feed_and_cut() -> None:
    from devices.escpos_bytes import PrintFormat, receipt_bytes

    rendered = receipt_bytes(sample_receipt(), PrintFormat(32))
    ops = decode(rendered.data)
    assert ops[:2] == [Op("init"), Op("chinese", True)]
    assert ops[2:5] == [Op("align", Align.CENTER), Op("size", (1, 2)), Op("kanji_size", (1, 2))]
    heading = replay(ops).lines[1]
    assert (heading.text, heading.bold, heading.align) == ("消费小票", True, Align.CENTER)
    due = next(line for line in replay(ops).lines if line.text.startswith("应收"))
    assert due.bold
    qr_start = ops.index(Op("qr_model", 2))
    assert ops[qr_start:qr_start + 5] == [
        Op("qr_model", 2), Op("qr_module", 6), Op("qr_level", "M"),
        Op("qr_store", "https://r.example.cn/e/T20261123-0001"), Op("qr_print")]
    assert ops[-2:] == [Op("feed", 4), Op("cut", (True, 0))]


def test_a_receipt_without_cut_still_feeds_past_the_tear_bar() -> None:
    from devices.escpos_bytes import PrintFormat, receipt_bytes
    from devices.receipt_doc import Receipt, Text

    ops = decode(receipt_bytes(Receipt("r", (Text("x"),), cut=False), PrintFormat(48)).data)
    assert ops[-1] == Op("feed", 4) and not [op for op in ops if op.name == "cut"]


@pytest.mark.parametrize(("data", "message"), [
    (b"\x1bZ", "unknown command ESC 'Z'"),
    (b"\x1dx\x00", "unknown command GS 'x'"),
    (b"\x07", "unknown control byte 0x07"),
    (b"\x1dv0\x00\x02\x00\x10\x00\xff", "GS v 0 image data cut short"),
    (b"\x1b@\x1c&\xa3", "broken GBK double-byte character"),
    (b"\x1b@\x9d", "text in unknown code page 0"),
    (b"\x1d(k\x02\x001A", "GS \\( k of 2 bytes"),
    (b"\x1d(k\x00\x001Q", "GS \\( k of 0 bytes"),
    (b"\x1d(k\x04\x001P0\xff", "QR data not UTF-8"),
])
def test_the_decoder_rejects_what_it_does_not_know_and_says_where(
    data: bytes, message: str
) -> None:
    from devices.escpos_decode import DecodeError

    with pytest.raises(DecodeError, match=message) as raised:
        decode(data, code_pages={})
    assert "at offset" in str(raised.value)


@pytest.mark.parametrize(("answers", "state", "reason"), [
    ({}, DeviceState.CONNECTED, DeviceErrorCode.STATUS_UNKNOWN),
    ({1: 0x00}, DeviceState.CONNECTED, DeviceErrorCode.STATUS_UNKNOWN),  # not a status byte
    (GOOD, DeviceState.CONNECTED, None),
    ({1: 0x12}, DeviceState.CONNECTED, None),
    ({1: 0x12, 2: 0x12, 4: 0x1E}, DeviceState.CONNECTED, DeviceErrorCode.PAPER_LOW),
    (PAPER_OUT, DeviceState.ERROR, DeviceErrorCode.PAPER_OUT),
    ({1: 0x12, 2: 0x12, 4: 0x72}, DeviceState.ERROR, DeviceErrorCode.PAPER_OUT),
    ({1: 0x1A, 2: 0x16, 4: 0x12}, DeviceState.ERROR, DeviceErrorCode.COVER_OPEN),
    ({1: 0x1A, 2: 0x52, 4: 0x12}, DeviceState.ERROR, DeviceErrorCode.PRINTER_FAULT),
    ({1: 0x1A, 2: 0x12, 4: 0x12}, DeviceState.ERROR, DeviceErrorCode.PRINTER_OFFLINE),
])
def test_status_answers_are_read_as_epson_lays_their_bits_out(
    answers: dict[int, int], state: DeviceState, reason: DeviceErrorCode | None
) -> None:
    from devices.escpos_bytes import StatusQuery
    from devices.escpos_decode import read_status

    assert read_status({StatusQuery(n): b for n, b in answers.items()}) == (state, reason)


def test_the_fake_records_raw_bytes_and_fails_the_next_job_once() -> None:
    fake = FakePrinter()
    fake.send_raw(kick_command(KickPin.PIN_2, 50, 500))
    assert bytes(fake.raw) == b"\x1bp\x00\x19\xfa"
    fake.fail_next(DeviceErrorCode.COVER_OPEN)
    with pytest.raises(DeviceError):
        fake.print_receipt(sample_receipt())
    fake.print_receipt(sample_receipt())
    assert len(fake.printed) == 1
    fake.offline()
    with pytest.raises(DeviceError):
        fake.send_raw(b"x")
    assert fake.status().reason is DeviceErrorCode.PRINTER_OFFLINE
