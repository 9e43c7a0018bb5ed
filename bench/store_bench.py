"""The edge store at years of data, next to stock TinyDB, SQLite (WAL, FULL) and a bare fsync.

    python bench/store_bench.py [--members 20000] [--sales 200000] [--first 20000]
                                [--samples 3000] [--quick]

Builds a store of ``--members`` members through the real domain (hub.workload: every
sale is a three-line checkout paid by stored value, earning points and commission),
measures at ``--first`` past sales, builds on to ``--sales`` and measures again, so the
table shows how each figure grows. The build itself skips fsync (it would take hours);
every measured commit fsyncs. Baselines, measured in the same run at the same sizes:

* bare: ``write`` + ``fdatasync`` of the very record bytes the journal wrote (the floor),
  to a file of its own right after each commit: interleaved, the two see the disk and
  the (shared, drifting) host at the same moments; the same again for the checkouts
  made back to back while a snapshot (started as the policy starts one) is written on
  its thread; and the same bytes into a file of zeros written before (the journal
  writes into a segment made of such a file: no file size changes, so ``fdatasync``
  needs no file-system journal commit), the floor of that way of writing;
* SQLite in WAL mode with ``synchronous=FULL``, the same sale as one transaction
  (ticket, 3 lines, 3 commission rows, a points row, account and member updates) on
  tables holding the same members and sales;
* stock TinyDB ``JSONStorage`` holding the same number of sales as small documents
  (one insert rewrites the whole file; a few inserts are timed, not ``--samples``).

While building, HQ acknowledges the records as a connected store's bridge would and the
journal is pruned to its retention period (90 days), as in a store in service.
Bytes written come from ``/proc/self/io`` (``write_bytes``: the pages the process
dirtied, so page granularity is in it, the file system's journal, written by the
kernel's thread, is not); the zeros of the spare segments are counted too, in two rows:
in service, the zeros the build's spares wrote (counted by the journal) per record sold
since retention first removed a segment (a removed segment becomes the next spare, with
no zeros written); and in a store's first 90 days, when nothing is removed yet and every
segment is a spare of zeros, as many as the record's own bytes. A snapshot's bytes are
amortised over the records between two snapshots at the build's pace (records a day of
the store's clock): kept running (the record or the time policy, whichever comes
first), shut down cleanly every night (a snapshot at the first shutdown with enough
records since the last), and under the policy before (every 2,000 records or 24 h).
What the disk itself writes per record, appended or into zeros, comes from the block
device's counter.
Cold start and memory are measured in a fresh process: open, load the newest snapshot,
replay 1,000 records (three processes, the median reported), from compiled bytecode as
an installed package has it (one more process without bytecode shows what compiling
adds; run as root, three more after dropping the page cache, as after a boot, show what
reading the files off the disk adds); then, in the same process, the first query over
the members table, which builds the member documents the open leaves to first use.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edge_store.quiet import collector_held
from edge_store.store import EdgeStore, StoreOptions
from hub.demo_data import DEMO_DAY
from hub.workload import Workload, mobile_of
from salon.commands import decide
from salon.testing import ManualClock, SequentialIds

STORE_ID = "store-bench-001"
TAIL_RECORDS = 1_000
COLD_RUNS = 3
"""Fresh processes the cold start is timed in; the median is reported (and every run)."""


class _NoSync:
    """Build-time file ops: the page cache only (building 200,000 fsynced sales takes hours)."""

    def write(self, fd: int, data: bytes) -> int:
        return os.write(fd, data)

    def fsync(self, fd: int) -> None:
        pass


def _written() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    raise RuntimeError("no write_bytes in /proc/self/io")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def _spread(values: list[float]) -> str:
    """p50 / p99 / max in ms, or "-" where no value was measured."""
    if not values:
        return "-"
    return f"{_ms(_pct(values, 0.5))} / {_ms(_pct(values, 0.99))} / {_ms(max(values))}"


class Build:
    """A store being built; ``store`` is reopened with real fsync for every measurement."""

    def __init__(self, root: Path, members: int) -> None:
        self.root = root
        self.data = root / "store"
        self.clock = ManualClock(DEMO_DAY)
        self.ids = SequentialIds("B")
        self.store = self._open(_NoSync())
        self.work = Workload(self.store, lambda: self.store.state, self.clock, 11)
        self.work.setup()
        self.work.register(members)
        self.sales = 0
        self._sold = (0, 0.0)
        """Records committed by ``sell`` and the seconds of the store's clock they took."""
        self._spares_before = (0, 0)
        """Spares written with zeros and made of removed segments by the stores closed before."""
        self.in_service: tuple[int, int, int] | None = None
        """(last record, spares written, spares recycled) when retention first removed a
        segment: from then on the store is as one in service, its old segments recycled."""

    def spares(self) -> tuple[int, int]:
        """Spares written with zeros, and made of removed segments, since the build began."""
        journal = self.store.journal
        written, recycled = self._spares_before
        return written + journal.spares_written, recycled + journal.spares_recycled

    def replace(self, store: EdgeStore) -> None:
        """Work on ``store`` from now on (the one before is closed: its counts are kept)."""
        self._spares_before = self.spares()
        self.store = store
        self.work.store = store

    def records_a_day(self) -> float:
        """Records per day of the store's clock while selling (the measured checkouts come
        a minute apart, faster than a store's day: left out)."""
        records, seconds = self._sold
        return records / (seconds / 86_400)

    def zeros_in_service(self) -> tuple[float, int, int] | None:
        """Bytes of spare zeros written per record since retention first removed a segment,
        and how many spares were written with zeros / made of removed segments meanwhile."""
        if self.in_service is None or self.store.last_seq == self.in_service[0]:
            return None
        seq, written, recycled = self.in_service
        now_written, now_recycled = self.spares()
        zeros = (now_written - written) * self.store.journal.segment_bytes
        return zeros / (self.store.last_seq - seq), now_written - written, now_recycled - recycled

    def _open(self, ops: Any) -> EdgeStore:
        # The build snapshots by the record policy (every 2,000) alone, which at its pace
        # comes before the time policy's 30 days anyway.
        options = StoreOptions(snapshot_every_seconds=10**9) if ops is not None else StoreOptions()
        return EdgeStore.open(self.data, STORE_ID, self.clock, self.ids, options, ops)

    def sell(self, until: int) -> float:
        """Sell up to ``until`` sales; HQ acknowledges as it goes and retention prunes."""
        started = time.perf_counter()
        seq, at = self.store.last_seq, self.clock()
        while self.sales < until:
            batch = min(5_000, until - self.sales)
            # 137 sales a "day" of 12 h plus the sales' own gaps (8 min on average): the
            # clock moves 30 h a day, so 200,000 sales span five years.
            self.work.sales(batch, per_day=137)
            self.sales += batch
            # A connected store: HQ has everything but the last few sales, and the journal
            # keeps the retention period (90 days) of what HQ acknowledged.
            self.store.acknowledge(max(0, self.store.last_seq - 50))
            self.store.prune()
            if self.in_service is None and self.store.journal.first_seq > 1:
                self.in_service = (self.store.last_seq, *self.spares())
        records, seconds = self._sold
        self._sold = (records + self.store.last_seq - seq,
                      seconds + (self.clock() - at).total_seconds())
        # The build wrote gigabytes without fsync; flushed now, the kernel's writeback of
        # them does not sit in front of the fsyncs timed next (it did: p99 3.6 ms, max 21).
        os.sync()
        return time.perf_counter() - started

    def reopen(self, ops: Any | None) -> None:
        self.store.close()
        self.replace(self._open(ops))


def measure_commits(build: Build, samples: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Latency and bytes of ``samples`` fsynced checkouts, and of the bare appends of their
    records, each right after its commit."""
    build.reopen(None)
    store, work = build.store, build.work
    # The main window is commits with no snapshot being written: the policy waits until
    # after it (commits while one is written are the second window). The amortised bytes
    # of a snapshot are still the production policy's.
    production = store.options
    store.options = dataclasses.replace(
        production, snapshot_every_records=10**9, snapshot_every_seconds=10**9
    )
    latencies: list[float] = []
    totals: list[float] = []
    appends: list[float] = []  # every append's time; the checkouts' go to ``fsyncs``
    fsyncs: list[float] = []
    last_record = b""  # the record appended last: after a checkout, its own
    framed: list[int] = []
    bare_path = build.root / "bare.log"
    bare_fd = os.open(bare_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
    bare: list[float] = []
    # The second floor: the same bytes into a file of zeros made before (as the journal's
    # segments are made of a spare), which changes no file size and so needs no
    # file-system journal commit.
    zeros_path = build.root / "bare.zeros"
    zeros_fd = _zero_file(zeros_path, samples * 16 * 1024)
    bare_zeros: list[float] = []
    bare_written = 0
    append = store.journal.append

    def timed_append(record: bytes, on_written: Callable[[], None] | None = None) -> None:
        nonlocal last_record
        # The write + fdatasync inside each commit, without the applying of the events
        # the commit does between the two (while the kernel writes the record)
        applying = 0.0

        def timed_on_written() -> None:
            nonlocal applying
            started = time.perf_counter()
            if on_written is not None:
                on_written()
            applying = time.perf_counter() - started

        started = time.perf_counter()
        append(record, timed_on_written)
        appends.append(time.perf_counter() - started - applying)
        last_record = record

    store.journal.append = timed_append  # type: ignore[method-assign]
    # Collections of the cycle collector that start inside a timed commit of the main
    # window: (the commit's index, generation, seconds), to tell their share of the slow
    # commits.
    watching = collecting = False
    in_commits: list[tuple[int, int, float]] = []
    collection_started = (0, 0.0)

    def on_collection(phase: str, info: dict[str, int]) -> None:
        nonlocal collection_started
        if not collecting:
            return
        if phase == "start":
            collection_started = (info["generation"], time.perf_counter())
        else:
            generation, started = collection_started
            in_commits.append((len(latencies), generation, time.perf_counter() - started))

    written = 0
    first_seq = store.last_seq + 1

    def checkout() -> tuple[float, float, float, float]:
        """One timed checkout commit, then the bare append of its record: decide + commit,
        commit, the commit's own write+fdatasync, the bare append (seconds)."""
        nonlocal written, bare_written, collecting
        member = work.rng.choice(work.members)
        work.clock.advance(seconds=60)  # a sale a minute (the policy waits: see above)
        command = work.checkout_command(member)
        if store.state.accounts.balance_fen(member, work.clock()) < command.payments[0].amount_fen:
            work.recharge(member)
            command = work.checkout_command(member)
        before = _written()
        started = time.perf_counter()
        with store._lock:  # what execute does, timed in its two halves
            events = decide(store.state, command, store.ctx)
            decided = time.perf_counter()
            collecting = watching
            store._commit(events)
            collecting = False
        done = time.perf_counter()
        written += _written() - before
        before = _written()
        bare_started = time.perf_counter()
        os.write(bare_fd, last_record)
        os.fdatasync(bare_fd)
        bare_done = time.perf_counter()
        bare_written += _written() - before
        if watching:
            zeros_started = time.perf_counter()
            os.write(zeros_fd, last_record)
            os.fdatasync(zeros_fd)
            bare_zeros.append(time.perf_counter() - zeros_started)
        return done - started, done - decided, appends[-1], bare_done - bare_started

    # No snapshot is taken in the run (in a store, one in 2,000 commits makes the copy;
    # see "lock held" below).
    snapshot_seq = store.snapshot_seq
    watching = True
    gc.callbacks.append(on_collection)
    for _ in range(samples):
        total, latency, fsync, bare_append = checkout()
        totals.append(total)
        latencies.append(latency)
        fsyncs.append(fsync)
        bare.append(bare_append)
        framed.append(len(last_record))
    gc.callbacks.remove(on_collection)
    watching = False
    # The window's sales history lines wait in memory for the next snapshot's sync (none
    # is taken in the window): written now, so that their bytes count as the commits'.
    before = _written()
    store.history.write_tail()
    written += _written() - before
    main_written, main_bare_written = written, bare_written
    records = [r for r in store.records_after(first_seq - 1, limit=10**9)]
    store.flush()
    if store.snapshot_seq != snapshot_seq:
        print("note: the policy took a snapshot inside the main window", flush=True)
    store.options = production
    # Then a snapshot started as the policy starts it, and checkouts back to back while its
    # thread writes (in a store sales are minutes apart; a top-up and the payment after it
    # are not).
    during: list[float] = []
    during_bare: list[float] = []
    with store._lock:
        store._start_snapshot()
    while store._snapshot_pending and len(during) < samples:
        _, latency, _, bare_append = checkout()
        during.append(latency)
        during_bare.append(bare_append)
    os.close(bare_fd)
    bare_path.unlink()
    os.close(zeros_fd)
    zeros_path.unlink()
    del store.journal.append  # the instance attribute: back to the method
    store.flush()
    # A snapshot as the policy takes one, timed in its two halves: the copy under the lock
    # (what a checkout waits for) and the write (on the snapshot thread in service).
    with collector_held():  # as _start_snapshot: from the copy until it is dropped
        with store._lock:
            copy_started = time.perf_counter()
            seq, now = store._sync_for_snapshot()
            copy = store._copy_state()
            copy_seconds = time.perf_counter() - copy_started
        snap_before = _written()
        snap_started = time.perf_counter()
        path = store.snapshots.write(seq, now.isoformat(), copy)
        snapshot_seconds = time.perf_counter() - snap_started
        snapshot_bytes = _written() - snap_before
        del copy
    store.snapshot_seq = seq
    a_day = build.records_a_day()
    return {
        "lat": latencies,
        "total": totals,
        "append": fsyncs,
        "framed": framed,
        "bytes": main_written / samples,
        "records": records,
        "during": during,
        "collections": in_commits,
        "snapshot_bytes": snapshot_bytes,
        "snapshot_file": path.stat().st_size,
        "snapshot_copy_seconds": copy_seconds,
        "snapshot_seconds": snapshot_seconds,
        "snapshot_amortised": _snapshot_amortised(snapshot_bytes, production, a_day),
        "records_a_day": a_day,
    }, {"lat": bare, "bytes": main_bare_written / samples, "during": during_bare,
        "zeros": bare_zeros}


def _snapshot_amortised(
    snapshot_bytes: int, options: StoreOptions, a_day: float,
) -> dict[str, float]:
    """A snapshot's bytes over the records between two snapshots, at ``a_day`` records a
    day: kept running (the record or the time policy, whichever comes first), shut down
    cleanly every night (a snapshot at the first shutdown with enough records after the
    last), and under the policy before this one (a snapshot every 2,000 records or 24 h)."""
    running = min(options.snapshot_every_records, a_day * options.snapshot_every_seconds / 86_400)
    nights = max(1, -(-options.snapshot_at_close_records // max(1, int(a_day))))
    return {
        "running": snapshot_bytes / running,
        "nightly": snapshot_bytes / min(running, nights * a_day),
        "daily": snapshot_bytes / min(2000, a_day),
    }


def _zero_file(path: Path, size: int) -> int:
    """A file of ``size`` zeros written a page at a time and fsynced, open at its start."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o640)
    page = bytes(4096)
    for _ in range(size // len(page)):
        os.write(fd, page)
    os.fsync(fd)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def measure_device(root: Path, record: bytes, count: int = 300) -> dict[str, float] | None:
    """KiB the disk itself wrote per ``write`` + ``fdatasync`` of ``record``: appended to a
    file, or into a file of zeros (the block device's own counter, which also sees the
    file system's journal; ``/proc/self/io`` does not). None where the counter cannot
    be read. Nothing else of the run writes meanwhile; the machine's other processes may.
    """
    dev = os.stat(root).st_dev
    stat = Path(f"/sys/dev/block/{os.major(dev)}:{os.minor(dev)}/stat")
    if not stat.exists():
        return None

    def sectors() -> int:
        return int(stat.read_text().split()[6])

    out = {}
    for name in ("append", "zeros"):
        path = root / f"device.{name}"
        if name == "zeros":
            fd = _zero_file(path, count * (len(record) + 4096))
        else:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
        os.sync()
        before = sectors()
        for _ in range(count):
            os.write(fd, record)
            os.fdatasync(fd)
        os.sync()
        out[name] = (sectors() - before) * 512 / count / 1024
        os.close(fd)
        path.unlink()
    return out


_SCHEMA = """
CREATE TABLE members (id TEXT PRIMARY KEY, name TEXT, mobile TEXT UNIQUE, card TEXT UNIQUE,
                      points INTEGER, tier TEXT);
CREATE TABLE accounts (member_id TEXT PRIMARY KEY, principal INTEGER, bonus INTEGER);
CREATE TABLE tickets (id TEXT PRIMARY KEY, member_id TEXT, at TEXT, due INTEGER, body TEXT);
CREATE INDEX tickets_member ON tickets(member_id);
CREATE TABLE lines (ticket_id TEXT, line_no INTEGER, item TEXT, net INTEGER,
                    PRIMARY KEY (ticket_id, line_no));
CREATE TABLE commissions (ticket_id TEXT, line_no INTEGER, staff TEXT, amount INTEGER, at TEXT);
CREATE INDEX commissions_staff ON commissions(staff, at);
CREATE TABLE points (member_id TEXT, source TEXT, points INTEGER, expires TEXT);
CREATE INDEX points_member ON points(member_id);
"""


def _sqlite_sale(db: sqlite3.Connection, n: int, member: str, body: str) -> None:
    ticket = f"T{n:09d}"
    with db:
        db.execute(
            "INSERT INTO tickets VALUES (?, ?, ?, ?, ?)",
            (ticket, member, "2026-11-23T02:00:00+00:00", 30_900, body),
        )
        db.executemany(
            "INSERT INTO lines VALUES (?, ?, ?, ?)",
            [(ticket, i, item, 10_000) for i, item in enumerate(("CUT", "WASH", "P-SH"))],
        )
        db.executemany(
            "INSERT INTO commissions VALUES (?, ?, ?, ?, ?)",
            [(ticket, i, "S004", 1_000, "2026-11-23") for i in range(3)],
        )
        db.execute("INSERT INTO points VALUES (?, ?, ?, ?)", (member, ticket, 618, "2027-12-31"))
        db.execute(
            "UPDATE accounts SET principal = principal - 30900 WHERE member_id = ?", (member,)
        )
        db.execute("UPDATE members SET points = points + 618 WHERE id = ?", (member,))


def build_sqlite(root: Path, members: int, sales: int, body: str) -> sqlite3.Connection:
    path = root / "bench.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.executescript(_SCHEMA)
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO members VALUES (?, ?, ?, ?, 0, 'normal')",
        [(f"M{i}", f"会员{i}", mobile_of(i), f"C{i:08X}") for i in range(members)],
    )
    db.executemany(
        "INSERT INTO accounts VALUES (?, 10000000, 0)", [(f"M{i}",) for i in range(members)]
    )
    db.execute("COMMIT")
    grow_sqlite(db, members, 0, sales, body)
    return db


def grow_sqlite(db: sqlite3.Connection, members: int, start: int, end: int, body: str) -> None:
    db.execute("PRAGMA synchronous=OFF")
    rng = random.Random(5)
    for n in range(start, end):
        _sqlite_sale(db, n, f"M{rng.randrange(members)}", body)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def measure_sqlite(
    db: sqlite3.Connection, members: int, first_n: int, samples: int, body: str
) -> dict[str, Any]:
    db.execute("PRAGMA synchronous=FULL")
    rng = random.Random(9)
    latencies: list[float] = []
    written = 0
    for i in range(samples):
        before = _written()
        started = time.perf_counter()
        _sqlite_sale(db, first_n + i, f"M{rng.randrange(members)}", body)
        latencies.append(time.perf_counter() - started)
        written += _written() - before
    before = _written()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # WAL pages reach the main file later too
    checkpoint = _written() - before
    return {"lat": latencies, "bytes": written / samples, "checkpoint": checkpoint / samples}


def measure_tinydb(root: Path, sales: int, inserts: int) -> dict[str, Any]:
    from tinydb import TinyDB

    path = root / "stock.json"
    rng = random.Random(3)
    docs = {
        str(i): {
            "ticket": f"T{i:09d}",
            "member": f"M{rng.randrange(20_000)}",
            "due": 30_900,
            "items": ["CUT", "WASH", "P-SH"],
            "paid": "stored_value",
            "at": "2026-11-23T10:00:00",
        }
        for i in range(1, sales + 1)
    }
    path.write_text(json.dumps({"_default": docs}))
    db = TinyDB(path)
    latencies: list[float] = []
    written = 0
    try:
        for i in range(inserts):
            before = _written()
            started = time.perf_counter()
            db.insert(
                {
                    "ticket": f"X{i}",
                    "member": "M1",
                    "due": 30_900,
                    "items": ["CUT", "WASH", "P-SH"],
                    "paid": "stored_value",
                    "at": "x",
                }
            )
            latencies.append(time.perf_counter() - started)
            written += _written() - before
    finally:
        db.close()
        size = path.stat().st_size
        path.unlink()
    return {"lat": latencies, "bytes": written / inserts, "file": size}


def measure_lookups(store: EdgeStore, members: int, count: int) -> dict[str, list[float]]:
    rng = random.Random(4)
    out: dict[str, list[float]] = {"card": [], "mobile": []}
    lookups: dict[str, Callable[[int], object]] = {
        "card": lambda n: store.member_by_card(f"C{n:08X}"),
        "mobile": lambda n: store.member_by_mobile(mobile_of(n)),
    }
    for kind, lookup in lookups.items():
        for _ in range(count):
            n = rng.randrange(members)
            started = time.perf_counter()
            lookup(n)
            out[kind].append(time.perf_counter() - started)
    return out


_COLD = """import sys, time
sys.path.insert(0, sys.argv[2])
started = time.perf_counter()
from edge_store.store import EdgeStore
from salon.testing import ManualClock, SequentialIds
from hub.demo_data import DEMO_DAY
store = EdgeStore.open(sys.argv[1], "%s", ManualClock(DEMO_DAY), SequentialIds("C"))
opened = time.perf_counter() - started
status = lambda: open("/proc/self/status").read()
kib = lambda text, key: int(text.split(key + ":")[1].split()[0])
after_open = status()
from tinydb import Query
query_started = time.perf_counter()
store.query("members", Query().points >= 0)
queried = time.perf_counter() - query_started
print(opened, kib(after_open, "VmRSS"), kib(after_open, "VmHWM"),
      store.last_seq - store.snapshot_seq, queried, kib(status(), "VmRSS"))
store.close(snapshot=False)
""".replace("%s", STORE_ID)
"""Open the store, then the first query over the members table (which builds the member
documents the open left to first use, see edge_store.projections)."""


_DROP_CACHES = "/proc/sys/vm/drop_caches"
"""Writable by root only: the cold start after dropping the page cache is measured then."""


def _cold_env(pycache: Path, bytecode: bool) -> dict[str, str]:
    """The environment of a cold-start process: bytecode in ``pycache`` (written by the
    first run that may write it), or compiled from source at every import when not."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    if not bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def measure_cold_start(build: Build, drop: bool = True) -> dict[str, Any]:
    """Snapshot, add 1,000 records after it, stop; then open in fresh processes."""
    build.store.snapshot()
    build.store.close(snapshot=False)
    build.replace(EdgeStore.open(
        build.data,
        STORE_ID,
        build.clock,
        build.ids,
        StoreOptions(snapshot_every_records=10**9, snapshot_every_seconds=10**9),
        _NoSync(),
    ))
    seq = build.store.last_seq
    while build.store.last_seq < seq + TAIL_RECORDS:
        build.work.checkout(build.work.rng.choice(build.work.members))
    build.store.flush()
    build.store.close(snapshot=False)
    root = str(Path(__file__).resolve().parents[1])
    # An installed package starts from compiled bytecode (pip and Debian compile it at
    # install). The timed runs read it from a cache of their own (this machine's
    # environment may forbid writing it: PYTHONDONTWRITEBYTECODE); one run before them,
    # with the cache empty and writing it forbidden, times a start that compiles every
    # module, and the one after it writes the cache.
    pycache = build.root / "pycache"

    def cold(bytecode: bool, from_disk: bool = False) -> dict[str, float]:
        if from_disk:  # as after a boot: the store's files and the code read from the disk
            os.sync()
            Path(_DROP_CACHES).write_text("3\n")
        out = subprocess.run(
            [sys.executable, "-c", _COLD, str(build.data), root],
            capture_output=True,
            text=True,
            check=True,
            env=_cold_env(pycache, bytecode),
        ).stdout.split()
        return {
            "seconds": float(out[0]),
            "rss_mib": int(out[1]) / 1024,
            "peak_mib": int(out[2]) / 1024,
            "replayed": int(out[3]),
            "query_seconds": float(out[4]),
            "query_rss_mib": int(out[5]) / 1024,
        }

    compiling = cold(bytecode=False)
    cold(bytecode=True)  # writes the bytecode cache
    # The same files each time: a cold open writes no snapshot.
    runs = [cold(bytecode=True) for _ in range(COLD_RUNS)]
    dropped = None
    if drop and os.access(_DROP_CACHES, os.W_OK):  # not in a smoke run: the whole machine's
        dropped = sorted(cold(bytecode=True, from_disk=True)["seconds"] for _ in range(COLD_RUNS))
    build.replace(build._open(_NoSync()))
    runs.sort(key=lambda run: run["seconds"])
    return {**runs[len(runs) // 2], "all": [run["seconds"] for run in runs],
            "compiling": compiling["seconds"], "dropped": dropped}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--first", type=int, default=20_000)
    parser.add_argument("--sales", type=int, default=200_000)
    parser.add_argument("--samples", type=int, default=3000)
    parser.add_argument("--tinydb-inserts", type=int, default=3)
    parser.add_argument(
        "--quick", action="store_true", help="2,000 members, 2,000 then 6,000 sales: a smoke run"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.members, args.first, args.sales, args.samples = 2_000, 2_000, 6_000, 100
    if args.sales <= args.first:
        parser.error(f"--sales ({args.sales}) must be more than --first ({args.first})")
    rows = []
    with tempfile.TemporaryDirectory(prefix="store-bench-", dir=os.environ.get("BENCH_DIR")) as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        build = Build(root, args.members)
        print(f"built {args.members} members in {time.perf_counter() - started:.0f} s", flush=True)
        db: sqlite3.Connection | None = None
        for target in (args.first, args.sales):
            took = build.sell(target)
            print(f"sold up to {target} sales ({took:.0f} s)", flush=True)
            commits, bare = measure_commits(build, args.samples)
            payloads = [r.payload for r in commits["records"]]
            framed = commits["framed"]
            body = payloads[-1].decode()
            if db is None:
                db = build_sqlite(root, args.members, target, body)
            else:
                grow_sqlite(db, args.members, args.first, target, body)
            sqlite = measure_sqlite(db, args.members, 10_000_000 + target, args.samples, body)
            tiny = measure_tinydb(root, target, args.tinydb_inserts)
            lookups = measure_lookups(build.store, args.members, 5_000)
            commits["device"] = measure_device(root, commits["records"][-1].payload)
            cold = measure_cold_start(build, drop=not args.quick)
            spans = build.store.journal.segment_spans()
            kept = (sum(last - first + 1 for _, first, last, _ in spans),
                    sum(size for *_, size in spans))
            commits["zeros_in_service"] = build.zeros_in_service()
            rows.append(
                (target, commits, bare, sqlite, tiny, lookups, cold, statistics.mean(framed), kept)
            )
            print(f"measured at {target} sales", flush=True)
        if db is not None:
            db.close()
        build.store.close(snapshot=False)
    _print_table(args, rows)
    return 0


def _slow_commits(row: tuple[Any, ...]) -> str:
    """The main window's commits over 1 ms: how many had a write+fdatasync over 1 ms
    themselves, how many (of the others) a collection, and the rest."""
    commits = row[1]
    collected_in = {index for index, *_ in commits["collections"]}
    slow = [i for i, x in enumerate(commits["lat"]) if x > 0.001]
    disk = {i for i in slow if commits["append"][i] > 0.001}
    collected = [i for i in slow if i not in disk and i in collected_in]
    return f"{len(disk)} / {len(collected)} / {len(slow) - len(disk) - len(collected)}"


def _collections(row: tuple[Any, ...]) -> str:
    found: list[tuple[int, int, float]] = row[1]["collections"]
    counts = "/".join(str(sum(g == gen for _, g, _ in found)) for gen in range(3))
    return f"{counts} ({max((d for *_, d in found), default=0.0) * 1000:.1f})"


def _python_share(row: tuple[Any, ...]) -> str:
    """p50 / p99 of each commit less its own write+fdatasync: what the store adds."""
    rest = [lat - own for lat, own in zip(row[1]["lat"], row[1]["append"], strict=True)]
    return f"{_ms(_pct(rest, 0.5))} / {_ms(_pct(rest, 0.99))}"


def _zeros_in_service(row: tuple[Any, ...]) -> str:
    """Spare zeros per record once retention removes segments (measured), and how many
    spares were zeros / removed segments meanwhile."""
    found: tuple[float, int, int] | None = row[1]["zeros_in_service"]
    if found is None:
        return "(none removed yet)"
    per_record, written, recycled = found
    return f"{per_record:,.0f} ({written} / {recycled})"


def _bytes_ratio(row: tuple[Any, ...], in_service: bool, snapshots: str = "running") -> str:
    """(journal + history, snapshot, spare zeros) per commit over the bare append's bytes;
    zeros measured in service, or one record's worth (every segment a spare of zeros)
    before retention removes any."""
    commits = row[1]
    if in_service:
        if commits["zeros_in_service"] is None:
            return "-"
        zeros = commits["zeros_in_service"][0]
    else:
        zeros = row[7]
    ours = commits["bytes"] + commits["snapshot_amortised"][snapshots] + zeros
    return f"{ours / row[2]['bytes']:.2f}x"


def _amortised(row: tuple[Any, ...], policy: str) -> str:
    return f"{row[1]['snapshot_amortised'][policy]:,.0f}"


def _device(row: tuple[Any, ...]) -> str:
    found: dict[str, float] | None = row[1]["device"]
    if found is None:
        return "(no block device counter)"
    return f"{found['append']:.1f} / {found['zeros']:.1f}"


def _dropped(row: tuple[Any, ...]) -> str:
    runs: list[float] | None = row[6]["dropped"]
    if runs is None:
        return "(root only, not --quick)"
    return f"{runs[len(runs) // 2]:.2f} ({runs[0]:.2f}-{runs[-1]:.2f})"


def _print_table(args: argparse.Namespace, rows: list[tuple[Any, ...]]) -> None:
    print(
        f"\nedge store benchmark: {args.members} members, {args.samples} fsynced commits per "
        f"size, machine {os.uname().machine}, Python {sys.version.split()[0]}\n"
    )
    head = f"{'':44}" + "".join(f"{r[0]:>16,} sales" for r in rows)
    print(head)

    def line(label: str, fn: Callable[[tuple[Any, ...]], str]) -> None:
        print(f"{label:44}" + "".join(f"{fn(r):>22}" for r in rows))

    line("record bytes (framed, mean)", lambda r: f"{r[7]:.0f}")
    line("records a day (the store's clock)", lambda r: f"{r[1]['records_a_day']:.0f}")
    line(
        "checkout p50 / p99 ms: decide + commit",
        lambda r: f"{_ms(_pct(r[1]['total'], 0.5))} / {_ms(_pct(r[1]['total'], 0.99))}",
    )
    line(
        "commit p50 / p99 ms: edge store",
        lambda r: f"{_ms(_pct(r[1]['lat'], 0.5))} / {_ms(_pct(r[1]['lat'], 0.99))}",
    )
    line(
        "             of which its write+fdatasync",
        lambda r: f"{_ms(_pct(r[1]['append'], 0.5))} / {_ms(_pct(r[1]['append'], 0.99))}",
    )
    line("             the rest (the store's Python)", _python_share)
    line(
        "             bare write+fdatasync",
        lambda r: f"{_ms(_pct(r[2]['lat'], 0.5))} / {_ms(_pct(r[2]['lat'], 0.99))}",
    )
    line(
        "             bare into a file of zeros",
        lambda r: f"{_ms(_pct(r[2]['zeros'], 0.5))} / {_ms(_pct(r[2]['zeros'], 0.99))}",
    )
    line(
        "             SQLite WAL FULL",
        lambda r: f"{_ms(_pct(r[3]['lat'], 0.5))} / {_ms(_pct(r[3]['lat'], 0.99))}",
    )
    line("             stock TinyDB insert (median)", lambda r: f"{_ms(_pct(r[4]['lat'], 0.5))}")
    line("commit max ms: edge store", lambda r: _ms(max(r[1]["lat"])))
    line("commits over 1 ms: edge store / bare", lambda r: (
        f"{sum(x > 0.001 for x in r[1]['lat'])} / {sum(x > 0.001 for x in r[2]['lat'])}"))
    line("  of which: own fsync > 1 ms / collection / other", _slow_commits)
    line("collections in commits gen 0/1/2 (max ms)", _collections)
    line(
        "p99 ratio edge store / bare",
        lambda r: f"{_pct(r[1]['lat'], 0.99) / _pct(r[2]['lat'], 0.99):.2f}x",
    )
    line(
        "p50 ratio edge store / bare",
        lambda r: f"{_pct(r[1]['lat'], 0.5) / _pct(r[2]['lat'], 0.5):.2f}x",
    )
    line(
        "p99 / p50 ratio edge store / bare into zeros",
        lambda r: (f"{_pct(r[1]['lat'], 0.99) / _pct(r[2]['zeros'], 0.99):.2f}x / "
                   f"{_pct(r[1]['lat'], 0.5) / _pct(r[2]['zeros'], 0.5):.2f}x"),
    )
    line("while a snapshot is written: commits", lambda r: f"{len(r[1]['during']):,}")
    line("  commit p50 / p99 / max ms: edge store", lambda r: _spread(r[1]["during"]))
    line("                       bare write+fdatasync", lambda r: _spread(r[2]["during"]))
    line(
        "speed-up vs stock TinyDB (median)",
        lambda r: f"{_pct(r[4]['lat'], 0.5) / _pct(r[1]['lat'], 0.5):,.0f}x",
    )
    line("bytes/commit: edge store journal", lambda r: f"{r[1]['bytes']:,.0f}")
    line("              + snapshot: kept running", lambda r: _amortised(r, "running"))
    line("                shut down every night", lambda r: _amortised(r, "nightly"))
    line("                old policy (24 h)", lambda r: _amortised(r, "daily"))
    line("              + spare zeros: in service", _zeros_in_service)
    line("                             first 90 days", lambda r: f"{r[7]:,.0f}")
    line("              bare write+fdatasync", lambda r: f"{r[2]['bytes']:,.0f}")
    line(
        "              SQLite WAL (+checkpoint)",
        lambda r: f"{r[3]['bytes']:,.0f} (+{r[3]['checkpoint']:,.0f})",
    )
    line("              stock TinyDB", lambda r: f"{r[4]['bytes']:,.0f}")
    line("bytes ratio edge store / bare: in service", lambda r: _bytes_ratio(r, in_service=True))
    line("               shut down every night", lambda r: _bytes_ratio(r, True, "nightly"))
    line("                            first 90 days", lambda r: _bytes_ratio(r, in_service=False))
    line("disk's own KiB/record: append / into zeros", _device)
    line("snapshot: file KiB", lambda r: f"{r[1]['snapshot_file'] / 1024:,.0f}")
    line(
        "          lock held (copy) ms / write s",
        lambda r: f"{r[1]['snapshot_copy_seconds'] * 1000:.0f} / {r[1]['snapshot_seconds']:.2f}",
    )
    line(
        "lookup p99 ms: card UID / mobile",
        lambda r: f"{_ms(_pct(r[5]['card'], 0.99))} / {_ms(_pct(r[5]['mobile'], 0.99))}",
    )
    line("journal kept: records / MiB", lambda r: f"{r[8][0]:,} / {r[8][1] / 2**20:,.1f}")
    line(
        "cold start s (replaying records)", lambda r: f"{r[6]['seconds']:.2f} ({r[6]['replayed']})"
    )
    line("           each run s", lambda r: " / ".join(f"{t:.2f}" for t in r[6]["all"]))
    line("           compiling the code (no bytecode) s", lambda r: f"{r[6]['compiling']:.2f}")
    line("           page cache dropped first s", _dropped)
    line(
        "resident MiB after start / peak",
        lambda r: f"{r[6]['rss_mib']:.0f} / {r[6]['peak_mib']:.0f}",
    )
    line(
        "first query over members s / MiB after",
        lambda r: f"{r[6]['query_seconds']:.2f} / {r[6]['query_rss_mib']:.0f}",
    )


if __name__ == "__main__":
    sys.exit(main())
