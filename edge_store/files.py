"""Durable file steps: fsync a directory, replace a file atomically, hold the one-writer lock."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from collections.abc import Iterable
from pathlib import Path

from edge_store.errors import StoreError, StoreErrorCode

__all__ = ["DirLock", "atomic_write", "fsync_dir", "reason_of"]


def fsync_dir(path: Path) -> None:
    """Make a created, renamed or removed entry of ``path`` survive a power cut."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes | Iterable[bytes]) -> None:
    """Write ``data`` to ``path`` so that a power cut leaves the old file or the new, never half.

    Temp file in the same directory, fsync, ``os.replace``, fsync the directory. A
    failure removes the temp file and leaves the old file as it was. ``data`` may be
    pieces made while writing (a snapshot streams), so the whole never sits in memory.
    """
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
        try:
            for piece in (data,) if isinstance(data, bytes) else data:
                view = memoryview(piece)
                while view:
                    view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)


def reason_of(err: OSError) -> str:
    """A short stable name of an OS failure for messages and logs (ENOSPC, EROFS, EIO ...)."""
    return errno.errorcode.get(err.errno or 0, "unknown")


class DirLock:
    """An exclusive ``flock`` on ``<dir>/LOCK``: one writer per data directory.

    The kernel drops the lock when the process dies, so a power cut or SIGKILL never
    leaves a stale lock behind; the pid written into the file is only for the message.
    """

    def __init__(self, directory: Path) -> None:
        self.path = directory / "LOCK"
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise StoreError(
                StoreErrorCode.LOCKED, {"path": str(self.path.parent), "pid": holder}
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
