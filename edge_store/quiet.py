"""Keeping the interpreter out of the till's way: the cycle collector and thread switches.

Three process-wide settings decide how long a commit can be held up by work that is not
its own, and all are shared by every thread, so each is changed here only, counted:
the first holder changes it, the last one out puts it back. What the collector may
walk at all (the frozen objects it never looks at) is decided here too.

* ``collector_held``: the cycle collector paused. A full collection walks every
  container in the process holding the GIL: 0.2-0.5 s with a copy of the state alive,
  in the middle of whichever commit triggered it. Loading the state and copying it for
  a snapshot build hundreds of thousands of containers and no garbage cycles, and a
  snapshot's copy lives until its thread has written it: the collector is held from the
  copy until the copy is dropped, so it never sees it (refcounting frees it).
* ``turns_shortened``: the switch interval at a tenth of a millisecond (CPython's default is
  5 ms) while a snapshot thread runs. A commit lets go of the GIL at each system call
  (write, fdatasync); a busy thread picks it up, and the commit waited up to the whole
  interval to get it back, at each of them (a checkout measured 26 ms at its p99 while
  a snapshot was being written).
* ``freeze_loaded``: everything there is frozen, without a collection, at the end of a
  load while the collector is still held. Frozen only after the collector resumed,
  the first collection walked all that was loaded, still young, once (0.1 s of a
  1.2 s start at 200,000 sales).
* ``freeze_survivors``: a full collection, then everything left frozen. The state
  loaded at the open is frozen, but each commit leaves some fifty new containers (a
  ticket, its lines, lots, documents), and a full collection walks all of those made
  since the last freeze: 0.19-0.23 s, holding the GIL in the middle of a checkout,
  after 10,000 sales since the open, and more the longer the Pi runs. The snapshot
  thread calls it after each snapshot, so a full collection never has more than one
  snapshot interval's objects to walk.
* ``defer_full_collections``: while a store is open, CPython considers a full
  collection only after ``FULL_COLLECTION_EVERY`` collections of the middle generation
  (its default is 10: every 2,000 sales or so of the tests' workload). The snapshot
  thread makes the full collection (``freeze_survivors``); an automatic one came in the
  middle of a checkout and walked all that the sales had left since the last freeze,
  81 ms in a benchmark run at 200,000 sales. Cyclic garbage old enough for the oldest
  generation (the kiosk's, not the store's) waits for the next snapshot: 2,000 sales or
  a day.

Frozen objects are still freed when no longer referenced; the cost of freezing is that
a cycle among objects alive at a freeze is never collected if it dies later. The
store's records are acyclic dataclasses and dicts (2,000 commits left no cyclic
garbage); a start leaves a few hundred such objects once (the type hints the codecs
read, a few recursive helpers); a kiosk's long-lived widgets should not rely on the
cycle collector either.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = [
    "BACKGROUND_SWITCH_INTERVAL",
    "FULL_COLLECTION_EVERY",
    "collector_held",
    "defer_full_collections",
    "freeze_loaded",
    "freeze_survivors",
    "hold_collector",
    "release_collector",
    "restore_turns",
    "resume_full_collections",
    "shorten_turns",
    "turns_shortened",
]

BACKGROUND_SWITCH_INTERVAL = 0.0001
"""Seconds a thread waiting for the GIL waits before it asks the running one to let go,
while a background writer runs."""


FULL_COLLECTION_EVERY = 1_000
"""Collections of the middle generation before CPython looks at a full one, while a store
is open: more than a snapshot interval makes, so in service the snapshot thread's are the
only full collections; the rest is a safety net for a store whose snapshots fail."""


class _Counted:
    """A process-wide setting changed by the first of its holders, restored by the last."""

    def __init__(self, change: Callable[[], object], restore: Callable[[object], None]) -> None:
        self._change = change
        self._restore = restore
        self._lock = threading.Lock()
        self._holders = 0
        self._saved: object = None

    def hold(self) -> None:
        with self._lock:
            if self._holders == 0:
                self._saved = self._change()
            self._holders += 1

    def release(self) -> None:
        with self._lock:
            if self._holders == 0:
                raise RuntimeError("released more often than held")
            self._holders -= 1
            if self._holders == 0:
                self._restore(self._saved)

    @contextmanager
    def held(self) -> Iterator[None]:
        self.hold()
        try:
            yield
        finally:
            self.release()


def _pause_collector() -> bool:
    was_enabled = gc.isenabled()
    gc.disable()
    return was_enabled


def _resume_collector(was_enabled: object) -> None:
    if was_enabled:
        gc.enable()


def _shorten() -> float:
    saved = sys.getswitchinterval()
    sys.setswitchinterval(min(saved, BACKGROUND_SWITCH_INTERVAL))
    return saved


def _lengthen(saved: object) -> None:
    assert isinstance(saved, float)
    sys.setswitchinterval(saved)


def _defer_full() -> int:
    young, middle, full = gc.get_threshold()
    gc.set_threshold(young, middle, max(full, FULL_COLLECTION_EVERY))
    return full


def _undefer_full(saved: object) -> None:
    assert isinstance(saved, int)
    young, middle, _ = gc.get_threshold()  # whatever else changed them meanwhile stays
    gc.set_threshold(young, middle, saved)


_collector = _Counted(_pause_collector, _resume_collector)
_turns = _Counted(_shorten, _lengthen)
_full = _Counted(_defer_full, _undefer_full)

hold_collector = _collector.hold
"""Pause the cycle collector until the matching ``release_collector`` (any thread)."""
release_collector = _collector.release
collector_held = _collector.held

shorten_turns = _turns.hold
"""Switch threads every ``BACKGROUND_SWITCH_INTERVAL`` until the matching ``restore_turns``."""
restore_turns = _turns.release
turns_shortened = _turns.held

defer_full_collections = _full.hold
"""Leave full collections to the snapshot thread until the matching
``resume_full_collections`` (a store holds it while open)."""
resume_full_collections = _full.release


def freeze_loaded() -> None:
    """Freeze everything there is now, without a collection (the caller holds the
    collector: what it loaded is all young, and has no garbage cycles worth a walk)."""
    gc.freeze()


def freeze_survivors() -> None:
    """Collect the garbage there is now, then freeze everything that is left (any thread).

    It runs whether or not the collector is held; the collection takes as long as the
    objects made since the last freeze need (tens of milliseconds after a snapshot
    interval of sales), holding the GIL.
    """
    gc.collect()
    gc.freeze()
