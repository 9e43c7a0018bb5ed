"""The print spool: submit never waits, jobs print in order, failed ones wait for a reprint."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from test_escpos_printer import Listener, network

from devices.errors import DeviceErrorCode
from devices.escpos_decode import Op, decode, replay
from devices.escpos_printer import EscposPrinter
from devices.fakes_printer import FakePrinter
from devices.ports import DeviceState, DeviceStatus, ReceiptPrinter
from devices.print_spool import PrintSpool
from devices.receipt_doc import Receipt, Text
from devices.receipt_preview import sample_receipt

AT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def test_the_fake_and_the_adapter_are_receipt_printers() -> None:
    printers: list[ReceiptPrinter] = [FakePrinter(), network(9100)]  # mypy checks the port
    assert [isinstance(p, (FakePrinter, EscposPrinter)) for p in printers] == [True, True]


def receipt(job_id: str) -> Receipt:
    return Receipt(job_id, (Text(f"小票 {job_id}"),))


class Blocking(FakePrinter):
    """A fake whose print waits until released: shows that submit does not wait."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.started = threading.Event()

    def print_receipt(self, receipt: Receipt) -> None:
        self.started.set()
        assert self.release.wait(5)
        super().print_receipt(receipt)


@pytest.fixture
def fake() -> FakePrinter:
    return FakePrinter("front")


@pytest.fixture
def statuses() -> list[DeviceStatus]:
    return []


@pytest.fixture
def spool(fake: FakePrinter, statuses: list[DeviceStatus]) -> Iterator[PrintSpool]:
    s = PrintSpool(fake, on_status=statuses.append, keep_failed=3, poll_interval=None,
                   clock=lambda: AT)
    yield s
    assert s.close(5)


def test_submit_returns_while_the_printer_is_still_busy() -> None:
    printer = Blocking()
    spool = PrintSpool(printer, poll_interval=None)
    spool.submit(receipt("T1"))
    spool.submit(receipt("T2"))
    assert printer.printed == [] and spool.pending() == 2  # the sale went on
    printer.release.set()
    assert spool.wait_idle(5)
    assert [r.job_id for r in printer.printed] == ["T1", "T2"]
    assert spool.close(5)


def test_jobs_print_in_the_order_submitted(spool: PrintSpool, fake: FakePrinter) -> None:
    for n in range(20):
        spool.submit(receipt(f"T{n}"))
    assert spool.wait_idle(5)
    assert [r.job_id for r in fake.printed] == [f"T{n}" for n in range(20)]


def test_a_failed_job_is_kept_with_its_error_and_reprints(
    spool: PrintSpool, fake: FakePrinter, statuses: list[DeviceStatus]
) -> None:
    fake.paper_out()
    spool.submit(receipt("T1"))
    assert spool.wait_idle(5)
    (kept,) = spool.failed()
    assert (kept.job_id, kept.error.code, kept.attempts, kept.failed_at) == (
        "T1", DeviceErrorCode.PAPER_OUT, 1, AT)
    assert statuses[-1].state is DeviceState.ERROR
    assert statuses[-1].reason is DeviceErrorCode.PAPER_OUT
    assert spool.reprint("T1")
    assert spool.wait_idle(5)
    assert spool.failed()[0].attempts == 2  # still out of paper
    fake.online()
    assert spool.reprint("T1")
    assert spool.wait_idle(5)
    assert [r.job_id for r in fake.printed] == ["T1"] and spool.failed() == []
    assert [s.state for s in statuses][-1] is DeviceState.CONNECTED  # recovery reported
    assert not spool.reprint("T1") and not spool.reprint("nope")


def test_one_failure_does_not_stop_the_jobs_behind_it(
    spool: PrintSpool, fake: FakePrinter
) -> None:
    fake.fail_next(DeviceErrorCode.PRINTER_OFFLINE)
    for job in ("T1", "T2", "T3"):
        spool.submit(receipt(job))
    assert spool.wait_idle(5)
    assert [r.job_id for r in fake.printed] == ["T2", "T3"]
    assert [f.job_id for f in spool.failed()] == ["T1"]
    assert spool.failed()[0].error.params == {"device": "front", "reason": "unplugged"}


class Broken(FakePrinter):
    """A printer adapter with a bug: it raises something other than DeviceError."""

    def print_receipt(self, receipt: Receipt) -> None:
        raise ValueError("a QR code holds at most 7089 bytes")


def test_a_job_the_printer_fails_with_an_unexpected_error_is_still_kept() -> None:
    spool = PrintSpool(Broken("front"), poll_interval=None, clock=lambda: AT)
    spool.submit(receipt("T1"))
    assert spool.wait_idle(5)
    (kept,) = spool.failed()
    assert (kept.job_id, kept.error.code) == ("T1", DeviceErrorCode.PRINTER_FAULT)
    assert kept.error.params == {"device": "front", "reason": "ValueError"}
    assert spool.status is not None and spool.status.state is DeviceState.ERROR
    assert spool.close(5)


def test_only_the_last_failed_jobs_are_kept(spool: PrintSpool, fake: FakePrinter) -> None:
    fake.offline()
    for n in range(5):
        spool.submit(receipt(f"T{n}"))
    assert spool.wait_idle(5)
    assert [f.job_id for f in spool.failed()] == ["T2", "T3", "T4"]  # keep_failed=3
    fake.online()
    assert spool.retry_failed() == 3
    assert spool.wait_idle(5)
    assert [r.job_id for r in fake.printed] == ["T2", "T3", "T4"]


def test_submitting_a_failed_job_again_replaces_it(spool: PrintSpool, fake: FakePrinter) -> None:
    fake.fail_next(DeviceErrorCode.PAPER_OUT)
    spool.submit(receipt("T1"))
    assert spool.wait_idle(5)
    spool.submit(receipt("T1"))
    assert spool.wait_idle(5)
    assert spool.failed() == [] and [r.job_id for r in fake.printed] == ["T1"]


def test_status_changes_are_reported_once_each(
    spool: PrintSpool, fake: FakePrinter, statuses: list[DeviceStatus]
) -> None:
    for _ in range(3):
        spool.check_status()
    assert spool.wait_idle(5)
    fake.paper_out()
    spool.check_status()
    spool.check_status()
    assert spool.wait_idle(5)
    assert [(s.state, s.reason) for s in statuses] == [
        (DeviceState.CONNECTED, None), (DeviceState.ERROR, DeviceErrorCode.PAPER_OUT)]
    assert spool.status == statuses[-1]


def test_a_waiting_queue_beyond_its_bound_fails_the_oldest() -> None:
    printer = Blocking()
    spool = PrintSpool(printer, max_pending=2, poll_interval=None)
    spool.submit(receipt("T0"))
    assert printer.started.wait(5)  # printing (blocked), no longer waiting
    for job in ("T1", "T2", "T3"):
        spool.submit(receipt(job))
    (dropped,) = spool.failed()
    assert dropped.job_id == "T1" and dropped.error.params["reason"] == "spool full"
    printer.release.set()
    assert spool.wait_idle(5)
    assert [r.job_id for r in printer.printed] == ["T0", "T2", "T3"]
    assert spool.close(5)


def test_a_status_callback_that_raises_does_not_stop_the_spool(fake: FakePrinter) -> None:
    def broken(_: DeviceStatus) -> None:
        raise RuntimeError("bug in the hub")

    spool = PrintSpool(fake, on_status=broken, poll_interval=None)
    spool.check_status()
    spool.submit(receipt("T1"))
    assert spool.wait_idle(5)
    assert [r.job_id for r in fake.printed] == ["T1"]
    assert spool.close(5)


def test_close_stops_the_thread_and_later_jobs_are_not_queued(fake: FakePrinter) -> None:
    spool = PrintSpool(fake, poll_interval=None)
    assert spool.close(5)
    spool.submit(receipt("T1"))
    assert spool.pending() == 0 and fake.printed == []


def test_polling_while_idle_asks_the_printer(fake: FakePrinter) -> None:
    seen = threading.Event()
    fake.paper_out()
    spool = PrintSpool(fake, on_status=lambda s: seen.set(), poll_interval=0.01)
    assert seen.wait(5)
    assert spool.status is not None and spool.status.reason is DeviceErrorCode.PAPER_OUT
    assert spool.close(5)


def test_a_network_printer_dropping_mid_receipt_leaves_a_reprintable_job() -> None:
    server = Listener()
    server.drop_after = 200
    statuses: list[DeviceStatus] = []
    spool = PrintSpool(network(server.port), on_status=statuses.append, poll_interval=None)
    try:
        spool.submit(sample_receipt())
        assert spool.wait_idle(10)
        (kept,) = spool.failed()
        assert kept.error.code is DeviceErrorCode.PRINTER_OFFLINE
        assert statuses[-1].reason is DeviceErrorCode.PRINTER_OFFLINE
        server.drop_after = None
        assert spool.reprint(kept.job_id)
        assert spool.wait_idle(10)
        assert spool.failed() == []
        printed = [data for data in server.wait(3) if b"\x1b@" in data]
        paper = replay(decode(printed[-1]))
        assert paper.lines[0].text == "丝域美发 · 徐汇店"
        assert paper.items[-1] == Op("cut", (True, 0))
        assert statuses[-1].state is DeviceState.CONNECTED
    finally:
        assert spool.close(5)
        server.close()
