"""Snapshots of the whole current state: written atomically, read newest-valid-first.

A snapshot is ``<data>/snapshots/<seq:020d>.snap``: gzip (whose CRC and length catch a
damaged file) of one JSON object ``{"format", "store", "seq", "at", "state"}`` where
``seq`` is the last journal record folded into ``state``. Start-up takes the newest
snapshot that reads cleanly and replays the journal after its ``seq``; a damaged one
is skipped (with a log line) for the one before it and a longer replay.
"""

from __future__ import annotations

import gzip
import json
import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge_store.errors import StoreError, StoreErrorCode
from edge_store.files import atomic_write, fsync_dir

__all__ = ["SNAPSHOT_FORMAT", "LoadedSnapshot", "Snapshots"]

log = logging.getLogger(__name__)

SNAPSHOT_FORMAT = 1
_SUFFIX = ".snap"

Migration = Callable[[dict[str, Any]], dict[str, Any]]
MIGRATIONS: dict[int, Migration] = {}
"""``MIGRATIONS[n]`` turns a format-n snapshot body into format n+1."""


@dataclass(frozen=True)
class LoadedSnapshot:
    seq: int
    state: Any
    path: Path


class Snapshots:
    """The snapshot files of one store."""

    def __init__(
        self, directory: Path, store_id: str, keep: int = 3, state_version: int = 1
    ) -> None:
        self.directory = directory
        self.store_id = store_id
        self.keep = keep
        self.state_version = state_version

    def paths(self) -> list[Path]:
        """Every snapshot file, newest first."""
        if not self.directory.exists():
            return []
        return sorted((p for p in self.directory.iterdir() if p.suffix == _SUFFIX), reverse=True)

    @staticmethod
    def seq_of(path: Path) -> int | None:
        """The record a snapshot file's name says it holds (None: not one of our names)."""
        return int(path.stem) if path.stem.isdigit() else None

    def write(self, seq: int, at: str, state: Any) -> Path:
        """Write the snapshot of ``state`` as of record ``seq``; older ones beyond ``keep`` go."""
        self.directory.mkdir(parents=True, exist_ok=True)
        body = json.dumps(
            {
                "format": SNAPSHOT_FORMAT,
                "state_version": self.state_version,
                "store": self.store_id,
                "seq": seq,
                "at": at,
                "state": state,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode("utf-8")
        path = self.directory / f"{seq:020d}{_SUFFIX}"
        atomic_write(path, gzip.compress(body, compresslevel=3, mtime=0))
        self._prune()
        return path

    def _prune(self) -> None:
        stale = self.paths()[self.keep :]
        for path in stale:
            path.unlink()
        if stale:
            fsync_dir(self.directory)

    def read(self, path: Path) -> tuple[int, Any]:
        """(seq, state JSON) of one snapshot; ``ValueError`` if it is damaged."""
        try:
            data = json.loads(gzip.decompress(path.read_bytes()))
        except (OSError, EOFError, zlib.error, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ValueError(f"unreadable: {err}") from err
        if not isinstance(data, dict) or "format" not in data:
            raise ValueError("not a snapshot")
        fmt = data["format"]
        if not isinstance(fmt, int) or fmt < 1:
            raise ValueError(f"bad format {fmt!r}")
        if fmt > SNAPSHOT_FORMAT:
            raise StoreError(
                StoreErrorCode.FORMAT_NEWER,
                {"file": path.name, "format": fmt, "known": SNAPSHOT_FORMAT},
            )
        if data.get("store") != self.store_id:
            raise StoreError(
                StoreErrorCode.WRONG_STORE, {"file": path.name, "found": str(data.get("store"))}
            )
        while fmt < SNAPSHOT_FORMAT:
            data = MIGRATIONS[fmt](data)
            fmt += 1
            data["format"] = fmt
        if int(data["seq"]) != self.seq_of(path):
            raise ValueError(f"holds record {data['seq']}, its name says {path.stem}")
        found = data.get("state_version", 1)
        if found != self.state_version:
            # Another build's domain state: its slices may mean other things. The journal,
            # whose events keep their meaning, is replayed instead.
            raise ValueError(f"domain state version {found}, this build reads {self.state_version}")
        return int(data["seq"]), data["state"]

    def load(self, path: Path, decode_state: Callable[[Any], Any]) -> LoadedSnapshot | None:
        """The snapshot at ``path`` decoded, or None (with a log line) if it is damaged."""
        try:
            seq, raw = self.read(path)
            return LoadedSnapshot(seq, decode_state(raw), path)
        except ValueError as err:  # CodecError is a ValueError too
            log.warning("snapshot %s skipped: %s", path.name, err)
            return None
