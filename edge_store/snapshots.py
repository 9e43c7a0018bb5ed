"""Snapshots of the whole current state: written atomically, read newest-valid-first.

A snapshot is ``<data>/snapshots/<seq:020d>.snap``, a gzip stream (whose CRC and length
catch a damaged file) of, in format 4:

* a JSON header line ``{"format", "state_version", "layout", "fields", "types", "store",
  "seq", "at"}``, where ``seq`` is the last journal record folded into the state,
  ``layout`` the fingerprint of the state's classes, ``fields`` each class's field
  names in the order its records are written and ``types`` their types
  (``edge_store.packed``);
* per slice of the state, the pickle ``("slice", name, n)``, then ``n`` pickles
  ``(field, value)`` of its fields, but for the books' indexes (``salon.indexes``:
  rebuilt by the state's ``reindex`` after reading); a large dict or list comes as
  several parts of up to ``CHUNK`` entries each, in order, each after the first
  pickled so that its entries go straight into the first as it is read (format 3
  wrote them as dicts and lists of their own, merged after reading: the merge was a
  tenth of reading a snapshot). The values are pickled as ``edge_store.pickled``
  says, whose unpickler can call nothing but the snapshot's own builders;
* the pickle ``("end", "", n)``, the number of slices before it: a file cut short is
  never read as whole.

Written and read a part at a time, a snapshot never sits whole in memory as bytes or
as a tree of values: at years of sales such a tree was larger than the state itself,
and the memory it left behind stayed with the process. A snapshot written by a build
whose classes differ is read field by field by name (a field added since takes its
default, one removed is dropped), so an upgrade keeps its snapshots; one whose values
no longer fit, or of another state version (``salon.state.STATE_VERSION``: a change of
meaning), is skipped. Start-up takes the newest snapshot that reads cleanly and replays
the journal after its ``seq``; a damaged one is skipped (with a log line) for the one
before it and a longer replay. Formats 1 (one JSON object, fields by name), 2 (JSON
lines ``[slice, field, value]``, ``packed.Reader``) and 3 are still read.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import logging
import pickle
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge_store.codec import decode, init_fields
from edge_store.errors import StoreError, StoreErrorCode
from edge_store.files import atomic_write, fsync_dir
from edge_store.packed import Reader, assemble, classes, field_types, layout, schema
from edge_store.pickled import (
    PROTOCOL,
    UNPICKLE_ERRORS,
    Builders,
    Reducers,
    SlicePickler,
    fresh_unpickler,
)
from salon.indexes import DERIVED

__all__ = ["CHUNK", "SNAPSHOT_FORMAT", "LoadedSnapshot", "Snapshots"]

log = logging.getLogger(__name__)

SNAPSHOT_FORMAT = 4
CHUNK = 1000
"""Entries of a dict or list per part (a line in format 2): what one pickle call writes
while it holds the GIL, and what format 2 and 3 read at once."""
_SUFFIX = ".snap"
_READ_ERRORS = (OSError, EOFError, zlib.error, UnicodeDecodeError, json.JSONDecodeError)


@dataclass(frozen=True)
class LoadedSnapshot:
    seq: int
    state: Any
    path: Path


class Snapshots:
    """The snapshot files of one store, whose state is a ``state_type`` of mutable slices."""

    def __init__(
        self, directory: Path, store_id: str, state_type: type, keep: int = 3,
        state_version: int = 1,
    ) -> None:
        self.directory = directory
        self.store_id = store_id
        self.state_type = state_type
        self.keep = keep
        self.state_version = state_version
        self.layout = layout(state_type)
        self.schema = schema(state_type)
        self.types = field_types(state_type)
        self._classes = classes(state_type)
        self._reducers = Reducers(self._classes)
        self._slices = {name: (tp, _stored_fields(tp)) for name, tp, *_ in init_fields(state_type)}

    def paths(self) -> list[Path]:
        """Every snapshot file, newest first."""
        if not self.directory.exists():
            return []
        return sorted((p for p in self.directory.iterdir() if p.suffix == _SUFFIX), reverse=True)

    @staticmethod
    def seq_of(path: Path) -> int | None:
        """The record a snapshot file's name says it holds (None: not one of our names)."""
        return int(path.stem) if path.stem.isdigit() else None

    # ---------------------------------------------------------------- writing

    def write(self, seq: int, at: str, state: Any) -> Path:
        """Write the snapshot of ``state`` as of record ``seq``; older ones beyond ``keep`` go.

        ``state`` must not change while this runs: the store passes a copy
        (``edge_store.capture``) and writes it on a thread.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        header = {"format": SNAPSHOT_FORMAT, "state_version": self.state_version,
                  "layout": self.layout, "fields": self.schema, "types": self.types,
                  "store": self.store_id, "seq": seq, "at": at}
        path = self.directory / f"{seq:020d}{_SUFFIX}"
        atomic_write(path, _gzip(self._pickles(header, state)))
        self._prune()
        return path

    def _pickles(self, header: dict[str, Any], state: Any) -> Iterator[bytes]:
        """The header line, then per slice its mark and its fields' parts, then the end mark.

        A slice's parts are pickled with one memo (an object in two of its fields is read
        back as one object), each part by one call: the pickler holds the GIL for a part,
        not for a slice, and the till's commits go on between parts.
        """
        yield _line(header)
        count = 0
        for name, (_, fields) in self._slices.items():
            book = getattr(state, name)
            parts = [(field, i, part) for field in fields
                     for i, part in enumerate(_parts(getattr(book, field)))]
            yield _mark("slice", name, len(parts))
            pickler = SlicePickler(self._reducers)
            for field, i, part in parts:
                yield pickler.dump_more(field, part) if i else pickler.dump(field, part)
            count += 1
        yield _mark("end", "", count)

    def _prune(self) -> None:
        stale = self.paths()[self.keep :]
        for path in stale:
            path.unlink()
        if stale:
            fsync_dir(self.directory)

    # ---------------------------------------------------------------- reading

    def read(self, path: Path) -> tuple[int, Any]:
        """(seq, state) of one snapshot; ``ValueError`` if it is damaged or cannot be matched.

        StoreError if it is another store's, or written by a newer format than this one.
        """
        try:
            with gzip.open(path, "rb") as stream:
                header = json.loads(stream.readline())
                if not isinstance(header, dict) or "format" not in header:
                    raise ValueError("not a snapshot")
                self._check(path, header)
                if header["format"] == 1:
                    state = decode(header["state"], self.state_type)
                elif header["format"] == 2:
                    state = self._read_lines(stream, self._written(path, header))
                else:
                    state = self._read_pickles(stream, self._written(path, header))
        except _READ_ERRORS as err:
            raise ValueError(f"unreadable: {err}") from err
        except UNPICKLE_ERRORS as err:  # not one of ours, or damaged past the gzip CRC's reach
            raise ValueError(f"unreadable: {type(err).__name__}: {err}") from err
        reindex = getattr(state, "reindex", None)  # SalonState has one; a test's state may not
        if reindex is not None:
            reindex()
        return int(header["seq"]), state

    def _check(self, path: Path, header: dict[str, Any]) -> None:
        fmt = header["format"]
        if not isinstance(fmt, int) or fmt < 1:
            raise ValueError(f"bad format {fmt!r}")
        if fmt > SNAPSHOT_FORMAT:
            raise StoreError(
                StoreErrorCode.FORMAT_NEWER,
                {"file": path.name, "format": fmt, "known": SNAPSHOT_FORMAT},
            )
        if header.get("store") != self.store_id:
            raise StoreError(
                StoreErrorCode.WRONG_STORE, {"file": path.name, "found": str(header.get("store"))}
            )
        if int(header["seq"]) != self.seq_of(path):
            raise ValueError(f"holds record {header['seq']}, its name says {path.stem}")
        found = header.get("state_version", 1)
        if found != self.state_version:
            # Another build's domain state: its slices may mean other things. The journal,
            # whose events keep their meaning, is replayed instead.
            raise ValueError(f"domain state version {found}, this build reads {self.state_version}")

    def _written(self, path: Path, header: dict[str, Any]) -> dict[str, list[str]] | None:
        """The field names the snapshot was written with, when its layout is not this build's.

        ValueError if a field it shares with this build changed its type (format 3: its
        values come as they were written; format 2's reader checks each value's shape).
        """
        if header.get("layout") == self.layout:
            return None
        fields = header.get("fields")
        if not isinstance(fields, dict):
            raise ValueError(f"state layout {header.get('layout')} without its field names")
        if not all(type(names) is list and all(type(n) is str for n in names)
                   for names in fields.values()):
            raise ValueError("field names that are not lists of text")
        types = header.get("types", {})
        for cls, written in types.items() if isinstance(types, dict) else ():
            ours = self.types.get(cls, {})
            for name, tp in written.items() if isinstance(written, dict) else ():
                if name in ours and ours[name] != tp:
                    raise ValueError(f"{cls}.{name} was written as {tp}, is {ours[name]} now")
        log.info("snapshot %s: written by a build of another state layout; read by field name",
                 path.name)
        return fields

    def _read_pickles(self, stream: gzip.GzipFile, written: dict[str, list[str]] | None) -> Any:
        builders = Builders(self._classes, written)
        values: dict[str, dict[str, Any]] = {name: {} for name in self._slices}
        count = 0
        while True:
            try:
                mark = fresh_unpickler(stream).load()
            except EOFError:
                raise ValueError("cut short: no end mark") from None
            if not (type(mark) is tuple and len(mark) == 3 and type(mark[2]) is int):
                raise ValueError(f"mark {count + 1} is not (kind, slice, count)")
            kind, name, parts = mark
            if kind == "end":
                if parts != count:
                    raise ValueError(f"ends after {parts} slices, {count} were read")
                if stream.read(1):  # reading on to the end also checks gzip's CRC
                    raise ValueError("data after the end mark")
                break
            if kind != "slice":
                raise ValueError(f"mark {count + 1} is of kind {kind!r}")
            fields = self._slices.get(name, (None, {}))[1]
            unpickler = fresh_unpickler(stream, builders)
            for _ in range(parts):
                field, part = unpickler.load()
                if field not in fields:
                    if written is None:
                        raise ValueError(f"no field {name}.{field} in this layout")
                    continue  # a field (or slice) this build no longer has
                _merge(values[name], field, part)
            count += 1
        return assemble(self.state_type, {
            name: assemble(tp, values[name]) for name, (tp, _) in self._slices.items()
        })

    def _read_lines(self, stream: gzip.GzipFile, written: dict[str, list[str]] | None) -> Any:
        """Format 2: JSON lines, read by a ``packed.Reader``."""
        reader = Reader(written)
        values: dict[str, dict[str, Any]] = {name: {} for name in self._slices}
        for count, raw in enumerate(stream):
            line = json.loads(raw)
            if isinstance(line, dict):
                if line.get("end") != count:
                    raise ValueError(f"ends after {line.get('end')} lines, {count} were read")
                if stream.read(1):  # reading on to the end also checks gzip's CRC
                    raise ValueError("data after the end line")
                break
            if not (isinstance(line, list) and len(line) == 3):
                raise ValueError(f"line {count + 2} is not [slice, field, value]")
            name, field, data = line
            ftp = self._slices.get(name, (None, {}))[1].get(field)
            if ftp is None:
                if written is None:
                    raise ValueError(f"no field {name}.{field} in this layout")
                continue  # a field this build no longer has
            _merge(values[name], field, reader.read(data, ftp))
        else:
            raise ValueError("cut short: no end line")
        return assemble(self.state_type, {
            name: assemble(tp, values[name]) for name, (tp, _) in self._slices.items()
        })

    def load(self, path: Path) -> LoadedSnapshot | None:
        """The snapshot at ``path`` decoded, or None (with a log line) if it is damaged."""
        try:
            seq, state = self.read(path)
            return LoadedSnapshot(seq, state, path)
        except ValueError as err:  # CodecError is a ValueError too
            log.warning("snapshot %s skipped: %s", path.name, err)
            return None


def _stored_fields(book: type) -> dict[str, Any]:
    """The fields of a slice a snapshot holds (name → type): all but its indexes."""
    derived = {f.name for f in dataclasses.fields(book) if f.metadata.get(DERIVED)}
    return {name: ftp for name, ftp, *_ in init_fields(book) if name not in derived}


def _plain(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _line(value: Any) -> bytes:
    return _plain(value).encode("utf-8") + b"\n"


def _parts(value: Any) -> Iterator[Any]:
    """A field's value in pieces of at most CHUNK entries (dicts and lists), else whole."""
    if isinstance(value, dict) and len(value) > CHUNK:
        items = list(value.items())
        for start in range(0, len(items), CHUNK):
            yield dict(items[start : start + CHUNK])
    elif isinstance(value, list) and len(value) > CHUNK:
        for start in range(0, len(value), CHUNK):
            yield value[start : start + CHUNK]
    else:
        yield value


def _merge(fields: dict[str, Any], name: str, part: Any) -> None:
    if name not in fields:
        fields[name] = part
    elif part is fields[name] and type(part) in (dict, list):
        pass  # format 4: the part's entries went into the field's first part as it was read
    elif isinstance(part, dict):
        fields[name].update(part)
    elif isinstance(part, list):
        fields[name].extend(part)
    else:
        raise ValueError(f"field {name} comes twice")


def _mark(kind: str, name: str, count: int) -> bytes:
    """A slice's or the end's mark: a pickle of its own (no memo shared with any other)."""
    return pickle.dumps((kind, name, count), protocol=PROTOCOL)


def _gzip(lines: Iterator[bytes]) -> Iterator[bytes]:
    """The gzip stream of ``lines`` in pieces (level 3: a snapshot is written often)."""
    packer = zlib.compressobj(3, zlib.DEFLATED, 31)  # wbits 31: gzip header and CRC
    pending: list[bytes] = []
    size = 0
    for line in lines:
        pending.append(line)
        size += len(line)
        if size >= 1 << 20:
            yield packer.compress(b"".join(pending))
            pending, size = [], 0
    yield packer.compress(b"".join(pending)) + packer.flush()
