"""A commit's in-memory work done on a thread of its own while the journal's fsync waits.

A commit writes its record, then waits for ``fdatasync``: on this machine's disk a
quarter of a millisecond, on a Pi's SD card a few. Python gives up the GIL inside the
call, so the events can be applied to the state and the projections in that time on
another thread, and the commit returns when both are done instead of one after the
other. The other way round (fsync on a worker, apply on the caller) does not overlap:
the worker needs the GIL to begin the fsync and the caller, busy applying, holds it.

The caller holds the store's lock from ``start`` to ``finish``: no reader sees the state
until the fsync has succeeded, and if it fails the caller discards the state it started
(``EdgeStore`` reloads it from the disk). One job at a time.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

__all__ = ["Applier"]

Job = Callable[[], None]


class Applier:
    """One worker thread running the jobs it is given, one at a time."""

    def __init__(self, name: str = "store-apply") -> None:
        self._name = name
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._done: queue.SimpleQueue[BaseException | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._started = False

    @property
    def running(self) -> bool:
        """A job was started and ``finish`` has not yet waited for it."""
        return self._started

    def open(self) -> None:
        """Start the worker (at the store's open: a thread that cannot start fails there)."""
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def start(self, job: Job) -> None:
        """Hand ``job`` to the worker; it runs while the caller goes on."""
        if self._started:
            raise RuntimeError("the last job has not been finished")
        self.open()
        self._started = True
        self._jobs.put(job)

    def finish(self) -> None:
        """Wait for the job started last; raise what it raised. Nothing started: nothing."""
        if not self._started:
            return
        self._started = False
        error = self._done.get()
        if error is not None:
            raise error

    def close(self) -> None:
        """Stop the worker after the job it may be running."""
        thread, self._thread = self._thread, None
        if thread is not None and thread.is_alive():
            self._jobs.put(None)
            thread.join()

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                job()
            except BaseException as err:  # handed to finish(), raised in the caller
                self._done.put(err)
            else:
                self._done.put(None)
