"""The edge store: decide a command, commit its events to the journal, then apply them.

``EdgeStore.execute`` is the write path of ARCHITECTURE.md: the domain validates the
command against current state, the journal appends the events as one record and
fsyncs it (the commit), and only then does anyone see the in-memory state changed.
The events are applied between the write and the fsync, while the kernel already
writes the record (``Journal.append``), under the lock that keeps readers out until
the fsync has succeeded. A commit that cannot be made durable raises ``StoreError``
and changes nothing (a state applied in the meantime is reloaded from the disk);
after a write the disk refused to undo, the store keeps serving reads and refuses
writes until it is reopened.

One lock guards the journal and the state: commits are serialised (one writer) and
a reader holding the lock never sees half of a ticket applied.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from tinydb.queries import QueryLike
from tinydb.table import Document

from edge_store.capture import copy_of
from edge_store.codec import decode_event
from edge_store.errors import StoreError, StoreErrorCode
from edge_store.files import DirLock, reason_of
from edge_store.history import MonthClose, SalesHistory
from edge_store.identity import claim_identity
from edge_store.journal import FileOps, Journal, OpenReport, RawRecord
from edge_store.jsontext import event_json
from edge_store.outbox import OutboxCursor, removable_through, segment_ages
from edge_store.projections import Projections
from edge_store.quiet import (
    collector_held,
    defer_full_collections,
    freeze_loaded,
    freeze_survivors,
    hold_collector,
    release_collector,
    restore_turns,
    resume_full_collections,
    shorten_turns,
)
from edge_store.records import encode_record, events_of, payload_of
from edge_store.snapshots import Snapshots
from salon import engine  # noqa: F401  (registers every command handler and event type)
from salon.commands import Command, outcome
from salon.context import Context
from salon.errors import DomainError
from salon.events import Event
from salon.state import STATE_VERSION, SalonState

__all__ = ["EdgeStore", "StoreOptions"]

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class StoreOptions:
    """Policies of the store; ``hub`` fills them from its settings."""

    snapshot_every_records: int = 2000
    snapshot_every_seconds: int = 30 * 24 * 3600
    """A snapshot only shortens the next start's replay (the journal is the commit) and lets
    months close and old segments go, so a slow store gets one at least monthly. Daily, a
    salon's 100-150 sales a day paid for a years-old store's 4 MB snapshot with ~30 KB per
    checkout, 3.4x the bare append; the record policy bounds the replay anyway."""
    snapshot_at_close_records: int = 1000
    """A clean shutdown writes a snapshot once this many records came after the last one,
    so the next start replays fewer (a nightly shutdown wrote one every day)."""
    keep_snapshots: int = 3
    segment_bytes: int = 16 * 1024 * 1024
    retention_days: int = 90
    low_space_bytes: int = 256 * 1024 * 1024


class EdgeStore:
    """One store's durable state in one data directory, with one writer."""

    def __init__(
        self,
        data_dir: Path,
        store_id: str,
        clock: Callable[[], datetime],
        new_id: Callable[[], str],
        options: StoreOptions | None = None,
        ops: FileOps | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.ctx = Context(store_id, clock, new_id)
        self.options = options or StoreOptions()
        self._ops = ops
        self._lock = threading.RLock()
        self._dir_lock = DirLock(data_dir)
        self.journal = Journal(
            data_dir / "journal", segment_bytes=self.options.segment_bytes, ops=ops
        )
        self.snapshots = Snapshots(
            data_dir / "snapshots", store_id, SalonState, keep=self.options.keep_snapshots,
            state_version=STATE_VERSION,
        )
        self.history = SalesHistory(data_dir / "history")
        self.state = self.new_state()
        self.projections = Projections()
        self.report: OpenReport | None = None
        self.snapshot_seq = 0
        self._snapshot_at: datetime | None = None
        self._write_error: StoreError | None = None
        self.low_space = False
        self._closed = False
        self._snapshot_pending = False
        self._snapshot_thread: threading.Thread | None = None
        self._snapshot_retry_at = 0

    # ---------------------------------------------------------------- lifecycle

    @classmethod
    def open(
        cls,
        data_dir: Path | str,
        store_id: str,
        clock: Callable[[], datetime],
        new_id: Callable[[], str],
        options: StoreOptions | None = None,
        ops: FileOps | None = None,
    ) -> EdgeStore:
        """Lock the directory, load the newest valid snapshot and replay the journal after it."""
        store = cls(Path(data_dir), store_id, clock, new_id, options, ops)
        store.data_dir.mkdir(parents=True, exist_ok=True)
        store._dir_lock.acquire()
        # Loading builds hundreds of thousands of long-lived objects and no garbage cycles;
        # the cycle collector would walk them again and again (a third of the decode time).
        try:
            with collector_held():
                claim_identity(store.data_dir, store_id)
                store._load()
                freeze_loaded()
        except BaseException:
            store.journal.close()
            store.history.close()
            store._dir_lock.release()
            raise
        defer_full_collections()  # the snapshot thread makes them (edge_store.quiet)
        return store

    def close(self, snapshot: bool = True) -> None:
        """Write a last snapshot if ``snapshot_at_close_records`` or more records came
        after the newest one (the next start then replays fewer), and unlock."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            self.flush()
            with self._lock:
                since = self.journal.last_seq - self.snapshot_seq
                wanted = max(1, self.options.snapshot_at_close_records)
                if snapshot and self._write_error is None and since >= wanted:
                    try:
                        self.snapshot()
                    except (OSError, StoreError) as err:
                        log.warning(
                            "store: no snapshot at shutdown (%s); the next start replays more",
                            err,
                        )
                self.journal.close()
                self.history.close()
                self._dir_lock.release()
        finally:
            resume_full_collections()

    @property
    def closed(self) -> bool:
        """Whether ``close`` was called."""
        return self._closed

    def __enter__(self) -> EdgeStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _load(self) -> None:
        self._remove_stale_temp_files()
        self.report = self.journal.open()
        self.outbox = OutboxCursor(self.data_dir / "outbox.json")
        self.state, self.snapshot_seq = self._newest_state()
        self._catch_up(self.journal.first_seq)
        self._snapshot_at = self.ctx.clock()
        self.projections.rebuild(self.state, self._snapshot_at)
        self.check_space()

    def _newest_state(self) -> tuple[SalonState, int]:
        """The newest valid snapshot the journal continues, and its record (0: none needed)."""
        first, last = self.journal.first_seq, self.journal.last_seq
        for path in self.snapshots.paths():
            # The name holds the record: a snapshot the journal does not continue is passed
            # over before its (seconds of) decoding, not after.
            named = Snapshots.seq_of(path)
            if named is not None and not first - 1 <= named <= last:
                log.warning("snapshot %s skipped: record %d is not in the journal (%d..%d)",
                            path.name, named, first, last)
                continue
            loaded = self.snapshots.load(path)
            if loaded is not None:
                return self.attach_history(loaded.state), loaded.seq
        if first != 1:
            raise StoreError(StoreErrorCode.NO_VALID_STATE, {"first_seq": first})
        return self.new_state(), 0

    def new_state(self) -> SalonState:
        """An empty state wired to this store's sales history."""
        return self.attach_history(SalonState())

    def attach_history(self, state: SalonState) -> SalonState:
        """Wire ``state``'s books to this store's sales history (salon.sales_archive)."""
        state.tickets.archive = state.commissions.archive = self.history
        return state

    def _catch_up(self, first_seq: int) -> None:
        """Open the sales history, then read the journal's tail once: add to the history the
        records it lost since its last sync, and replay onto the state those after the
        snapshot (usually the same records: the history is synced at every snapshot)."""
        self.history.open()
        if self.history.through_seq < first_seq - 1:
            log.error("history: holds records up to %d, the journal starts at %d; "
                      "tickets in between cannot be read back", self.history.through_seq,
                      first_seq)
        history_after = max(self.history.through_seq, first_seq - 1)
        for record in self.journal.read_after(min(history_after, self.snapshot_seq)):
            events = payload_of(record)["events"]
            if record.seq > history_after:
                self.history.add(record.seq, events)
            if record.seq > self.snapshot_seq:
                self.state.apply_all(decode_event(e) for e in events)

    def _remove_stale_temp_files(self) -> None:
        """Temp files of atomic writes a power cut interrupted; the old file is still whole."""
        for folder in (self.data_dir, self.journal.directory, self.snapshots.directory,
                       self.history.directory):
            if folder.is_dir():
                for stale in folder.glob(".*.tmp-*"):
                    stale.unlink()
                    log.info("store: removed %s left by an interrupted write", stale.name)

    # ---------------------------------------------------------------- write path

    def execute(self, command: Command) -> tuple[Event, ...]:
        """Decide and commit ``command``; its events are durable when this returns.

        A ``DomainError`` still commits what the refusal must leave behind (a failed
        PIN attempt) and is re-raised; a ``StoreError`` means nothing was committed.
        """
        with self._lock:
            self._writable()
            events, refusal = outcome(self.state, command, self.ctx)
            self._commit(events)
            if refusal is not None:
                raise refusal
            return events

    def record_refusal(self, err: DomainError) -> None:
        """Commit what a refusal decided outside ``execute`` must leave behind."""
        with self._lock:
            self._writable()
            self._commit(err.record)

    def _writable(self) -> None:
        if self._write_error is not None:
            raise StoreError(StoreErrorCode.READ_ONLY, self._write_error.params)

    def _commit(self, events: tuple[Event, ...]) -> None:
        if not events:
            return
        seq = self.journal.last_seq + 1
        texts = [event_json(e) for e in events]
        at = self.ctx.clock()
        record = encode_record(seq, self.ctx.store_id, at, texts)

        applied = False
        history_mark = self.history.mark()

        def apply() -> None:  # between the write and the fsync, the record's I/O under way
            nonlocal applied
            applied = True
            self.state.apply_all(events)
            self.projections.update(self.state, events, at)
            try:
                self.history.add_committed(seq, events, texts)
            except OSError as err:
                # The record is the sale: the history is rebuilt from the journal at the next
                # open (lines after its last sync are cut and replayed). Not worth a refusal.
                log.error("history: record %d not added (%s); reopen the store", seq, err)

        try:
            self.journal.append(record, on_written=apply)
        except BaseException as err:  # the journal has cut the record back off (or stopped)
            if isinstance(err, StoreError):
                if err.code in (StoreErrorCode.READ_ONLY, StoreErrorCode.COMMIT_UNCERTAIN):
                    self._write_error = err
                log.error("store: commit %d not durable: %s", seq, err.code.value)
            if applied:
                self._discard_applied(seq, history_mark)
            if isinstance(err, StoreError):
                self.check_space()
            raise
        self._after_commit()

    def _discard_applied(self, seq: int, history_mark: int) -> None:
        """The events of record ``seq`` were applied (in part, if applying failed) and it was
        not made durable: back to the disk's state (the newest snapshot and the journal
        after it, the sales history without the record's lines), seconds for a rare
        failure."""
        log.error("store: record %d was applied but not made durable; reloading the state", seq)
        try:
            self.history.cut_back(history_mark)
        except OSError as err:
            # Its lines stay in the open file until the restart cuts what no sync covered:
            # no writing on top of them.
            reason = reason_of(err)
            log.error("history: the lines of record %d could not be cut (%s)", seq, reason)
            if self._write_error is None:
                self._write_error = StoreError(StoreErrorCode.READ_ONLY, {"reason": reason})
        with collector_held():
            try:
                state, snapshot_seq = self._newest_state()
                for raw in self.journal.read_after(snapshot_seq):
                    state.apply_all(events_of(raw))
            except Exception:
                # The state in memory holds a sale the disk does not: stop writing on top
                # of it. A restart loads what the disk has.
                log.exception("store: the state could not be reloaded; restart the store")
                self._write_error = StoreError(
                    StoreErrorCode.READ_ONLY, {"reason": "reload failed"}
                )
                return
            self.state, self.snapshot_seq = state, snapshot_seq
            self.projections.rebuild(self.state, self.ctx.clock())
            freeze_loaded()  # as after the open

    def _after_commit(self) -> None:
        since = self.journal.last_seq - self.snapshot_seq
        due = since >= self.options.snapshot_every_records
        if not due and self._snapshot_at is not None:
            age = (self.ctx.clock() - self._snapshot_at).total_seconds()
            due = age >= self.options.snapshot_every_seconds
        if self.journal.last_seq < self._snapshot_retry_at:
            due = False  # the last attempt failed (a full disk?): not at every commit
        if due and not self._snapshot_pending:
            try:
                self._start_snapshot()
            except (OSError, StoreError, RuntimeError) as err:  # RuntimeError: no thread
                # The commit is already durable in the journal; a missing snapshot only
                # makes the next start replay longer. Try again 100 records on.
                log.warning("store: snapshot failed (%s)", err)
                self._snapshot_retry_at = self.journal.last_seq + 100
        if seq_is_check_point(self.journal.last_seq):
            self.check_space()

    # ---------------------------------------------------------------- snapshots, space

    def _sync_for_snapshot(self, close_months: bool = True) -> tuple[int, datetime]:
        """Under the lock: the record and time a snapshot taken now holds, history synced."""
        # A snapshot never gets ahead of the history.
        self.history.sync(self.journal.last_seq, close_months=close_months)
        return self.journal.last_seq, self.ctx.clock()

    def _copy_state(self) -> SalonState:
        """Under the lock: the state as a snapshot writes it, copied (edge_store.capture).

        The caller holds the cycle collector (``edge_store.quiet``) while the copy lives:
        tens of thousands of containers and no garbage, which each full collection would
        walk, holding the GIL, in the middle of a commit.
        """
        copied: SalonState = copy_of(self.state, SalonState)
        return copied

    def _start_snapshot(self) -> None:
        """Copy the state now (the writer waits only that long), write the file on a thread."""
        # A month the sales have left is filed on the thread too: writing its file takes
        # a second or more, which the till must not wait for once a month.
        seq, now = self._sync_for_snapshot(close_months=False)
        months = self.history.plan_close()
        # Released by the thread once the copy is written and dropped.
        hold_collector()
        shorten_turns()
        try:
            box = [self._copy_state()]
            thread = threading.Thread(target=self._write_snapshot, args=(seq, now, box, months),
                                      name="snapshot-writer", daemon=True)
            self._snapshot_pending = True
            thread.start()
        except BaseException:
            self._snapshot_pending = False
            restore_turns()
            release_collector()
            raise
        self._snapshot_at = now  # a failed write is retried by the record count, not hourly
        self._snapshot_thread = thread

    def _write_snapshot(
        self, seq: int, now: datetime, box: list[SalonState], months: MonthClose | None,
    ) -> None:
        """On the snapshot thread: file the closed months, write the copy in ``box``.

        The copy comes in a box so that it can be dropped here: the thread's own arguments
        would keep it alive past the collector's release (which must not see it). Then
        the objects the commits made since the last freeze are frozen too
        (``quiet.freeze_survivors``), here, usually minutes before the next sale.
        """
        try:
            self._write_copy(seq, now, box.pop(), months)
            # The copy is gone; what the commits since the last freeze left is live state.
            freeze_survivors()
            # Segments the snapshot, HQ and retention let go; the newest of them is the
            # next segment's spare, or else its zeros are written here and not on the till
            # when it begins (a snapshot comes every 2,000 records, a segment fills in
            # about 4,000).
            self._prune_quietly()
            self.journal.prepare_spare()
        finally:
            self._snapshot_pending = False  # after the collection: it holds the GIL too
            restore_turns()
            release_collector()

    def _write_copy(
        self, seq: int, now: datetime, body: SalonState, months: MonthClose | None,
    ) -> None:
        try:
            if months is not None:
                self._close_months(months)
            self.snapshots.write(seq, now.isoformat(), body)
        except OSError as err:
            log.warning("store: snapshot of record %d not written (%s)", seq, err)
            self._snapshot_retry_at = seq + 100
        except Exception:
            # A state the snapshot cannot encode is a bug: loud, yet the sale is durable.
            log.exception("store: snapshot of record %d failed", seq)
            self._snapshot_retry_at = seq + 100
        else:
            with self._lock:
                self.snapshot_seq = max(self.snapshot_seq, seq)

    def _prune_quietly(self) -> None:
        """On the snapshot thread: ``prune``, a failure logged (the next snapshot retries)."""
        try:
            self.prune()
        except (OSError, StoreError) as err:
            log.warning("store: old journal segments not removed (%s)", err)

    def _close_months(self, months: MonthClose) -> None:
        """On the snapshot thread: write the months' files, then (under the lock, briefly)
        drop their lines from the open file. A failure leaves them open for the next try."""
        try:
            self.history.write_months(months)
        except OSError as err:
            log.warning("history: months %s not closed (%s)", ", ".join(months.months), err)
            return
        except Exception:  # a bug: loud, but the snapshot after it is still written
            log.exception("history: months %s not closed", ", ".join(months.months))
            return
        with self._lock:
            try:
                self.history.finish_close(months)
                self.history.sync(self.journal.last_seq, close_months=False)
            except OSError as err:
                log.warning("history: months %s filed, open file not cut (%s)",
                            ", ".join(months.months), err)

    def flush(self) -> None:
        """Wait for a snapshot being written in the background."""
        thread = self._snapshot_thread
        if thread is not None:
            thread.join()

    def snapshot(self) -> Path:
        """Write a snapshot of the current state now (and wait for it)."""
        self.flush()
        with self._lock:  # held throughout: the live state is written, no copy needed
            seq, now = self._sync_for_snapshot()
            path = self.snapshots.write(seq, now.isoformat(), self.state)
            self.snapshot_seq, self._snapshot_at = seq, now
            return path

    def check_space(self) -> int:
        """Free bytes on the data disk; sets ``low_space`` (and logs once) below the threshold."""
        stats = os.statvfs(self.data_dir)
        free = stats.f_bavail * stats.f_frsize
        low = free < self.options.low_space_bytes
        if low != self.low_space:
            if low:
                log.warning("store: low disk space, %d MiB left", free // (1024 * 1024))
            else:
                log.info("store: disk space recovered, %d MiB free", free // (1024 * 1024))
        self.low_space = low
        return free

    # ---------------------------------------------------------------- reads

    def read(self, fn: Callable[[SalonState], T]) -> T:
        """Run ``fn`` on the state with no commit half-applied while it runs."""
        with self._lock:
            return fn(self.state)

    # ---------------------------------------------------------------- outbox

    def records_after(self, seq: int, limit: int = 100) -> list[RawRecord]:
        """Committed records after ``seq`` in order, at most ``limit`` (the bridge sends these)."""
        with self._lock:
            return list(self.journal.read_after(seq, limit))

    @property
    def acked_seq(self) -> int:
        return self.outbox.acked_seq

    def acknowledge(self, seq: int) -> bool:
        """HQ has durably applied every record up to ``seq``; persist that (monotonic)."""
        with self._lock:
            return self.outbox.acknowledge(seq, self.journal.last_seq)

    def prune(self) -> list[Path]:
        """Remove journal segments HQ acknowledged, a snapshot holds, and retention let go."""
        with self._lock:
            through = removable_through(
                segment_ages(self.journal), self.outbox.acked_seq,
                min(self.snapshot_seq, self.history.through_seq), self.ctx.clock(),
                self.options.retention_days,
            )
            removed = self.journal.remove_through(through) if through else []
            if removed:
                log.info("store: removed %d journal segments through record %d", len(removed),
                         through)
            return removed

    # ---------------------------------------------------------------- lookups

    def member_by_card(self, card_uid: str) -> Document:
        """The member document of a tapped card (DomainError: unknown, blocked, garbled UID)."""
        with self._lock:
            member = self.state.members.by_card(card_uid)
            return self._doc("members", member.member_id)

    def member_by_mobile(self, mobile: str) -> Document:
        """The member document of a mobile number as typed (DomainError if none)."""
        with self._lock:
            member = self.state.members.by_mobile(mobile)
            return self._doc("members", member.member_id)

    def product_by_barcode(self, barcode: str) -> Document:
        """The product document of a scanned barcode (DomainError if unknown)."""
        with self._lock:
            product = self.state.catalog.product_by_barcode(barcode)
            return self._doc("products", product.product_id)

    def query(self, table: str, cond: QueryLike) -> list[Document]:
        """TinyDB search over one projection, consistent with the last commit."""
        with self._lock:
            return self.projections.table(table).search(cond)

    def _doc(self, table: str, key: str) -> Document:
        doc = self.projections.get(table, key)
        if doc is None:  # the state has it, so the projection must: a bug, not bad input
            raise LookupError(f"projection {table} lacks {key}")
        return doc

    @property
    def last_seq(self) -> int:
        return self.journal.last_seq

    @property
    def writable(self) -> bool:
        return self._write_error is None


def seq_is_check_point(seq: int) -> bool:
    """Free space is looked at every 64 commits (a statvfs is cheap, but not free on an SD card)."""
    return seq % 64 == 0
