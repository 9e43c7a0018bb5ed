"""Snapshots (format 2): read back exactly, shared values, chunked lines, guarded layout.

Also the copy the store writes in the background (edge_store.capture): what is
committed after it was taken never reaches it.
"""

from __future__ import annotations

import gzip
import io
import json
import threading
from collections import defaultdict
from dataclasses import field, make_dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import make_salon
from test_checkout import member
from test_points_compaction import MOBILES, OPS, run

from edge_store import snapshots as snapshots_module
from edge_store.capture import copy_of
from edge_store.codec import encode
from edge_store.packed import layout
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


def _lines(path: Path) -> list[object]:
    return [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]


def _rewrite(path: Path, lines: list[object]) -> None:
    body = b"".join(json.dumps(line, ensure_ascii=False).encode() + b"\n" for line in lines)
    path.write_bytes(gzip.compress(body))


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


def test_equal_ids_and_times_are_one_object_after_reading(tmp_path: Path) -> None:
    with busy_store(tmp_path / "store", members=5, sales=20) as (store, _):
        read = _round_trip(store.state, tmp_path / "snaps")
    member_ids = {m: m for m in read.members.members}
    for m in read.points._lots:
        assert m is member_ids[m]  # one string for the member in every slice
    for m, lot_ids in read.accounts.member_lots.items():
        assert m is member_ids[m]
        for lot_id in lot_ids:
            assert read.accounts.lots[lot_id].member_id is member_ids[m]
    expiries = [lot.expires_at for lots in read.points._lots.values() for lot in lots.values()]
    assert len(expiries) > len({id(e) for e in expiries})  # a shared expiry time, not copies


def test_a_large_field_is_written_in_chunks_and_read_back_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshots_module, "CHUNK", 3)
    with busy_store(tmp_path / "store", members=10, sales=25) as (store, _):
        state = store.state
        snaps = _snapshots(tmp_path / "snaps")
        path = snaps.write(1, "2026-11-23T02:00:00+00:00", state)
    member_lines = [x for x in _lines(path) if isinstance(x, list) and x[:2] == [
        "members", "members"]]
    assert [len(x[2]) for x in member_lines] == [3, 3, 3, 1]
    _, read = snaps.read(path)
    assert list(read.members.members) == list(state.members.members)
    assert list(read.accounts.lots) == list(state.accounts.lots)  # oldest first, as spent
    assert read == state


def test_a_snapshot_cut_short_or_without_its_end_line_is_not_read(tmp_path: Path) -> None:
    with busy_store(tmp_path / "store", members=3, sales=4) as (store, _):
        snaps = _snapshots(tmp_path / "snaps")
        path = snaps.write(1, "2026-11-23T02:00:00+00:00", store.state)
    lines = _lines(path)
    _rewrite(path, lines[:-1])
    with pytest.raises(ValueError, match="no end line"):
        snaps.read(path)
    _rewrite(path, [*lines[:5], *lines[6:]])
    with pytest.raises(ValueError, match="ends after"):
        snaps.read(path)
    path.write_bytes(gzip.compress(b"".join(json.dumps(x).encode() + b"\n" for x in lines))[:-9])
    with pytest.raises(ValueError, match="unreadable"):
        snaps.read(path)


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
    lines = _lines(path)
    header = lines[0]
    assert isinstance(header, dict)
    header["layout"] = "0123456789abcdef"  # another build's classes ...
    del header["fields"]  # ... and no names to match them by
    _rewrite(path, lines)
    with pytest.raises(ValueError, match="without its field names"):
        _snapshots(tmp_path / "snapshots").read(path)
    again = open_store(tmp_path)
    assert again.snapshot_seq == 0  # nothing loaded: every record replayed
    assert state_json(again.state) == before
    again.close()


def test_a_field_added_without_a_default_makes_an_older_snapshot_unreadable(
    tmp_path: Path,
) -> None:
    with busy_store(tmp_path / "store", members=3, sales=3) as (store, _):
        snaps = _snapshots(tmp_path / "snaps")
        path = snaps.write(1, "2026-11-23T02:00:00+00:00", store.state)
    lines = _lines(path)
    header = lines[0]
    assert isinstance(header, dict)
    member_fields = header["fields"]["salon.member_book.Member"]
    member_fields.remove("name")  # as if Member.name were new in this build, and required
    header["layout"] = "0123456789abcdef"
    for line in lines[1:]:
        if isinstance(line, list) and line[:2] == ["members", "members"]:
            for packed in line[2].values():
                del packed[1]
    _rewrite(path, lines)
    with pytest.raises(ValueError, match="Member lacks the field 'name'"):
        snaps.read(path)


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


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=40)
    | st.dictionaries(st.text(max_size=4) | st.integers(-3, 3), inner, max_size=40)
    | st.tuples(inner, inner),
    max_leaves=200,
)


@given(_json_values)
@settings(max_examples=300, deadline=None)
def test_a_line_written_entry_by_entry_is_the_text_one_call_makes(value: object) -> None:
    assert snapshots_module._text(value) == json.dumps(
        value, ensure_ascii=False, separators=(",", ":"))


def test_a_big_line_is_encoded_in_calls_of_one_entry_or_a_few(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A field like commissions._by_staff: few keys, each a long list of records.
    value = {f"S{s:03d}": [[f"T{s}-{i}", s, i * 100, "2026-12-01"] for i in range(3000)]
             for s in range(6)}
    sizes: list[int] = []
    real = snapshots_module._plain

    def counted(v: object) -> str:
        text = real(v)
        sizes.append(len(text))
        return text

    monkeypatch.setattr(snapshots_module, "_plain", counted)
    text = snapshots_module._text(value)
    assert text == real(value)
    assert len(text) > 500_000 and max(sizes) < 100  # one record per call, not the line
