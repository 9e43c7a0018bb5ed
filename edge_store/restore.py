"""Restore a store's data directory from a backup archive, checking everything first.

The archive is unpacked into a staging directory next to the target (same file system,
so the final moves are renames), every member's SHA-256 and size is checked against the
manifest, the gzip CRC is read to the end of the stream, and the staged store is opened
once as the kiosk would open it. Only then is the target touched, under its writer lock
(a running kiosk makes the restore fail with LOCKED):

1. the old ``store.json`` moves aside and a marker ``store.json`` takes its place, which
   ``EdgeStore.open`` refuses (RESTORE_INCOMPLETE): a crash from here on never leaves a
   half-restored directory that opens as if it were whole (or as an empty new store);
2. the rest of the old directory moves to ``<data_dir>.replaced-<UTC time>`` (never
   deleted: with ``force`` an engineer may still need it);
3. the staged journal, snapshots, sales history and outbox move in, and the staged ``store.json``
   replaces the marker: the restore's commit point.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from edge_store.archive import MANIFEST, FileEntry, Manifest, is_member_name
from edge_store.errors import StoreError, StoreErrorCode
from edge_store.files import DirLock, atomic_write, fsync_dir, reason_of
from edge_store.identity import IDENTITY_FILE, IDENTITY_FORMAT
from edge_store.store import EdgeStore

__all__ = ["Restored", "restore"]

log = logging.getLogger(__name__)

_CHUNK = 1024 * 1024
_MAX_MANIFEST = 4 * 1024 * 1024
_IDENTITY = IDENTITY_FILE
_MOVE_ORDER = ("journal", "snapshots", "history", "outbox.json")
"""Journal first: with it alone a restored directory is whole or refused, never empty."""


@dataclass(frozen=True)
class Restored:
    """What a restore put in place, and where the directory it replaced went."""

    store_id: str
    last_seq: int
    snapshot_seq: int | None
    created: datetime
    replaced: Path | None


class _Damaged(Exception):
    pass


def restore(
    archive: Path, data_dir: Path, *, store_id: str, now: datetime, force: bool = False
) -> Restored:
    """Restore ``archive`` into ``data_dir`` for the store ``store_id``.

    Refuses with ``StoreError``: BACKUP_DAMAGED (a checksum, the manifest or a member name
    is wrong, or it is no store backup), WRONG_STORE (another store's backup) and
    TARGET_NOT_EMPTY (``data_dir`` already holds files) unless ``force``; LOCKED (a kiosk
    holds ``data_dir``); FORMAT_NEWER (made by newer software). ``force`` moves an existing
    directory's files aside; it never deletes them.
    """
    archive, data_dir = Path(archive), Path(data_dir)
    lock = DirLock(data_dir)
    with _writing():
        data_dir.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    try:
        existing = sorted(p.name for p in data_dir.iterdir() if p.name != lock.path.name)
        if existing and not force:
            raise StoreError(StoreErrorCode.TARGET_NOT_EMPTY, {"path": str(data_dir)})
        with _writing():
            staging = Path(tempfile.mkdtemp(dir=data_dir.parent, prefix=f".{data_dir.name}.in-"))
        try:
            manifest = _stage(archive, staging)
            if manifest.store_id != store_id and not force:
                raise StoreError(
                    StoreErrorCode.WRONG_STORE, {"file": archive.name, "found": manifest.store_id}
                )
            _open_staged(staging, manifest, archive.name, now)
            with _writing():
                replaced = _swap(staging, data_dir, existing, archive.name, manifest, now)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    finally:
        lock.release()
    log.info("restore: %s through record %d into %s", archive.name, manifest.last_seq, data_dir)
    return Restored(
        manifest.store_id, manifest.last_seq, manifest.snapshot_seq, manifest.created, replaced
    )


@contextmanager
def _writing() -> Iterator[None]:
    """OS failures of our own writes (not the archive's reads) as NOT_DURABLE."""
    try:
        yield
    except OSError as err:
        raise StoreError(StoreErrorCode.NOT_DURABLE, {"reason": reason_of(err)}) from err


# ---------------------------------------------------------------- staging and checking


def _stage(archive: Path, staging: Path) -> Manifest:
    """Unpack ``archive`` into ``staging`` and check it whole; its manifest."""
    try:
        staged, raw_manifest = _unpack(archive, staging)
        if raw_manifest is None:
            raise _Damaged("no manifest: not a store backup")
        manifest = Manifest.from_json(raw_manifest, archive.name)
        _check(manifest, staged, staging)
    except _Damaged as err:
        raise StoreError(
            StoreErrorCode.BACKUP_DAMAGED, {"file": archive.name, "reason": str(err)}
        ) from None
    with _writing():
        for folder in {(staging / name).parent for name in staged} | {staging}:
            fsync_dir(folder)
    return manifest


def _unpack(archive: Path, staging: Path) -> tuple[dict[str, FileEntry], bytes | None]:
    staged: dict[str, FileEntry] = {}
    raw_manifest: bytes | None = None
    try:
        with (
            archive.open("rb") as f,
            gzip.GzipFile(fileobj=f, mode="rb") as gz,
            tarfile.open(fileobj=gz, mode="r|") as tar,
        ):
            for info in tar:
                if info.name == MANIFEST and info.isreg() and info.size <= _MAX_MANIFEST:
                    raw_manifest = _member(tar, info).read()
                elif not is_member_name(info.name) or not info.isreg():
                    raise _Damaged(f"unexpected member {info.name[:80]!r}")
                elif info.name in staged or raw_manifest is not None:
                    raise _Damaged(f"member {info.name!r} repeated or after the manifest")
                else:
                    staged[info.name] = _extract(tar, info, staging / info.name)
            while gz.read(_CHUNK):  # to the very end: the gzip CRC covers the whole stream
                pass
    except (tarfile.TarError, EOFError, zlib.error, OSError) as err:
        # Our own writes raise StoreError (see _extract): an OSError here is the archive's.
        raise _Damaged(f"{type(err).__name__}: {err}") from err
    return staged, raw_manifest


def _member(tar: tarfile.TarFile, info: tarfile.TarInfo) -> IO[bytes]:
    src = tar.extractfile(info)
    if src is None:
        raise _Damaged(f"member {info.name!r} has no data")
    return src


def _extract(tar: tarfile.TarFile, info: tarfile.TarInfo, path: Path) -> FileEntry:
    """Write one member to ``path`` (fsynced), hashing what it read."""
    src = _member(tar, info)
    digest, size = hashlib.sha256(), 0
    with _writing():
        path.parent.mkdir(exist_ok=True)
        out = path.open("xb")
    with out:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            with _writing():
                out.write(chunk)
        with _writing():
            out.flush()
            os.fsync(out.fileno())
    return FileEntry(info.name, size, digest.hexdigest())


def _check(manifest: Manifest, staged: dict[str, FileEntry], staging: Path) -> None:
    listed = {f.name: f for f in manifest.files}
    if len(listed) != len(manifest.files) or set(listed) != set(staged):
        missing, extra = sorted(set(listed) - set(staged)), sorted(set(staged) - set(listed))
        raise _Damaged(f"files differ from the manifest (missing {missing}, extra {extra})")
    for name, entry in staged.items():
        if entry != listed[name]:
            raise _Damaged(f"{name}: checksum or size differs from the manifest")
    if _IDENTITY not in staged:
        raise _Damaged("no store.json")
    try:
        found = json.loads((staging / _IDENTITY).read_bytes()).get("store_id")
    except (ValueError, AttributeError) as err:
        raise _Damaged(f"store.json: {err}") from err
    if found != manifest.store_id:
        raise _Damaged(f"store.json says {found!r}, the manifest {manifest.store_id!r}")


def _open_staged(staging: Path, manifest: Manifest, archive: str, now: datetime) -> None:
    """Open the staged copy as the kiosk will: a restore must never leave a store that won't."""
    try:
        store = EdgeStore.open(staging, manifest.store_id, lambda: now, _no_new_ids)
    except (ValueError, KeyError) as err:  # a record or snapshot the codec cannot read
        raise StoreError(
            StoreErrorCode.BACKUP_DAMAGED, {"file": archive, "reason": f"{type(err).__name__}"}
        ) from err
    try:
        if store.last_seq != manifest.last_seq:
            raise StoreError(
                StoreErrorCode.BACKUP_DAMAGED,
                {"file": archive, "reason": f"opens at record {store.last_seq}"},
            )
    finally:
        store.close(snapshot=False)


def _no_new_ids() -> str:
    raise AssertionError("the trial open of a restore commits nothing")


# ---------------------------------------------------------------- putting it in place


def _swap(
    staging: Path, data_dir: Path, existing: list[str], archive: str, manifest: Manifest,
    now: datetime,
) -> Path | None:
    aside: Path | None = None
    if existing:
        aside = _aside_dir(data_dir, now)
        if _IDENTITY in existing:
            os.rename(data_dir / _IDENTITY, aside / _IDENTITY)
    marker = {"format": IDENTITY_FORMAT, "store_id": manifest.store_id, "restoring": archive}
    atomic_write(data_dir / _IDENTITY, json.dumps(marker).encode("utf-8"))
    if aside is not None:
        for name in existing:
            if name != _IDENTITY:
                os.rename(data_dir / name, aside / name)
        fsync_dir(aside)
        fsync_dir(data_dir)
        log.warning("restore: the previous data of %s moved to %s", data_dir.name, aside.name)
    for name in _MOVE_ORDER:
        if (staging / name).exists():
            os.rename(staging / name, data_dir / name)
            fsync_dir(data_dir)
    os.replace(staging / _IDENTITY, data_dir / _IDENTITY)
    fsync_dir(data_dir)
    return aside


def _aside_dir(data_dir: Path, now: datetime) -> Path:
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = data_dir.with_name(f"{data_dir.name}.replaced-{stamp}")
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    candidate.mkdir()
    fsync_dir(candidate.parent)
    return candidate
