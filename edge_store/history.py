"""The sales history: every sale's events, in monthly TinyDB files once a month closes.

The ticket book keeps only recent tickets in memory (``salon.tickets.TicketBook``) and
the commission book no recharge; this is the archive they read older sales back from
(``salon.sales_archive.SalesArchive``), for a refund of a ticket months old or of any
recharge, a reprint or a report. A sale is a ticket (its TicketPaid and TicketRefunded)
or a recharge that earned commission (its CommissionEarned and CommissionReversed).
Layout under ``<data>/history/``::

    open.jsonl      one line per event of a sale of the open month, and late refunds of
                    closed months: {"seq", "ticket", "month", "opens", "event"} ("ticket":
                    the sale id, a ticket's or a recharge's; "opens": the sale's first
                    event, so opening the file indexes a line without reading its event)
    2026-11.json    a closed month: a TinyDB JSON file, table "tickets", one document
                    {"ticket_id", "events": [...]} per sale; written once, replaced
                    atomically only to fold in a late refund
    2026-11.ids     the month's sale ids, one per line (a quick "which month?")
    state.json      {"format", "through_seq", "open_bytes"}: the journal record the
                    files hold everything up to, and the length of open.jsonl then

The history is derived from the journal, so it is written without an fsync per sale,
and not even written per sale: a sale's lines wait in memory (``_tail``; reads take
them from there) until ``sync`` (before every snapshot) writes them in one go and makes
everything durable up to ``through_seq``. A commit spares a system call, and the SD
card a partly filled page rewritten at every sale. Opening cuts ``open.jsonl`` back to
``open_bytes`` and appends the journal records after ``through_seq`` again, so lines
lost with the memory (a crash) or never written (a full disk) come back. Snapshots are
only taken after a sync, so the journal always still holds what the history may have
lost. A month the sales have left is filed by the snapshot thread (``plan_close`` and
``finish_close`` under the store's lock, the slow ``write_months`` between them without
it).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring as _quoted
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.storages import JSONStorage

from edge_store.codec import decode_event
from edge_store.errors import StoreError, StoreErrorCode
from edge_store.files import atomic_write, fsync_dir
from edge_store.records import event_text
from salon.commissions import CommissionEarned, CommissionReversed
from salon.config import CommissionTarget
from salon.events import Event
from salon.tickets import TicketPaid, TicketRefunded

__all__ = ["HISTORY_FORMAT", "MonthClose", "SalesHistory"]

log = logging.getLogger(__name__)

HISTORY_FORMAT = 1
_OPEN = "open.jsonl"
_STATE = "state.json"
TAIL_LIMIT = 8 << 20
"""Lines kept in memory beyond this are written at once, not at the next sync (a
snapshot that keeps failing); between two snapshots of the default policy a busy store
adds about 5 MiB."""


_PAID, _REFUNDED = TicketPaid.type_name, TicketRefunded.type_name
_EARNED, _REVERSED = CommissionEarned.type_name, CommissionReversed.type_name
_RECHARGE = CommissionTarget.RECHARGE.value


@dataclass(frozen=True, slots=True)
class MonthClose:
    """Months to file, and the length of ``open.jsonl`` whose lines hold them."""

    months: tuple[str, ...]
    size: int


def _filing(event: dict[str, Any]) -> tuple[str, bool] | None:
    """(sale id, whether it opens the sale) of an encoded event the history keeps, or None."""
    kind = event["type"]
    if kind in (_PAID, _REFUNDED):
        return event["ticket_id"], kind == _PAID
    if kind in (_EARNED, _REVERSED) and any(e["target"] == _RECHARGE for e in event["entries"]):
        return event["source_id"], kind == _EARNED
    return None


def _filing_of(event: Event) -> tuple[str, bool] | None:
    """``_filing`` of the event itself (a commit has the objects; a replay has the JSON)."""
    if isinstance(event, TicketPaid | TicketRefunded):
        return event.ticket_id, isinstance(event, TicketPaid)
    if isinstance(event, CommissionEarned | CommissionReversed) and any(
        e.target is CommissionTarget.RECHARGE for e in event.entries
    ):
        return event.source_id, isinstance(event, CommissionEarned)
    return None


class SalesHistory:
    """Sale events by sale id, recent ones in ``open.jsonl``, older ones by month."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.through_seq = 0
        self._open_path = directory / _OPEN
        self._fd: int | None = None
        self._open_bytes = 0
        self._lines: dict[str, list[tuple[int, str, int, int]]] = {}
        """ticket id → (seq, month, offset, length) of its lines in open.jsonl."""
        self._size = 0
        """Where the next line goes: the bytes of open.jsonl and of ``_tail`` together."""
        self._tail = bytearray()
        """Lines after the end of open.jsonl, not written yet (see the module's text)."""
        self._written = 0
        """Bytes of open.jsonl on the file (``_size`` less the tail)."""
        self._month_of_ticket: dict[str, str] = {}
        self._cache: tuple[str, dict[str, list[dict[str, Any]]]] | None = None

    # ---------------------------------------------------------------- open / sync

    def open(self) -> None:
        """Load the durable state and cut ``open.jsonl`` back to what it covers."""
        self.directory.mkdir(parents=True, exist_ok=True)
        state_path = self.directory / _STATE
        if state_path.exists():
            state = json.loads(state_path.read_bytes())
            if state.get("format", 0) > HISTORY_FORMAT:
                raise StoreError(StoreErrorCode.FORMAT_NEWER, {
                    "file": f"history/{_STATE}", "format": state["format"],
                    "known": HISTORY_FORMAT})
            self.through_seq = int(state["through_seq"])
            self._open_bytes = int(state["open_bytes"])
        else:
            self.through_seq, self._open_bytes = 0, 0
        fd = os.open(self._open_path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o640)
        if os.fstat(fd).st_size > self._open_bytes:
            os.ftruncate(fd, self._open_bytes)  # lines after the last sync come back below
        self._fd = fd
        data = self._open_path.read_bytes()
        whole = data.rfind(b"\n") + 1
        if whole < len(data):  # never expected: a line is written whole before a sync counts it
            os.ftruncate(fd, whole)
        self._tail.clear()
        self._written = whole
        self._load_index(data[:whole])

    def _load_index(self, data: bytes) -> None:
        self._lines, self._month_of_ticket = {}, {}
        offset = 0
        for raw in data.splitlines(keepends=True):
            # Everything before the event is the line's head: read alone, it is a fraction
            # of the line (a ticket's event is kilobytes, a month's open file megabytes).
            cut = raw.find(b',"event":')
            line = json.loads(raw[:cut] + b"}") if cut > 0 else {}
            if "opens" not in line:  # a line written before the head said so
                line = json.loads(raw)
                filed = _filing(line["event"])
                line["opens"] = bool(filed and filed[1])
            self._index(line["seq"], line["ticket"], line["month"], line["opens"], offset,
                        len(raw))
            offset += len(raw)
        self._size = offset

    def close(self) -> None:
        if self._fd is not None:
            try:
                self.write_tail()
            except OSError as err:  # the next open adds them from the journal
                log.warning("history: lines not written at close (%s)", err)
            os.close(self._fd)
            self._fd = None

    def write_tail(self) -> None:
        """Write the lines waiting in memory to open.jsonl (no fsync); on an error none of
        them is left in the file in part, and all of them still wait."""
        assert self._fd is not None
        if not self._tail:
            return
        view = memoryview(self._tail)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._written)
            raise
        finally:
            view.release()
        self._written += len(self._tail)
        self._tail.clear()

    def sync(self, through_seq: int, close_months: bool = True) -> None:
        """Make everything added so far durable, then (unless not ``close_months``) close
        the months the sales have left; the store does that in two steps off its lock
        instead (``plan_close``, ``write_months``, ``finish_close``)."""
        assert self._fd is not None
        self.write_tail()
        os.fsync(self._fd)
        self._persist(through_seq)
        # A crash from here on leaves a shorter open.jsonl than open_bytes, never a cut line.
        if close_months and self._close_months():
            self._persist(through_seq)

    def _persist(self, through_seq: int) -> None:
        assert self._fd is not None
        self._open_bytes = os.fstat(self._fd).st_size
        self.through_seq = through_seq
        atomic_write(self.directory / _STATE, json.dumps({
            "format": HISTORY_FORMAT, "through_seq": through_seq,
            "open_bytes": self._open_bytes,
        }).encode("ascii"))

    # ---------------------------------------------------------------- write

    def add(self, seq: int, events: Sequence[dict[str, Any]]) -> None:
        """Append the sale events of journal record ``seq`` as the record holds them
        (``encode_event``): a replay at open (no fsync: see ``sync``)."""
        filings = []
        for event in events:
            filed = _filing(event)
            if filed is not None:
                sale, opening = filed
                if event["type"] == _PAID:
                    month = event["business_day"][:7]  # ISO date: "YYYY-MM"
                else:
                    month = event["meta"]["at"][:7] if opening else ""
                filings.append((sale, opening, month, event_text(event)))
        self._append(seq, filings)

    def add_committed(self, seq: int, events: Sequence[Event], texts: Sequence[str]) -> None:
        """Append the sale events of the record ``seq`` just committed; ``texts`` are their
        JSON as the record holds it (``jsontext.event_json``): a commit encodes once."""
        filings = []
        for event, text in zip(events, texts, strict=True):
            filed = _filing_of(event)
            if filed is not None:
                sale, opening = filed
                if isinstance(event, TicketPaid):
                    month = event.business_day.isoformat()[:7]
                else:
                    month = event.meta.at.isoformat()[:7] if opening else ""
                filings.append((sale, opening, month, text))
        self._append(seq, filings)

    def _append(self, seq: int, filings: list[tuple[str, bool, str, str]]) -> None:
        """(sale, opens it, month or "" for the sale's own, event text) per filed event;
        a ticket's month is its business day's, a recharge's that of its time."""
        assert self._fd is not None
        # The lines first (finding an older sale's month may read a month's ids file and
        # fail), then index and tail: a failure leaves neither pointing at a missing line.
        lines: list[tuple[str, str, bool, bytes]] = []
        opened: dict[str, str] = {}  # a sale opened by an earlier event of this record
        for sale, opening, filed_month, text in filings:
            month = (filed_month or opened.get(sale) or self._month_of_ticket.get(sale)
                     or self._closed_month_of(sale) or "?")
            if opening:
                opened[sale] = month
            # The line is {"seq", "ticket", "month", "opens", "event"}, put together around
            # the event's text; the sale id quoted as json.dumps(ensure_ascii=False) would.
            raw = (f'{{"seq":{seq},"ticket":{_quoted(sale)},'
                   f'"month":"{month}","opens":{"true" if opening else "false"},'
                   f'"event":{text}}}\n').encode()
            lines.append((sale, month, opening, raw))
        for sale, month, opening, raw in lines:
            self._index(seq, sale, month, opening, self._size, len(raw))
            self._tail += raw
            self._size += len(raw)
        if len(self._tail) > TAIL_LIMIT:
            try:
                self.write_tail()
            except OSError as err:  # they wait on in memory, the sync tries again
                log.warning("history: %d KiB of lines not written (%s)",
                            len(self._tail) >> 10, err)

    def mark(self) -> int:
        """Where the next line will go: what ``cut_back`` takes to undo what comes after."""
        return self._size

    def cut_back(self, mark: int) -> None:
        """Drop the lines added since ``mark()`` returned ``mark`` (a commit that did not
        become durable), from ``open.jsonl`` and the index. Rare: the index is rebuilt."""
        assert self._fd is not None
        if mark >= self._written:
            del self._tail[mark - self._written :]
        else:
            os.ftruncate(self._fd, mark)
            self._tail.clear()
            self._written = mark
        self._load_index(self._bytes(mark))

    def _bytes(self, size: int, offset: int = 0) -> bytes:
        """``size`` bytes of open.jsonl from ``offset`` as the lines stand: those written
        read from the file, the rest from the tail."""
        assert self._fd is not None
        on_file = max(0, min(size, self._written - offset))
        data = os.pread(self._fd, on_file, offset) if on_file else b""
        start = max(0, offset - self._written)
        return data + bytes(self._tail[start : start + size - on_file])

    def _index(
        self, seq: int, sale: str, month: str, opening: bool, offset: int, length: int,
    ) -> None:
        self._lines.setdefault(sale, []).append((seq, month, offset, length))
        if opening:
            self._month_of_ticket[sale] = month

    def _read_line(self, offset: int, length: int) -> dict[str, Any]:
        line: dict[str, Any] = json.loads(self._bytes(length, offset))
        return line

    # ---------------------------------------------------------------- months

    def closed_months(self) -> list[str]:
        return sorted(p.stem for p in self.directory.glob("*.ids"))

    def _close_months(self) -> bool:
        """Write the months before the newest one to their files; keep the rest open."""
        plan = self.plan_close()
        if plan is None:
            return False
        self.write_months(plan)
        self.finish_close(plan)
        return True

    def plan_close(self) -> MonthClose | None:
        """The months the sales have left, and how much of ``open.jsonl`` holds them now.

        Called under the store's lock, right after ``sync``: ``write_months`` may then run
        on another thread while sales go on (a month's file takes a second or more to
        write), and ``finish_close``, under the lock again, drops the months' lines.
        """
        if not self._month_of_ticket:
            return None
        current = max(self._month_of_ticket.values())
        months = {month for lines in self._lines.values() for _, month, _, _ in lines}
        closing = tuple(sorted(m for m in months if m < current and m != "?"))
        return MonthClose(closing, self._size) if closing else None

    def write_months(self, plan: MonthClose) -> None:
        """Write each month of ``plan`` to its files, from the lines ``plan`` covers.

        Touches nothing the writer uses: ``open.jsonl`` is read through a descriptor of its
        own (lines before ``plan.size`` never change) and a month already on disk is read
        afresh, not through the cache. Until ``finish_close`` a sale is in its month file
        and in ``open.jsonl`` both, which reads (and a crash) take as once.
        """
        fd = os.open(self._open_path, os.O_RDONLY)
        try:
            data = os.pread(fd, plan.size, 0)
        finally:
            os.close(fd)
        lines = [json.loads(raw) for raw in data.splitlines()]
        for month in plan.months:
            by_ticket: dict[str, list[tuple[int, dict[str, Any]]]] = {}
            for line in lines:
                if line["month"] == month:
                    by_ticket.setdefault(line["ticket"], []).append((line["seq"], line["event"]))
            self._write_month(month, by_ticket)

    def finish_close(self, plan: MonthClose) -> None:
        """Under the store's lock: ``open.jsonl`` without the lines ``write_months`` filed.

        Lines added since ``plan`` stay, even of a closed month (a late refund: filed at
        the next close).
        """
        assert self._fd is not None
        data = self._bytes(self._size)
        filed = sorted(
            (offset, length) for lines in self._lines.values()
            for _, month, offset, length in lines
            if offset < plan.size and month in plan.months
        )
        kept: list[bytes] = []
        at = 0
        for offset, length in filed:  # the index says where each line is: no parsing
            kept.append(data[at:offset])
            at = offset + length
        kept.append(data[at:])
        body = b"".join(kept)
        atomic_write(self._open_path, body)  # if this fails, the old file and fd stay
        os.close(self._fd)
        self._fd = os.open(self._open_path, os.O_RDWR | os.O_APPEND)
        self._tail.clear()  # written now, in the new file
        self._written = len(body)
        self._load_index(body)
        self._cache = None
        log.info("history: closed %s", ", ".join(plan.months))

    def _write_month(
        self, month: str, tickets: dict[str, list[tuple[int, dict[str, Any]]]]
    ) -> None:
        docs = self._month_docs(month) if (self.directory / f"{month}.ids").exists() else {}
        for ticket, lines in tickets.items():
            events = docs.setdefault(ticket, [])
            known = {e["meta"]["event_id"] for e in events}
            events.extend(event for _, event in sorted(lines, key=lambda x: x[0])
                          if event["meta"]["event_id"] not in known)
        table = {str(i): {"ticket_id": t, "events": ev}
                 for i, (t, ev) in enumerate(docs.items(), 1)}
        atomic_write(self.directory / f"{month}.json",
                     json.dumps({"tickets": table}, ensure_ascii=False).encode())
        atomic_write(self.directory / f"{month}.ids", "\n".join(sorted(docs)).encode() + b"\n")
        fsync_dir(self.directory)

    def _month_docs(self, month: str) -> dict[str, list[dict[str, Any]]]:
        db = TinyDB(self.directory / f"{month}.json", storage=JSONStorage, access_mode="r")
        try:
            return {doc["ticket_id"]: list(doc["events"]) for doc in db.table("tickets").all()}
        finally:
            db.close()

    def _read_month(self, month: str) -> dict[str, list[dict[str, Any]]]:
        if self._cache is not None and self._cache[0] == month:
            return self._cache[1]
        docs = self._month_docs(month)
        self._cache = (month, docs)
        return docs

    def _closed_month_of(self, ticket_id: str) -> str | None:
        needle = ticket_id.encode()
        for month in reversed(self.closed_months()):
            ids = (self.directory / f"{month}.ids").read_bytes().split(b"\n")
            if needle in ids:
                return month
        return None

    # ---------------------------------------------------------------- read

    def events_of(self, ticket_id: str) -> Sequence[Event]:
        """The sale's events in commit order, from its month file and the open lines."""
        encoded: list[tuple[int, dict[str, Any]]] = []
        month = self._month_of_ticket.get(ticket_id)
        if month is None:
            month = self._closed_month_of(ticket_id)
            if month is not None:
                encoded.extend((0, e) for e in self._read_month(month).get(ticket_id, []))
        encoded.extend((seq, self._read_line(offset, length)["event"])
                       for seq, _, offset, length in self._lines.get(ticket_id, []))
        encoded.sort(key=lambda x: x[0])
        seen: set[str] = set()
        out: list[Event] = []
        for _, e in encoded:  # a line written twice (a crash between sync steps) counts once
            if e["meta"]["event_id"] not in seen:
                seen.add(e["meta"]["event_id"])
                out.append(decode_event(e))
        return out
