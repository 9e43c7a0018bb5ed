"""The print spool: receipts print in order on their own thread; a failed one waits for a reprint.

A sale is committed before its receipt prints, and printing must never hold it up:
``submit`` returns at once. A job that fails (printer offline, out of paper) is kept
with its error, the last ``keep_failed`` of them, until someone reprints it. The
spool also owns the printer's status as the rest of the hub sees it: every change
(a failure, a recovery, a poll) goes to ``on_status``, called on the spool's thread.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from devices.errors import DeviceError, DeviceErrorCode
from devices.ports import DeviceKind, DeviceState, DeviceStatus, ReceiptPrinter
from devices.receipt_doc import Receipt

__all__ = ["FailedJob", "PrintSpool"]

log = logging.getLogger(__name__)

_STATUS = object()  # a queued request to ask the printer its status


@dataclass(frozen=True, slots=True)
class FailedJob:
    receipt: Receipt
    error: DeviceError
    attempts: int
    failed_at: datetime

    @property
    def job_id(self) -> str:
        return self.receipt.job_id


@dataclass(slots=True)
class _Job:
    receipt: Receipt
    attempts: int = 0


def _utc_now() -> datetime:
    return datetime.now(UTC)


class PrintSpool:
    """Prints through ``printer`` on a worker thread started here; ``close`` stops it.

    ``poll_interval`` (seconds, or None for never) asks the printer its status while
    idle, so a printer that runs out of paper or goes offline shows before a sale.
    At most ``max_pending`` jobs wait; beyond that the oldest waiting one is failed
    (a printer that hangs must not grow memory without bound).
    """

    def __init__(
        self,
        printer: ReceiptPrinter,
        *,
        on_status: Callable[[DeviceStatus], None] | None = None,
        keep_failed: int = 20,
        max_pending: int = 50,
        poll_interval: float | None = 30.0,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        if keep_failed < 1 or max_pending < 1:
            raise ValueError("keep_failed and max_pending must be at least 1")
        self._printer = printer
        self._on_status = on_status
        self._keep_failed = keep_failed
        self._max_pending = max_pending
        self._poll_interval = poll_interval
        self._clock = clock
        self._cond = threading.Condition()
        self._queue: deque[_Job | object] = deque()
        self._failed: OrderedDict[str, FailedJob] = OrderedDict()
        self._busy = False
        self._stopping = False
        self._last: DeviceStatus | None = None
        self._thread = threading.Thread(target=self._run, name=f"spool-{printer.device_id}",
                                        daemon=True)
        self._thread.start()

    @property
    def status(self) -> DeviceStatus | None:
        """The printer's status last reported (None before the first job or poll)."""
        return self._last

    def submit(self, receipt: Receipt) -> None:
        """Queue ``receipt`` and return at once; it supersedes a failed job of its id."""
        with self._cond:
            self._failed.pop(receipt.job_id, None)
            self._enqueue(_Job(receipt))

    def reprint(self, job_id: str) -> bool:
        """Queue the failed job ``job_id`` again; False if no failed job has that id."""
        with self._cond:
            kept = self._failed.pop(job_id, None)
            if kept is None:
                return False
            self._enqueue(_Job(kept.receipt, kept.attempts))
            return True

    def retry_failed(self) -> int:
        """Queue every failed job again, oldest first; how many were queued."""
        with self._cond:
            jobs = list(self._failed.values())
            self._failed.clear()
            for kept in jobs:
                self._enqueue(_Job(kept.receipt, kept.attempts))
            return len(jobs)

    def failed(self) -> list[FailedJob]:
        """The kept failed jobs, oldest first."""
        with self._cond:
            return list(self._failed.values())

    def pending(self) -> int:
        with self._cond:
            return sum(isinstance(item, _Job) for item in self._queue) + int(self._busy)

    def check_status(self) -> None:
        """Ask the printer its status now (on the spool's thread); report it if it changed."""
        with self._cond:
            self._queue.append(_STATUS)
            self._cond.notify()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is queued or printing; False if ``timeout`` passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._busy, timeout)

    def close(self, timeout: float = 5.0) -> bool:
        """Stop after the job printing now; False if the thread did not stop in time."""
        with self._cond:
            self._stopping = True
            left = sum(isinstance(item, _Job) for item in self._queue)
            self._queue.clear()
            self._cond.notify_all()
        if left:
            log.warning("print spool %s closed with %d receipts unprinted",
                        self._printer.device_id, left)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _enqueue(self, job: _Job) -> None:
        if self._stopping:
            log.warning("print spool %s is closed: receipt %s not printed",
                        self._printer.device_id, job.receipt.job_id)
            return
        waiting = [item for item in self._queue if isinstance(item, _Job)]
        if len(waiting) >= self._max_pending:
            oldest = waiting[0]
            self._queue.remove(oldest)
            self._keep(oldest, DeviceError(DeviceErrorCode.PRINTER_OFFLINE, {
                "device": self._printer.device_id, "reason": "spool full"}))
        self._queue.append(job)
        self._cond.notify()

    def _keep(self, job: _Job, error: DeviceError) -> None:
        self._failed.pop(job.receipt.job_id, None)
        self._failed[job.receipt.job_id] = FailedJob(job.receipt, error, job.attempts + 1,
                                                     self._clock())
        while len(self._failed) > self._keep_failed:
            dropped, _ = self._failed.popitem(last=False)
            log.warning("print spool %s: failed receipt %s no longer kept",
                        self._printer.device_id, dropped)

    def _next(self) -> _Job | object | None:
        with self._cond:
            if not self._queue and not self._stopping:
                self._cond.wait(self._poll_interval)
            if self._stopping:
                return None
            self._busy = True
            return self._queue.popleft() if self._queue else _STATUS

    def _run(self) -> None:
        while True:
            item = self._next()
            if item is None:
                return
            try:
                if isinstance(item, _Job):
                    self._print(item)
                else:
                    self._report(self._printer.status())
            except Exception:  # the thread must outlive a bug (in a status query, a callback)
                log.exception("print spool %s", self._printer.device_id)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _print(self, job: _Job) -> None:
        try:
            self._printer.print_receipt(job.receipt)
        except Exception as caught:
            err = caught if isinstance(caught, DeviceError) else self._fault(job, caught)
            with self._cond:
                self._keep(job, err)
            log.warning("receipt %s not printed: %s", job.receipt.job_id, err.code.value)
            self._report(DeviceStatus.failed(self._printer.device_id, DeviceKind.PRINTER,
                                             DeviceState.ERROR, err))
            return
        if self._last is None or self._last.state is not DeviceState.CONNECTED:
            self._report(self._printer.status())

    def _fault(self, job: _Job, err: Exception) -> DeviceError:
        """A printer that broke its promise to raise only DeviceError: the job is kept anyway."""
        log.error("receipt %s: the printer raised %s", job.receipt.job_id, type(err).__name__,
                  exc_info=err)
        return DeviceError(DeviceErrorCode.PRINTER_FAULT,
                           {"device": self._printer.device_id, "reason": type(err).__name__})

    def _report(self, status: DeviceStatus) -> None:
        if status == self._last:
            return
        self._last = status
        log.info("printer %s: %s %s", status.device_id, status.state.value,
                 status.reason.value if status.reason else "")
        if self._on_status is not None:
            try:
                self._on_status(status)
            except Exception:
                log.exception("on_status of print spool %s", self._printer.device_id)

