"""Back up one store's data directory while the kiosk keeps selling: no lock, read-only.

The writer only ever adds to what a backup reads, so a consistent copy needs no lock:

* ``outbox.json`` and ``store.json`` are replaced atomically, so one read sees a whole file.
  The outbox is read before the journal, so its acknowledged record is in the archive.
* A snapshot never changes once it has its name. The newest one whose gzip CRC holds is
  opened first and read through that file descriptor, so the writer pruning it meanwhile
  does no harm; if it is gone before it is opened the next older one is taken.
* Journal segments are append-only. Each is copied up to the end of its last whole record
  whose checksum holds (``journal.valid_prefix``): a record the writer is in the middle
  of appending is left out, as a power cut would have left it out. A whole record whose
  fsync has not yet returned is copied: its commit returns a moment later, unless the
  disk fails that fsync and the writer cuts the record off again. Only then does a
  backup hold one record the kiosk never confirmed, the price of taking no lock.

The snapshot is read before the segments, so the journal copied always reaches past it;
but the writer's retention may remove the oldest segments meanwhile, so the copy is
checked (gap-free, starting at or before the record after the snapshot) and, failing
that, taken again from a newer snapshot. The archive is written to a temp file, fsynced
and renamed: a crash never leaves a half archive under an archive's name.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import logging
import os
import tarfile
import tempfile
import zlib
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from edge_store.archive import (
    HISTORY_MONTH,
    MANIFEST,
    FileEntry,
    Manifest,
    archive_name,
)
from edge_store.errors import StoreError, StoreErrorCode
from edge_store.files import fsync_dir, reason_of
from edge_store.identity import read_identity
from edge_store.journal import valid_prefix

__all__ = ["backup"]

log = logging.getLogger(__name__)

_ATTEMPTS = 5
_CHUNK = 1024 * 1024


class _Moved(Exception):
    """The journal changed under this attempt in a way only a fresh start can fix."""


def backup(data_dir: Path, dest: Path, *, now: datetime, compresslevel: int = 6) -> Path:
    """Write a checksummed archive of the store in ``data_dir``; return its path.

    ``dest`` is a directory (the archive gets its standard name there) or a file path.
    Raises ``StoreError``: NOT_A_STORE, JOURNAL_CORRUPT/GAP (damage found while copying),
    BACKUP_INCONSISTENT (the journal kept moving), NOT_DURABLE (the archive could not be
    written, e.g. the destination is full).
    """
    data_dir, dest = Path(data_dir), Path(dest)
    identity = read_identity(data_dir)
    if "restoring" in identity:
        raise StoreError(StoreErrorCode.RESTORE_INCOMPLETE, {"archive": str(identity["restoring"])})
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            return _attempt(data_dir, identity["store_id"], dest, now, compresslevel)
        except _Moved as moved:
            log.info("backup: journal moved during attempt %d (%s); again", attempt, moved)
    raise StoreError(
        StoreErrorCode.BACKUP_INCONSISTENT, {"path": str(data_dir), "attempts": _ATTEMPTS}
    )


def _attempt(data_dir: Path, store_id: str, dest: Path, now: datetime, level: int) -> Path:
    """One try: the archive in a temp file, fsynced, renamed to its name; never half of it."""
    folder = dest if dest.is_dir() else dest.parent
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=f".{store_id}-backup.", suffix=".tmp")
    except OSError as err:
        raise StoreError(StoreErrorCode.NOT_DURABLE, {"reason": reason_of(err)}) from err
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as raw:
            last_seq = _write_archive(raw, data_dir, store_id, now, level)
            raw.flush()
            os.fsync(raw.fileno())
        target = dest
        if dest.is_dir():
            target = folder / archive_name(store_id, now, last_seq)
        os.replace(tmp, target)
        fsync_dir(folder)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise StoreError(StoreErrorCode.NOT_DURABLE, {"reason": reason_of(err)}) from err
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    log.info("backup: %s through record %d", target.name, last_seq)
    return target


class _Members:
    """Adds members to the tar and remembers the size and SHA-256 of each."""

    def __init__(self, tar: tarfile.TarFile, mtime: int) -> None:
        self.tar, self.mtime = tar, mtime
        self.files: list[FileEntry] = []

    def add(self, name: str, data: bytes | memoryview) -> None:
        self.put(name, data)
        self.files.append(FileEntry(name, len(data), hashlib.sha256(data).hexdigest()))

    def put(self, name: str, data: bytes | memoryview) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(data), self.mtime, 0o640
        self.tar.addfile(info, io.BytesIO(data))


def _write_archive(
    raw: BinaryIO, data_dir: Path, store_id: str, now: datetime, level: int
) -> int:
    """Write the whole archive to ``raw``; the last record it holds."""
    mtime = int(now.timestamp())
    # No file name in the gzip header and a fixed mtime: nothing unchecked in the header.
    with (
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=level, mtime=mtime) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.USTAR_FORMAT) as tar,
    ):
        out = _Members(tar, mtime)
        out.add("store.json", (data_dir / "store.json").read_bytes())
        with contextlib.suppress(FileNotFoundError):
            out.add("outbox.json", (data_dir / "outbox.json").read_bytes())
        snapshot_seq = _add_snapshot(out, data_dir / "snapshots")
        # After the snapshot (the history is synced before every snapshot, so it holds at
        # least that much) and before the journal (which then holds every record the
        # history holds, so an open can catch the history up).
        _add_history(out, data_dir / "history")
        first, last = _add_journal(out, data_dir / "journal")
        if snapshot_seq is None and first != 1:
            raise _Moved(f"no snapshot, and the journal starts at record {first}")
        if snapshot_seq is not None and not first - 1 <= snapshot_seq <= last:
            raise _Moved(f"snapshot {snapshot_seq} is not continued by records {first}..{last}")
        manifest = Manifest(store_id, now, first, last, snapshot_seq, tuple(out.files))
        out.put(MANIFEST, manifest.to_json())
    return last


def _add_snapshot(out: _Members, folder: Path) -> int | None:
    """Copy the newest snapshot whose gzip CRC holds; its record number, or None if none."""
    names = sorted((p.name for p in _listing(folder) if p.suffix == ".snap"), reverse=True)
    for name in names:
        try:
            with (folder / name).open("rb") as f:  # open first: pruning may unlink it now
                data = f.read()
        except FileNotFoundError:
            continue
        if not _gzip_whole(data):
            log.warning("backup: snapshot %s is damaged; taking an older one", name)
            continue
        out.add(f"snapshots/{name}", data)
        return int(name.removesuffix(".snap"))
    return None


def _add_history(out: _Members, folder: Path) -> None:
    """Copy the sales history: tickets whose journal records retention removed live only here.

    ``state.json`` first: ``open.jsonl`` only grows after it (or is replaced whole when a
    month closes, the closed month written first), and the month files are replaced
    atomically, so each file read is whole and together they hold at least what
    ``state.json`` says.
    """
    names = {p.name for p in _listing(folder)}
    ordered = [n for n in ("state.json",) if n in names]
    ordered += sorted(n for n in names if HISTORY_MONTH.match(n))
    ordered += [n for n in ("open.jsonl",) if n in names]
    for name in ordered:
        try:
            with (folder / name).open("rb") as f:
                data = f.read()
        except FileNotFoundError:
            continue  # replaced this instant: the next backup has it
        if name == "open.jsonl":
            data = data[: data.rfind(b"\n") + 1]  # whole lines only
        out.add(f"history/{name}", data)


def _gzip_whole(data: bytes) -> bool:
    """True when the gzip stream reads to its end with CRC and length right."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as gz:
            while gz.read(_CHUNK):
                pass
    except (OSError, EOFError, zlib.error):
        return False
    return True


def _add_journal(out: _Members, folder: Path) -> tuple[int, int]:
    """Copy every segment's valid prefix; (first, last) record copied, gap-free."""
    paths = sorted(p for p in _listing(folder) if p.suffix == ".seg")
    if not paths:  # a store that was never opened far enough to start its journal
        return 1, 0
    first: int | None = None
    last = 0
    for index, path in enumerate(paths):
        try:
            with path.open("rb") as f:
                data = f.read()
        except FileNotFoundError:
            if first is None:  # the writer's retention removed the oldest: go on from the next
                continue
            raise _Moved(f"segment {path.name} vanished after an older one was copied") from None
        prefix = valid_prefix(data, path.name)
        if prefix is None:
            if index == len(paths) - 1:  # being created this instant: holds no record yet
                break
            raise StoreError(StoreErrorCode.JOURNAL_CORRUPT, {"segment": path.name, "offset": 0})
        if first is not None and prefix.first_seq != last + 1:
            raise _Moved(f"segment {path.name} starts at {prefix.first_seq}, not {last + 1}")
        if first is None:
            first = prefix.first_seq
        last = prefix.last_seq
        out.add(f"journal/{path.name}", memoryview(data)[: prefix.end])
    if first is None:
        raise _Moved("no journal segment could be read")
    return first, last


def _listing(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except FileNotFoundError:
        return []
