"""Power cuts: a child process sells in a loop and is SIGKILLed at random moments.

After every kill the store must open, hold every sale whose commit had returned
(the child reports each one through a pipe only after ``execute`` returned), keep
its sequence numbers gap-free, and match a full replay of its journal. The child
snapshots every few records, so kills also land mid-snapshot. ``--long`` runs
thousands of kills instead of 200 (3,000), ``--kills N`` any number.
"""

from __future__ import annotations

import os
import random
import select
import signal
import time
from datetime import timedelta
from pathlib import Path

from edge_store.store import EdgeStore, StoreOptions
from edge_store.verify import verify
from hub.demo_data import DEMO_DAY
from hub.workload import Workload
from salon.testing import ManualClock
from salon.tickets import TicketPaid
from tests.store_support import busy_store, open_store

OPTIONS = StoreOptions(snapshot_every_records=7, segment_bytes=64 * 1024)


def _sell_until_killed(data: Path, report_fd: int, iteration: int) -> None:
    """The child: open the store and commit checkouts forever, reporting each returned one."""
    try:
        clock = ManualClock(DEMO_DAY + timedelta(days=iteration))
        store = open_store(data, clock, options=OPTIONS, prefix=f"K{iteration}")
        os.write(report_fd, b"open\n")
        work = Workload(store, lambda: store.state, clock, iteration)
        work.members = sorted(store.state.members.members)
        while True:
            events = work.checkout(work.rng.choice(work.members))
            ticket = next(e for e in events if isinstance(e, TicketPaid))
            os.write(report_fd, f"{store.last_seq} {ticket.ticket_id}\n".encode())
    finally:
        os._exit(3)


def _run_and_kill(data: Path, iteration: int, rng: random.Random) -> list[tuple[int, str]]:
    """One child killed: a quarter of the time at a moment after the fork (the open itself
    is cut), otherwise at a moment after it reported the store open (a sale is cut), so
    that a slow machine, whose open takes most of the first 100 ms, still sells."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child never returns
        os.close(read_fd)
        _sell_until_killed(data, write_fd, iteration)
    os.close(write_fd)
    chunks = []
    if rng.random() < 0.25:
        time.sleep(rng.uniform(0.005, 0.12))
    else:
        deadline = time.monotonic() + 30
        while b"open\n" not in b"".join(chunks) and time.monotonic() < deadline:
            ready, _, _ = select.select([read_fd], [], [], 0.5)
            if ready:
                chunk = os.read(read_fd, 65536)
                if not chunk:
                    break  # the child died: the wait below says so
                chunks.append(chunk)
        time.sleep(rng.uniform(0.0, 0.08))
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status), f"child ended by itself (status {status}): it failed"
    while chunk := os.read(read_fd, 65536):
        chunks.append(chunk)
    os.close(read_fd)
    lines = [line for line in b"".join(chunks).decode().splitlines() if line != "open"]
    return [(int(seq), ticket) for seq, ticket in (line.split() for line in lines)]


def test_every_returned_commit_survives_sigkill(tmp_path: Path, kills: int) -> None:
    data = tmp_path / "data"
    with busy_store(data, members=12, sales=3, options=OPTIONS):
        pass
    rng = random.Random(20261123)
    confirmed: dict[str, int] = {}
    kinds = {"grown": 0, "zeros": 0, "recycled": 0}  # what the active segment was made of
    # HQ has acknowledged everything and retention lets it go (the parent's clock is a year
    # past the child's sales): the parent's prune makes a removed segment the spare.
    later = ManualClock(DEMO_DAY + timedelta(days=kills + 365))
    segment, rolls = None, 0
    for iteration in range(1, kills + 1):
        new = {ticket: seq for seq, ticket in _run_and_kill(data, iteration, rng)}
        confirmed.update(new)
        store = open_store(data, later, options=OPTIONS, prefix=f"P{iteration}")
        try:
            book = store.state.tickets  # old sales are read back from the sales history
            # This kill's sales, and some of the older ones, after every kill; all of them
            # every 40 kills (checking all each time made --long quadratic: hours).
            full = iteration % 40 == 0 or iteration == kills
            older = [t for t in confirmed if t not in new]
            check = older if full else rng.sample(older, min(len(older), 100))
            # In the order they were sold: the sales history reads a closed month's file
            # once for all of its tickets (random order made this check most of the test).
            check.sort(key=confirmed.__getitem__)
            lost = [t for t in [*new, *check] if book.get(t) is None]
            assert not lost, f"kill {iteration}: confirmed sales lost: {lost[:5]}"
            assert store.last_seq >= max(confirmed.values(), default=0)
            assert not list((data / "snapshots").glob(".*")), "interrupted snapshot left behind"
            assert not list((data / "journal").glob(".*")), "interrupted spare left behind"
            kinds[_made_of(*store.journal.segment_spans()[-1])] += 1
            if full:
                seqs = [r.seq for r in store.records_after(0, limit=10**9)]
                assert seqs == list(range(store.journal.first_seq, store.last_seq + 1)), "gaps"
                report = verify(store)
                assert report.ok, report.differences
        finally:
            # The spare the child's next segment is made of, by turns from one segment to
            # the next (the child's snapshot thread makes spares of zeros too, but it lives
            # a tenth of a second): none, zeros, or the oldest segment removed.
            active = store.journal.segment_spans()[-1][0]
            if active != segment:
                segment, rolls = active, rolls + 1
            _spare_for_next_segment(store, ("grown", "zeros", "recycled")[rolls % 3])
            store.close(snapshot=False)
    assert len(confirmed) > kills // 2, "the child barely sold anything: the test proves little"
    # Sales were cut in segments of each kind. How the kills split depends on the host's
    # speed (how many kills a segment lives for): 93 / 49 / 58 in one run of 200, 145 / 36
    # / 19 in another on a loaded host, so a twentieth of the kills each, not a tenth.
    assert min(kinds.values()) >= kills // 20, f"too few kills in some kind of segment: {kinds}"
    torn = list((data / "quarantine").iterdir()) if (data / "quarantine").exists() else []
    print(f"\n{kills} kills, {len(confirmed)} confirmed sales, {len(torn)} torn tails cut, "
          f"the active segment was {kinds}")


def _spare_for_next_segment(store: EdgeStore, kind: str) -> None:
    """Leave the spare a new segment of ``kind`` is made of: none for one that grows, one
    of zeros, or the newest closed segment removed (if there is one: HQ acknowledges all,
    the parent's clock is past the retention period)."""
    spare = store.journal.directory / "next.spare"
    made = spare.is_file() and ("recycled" if spare.read_bytes()[:8] == b"SALONJNL" else "zeros")
    if made == kind or (kind == "recycled" and len(store.journal.segment_spans()) == 1):
        return  # (with no closed segment to remove yet, whatever spare there is stays)
    spare.unlink(missing_ok=True)
    if kind == "zeros":
        store.journal.prepare_spare()  # once the segment is a quarter full, as in a store
    elif kind == "recycled":
        store.snapshot()  # as the snapshot thread prunes: after a snapshot
        store.acknowledge(store.last_seq)
        if store.prune():
            assert spare.is_file()


def _made_of(path: Path, first: int, last: int, size: int) -> str:
    """What a segment was made of: ``grown`` by appending, a spare of ``zeros``, or a
    ``recycled`` segment's old records (the bytes after its last record)."""
    with path.open("rb") as f:
        f.seek(size)
        after = f.read(4096)
    if not after:
        return "grown"
    return "zeros" if not after.strip(b"\0") else "recycled"
