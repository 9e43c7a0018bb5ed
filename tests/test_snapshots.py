"""Snapshots (format 4): read back exactly, shared values, chunked parts, guarded layout,
a pickle that can call nothing but the snapshot's own builders.

Also the copy the store writes in the background (edge_store.capture): what is
committed after it was taken never reaches it.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import pickle
import threading
from collections import defaultdict
from dataclasses import field, make_dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from support import make_salon
from test_checkout import member
from test_points_compaction import MOBILES, OPS, run

from edge_store import snapshots as snapshots_module
from edge_store.capture import copy_of
from edge_store.codec import decode, encode
from edge_store.packed import classes, layout
from edge_store.pickled import Builders, Reducers, SlicePickler, fresh_unpickler
from edge_store.snapshots import Snapshots
from edge_store.store import StoreOptions
from edge_store.verify import verify
from hub.demo import _Day
from salon.state import STATE_VERSION, SalonState
from tests.store_support import STORE_ID, busy_store, open_store, state_json


def _snapshots(directory: Path) -> Snapshots:
    return Snapshots(directory, STORE_ID, SalonState, state_version=STATE_VERSION)


def _round_trip(state: SalonState, directory: Path) -> SalonState:
    snaps = _snapshots(directory)
    path = snaps.write(7, "2026-11-23T02:00:00+00:00", state)
    seq, read = snaps.read(path)
    assert seq == 7
    assert isinstance(read, SalonState)
    return read


def _header(path: Path) -> dict[str, Any]:
    header: dict[str, Any] = json.loads(gzip.decompress(path.read_bytes()).split(b"\n", 1)[0])
    return header


def _pieces(path: Path) -> list[tuple[object, int, int]]:
    """Each mark and part of a format 3 or 4 snapshot: (its value, where it starts and ends in
    the uncompressed stream); a part's value is (field, value)."""
    out: list[tuple[object, int, int]] = []
    with gzip.open(path, "rb") as stream:
        header = json.loads(stream.readline())
        # Records are built by the field names they were written with (an older fixture's).
        builders = Builders(classes(SalonState), header["fields"])
        while True:
            start = stream.tell()
            mark = fresh_unpickler(stream).load()
            out.append((mark, start, stream.tell()))
            if mark[0] == "end":
                return out
            unpickler = fresh_unpickler(stream, builders)
            for _ in range(mark[2]):
                start = stream.tell()
                part = unpickler.load()
                out.append((part, start, stream.tell()))


def _spliced(path: Path, pieces: list[tuple[int, int]], header: dict[str, Any] | None = None,
             ) -> None:
    """Rewrite ``path`` as its header (or ``header``) and the byte ranges ``pieces`` of its
    uncompressed body."""
    raw = gzip.decompress(path.read_bytes())
    head, _ = raw.split(b"\n", 1)
    if header is not None:
        head = json.dumps(header, ensure_ascii=False).encode()
    body = b"".join(raw[start:end] for start, end in pieces)
    path.write_bytes(gzip.compress(head + b"\n" + body))


def _ranges(path: Path) -> list[tuple[int, int]]:
    return [(start, end) for _, start, end in _pieces(path)]


def test_the_demo_day_reads_back_as_the_state_it_was_written_from(tmp_path: Path) -> None:
    day = _Day(io.StringIO(), "zh_CN", tmp_path / "demo")
    assert day.run() == 0
    state = day.salon.state
    assert state.packages.cards and state.tickets.tickets and state.points._lots
    read = _round_trip(state, tmp_path / "snaps")
    day.salon.close()
    assert read == state
    assert encode(read, SalonState) == encode(state, SalonState)
    # Slices count on these being defaultdicts (a missing member reads as 0 and is added).
    assert type(read.points._debt) is defaultdict and type(read.points._earned) is defaultdict


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(OPS)
def test_any_points_and_debt_history_reads_back_exactly(
    tmp_path: Path, ops: list[tuple[object, ...]]
) -> None:
    salon, _ = make_salon()
    members = [member(salon, mobile) for mobile in MOBILES]
    tickets: list[str] = []
    for op in ops:
        run(salon, members, tickets, op)
    assert _round_trip(salon.state, tmp_path) == salon.state


def test_equal_times_and_amounts_and_one_object_in_a_slice_are_one_after_reading(
    tmp_path: Path,
) -> None:
    with busy_store(tmp_path / "store", members=5, sales=20) as (store, _):
        written = store.state
        read = _round_trip(written, tmp_path / "snaps")
    # The book files each lot under its own id: one string, written once, read as one.
    assert all(key is lot.lot_id for key, lot in written.accounts.lots.items())
    assert all(key is lot.lot_id for key, lot in read.accounts.lots.items())
    expiries = [lot.expires_at for lots in read.points._lots.values() for lot in lots.values()]
    assert len(expiries) > len({id(e) for e in expiries})  # a shared expiry time, not copies
    paid = [lot.principal_paid_fen for lot in read.accounts.lots.values()]
    assert len(paid) > len({id(p) for p in paid})  # equal amounts: one number object
    assert all(p > 256 for p in paid)  # (not Python's own small numbers, shared anyway)


def test_a_large_field_is_written_in_chunks_and_read_back_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshots_module, "CHUNK", 3)
    with busy_store(tmp_path / "store", members=10, sales=25) as (store, _):
        state = store.state
        snaps = _snapshots(tmp_path / "snaps")
        path = snaps.write(1, "2026-11-23T02:00:00+00:00", state)
    member_parts = [(value, end - start) for value, start, end in _pieces(path)
                    if isinstance(value, tuple) and value[0] == "members"
                    and isinstance(value[1], dict)]
    assert len(member_parts) == 4  # 10 members: parts of 3, 3, 3 and 1
    # Each part after the first reads as the first, its entries put into it: one dict.
    first = member_parts[0][0][1]
    assert all(part is first for (_, part), _ in member_parts)
    assert list(first) == list(state.members.members)
    # A part holds its own entries only (the first is a reference), so the last is small.
    sizes = [size for _, size in member_parts]
    assert sizes[3] < sizes[0] / 2
    _, read = snaps.read(path)
    assert list(read.members.members) == list(state.members.members)
    assert list(read.accounts.lots) == list(state.accounts.lots)  # oldest first, as spent
    assert read == state


def test_more_of_a_list_or_a_dict_goes_into_its_first_part() -> None:
    pickler = SlicePickler(Reducers(classes(SalonState)))
    stream = io.BytesIO(b"".join([
        pickler.dump("log", ["a", "b"]), pickler.dump("counts", {"x": 1}),
        pickler.dump_more("log", ["c"]), pickler.dump_more("counts", {"y": 2}),
    ]))
    unpickler = fresh_unpickler(stream, Builders(classes(SalonState)))
    log, counts, more_log, more_counts = (unpickler.load() for _ in range(4))
    assert more_log == ("log", ["a", "b", "c"]) and more_log[1] is log[1]
    assert more_counts == ("counts", {"x": 1, "y": 2}) and more_counts[1] is counts[1]
    with pytest.raises(TypeError, match="more of log must be a list"):
        pickler.dump_more("log", {"d": 4})


def test_a_snapshot_holding_one_value_twice_is_not_read(tmp_path: Path) -> None:
    with busy_store(tmp_path / "store", members=3, sales=4) as (store, _):
        snaps = _snapshots(tmp_path / "snaps")
        path = snaps.write(1, "2026-11-23T02:00:00+00:00", store.state)
    pieces = _pieces(path)
    raw = gzip.decompress(path.read_bytes())
    head = raw.split(b"\n", 1)[0]
    body = b""
    for value, start, end in pieces:
        if value[0] == "slice" and value[1] == "points":
            body += pickle.dumps(("slice", "points", value[2] + 1), protocol=5)
            continue
        body += raw[start:end]
        if value[0] == "_next_seq":  # a number: its pickle twice
            body += raw[start:end]
    path.write_bytes(gzip.compress(head + b"\n" + body))
    with pytest.raises(ValueError, match="field _next_seq comes twice"):
        snaps.read(path)


def test_a_snapshot_cut_short_or_without_its_end_mark_is_not_read(tmp_path: Path) -> None:
    with busy_store(tmp_path / "store", members=3, sales=4) as (store, _):
        snaps = _snapshots(tmp_path / "snaps")
        path = snaps.write(1, "2026-11-23T02:00:00+00:00", store.state)
    whole = path.read_bytes()
    pieces = _pieces(path)
    ranges = [(start, end) for _, start, end in pieces]
    assert pieces[-1][0] == ("end", "", len(snaps._slices))
    _spliced(path, ranges[:-1])
    with pytest.raises(ValueError, match="no end mark"):
        snaps.read(path)
    # A whole slice gone, its mark and its parts: the end mark counts one slice more.
    marks = [i for i, (value, *_) in enumerate(pieces) if value[0] == "slice"]
    path.write_bytes(whole)
    _spliced(path, ranges[:marks[1]] + ranges[marks[2]:])
    with pytest.raises(ValueError, match="ends after"):
        snaps.read(path)
    # One part gone: the next slice's mark is read where a part belongs.
    path.write_bytes(whole)
    _spliced(path, ranges[:marks[1] + 1] + ranges[marks[1] + 2:])
    with pytest.raises(ValueError):
        snaps.read(path)
    path.write_bytes(whole[:-9])
    with pytest.raises(ValueError, match="unreadable"):
        snaps.read(path)


class _Planted:
    """What a crafted snapshot could hide in a part: a call of os.system on reading."""

    def __init__(self, flag: Path) -> None:
        self.flag = flag

    def __reduce__(self) -> tuple[object, ...]:
        return (os.system, (f"touch {self.flag}",))


def test_a_snapshot_that_names_a_function_is_refused_and_nothing_is_called(
    tmp_path: Path,
) -> None:
    with busy_store(tmp_path / "store", members=3, sales=4) as (store, _):
        snaps = _snapshots(tmp_path / "snaps")
        path = snaps.write(1, "2026-11-23T02:00:00+00:00", store.state)
    flag = tmp_path / "ran"
    pieces = _pieces(path)
    ranges = [(start, end) for _, start, end in pieces]
    raw = gzip.decompress(path.read_bytes())
    head = raw.split(b"\n", 1)[0]
    planted = pickle.dumps(("staff", _Planted(flag)), protocol=5)
    first_part = 1  # after the first slice's mark
    body = raw[ranges[0][0]:ranges[0][1]] + planted + b"".join(
        raw[start:end] for start, end in ranges[first_part + 1:])
    path.write_bytes(gzip.compress(head + b"\n" + body))
    with pytest.raises(ValueError, match=r"names no code; this one names posix\.system"):
        snaps.read(path)
    assert not flag.exists()
    # A builder id of no class of this build's is refused as well.
    forged = io.BytesIO()
    _NamingIds(forged, protocol=5).dump(("staff", "planted"))
    forged.seek(0)
    with pytest.raises(pickle.UnpicklingError, match=r"no class salon\.nowhere\.Thing"):
        fresh_unpickler(forged, Builders(classes(SalonState))).load()


class _NamingIds(pickle.Pickler):
    def persistent_id(self, obj: object) -> str | None:
        if obj is _more_mark:
            return "more"
        return "salon.nowhere.Thing" if obj == "planted" else None


def _more_mark(target: object) -> object:
    raise AssertionError("written as the builder id 'more', never called")


class _MoreOf:
    def __init__(self, target: object) -> None:
        self.target = target

    def __reduce__(self) -> tuple[object, ...]:
        return (_more_mark, (self.target,))


def test_more_entries_go_only_into_a_dict_or_a_list() -> None:
    # A crafted file's "more" builder given anything else (a time, a record) is refused.
    builders = Builders(classes(SalonState))
    for target, found in (("text", "str"), (7, "int")):
        forged = io.BytesIO()
        _NamingIds(forged, protocol=5).dump(("staff", _MoreOf(target)))
        forged.seek(0)
        with pytest.raises(pickle.UnpicklingError, match=f"more entries for a {found}"):
            fresh_unpickler(forged, builders).load()
    forged = io.BytesIO()
    _NamingIds(forged, protocol=5).dump(("staff", _MoreOf({"a": 1})))
    forged.seek(0)
    assert fresh_unpickler(forged, builders).load() == ("staff", {"a": 1})


def test_a_state_holding_a_value_of_no_class_of_its_layout_is_not_written(
    tmp_path: Path,
) -> None:
    state_type, rec, kind = _state_type(1)
    state = state_type()
    state.book.recs = {"r": rec("a", kind("a"), 1, 2), "x": tmp_path}  # a Path: not ours
    with pytest.raises(TypeError, match="cannot hold"):
        Snapshots(tmp_path, STORE_ID, state_type).write(1, "2026-11-23T02:00:00+00:00", state)
    assert not list(tmp_path.glob("*.snap"))  # nothing half-written is left


def _newest_snapshot(data: Path) -> Path:
    return sorted((data / "snapshots").glob("*.snap"))[-1]


def _state_type(version: int) -> tuple[type, Any, Any]:
    """(state, record, kind) of a small state as two builds define it: the second build
    added, dropped and moved fields."""
    kind = StrEnum("Kind", [("A", "a"), ("B", "b")])
    if version == 1:
        rec_fields: list[Any] = [("name", str), ("kind", kind), ("old", int), ("n", int)]
        book_fields: list[Any] = [("recs", dict[str, Any]), ("gone", int, field(default=0))]
    else:
        rec_fields = [("n", int), ("name", str), ("kind", kind), ("note", str, field(default=""))]
        book_fields = [("recs", dict[str, Any]), ("added", int, field(default=7))]
    rec = make_dataclass("Rec", rec_fields, frozen=True, slots=True)
    book_fields[0] = ("recs", dict[str, rec], field(default_factory=dict))
    book = make_dataclass("Book", book_fields)
    return make_dataclass("State", [("book", book, field(default_factory=book))]), rec, kind


def test_a_snapshot_of_another_layout_is_read_field_by_field_by_name(tmp_path: Path) -> None:
    (old_type, rec, kind), (new_type, _, _) = _state_type(1), _state_type(2)
    old_state = old_type()
    old_state.book.recs = {f"r{i}": rec(f"名{i}", kind("b"), 99, i) for i in range(5)}
    old_state.book.gone = 3
    written = Snapshots(tmp_path, STORE_ID, old_type).write(4, "2026-11-23T02:00:00+00:00",
                                                             old_state)
    seq, state = Snapshots(tmp_path, STORE_ID, new_type).read(written)
    assert seq == 4
    recs = state.book.recs
    assert [(r.n, r.name, r.kind.value, r.note) for r in recs.values()] == [
        (i, f"名{i}", "b", "") for i in range(5)]
    assert state.book.added == 7  # a field this build added takes its default
    assert not hasattr(state.book, "gone")


def test_a_snapshot_whose_fields_cannot_be_matched_is_passed_over_for_a_journal_replay(
    tmp_path: Path,
) -> None:
    with busy_store(tmp_path) as (store, _):
        before = state_json(store.state)
    path = _newest_snapshot(tmp_path)
    header = _header(path)
    header["layout"] = "0123456789abcdef"  # another build's classes ...
    del header["fields"]  # ... and no names to match them by
    _spliced(path, _ranges(path), header)
    with pytest.raises(ValueError, match="without its field names"):
        _snapshots(tmp_path / "snapshots").read(path)
    again = open_store(tmp_path)
    assert again.snapshot_seq == 0  # nothing loaded: every record replayed
    assert state_json(again.state) == before
    again.close()


def test_a_field_added_without_a_default_makes_an_older_snapshot_unreadable(
    tmp_path: Path,
) -> None:
    old_type, rec, kind = _state_type(1)
    old_state = old_type()
    old_state.book.recs = {"r": rec("a", kind("a"), 1, 2)}
    written = Snapshots(tmp_path, STORE_ID, old_type).write(1, "2026-11-23T02:00:00+00:00",
                                                             old_state)
    # The next build's record has a field "since", and no default for it.
    since = make_dataclass("Rec", [("name", str), ("kind", kind), ("old", int), ("n", int),
                                   ("since", int)], frozen=True, slots=True)
    book = make_dataclass("Book", [("recs", dict[str, since], field(default_factory=dict)),
                                   ("gone", int, field(default=0))])
    new_type = make_dataclass("State", [("book", book, field(default_factory=book))])
    with pytest.raises(ValueError, match="Rec lacks the field 'since'"):
        Snapshots(tmp_path, STORE_ID, new_type).read(written)


def test_a_field_whose_type_changed_makes_an_older_snapshot_unreadable(tmp_path: Path) -> None:
    old_type, rec, kind = _state_type(1)
    old_state = old_type()
    old_state.book.recs = {"r": rec("a", kind("a"), 1, 2)}
    written = Snapshots(tmp_path, STORE_ID, old_type).write(1, "2026-11-23T02:00:00+00:00",
                                                             old_state)
    texts = make_dataclass("Rec", [("name", str), ("kind", kind), ("old", int), ("n", str)],
                           frozen=True, slots=True)  # n is text now
    book = make_dataclass("Book", [("recs", dict[str, texts], field(default_factory=dict)),
                                   ("gone", int, field(default=0))])
    new_type = make_dataclass("State", [("book", book, field(default_factory=book))])
    with pytest.raises(ValueError, match=r"Rec.n was written as <class 'int'>"):
        Snapshots(tmp_path, STORE_ID, new_type).read(written)


def test_a_format_1_snapshot_is_still_read(tmp_path: Path) -> None:
    with busy_store(tmp_path) as (store, _):
        before = state_json(store.state)
        seq = store.last_seq
    path = _newest_snapshot(tmp_path)
    assert int(path.stem) == seq
    old = {"format": 1, "state_version": STATE_VERSION, "store": STORE_ID, "seq": seq,
           "at": "2026-11-23T02:00:00+00:00", "state": before}
    path.write_bytes(gzip.compress(json.dumps(old, ensure_ascii=False).encode()))
    again = open_store(tmp_path)
    assert again.snapshot_seq == seq  # loaded, not replayed
    assert state_json(again.state) == before
    again.close()


FIXTURES = Path(__file__).parent / "fixtures"


def _demo_day_state() -> object:
    """The demo day's state as the fixtures' build encoded it, in this build's layout: read
    through the journal's codec, which gives a field added since its default."""
    written = json.loads((FIXTURES / "demo-day-state.json").read_text(encoding="utf-8"))
    return state_json(decode(written, SalonState))


def test_a_format_2_snapshot_is_still_read(tmp_path: Path) -> None:
    # The demo day's state, snapshotted by the build before format 3 (JSON lines), and
    # that state's journal-codec JSON, written by the same build.
    path = tmp_path / f"{7:020d}.snap"
    path.write_bytes((FIXTURES / "format2.snap").read_bytes())
    assert _header(path)["format"] == 2
    seq, read = _snapshots(tmp_path).read(path)
    assert seq == 7
    expected = _demo_day_state()
    assert state_json(read) == expected
    # Written again, it is format 4, and reads back as the same state.
    again = _round_trip(read, tmp_path / "again")
    assert _header(_snapshots(tmp_path / "again").paths()[0])["format"] == 4
    assert state_json(again) == expected


def test_a_format_3_snapshot_with_parts_of_its_own_reads_as_the_state_it_was_written_from(
    tmp_path: Path,
) -> None:
    # The same demo day, snapshotted by the build before format 4 in parts of 3 entries:
    # each part a dict or list of its own, merged into the field after reading.
    path = tmp_path / f"{7:020d}.snap"
    path.write_bytes((FIXTURES / "format3.snap").read_bytes())
    assert _header(path)["format"] == 3
    for name, kind in (("staff", dict), ("audit_log", list)):
        parts = [value for value, *_ in _pieces(path) if isinstance(value, tuple)
                 and value[0] == name and isinstance(value[1], kind)]
        assert len(parts) > 1 and len({id(part) for _, part in parts}) == len(parts)
    seq, read = _snapshots(tmp_path).read(path)
    assert seq == 7
    expected = _demo_day_state()
    assert state_json(read) == expected


def test_a_copy_does_not_see_what_is_committed_after_it(tmp_path: Path) -> None:
    with busy_store(tmp_path, members=6, sales=15) as (store, work):
        taken = copy_of(store.state, SalonState)
        as_taken = state_json(taken)
        assert as_taken == state_json(store.state)
        work.sales(15)
        work.register(2)
        # The books' indexes are left shared (a snapshot holds none): rebuilt from what the
        # copy holds, they are what they were.
        taken.reindex()
        assert state_json(taken) == as_taken
        assert state_json(store.state) != as_taken
        # Frozen records are shared, containers are not.
        some_member = next(iter(taken.members.members))
        assert taken.members.members[some_member] is store.state.members.members[some_member]
        assert taken.points._lots is not store.state.points._lots
        assert taken.tickets.archive is store.state.tickets.archive


def test_a_snapshot_written_while_the_store_sells_holds_its_own_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    started = threading.Event()
    write = Snapshots.write

    def slow_write(self: Snapshots, seq: int, at: str, state: SalonState) -> Path:
        started.set()
        assert release.wait(10)
        return write(self, seq, at, state)

    monkeypatch.setattr(Snapshots, "write", slow_write)
    options = StoreOptions(snapshot_every_records=40)
    with busy_store(tmp_path, members=8, sales=10, options=options) as (store, work):
        while not started.is_set():
            work.sales(1)
        work.sales(20)  # sold while the snapshot thread waits to encode its copy
        release.set()
        store.flush()
        assert store.snapshot_seq < store.last_seq
        report = verify(store)
        assert report.ok, report.differences
        assert f"{store.snapshot_seq:020d}.snap" in report.snapshots_checked


def _layout_of(kinds: tuple[str, ...], note: bool = False, count: type = int) -> str:
    """The layout of a small book, built afresh: same class names, the given differences."""
    kind = StrEnum("Kind", [(k.upper(), k) for k in kinds])
    fields: list[Any] = [("name", str), ("kind", kind), ("count", count)]
    if note:
        fields.append(("note", str, field(default="")))
    rec = make_dataclass("Rec", fields, frozen=True, slots=True)
    book = make_dataclass("Book", [("recs", dict[str, rec], field(default_factory=dict))])
    return layout(book)


def test_the_layout_changes_with_any_field_type_or_enum_value() -> None:
    base = _layout_of(("a",))
    assert _layout_of(("a",)) == base
    assert _layout_of(("a",), note=True) != base
    assert _layout_of(("a", "b")) != base
    assert _layout_of(("a",), count=str) != base


def test_equal_text_written_as_separate_objects_reads_back_as_one(tmp_path: Path) -> None:
    # As in a live store: every command and replayed event brings its own copy of an id.
    with busy_store(tmp_path / "store", members=5, sales=20) as (store, _):
        separate = decode(json.loads(json.dumps(encode(store.state, SalonState))), SalonState)
    separate.reindex()
    lots = list(separate.accounts.lots.items())
    assert any(key is not lot.lot_id for key, lot in lots)  # copies, before writing
    read = _round_trip(separate, tmp_path / "snaps")
    assert all(key is lot.lot_id for key, lot in read.accounts.lots.items())
    by_member: dict[str, set[int]] = {}
    for lot in read.accounts.lots.values():
        by_member.setdefault(lot.member_id, set()).add(id(lot.member_id))
    assert all(len(ids) == 1 for ids in by_member.values())  # one string per member
    assert any(len(lots_of) > 1 for lots_of in read.accounts.member_lots.values())


def test_a_header_whose_field_names_are_not_lists_of_text_is_refused(tmp_path: Path) -> None:
    with busy_store(tmp_path / "store", members=3, sales=3) as (store, _):
        snaps = _snapshots(tmp_path / "snaps")
        path = snaps.write(1, "2026-11-23T02:00:00+00:00", store.state)
    header = _header(path)
    header["layout"] = "0123456789abcdef"
    header["fields"]["salon.member_book.Member"] = "member_idname"  # text, not a list
    _spliced(path, _ranges(path), header)
    with pytest.raises(ValueError, match="not lists of text"):
        snaps.read(path)
