"""The event journal: append-only, checksummed, fsynced segment files. Its fsync is the commit.

Layout under ``<data>/journal/``: one file per segment, named by the sequence number
of its first record (``00000000000000000001.seg``). A segment starts with a header
(magic, format version, first sequence) and holds records back to back::

    record = magic "SRec" | seq u64 | length u32 | crc32 u32 | payload (length bytes)

The CRC covers seq, length and payload. The payload is the UTF-8 JSON of one
committed command's events with the store id, the sequence and the commit time.
Sequence numbers start at 1 and have no gaps, across segments too.

A new segment is made of a spare file of zeros that the snapshot thread prepared ahead
(``prepare_spare``): a record then overwrites zeros already on the disk, so the file's
size never changes and ``fdatasync`` writes the record's pages alone, without a
file-system journal commit for the new size (on this machine's disk the commit's
fdatasync took half the time; on an SD card it is a metadata write less per sale).
Zeros after the last record are unused space. Without a spare (none ready yet, a full
disk) a segment grows by appending, as segments of format 1 always did. A segment is
cut to its records when the next one begins.

A segment that retention removes becomes the spare when none is ready
(``remove_through``): the next segment is then written over its old records, and a store
in service writes no zeros at all. Its records are older than the new segment's first
(the header names that first sequence), so a scan takes a whole record with a lower
sequence after the last as unused space too (format 3), and the bytes of an old record's
middle, which follow the last record of a recycled segment, are not a torn record unless
they begin as the next record would (its magic and its sequence).

On open the last segment is scanned. A bad record at its end is a torn write (the power
went mid-append; its commit never returned): its bytes move to ``<data>/quarantine/``
and the segment is cut back, or zeroed where unused space follows. A bad record with a
good record after it is not a torn write, and the journal refuses to open rather than
drop a confirmed sale.
"""

from __future__ import annotations

import contextlib
import json
import logging
import mmap
import os
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from edge_store.errors import StoreError, StoreErrorCode
from edge_store.files import atomic_write, fsync_dir, reason_of

__all__ = [
    "JOURNAL_FORMAT",
    "SEGMENT_FORMAT",
    "FileOps",
    "Journal",
    "OpenReport",
    "RawRecord",
    "SegmentPrefix",
    "frame_record",
    "valid_prefix",
]

log = logging.getLogger(__name__)

JOURNAL_FORMAT = 1
"""Version of the record payload layout this code writes."""
SEGMENT_FORMAT = 3
"""Version of the segment layout this code writes; 2: zeros after the last record are
unused space (a build that knows only 1 would take them for a torn record); 3: so are an
older segment's records (a recycled segment's), which a build that knows only 2 would
take for a gap."""

_SEGMENT_MAGIC = b"SALONJNL"
_SEGMENT_HEADER = struct.Struct(">8sHHQ")  # magic, format, reserved, first seq
_RECORD_MAGIC = b"SRec"
_RECORD_HEADER = struct.Struct(">4sQII")  # magic, seq, payload length, crc32
_MAX_PAYLOAD = 64 * 1024 * 1024
_SUFFIX = ".seg"
_SPARE = "next.spare"
"""The zero-filled file the next segment is made of (``Journal.prepare_spare``)."""
_PROBE = 64 * 1024
"""Bytes looked at, a block at a time, for the end of what follows the last record."""
_PAGE = bytes(4096)
_AHEAD = 32 * 1024
"""Unused space whose pages an append asks the kernel to have cached before it writes."""
_CHECKED_PAST_OLD = _PROBE
"""Bytes past the first old record after the last one in which a record of the segment's
own would be damage found (a record of its own after a bad one): records are back to
back, so one that follows the damage starts within a record of it."""


class FileOps(Protocol):
    """The two calls of the write path, so a test can make the disk fail on purpose."""

    def write(self, fd: int, data: bytes) -> int: ...
    def fsync(self, fd: int) -> None: ...


class _OsFileOps:
    def write(self, fd: int, data: bytes) -> int:
        return os.write(fd, data)

    def fsync(self, fd: int) -> None:
        # fdatasync also flushes the file size an append changed, all a reader needs.
        os.fdatasync(fd)


@dataclass(frozen=True)
class RawRecord:
    """One record as stored: its sequence and its payload (JSON bytes)."""

    seq: int
    payload: bytes

    def decoded(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.payload)
        return data


@dataclass
class _Segment:
    first_seq: int
    path: Path
    offsets: list[int] = field(default_factory=list)
    size: int = 0
    sealed_last: int | None = None
    """Set for a segment before the last one that has not been read since the open: its
    last record, which the next segment's first gives. Its records (and their checksums)
    are scanned when it is first read (``Journal._scanned``)."""

    @property
    def last_seq(self) -> int:
        if self.sealed_last is not None:
            return self.sealed_last
        return self.first_seq + len(self.offsets) - 1


@dataclass(frozen=True)
class OpenReport:
    """What opening found: the records, and what a torn tail left in quarantine."""

    last_seq: int
    records: int
    quarantined: tuple[Path, ...]


def _start_writeback(fd: int, offset: int, length: int) -> None:
    """Have the kernel start writing ``length`` bytes at ``offset`` to the disk, now.

    ``POSIX_FADV_DONTNEED`` starts the writeback of the range's dirty pages without
    waiting for it (and drops those of its pages already clean, which the record's are
    not). The fsync after it then waits for an I/O already under way while the commit
    applies its events, instead of starting it. Only a hint: a failure changes nothing.
    """
    with contextlib.suppress(OSError, AttributeError):  # not Linux, or a file system without it
        os.posix_fadvise(fd, offset, length, os.POSIX_FADV_DONTNEED)


def _cache_ahead(fd: int, offset: int) -> None:
    """Have the kernel read the unused space after ``offset`` into its cache, in the
    background: an append into a page of zeros the cache has dropped must read it first,
    and a commit would wait for that. A hint, as ``_start_writeback``."""
    with contextlib.suppress(OSError, AttributeError):
        os.posix_fadvise(fd, offset, _AHEAD, os.POSIX_FADV_WILLNEED)


def frame_record(seq: int, payload: bytes) -> bytes:
    """Header (magic, seq, length, CRC) and payload: the bytes of one record on disk."""
    head = struct.pack(">QI", seq, len(payload))
    crc = zlib.crc32(payload, zlib.crc32(head))
    return _RECORD_HEADER.pack(_RECORD_MAGIC, seq, len(payload), crc) + payload


def _record_at(data: bytes | memoryview | mmap.mmap, pos: int) -> tuple[int, int] | None:
    """(seq, payload length) of a well-formed record starting at ``pos``, else None."""
    end_of_header = pos + _RECORD_HEADER.size
    if end_of_header > len(data):
        return None
    magic, seq, length, crc = _RECORD_HEADER.unpack_from(data, pos)
    if magic != _RECORD_MAGIC or length > _MAX_PAYLOAD or end_of_header + length > len(data):
        return None
    head = struct.pack(">QI", seq, length)
    if zlib.crc32(data[end_of_header : end_of_header + length], zlib.crc32(head)) != crc:
        return None
    return seq, length


@dataclass(frozen=True)
class SegmentPrefix:
    """The part of a segment a reader without the lock may copy: whole, valid records."""

    first_seq: int
    last_seq: int
    """``first_seq - 1`` when the segment holds no whole record yet."""
    end: int
    """Offset just past the last whole, valid record (the header's end if there is none)."""


def _segment_first(data: bytes, name: str) -> int | None:
    """The first sequence a segment's header names; None when the header is short or not
    one; ``FORMAT_NEWER`` when a newer build wrote it."""
    if len(data) < _SEGMENT_HEADER.size:
        return None
    magic, fmt, _, first_seq = _SEGMENT_HEADER.unpack_from(data, 0)
    if magic != _SEGMENT_MAGIC:
        return None
    if fmt > SEGMENT_FORMAT:
        raise StoreError(
            StoreErrorCode.FORMAT_NEWER, {"file": name, "format": fmt, "known": SEGMENT_FORMAT}
        )
    return int(first_seq)


def _tail_end(data: bytes | mmap.mmap, pos: int, limit: int | None = None) -> int:
    """The offset just past the last byte that is not zero of what follows the last record
    at ``pos``, up to ``limit`` (``pos`` if none: unused space, or the end of the file).

    Looks a block at a time and stops at a block of zeros, so a segment's unused space
    (megabytes of zeros) is not read: a torn record is one append's bytes, all before it.
    """
    stop = len(data) if limit is None else min(limit, len(data))
    end = block = pos
    while block < stop:
        chunk = data[block : min(block + _PROBE, stop)]
        used = len(chunk.rstrip(b"\0"))
        if not used:
            break
        end, block = block + used, block + len(chunk)
    return end


def _old_record_at(data: bytes | mmap.mmap, pos: int, first_seq: int) -> bool:
    """Whether a whole, valid record of an older segment (a lower sequence) starts at ``pos``."""
    found = _record_at(data, pos)
    return found is not None and found[0] < first_seq


def _first_old_record(data: bytes | mmap.mmap, pos: int, first_seq: int) -> int | None:
    """Where the first whole record of an older segment starts at or after ``pos``, looked
    for in the bytes that are not zero from there (None if there is none): in a recycled
    segment, within a record of ``pos``."""
    block = pos
    while block < len(data):
        chunk_end = min(block + _PROBE, len(data))
        found = data.find(_RECORD_MAGIC, block, chunk_end)
        while found != -1:
            if _old_record_at(data, found, first_seq):
                return found
            found = data.find(_RECORD_MAGIC, found + 1, chunk_end)
        if not data[block:chunk_end].rstrip(b"\0"):
            return None  # unused space of zeros: no old record follows
        # A magic cut by the block's end is looked for again from the next block's start.
        block = max(chunk_end - len(_RECORD_MAGIC) + 1, block + 1)
    return None


def _any_record_after(data: bytes | mmap.mmap, start: int, end: int, first_seq: int) -> bool:
    """Whether a whole, valid record of the segment's own (not an older one's) starts in
    ``data[start:end]``."""
    pos = data.find(_RECORD_MAGIC, start, end)
    while pos != -1:
        if pos + _RECORD_HEADER.size <= len(data):
            seq = int.from_bytes(data[pos + 4 : pos + 12], "big")
            if seq >= first_seq and _record_at(data, pos) is not None:  # an old one skipped
                return True
        pos = data.find(_RECORD_MAGIC, pos + 1, end)
    return False


@dataclass(frozen=True)
class _Records:
    """What a segment's bytes hold: its header's first sequence, where its records start,
    where they end, and the torn record after them (offset and end) if there is one."""

    first_seq: int
    offsets: list[int]
    end: int
    torn: tuple[int, int] | None


def _records_of(data: bytes | mmap.mmap, name: str) -> _Records | None:
    """The records of a segment's bytes, and what follows them; None when the header is
    not whole or not one.

    Raises ``JOURNAL_GAP`` for a record out of sequence and ``JOURNAL_CORRUPT`` for a bad
    record with a good one of the segment's after it (damage, not a torn write), and
    ``FORMAT_NEWER`` for a newer build's segment. What follows the last good record is
    unused space when it is zeros, the end of the file, or an older segment's records
    (after the middle of one: a recycled segment's); else a torn record.
    """
    first_seq = _segment_first(data[: _SEGMENT_HEADER.size], name)
    if first_seq is None:
        return None
    offsets: list[int] = []
    pos = _SEGMENT_HEADER.size
    with memoryview(data) as view:
        while (found := _record_at(view, pos)) is not None:
            seq, length = found
            if seq < first_seq:  # an older segment's: the segment was recycled
                break
            if seq != first_seq + len(offsets):
                raise StoreError(StoreErrorCode.JOURNAL_GAP, {
                    "segment": name, "expected": first_seq + len(offsets), "found": seq})
            offsets.append(pos)
            pos += _RECORD_HEADER.size + length
    old = _first_old_record(data, pos, first_seq)
    end = _tail_end(data, pos, old)
    # A record of the segment's own past a bad one means damage. Looked for as far as
    # what follows is not zero, or a little past the first old record of a recycled one.
    checked = end if old is None else old + _CHECKED_PAST_OLD
    if checked > pos and _any_record_after(data, pos + 1, checked, first_seq):
        raise StoreError(StoreErrorCode.JOURNAL_CORRUPT, {"segment": name, "offset": pos})
    torn: tuple[int, int] | None = (pos, end)
    if end == pos:
        torn = None
    elif old is not None:
        # An old record's middle, or the next record torn over it: only that one begins
        # with the record magic and the next sequence.
        head = bytes(data[pos : pos + 12])
        if head != _RECORD_MAGIC + (first_seq + len(offsets)).to_bytes(8, "big"):
            torn = None
    return _Records(first_seq, offsets, pos, torn)


def valid_prefix(data: bytes, name: str) -> SegmentPrefix | None:
    """The whole valid records at the start of segment bytes read while the writer appends.

    For a backup, which reads segments without taking the writer's lock. None when not
    even the header is whole (a segment being created). A record cut short or failing its
    checksum ends the prefix: the writer may be in the middle of appending it. A valid
    record after it is damage, not an append in progress, and is refused as at open.
    """
    if len(data) < _SEGMENT_HEADER.size:
        return None
    found = _records_of(data, name)
    if found is None:
        raise StoreError(StoreErrorCode.JOURNAL_CORRUPT, {"segment": name, "offset": 0})
    return SegmentPrefix(found.first_seq, found.first_seq + len(found.offsets) - 1, found.end)


class Journal:
    """The append-only record log of one store; not thread-safe (the store's lock guards it)."""

    def __init__(
        self,
        directory: Path,
        *,
        segment_bytes: int = 16 * 1024 * 1024,
        ops: FileOps | None = None,
    ) -> None:
        self.directory = directory
        self.quarantine_dir = directory.parent / "quarantine"
        self.segment_bytes = segment_bytes
        self._ops: FileOps = ops or _OsFileOps()
        self._segments: list[_Segment] = []
        self._fd: int | None = None
        self._preparing = threading.Lock()
        """Held while the spare is made: by ``prepare_spare`` writing zeros, by
        ``remove_through`` making a removed segment the spare. Never both at once, so
        nothing replaces the spare while a new segment is made of it."""
        self.spares_written = 0
        """Spares written as zeros since the open (``segment_bytes`` each)."""
        self.spares_recycled = 0
        """Removed segments made the spare since the open (no zeros written)."""

    # ---------------------------------------------------------------- open / close

    def open(self, first_seq_if_empty: int = 1) -> OpenReport:
        """Scan the last segment, cut a torn tail into quarantine, and get ready to append.

        The segments before it were closed whole when the next was begun: only their
        headers are read now (90 days of records are tens of MB, read off an SD card at
        every boot), their records when something first reads them (``_scanned``), which
        is where damage or a gap in one of them is found.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        paths = sorted(p for p in self.directory.iterdir() if p.suffix == _SUFFIX)
        quarantined: list[Path] = []
        last: _Segment | None = None
        if paths:
            path = paths.pop()
            last, bad = self._scan(path, None)
            if bad is not None:
                quarantined.append(self._cut_tail(path, *bad))
        if last is None and paths:
            # The last held not even a whole header (it never held a record) and is gone:
            # the one before is the last now, scanned whole (damage in it is refused).
            path = paths.pop()
            unread = _Segment(self._first_of(path), path, sealed_last=-1)
            last = self._scanned(unread, whole=True)
        firsts = [self._first_of(path) for path in paths]
        if last is not None:
            firsts.append(last.first_seq)
        for path, first, following in zip(paths, firsts, firsts[1:], strict=False):
            if following <= first:  # a closed segment holds a record at least
                raise StoreError(StoreErrorCode.JOURNAL_GAP, {
                    "segment": path.name, "expected": first + 1, "found": following})
            self._segments.append(_Segment(first, path, size=path.stat().st_size,
                                           sealed_last=following - 1))
        if last is not None:
            self._segments.append(last)
        if not self._segments:
            self._new_segment(first_seq_if_empty)
        else:
            self._open_for_append(self._segments[-1])
        return OpenReport(
            self.last_seq, sum(s.last_seq - s.first_seq + 1 for s in self._segments),
            tuple(quarantined),
        )

    @staticmethod
    def _first_of(path: Path) -> int:
        """The first sequence a closed segment's header names (its header checked)."""
        with path.open("rb") as f:
            first_seq = _segment_first(f.read(_SEGMENT_HEADER.size), path.name)
        if first_seq is None:
            raise StoreError(StoreErrorCode.JOURNAL_CORRUPT, {"segment": path.name, "offset": 0})
        return first_seq

    def _scanned(self, segment: _Segment, whole: bool = False) -> _Segment:
        """``segment`` with its records scanned (a closed one, at its first read): every
        record whole and in sequence up to the last the next segment implies, or
        ``JOURNAL_CORRUPT`` / ``JOURNAL_GAP``. ``whole``: as many records as it holds
        (the next segment is gone)."""
        if segment.sealed_last is None:
            return segment
        scanned, bad = self._scan(segment.path, segment.first_seq)
        if bad is not None or scanned is None:
            raise StoreError(
                StoreErrorCode.JOURNAL_CORRUPT,
                {"segment": segment.path.name, "offset": bad[0] if bad else 0},
            )
        if not whole and scanned.last_seq != segment.sealed_last:
            raise StoreError(StoreErrorCode.JOURNAL_GAP, {
                "segment": segment.path.name, "expected": segment.sealed_last,
                "found": scanned.last_seq})
        segment.offsets, segment.size, segment.sealed_last = scanned.offsets, scanned.size, None
        return segment

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _scan(
        self, path: Path, expected: int | None,
    ) -> tuple[_Segment | None, tuple[int, int] | None]:
        """The segment's good records, and what follows them if it is not unused space
        (zeros, nothing, an older segment's records): its offset and the end of its bytes
        that are not zero. The file is mapped, not read: the pages of its unused space
        are never touched (but for the block after the last record)."""
        with path.open("rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size < _SEGMENT_HEADER.size:
                return None, (0, size)
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
                return self._scan_mapped(path, data, expected)

    @staticmethod
    def _scan_mapped(
        path: Path, data: mmap.mmap, expected: int | None,
    ) -> tuple[_Segment | None, tuple[int, int] | None]:
        found = _records_of(data, path.name)
        if found is None:
            return None, (0, _tail_end(data, 0))
        if expected is not None and found.first_seq != expected:
            raise StoreError(
                StoreErrorCode.JOURNAL_GAP,
                {"segment": path.name, "expected": expected, "found": found.first_seq},
            )
        return _Segment(found.first_seq, path, found.offsets, found.end), found.torn

    def _cut_tail(self, path: Path, offset: int, end: int) -> Path:
        """Move the bytes from ``offset`` to ``end`` into quarantine; then cut the segment at
        ``offset`` where they ran to the end of the file, or zero them where they lie in
        unused space (a segment made of a spare keeps its size)."""
        self.quarantine_dir.mkdir(exist_ok=True)
        with path.open("rb") as src:
            src.seek(offset)
            tail = src.read(end - offset)
            to_eof = src.tell() == os.fstat(src.fileno()).st_size
        n = len(list(self.quarantine_dir.iterdir()))
        target = self.quarantine_dir / f"{path.stem}.at{offset}.{n}.bad"
        atomic_write(target, tail)  # whole (a single os.write may write part), fsynced
        if offset == 0:
            path.unlink()
        else:
            fd = os.open(path, os.O_WRONLY)
            try:
                if to_eof:
                    os.ftruncate(fd, offset)
                else:
                    os.pwrite(fd, bytes(end - offset), offset)
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(self.directory)
        log.warning(
            "journal: torn tail of %s at byte %d (%d bytes) moved to %s",
            path.name,
            offset,
            len(tail),
            target.name,
        )
        return target

    # ---------------------------------------------------------------- append

    @property
    def last_seq(self) -> int:
        if not self._segments:
            return 0
        return self._segments[-1].last_seq

    @property
    def first_seq(self) -> int:
        """The first sequence still on disk (1 until acknowledged segments are removed)."""
        return self._segments[0].first_seq if self._segments else 1

    def append(self, record: bytes, on_written: Callable[[], None] | None = None) -> None:
        """Write one framed record and fsync it; on failure nothing of it stays on disk.

        ``on_written`` is called once the bytes are written and their I/O started, before
        the fsync: the store applies the record's events then, while the disk writes. If
        anything fails from there on (``on_written`` itself too) the record is cut back
        off, and the caller must undo what ``on_written`` did.

        Raises ``StoreError(NOT_DURABLE)`` when the write or the fsync fails, and
        ``StoreError(COMMIT_UNCERTAIN)`` if the failed record could not be cut back off:
        the journal then refuses writes until it is reopened, and the reopening keeps the
        record if it reached the disk whole (the page cache may still write it) or cuts
        it as a torn tail if not. Which one, nobody can say before the restart.
        """
        if self._fd is None:
            raise StoreError(StoreErrorCode.READ_ONLY, {"reason": "journal closed"})
        segment = self._segments[-1]
        if segment.offsets and segment.size + len(record) > self.segment_bytes:
            self._roll(segment.last_seq + 1)
            segment = self._segments[-1]
        start = segment.size
        try:
            view = memoryview(record)
            while view:
                view = view[self._ops.write(self._fd, bytes(view)) :]
            _start_writeback(self._fd, start, len(record))
            if (start + len(record)) // _AHEAD != start // _AHEAD:
                _cache_ahead(self._fd, start + len(record))
            if on_written is not None:
                on_written()
            self._ops.fsync(self._fd)
        except OSError as err:
            self._undo(start, err)
            raise StoreError(StoreErrorCode.NOT_DURABLE, {"reason": reason_of(err)}) from err
        except BaseException as err:
            # Not the disk (on_written failed, an interrupt): the record is not committed,
            # and bytes left after the segment's known end would break the next append.
            self._undo(start, err)
            raise
        segment.offsets.append(start)
        segment.size = start + len(record)

    def _undo(self, start: int, err: BaseException) -> None:
        assert self._fd is not None
        try:
            # Cut, not zeroed: a spare segment grows by appending from here on (rare).
            os.ftruncate(self._fd, start)
            os.lseek(self._fd, start, os.SEEK_SET)
            os.fsync(self._fd)
        except OSError:
            # The disk refuses even the cut; after a failed fsync the page cache cannot
            # be trusted either. Stop writing: reopening rescans and cuts the tail.
            os.close(self._fd)
            self._fd = None
            reason = reason_of(err) if isinstance(err, OSError) else type(err).__name__
            log.error("journal: write failed (%s) and could not be undone; writes stopped", reason)
            raise StoreError(StoreErrorCode.COMMIT_UNCERTAIN, {"reason": reason}) from err

    def _roll(self, first_seq: int) -> None:
        assert self._fd is not None
        # A closed segment is its records: its unused space goes (a crash before this is
        # written leaves zeros, which any scan takes as unused space).
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, self._segments[-1].size)
        self.close()
        self._new_segment(first_seq)

    def _new_segment(self, first_seq: int) -> None:
        """Begin the segment of ``first_seq``: the spare renamed, its header written before,
        or a new file. Both are whole, header fsynced, before the directory names them."""
        path = self.directory / f"{first_seq:020d}{_SUFFIX}"
        spare = self.directory / _SPARE
        header = _SEGMENT_HEADER.pack(_SEGMENT_MAGIC, SEGMENT_FORMAT, 0, first_seq)
        try:
            try:
                fd = os.open(spare, os.O_WRONLY)
            except FileNotFoundError:  # none prepared (yet): a segment that grows
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
                spare_used = False
            else:
                spare_used = True
            try:
                os.pwrite(fd, header, 0)
                os.fsync(fd)
                if spare_used:
                    os.rename(spare, path)
                    if os.fstat(fd).st_ino != path.stat().st_ino:  # see ``_preparing``
                        raise OSError(f"{_SPARE} was replaced while the segment was made")
            except OSError:
                os.close(fd)
                (spare if spare_used else path).unlink(missing_ok=True)
                raise
            fsync_dir(self.directory)
        except OSError as err:
            raise StoreError(StoreErrorCode.NOT_DURABLE, {"reason": reason_of(err)}) from err
        if spare_used:  # a recycled spare's pages are long out of the cache
            _cache_ahead(fd, len(header))
        os.lseek(fd, len(header), os.SEEK_SET)
        self._fd = fd
        self._segments.append(_Segment(first_seq, path, size=len(header)))

    def _open_for_append(self, segment: _Segment) -> None:
        self._fd = os.open(segment.path, os.O_WRONLY)
        os.lseek(self._fd, segment.size, os.SEEK_SET)

    def prepare_spare(self) -> bool:
        """Make the file of zeros the next segment begins as, unless there is one already
        or the current segment is less than a quarter full; True when one is ready.

        Slow (``segment_bytes`` written and fsynced): for a thread off the till (the
        snapshot thread), while appends go on. A failure (a full disk) leaves none: the
        next segment then grows by appending."""
        spare = self.directory / _SPARE
        if spare.is_file():
            return True
        # Not before the segment is a quarter full (a new store, a test's, a demo: no 16 MiB
        # written for nothing); the store's snapshots come well inside the rest of it. A
        # plain read of a size the writer may be changing: the next call sees it.
        if self._segments and self._segments[-1].size < self.segment_bytes // 4:
            return False
        if not self._preparing.acquire(blocking=False):
            return False  # another thread is at it
        try:
            if spare.is_file():  # a removed segment became one meanwhile
                return True
            # A page per write: the page cache then holds it in pages of its own. Written in
            # large pieces it held large folios, and a record's few bytes dirtied one whole
            # (the disk still wrote only the record's blocks, but the kernel counted 1 MiB
            # written per commit).
            whole, rest = divmod(self.segment_bytes, len(_PAGE))
            atomic_write(spare, [*([_PAGE] * whole), _PAGE[:rest]])
        except OSError as err:
            log.warning("journal: no spare segment prepared (%s); the next one will grow",
                        reason_of(err))
            return False
        finally:
            self._preparing.release()
        self.spares_written += 1
        return True

    # ---------------------------------------------------------------- read

    def read_after(self, seq: int, limit: int | None = None) -> Iterator[RawRecord]:
        """Records with a sequence above ``seq``, in order (the outbox reads these)."""
        count = 0
        for segment in list(self._segments):
            if segment.last_seq <= seq:
                continue
            self._scanned(segment)
            if not segment.offsets:
                continue
            start = max(seq + 1 - segment.first_seq, 0)
            with segment.path.open("rb") as f:
                for offset in segment.offsets[start:]:
                    if limit is not None and count >= limit:
                        return
                    f.seek(offset)
                    head = f.read(_RECORD_HEADER.size)
                    _, rec_seq, length, _ = _RECORD_HEADER.unpack(head)
                    yield RawRecord(rec_seq, f.read(length))
                    count += 1

    def segment_spans(self) -> list[tuple[Path, int, int, int]]:
        """(path, first seq, last seq, size in bytes) of every segment, oldest first."""
        return [(s.path, s.first_seq, s.last_seq, s.size) for s in self._segments]

    def first_record(self, index: int) -> RawRecord | None:
        """The first record of the ``index``-th segment (None if it holds none), read
        without scanning the segment: its header names it, its checksum is checked."""
        segment = self._segments[index]
        if segment.first_seq > segment.last_seq:
            return None
        start = _SEGMENT_HEADER.size
        with segment.path.open("rb") as f:
            data = f.read(start + _RECORD_HEADER.size)
            if len(data) == start + _RECORD_HEADER.size:
                length = _RECORD_HEADER.unpack_from(data, start)[2]
                data += f.read(min(length, _MAX_PAYLOAD))
        found = _record_at(data, start)
        if found is None or found[0] != segment.first_seq:
            raise StoreError(
                StoreErrorCode.JOURNAL_CORRUPT, {"segment": segment.path.name, "offset": start})
        return RawRecord(found[0], data[start + _RECORD_HEADER.size :])

    def remove_through(self, seq: int) -> list[Path]:
        """Delete whole segments whose every record is at or below ``seq``; never the active one.

        The newest of them becomes the spare the next segment is made of, if there is none
        and it is at least half a segment: its old records are written over, no zeros
        written. (Taken only if no spare of zeros is being written meanwhile.)
        """
        removed: list[Path] = []
        while len(self._segments) > 1 and self._segments[0].last_seq <= seq:
            removed.append(self._segments.pop(0).path)
        if not removed:
            return removed
        # Oldest first, and the newest last: a crash in between leaves segments that still
        # follow on from each other (a removed one in the middle would be a gap at open).
        *older, newest = removed
        for path in older:
            path.unlink()
        if older:
            fsync_dir(self.directory)
        spare = self.directory / _SPARE
        recycled = False
        if self._preparing.acquire(blocking=False):
            try:
                if not spare.exists() and newest.stat().st_size >= self.segment_bytes // 2:
                    os.rename(newest, spare)
                    recycled = True
                    self.spares_recycled += 1
            finally:
                self._preparing.release()
        if not recycled:
            newest.unlink()
        fsync_dir(self.directory)
        return removed
