"""The backup archive's format: its file name, the member names it may hold, its manifest.

An archive is a gzip-compressed tar named ``<store>-<UTC yyyymmddTHHMMSSZ>-seq<N>.tar.gz``
whose members are, in this order: ``store.json``, ``outbox.json`` (when the store has
one), one ``snapshots/<seq:020d>.snap``, the ``journal/<first seq:020d>.seg`` segments,
and ``MANIFEST.json`` last (it holds the SHA-256 and size of every other member, so it
can only be written once they are). Only these names are ever read back: a whitelist,
which also shuts out path traversal (``../``, absolute paths) and links.

Why gzip and not xz: the backup runs on the Pi while the kiosk sells, so CPU and memory
count more than the last 20 % of size; snapshots are gzip already and do not shrink
again; gzip's CRC over the whole stream is one more check a restore makes. See
``bench/backup_bench.py`` for the figures of both on this machine.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from edge_store.errors import StoreError, StoreErrorCode

__all__ = [
    "ARCHIVE_FORMAT",
    "HISTORY_MONTH",
    "MANIFEST",
    "ArchiveName",
    "FileEntry",
    "Manifest",
    "archive_name",
    "is_member_name",
    "parse_archive_name",
]

ARCHIVE_FORMAT = 1
"""Version of the archive layout and manifest this code writes."""
MANIFEST = "MANIFEST.json"
KIND = "salon-edge store backup"
_STAMP = "%Y%m%dT%H%M%SZ"
_NAME = re.compile(r"^(?P<store>.+)-(?P<stamp>\d{8}T\d{6}Z)-seq(?P<seq>\d+)\.tar\.gz$")
HISTORY_MONTH = re.compile(r"^\d{4}-\d{2}\.(json|ids)$")
"""A closed month of the sales history (edge_store/history.py)."""
_MEMBER = re.compile(
    r"^(store\.json|outbox\.json|snapshots/\d{20}\.snap|journal/\d{20}\.seg"
    r"|history/(state\.json|open\.jsonl|\d{4}-\d{2}\.(json|ids)))$"
)


@dataclass(frozen=True)
class ArchiveName:
    """What an archive's file name says: whose it is, when it was made, how far it goes."""

    store_id: str
    created: datetime
    last_seq: int


def archive_name(store_id: str, created: datetime, last_seq: int) -> str:
    return f"{store_id}-{created.astimezone(UTC).strftime(_STAMP)}-seq{last_seq}.tar.gz"


def parse_archive_name(name: str) -> ArchiveName | None:
    """The parts of one of our archive names; None for any other file."""
    match = _NAME.match(name)
    if match is None:
        return None
    try:
        created = datetime.strptime(match["stamp"], _STAMP).replace(tzinfo=UTC)
    except ValueError:
        return None
    return ArchiveName(match["store"], created, int(match["seq"]))


def is_member_name(name: str) -> bool:
    """True for the data files a store backup may hold (the manifest excluded)."""
    return _MEMBER.match(name) is not None


@dataclass(frozen=True)
class FileEntry:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """What a backup holds and the checksum of every file in it."""

    store_id: str
    created: datetime
    first_seq: int
    last_seq: int
    snapshot_seq: int | None
    files: tuple[FileEntry, ...]

    def to_json(self) -> bytes:
        body = {
            "format": ARCHIVE_FORMAT,
            "kind": KIND,
            "store_id": self.store_id,
            "created": self.created.isoformat(),
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "snapshot_seq": self.snapshot_seq,
            "files": [{"name": f.name, "size": f.size, "sha256": f.sha256} for f in self.files],
        }
        return json.dumps(body, ensure_ascii=False, indent=1).encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes, archive: str) -> Manifest:
        """The manifest of ``archive``; BACKUP_DAMAGED if it is not one of ours."""
        try:
            body: dict[str, Any] = json.loads(raw)
            if body.get("kind") != KIND or not isinstance(body.get("format"), int):
                raise ValueError("not a store backup manifest")
            if body["format"] > ARCHIVE_FORMAT:
                raise StoreError(
                    StoreErrorCode.FORMAT_NEWER,
                    {"file": archive, "format": body["format"], "known": ARCHIVE_FORMAT},
                )
            snapshot = body["snapshot_seq"]
            return cls(
                store_id=_text(body["store_id"]),
                created=datetime.fromisoformat(_text(body["created"])),
                first_seq=int(body["first_seq"]),
                last_seq=int(body["last_seq"]),
                snapshot_seq=None if snapshot is None else int(snapshot),
                files=tuple(
                    FileEntry(_text(f["name"]), int(f["size"]), _text(f["sha256"]))
                    for f in body["files"]
                ),
            )
        except (ValueError, KeyError, TypeError) as err:
            raise StoreError(
                StoreErrorCode.BACKUP_DAMAGED, {"file": archive, "reason": f"manifest: {err}"}
            ) from err


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, found {type(value).__name__}")
    return value
