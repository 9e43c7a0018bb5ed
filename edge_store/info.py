"""What a data directory holds, read without the writer's lock (``salon-edge store info``).

Safe while the kiosk runs: it only reads, and it learns whether a process holds the
store's lock from ``/proc/locks`` rather than by trying the lock, which could make a
kiosk starting at that moment fail.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from edge_store.identity import read_identity
from edge_store.journal import valid_prefix

__all__ = ["StoreInfo", "lock_holder", "read_info"]


@dataclass(frozen=True)
class StoreInfo:
    data_dir: Path
    store_id: str
    first_seq: int
    last_seq: int
    segments: int
    journal_bytes: int
    snapshot_seqs: tuple[int, ...]
    """Newest first, from the file names (``store verify`` reads them)."""
    acked_seq: int | None
    free_bytes: int
    quarantined: tuple[tuple[str, int], ...]
    """(name, size) of each file a torn tail was moved to."""
    holder_pid: int | None
    restoring: str | None
    """The archive of a restore that did not finish, if one did not."""


def read_info(data_dir: Path) -> StoreInfo:
    """The state of the store in ``data_dir`` (StoreError NOT_A_STORE if it holds none)."""
    data_dir = Path(data_dir)
    identity = read_identity(data_dir)
    segments = sorted(_names(data_dir / "journal", ".seg"))
    first, last, total = 1, 0, 0
    for name in segments:
        with contextlib.suppress(FileNotFoundError):
            total += (data_dir / "journal" / name).stat().st_size
    if segments:
        first = int(segments[0].removesuffix(".seg"))
        last = _last_seq(data_dir / "journal", segments)
    acked = None
    with contextlib.suppress(FileNotFoundError, ValueError, KeyError, TypeError):
        acked = int(json.loads((data_dir / "outbox.json").read_bytes())["acked_seq"])
    quarantine = data_dir / "quarantine"
    stats = os.statvfs(data_dir)
    restoring = identity.get("restoring")
    return StoreInfo(
        data_dir=data_dir,
        store_id=identity["store_id"],
        first_seq=first,
        last_seq=last,
        segments=len(segments),
        journal_bytes=total,
        snapshot_seqs=tuple(
            int(n.removesuffix(".snap"))
            for n in sorted(_names(data_dir / "snapshots", ".snap"), reverse=True)
        ),
        acked_seq=acked,
        free_bytes=stats.f_bavail * stats.f_frsize,
        quarantined=tuple(
            (name, (quarantine / name).stat().st_size) for name in sorted(_names(quarantine, ""))
        ),
        holder_pid=lock_holder(data_dir / "LOCK"),
        restoring=None if restoring is None else str(restoring),
    )


def _names(folder: Path, suffix: str) -> list[str]:
    try:
        return [p.name for p in folder.iterdir() if p.name.endswith(suffix) and p.is_file()]
    except FileNotFoundError:
        return []


def _last_seq(folder: Path, segments: list[str]) -> int:
    """The last whole record of the newest segment that has begun (the writer may be appending)."""
    for name in reversed(segments):
        try:
            prefix = valid_prefix((folder / name).read_bytes(), name)
        except FileNotFoundError:
            continue
        if prefix is not None:
            return prefix.last_seq
    return 0


def lock_holder(path: Path) -> int | None:
    """The pid holding a ``flock`` on ``path`` per ``/proc/locks``; None if none (or unknown)."""
    try:
        st = path.stat()
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return None
    device = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    for line in lines:
        fields = line.split()
        # "1: FLOCK  ADVISORY  WRITE 1234 08:02:131090 0 EOF"; waiters are marked "->".
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == device:
            with contextlib.suppress(ValueError):
                return int(fields[4])
    return None
