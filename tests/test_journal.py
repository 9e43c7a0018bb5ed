"""The journal: durable appends, gap-free sequences, torn tails quarantined, corruption refused."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import edge_store.journal as journal_module
from edge_store.errors import StoreError, StoreErrorCode
from edge_store.journal import JOURNAL_FORMAT, Journal, valid_prefix
from edge_store.records import encode_record, event_text
from tests.store_support import scans_spied

AT = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def _append(journal: Journal, n: int) -> list[bytes]:
    records = []
    for _ in range(n):
        seq = journal.last_seq + 1
        record = encode_record(
            seq, "s1", AT, [event_text({"type": "Noted", "n": seq, "text": "洗剪吹" * seq})])
        journal.append(record)
        records.append(record)
    return records


def _journal(path: Path, **kw: int) -> Journal:
    journal = Journal(path / "journal", **kw)
    journal.open()
    return journal


def _segment(path: Path) -> Path:
    (only,) = sorted((path / "journal").iterdir())
    return only


def test_appended_records_read_back_in_order_after_reopen(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    _append(journal, 5)
    journal.close()
    again = _journal(tmp_path)
    assert again.last_seq == 5
    assert [r.seq for r in again.read_after(2)] == [3, 4, 5]
    assert [r.decoded()["events"][0]["n"] for r in again.read_after(0, limit=2)] == [1, 2]


def test_records_roll_into_new_segments_without_gaps(tmp_path: Path) -> None:
    journal = _journal(tmp_path, segment_bytes=600)
    _append(journal, 12)
    spans = journal.segment_spans()
    assert len(spans) > 2
    assert [first for _, first, _, _ in spans] == [1] + [last + 1 for _, _, last, _ in spans[:-1]]
    journal.close()
    again = _journal(tmp_path, segment_bytes=600)
    assert [r.seq for r in again.read_after(0)] == list(range(1, 13))


def test_remove_through_keeps_the_active_segment_and_later_records(tmp_path: Path) -> None:
    journal = _journal(tmp_path, segment_bytes=600)
    _append(journal, 12)
    removed = journal.remove_through(7)
    assert removed and all(not p.exists() for p in removed)
    assert journal.first_seq <= 8
    assert [r.seq for r in journal.read_after(7)] == [8, 9, 10, 11, 12]
    journal.remove_through(10_000)
    assert len(journal.segment_spans()) == 1


def test_a_torn_last_record_is_cut_at_every_byte_offset(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    records = _append(journal, 3)
    journal.close()
    segment = _segment(tmp_path)
    whole = segment.read_bytes()
    good_end = len(whole) - len(records[-1])
    for cut in range(good_end + 1, len(whole)):
        segment.write_bytes(whole[:cut])
        again = _journal(tmp_path)
        assert again.last_seq == 2, cut
        after = segment.read_bytes()
        assert after[:good_end] == whole[:good_end]
        if whole[cut - 1]:  # cut back to the good records
            assert len(after) == good_end, cut
        else:  # the torn bytes end in zeros: zeroed where they lie, unused space now
            assert after[good_end:] == bytes(cut - good_end), cut
        again.close()
    quarantined = sorted((tmp_path / "quarantine").iterdir())
    assert len(quarantined) == len(whole) - good_end - 1
    assert all(whole[good_end:].startswith(q.read_bytes()) for q in quarantined)


def test_a_flipped_byte_in_the_last_record_is_quarantined(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    records = _append(journal, 3)
    journal.close()
    segment = _segment(tmp_path)
    whole = segment.read_bytes()
    start = len(whole) - len(records[-1])
    for offset in range(start, len(whole), 7):
        damaged = bytearray(whole)
        damaged[offset] ^= 0x40
        segment.write_bytes(bytes(damaged))
        again = _journal(tmp_path)
        assert again.last_seq == 2, offset
        assert again.read_after(1).__next__().seq == 2
        again.close()


def test_appending_after_a_cut_tail_continues_the_sequence(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    _append(journal, 3)
    journal.close()
    segment = _segment(tmp_path)
    segment.write_bytes(segment.read_bytes()[:-5])
    again = _journal(tmp_path)
    _append(again, 2)
    assert [r.seq for r in again.read_after(0)] == [1, 2, 3, 4]


def test_damage_before_a_good_record_is_refused_not_dropped(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    records = _append(journal, 3)
    journal.close()
    segment = _segment(tmp_path)
    damaged = bytearray(segment.read_bytes())
    middle = len(damaged) - len(records[-1]) - len(records[-2]) // 2
    damaged[middle] ^= 0x01
    segment.write_bytes(bytes(damaged))
    with pytest.raises(StoreError) as err:
        _journal(tmp_path)
    assert err.value.code is StoreErrorCode.JOURNAL_CORRUPT
    assert segment.read_bytes() == bytes(damaged), "a refused open must not change the file"


def _segment_of_format(path: Path, records: int, fmt: int) -> tuple[Path, bytes]:
    """A closed journal of one segment holding ``records``, its header saying format
    ``fmt``: the segment and its bytes."""
    journal = _journal(path)
    _append(journal, records)
    journal.close()
    segment = _segment(path)
    data = bytearray(segment.read_bytes())
    data[8:10] = fmt.to_bytes(2, "big")
    segment.write_bytes(bytes(data))
    return segment, bytes(data)


def test_a_segment_written_by_a_newer_version_is_refused(tmp_path: Path) -> None:
    _segment_of_format(tmp_path, 1, 99)
    with pytest.raises(StoreError) as err:
        _journal(tmp_path)
    assert err.value.code is StoreErrorCode.FORMAT_NEWER


def test_a_half_created_segment_is_dropped(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    _append(journal, 2)
    journal.close()
    (tmp_path / "journal" / f"{3:020d}.seg").write_bytes(b"SALON")
    again = _journal(tmp_path)
    assert again.last_seq == 2
    _append(again, 1)
    assert [r.seq for r in again.read_after(0)] == [1, 2, 3]


def _three_segments(path: Path) -> list[Path]:
    journal = _journal(path, segment_bytes=600)
    _append(journal, 9)
    journal.close()
    segments = sorted((path / "journal").iterdir())
    assert len(segments) >= 3
    return segments


def test_an_open_reads_only_the_last_segment_and_the_others_headers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    segments = _three_segments(tmp_path)
    scanned = scans_spied(monkeypatch)
    again = _journal(tmp_path, segment_bytes=600)
    assert scanned == [segments[-1].name]
    assert again.last_seq == 9 and again.first_seq == 1
    spans = again.segment_spans()
    assert [first for _, first, _, _ in spans] == [1] + [last + 1 for _, _, last, _ in spans[:-1]]
    assert [size for *_, size in spans] == [p.stat().st_size for p in segments]
    assert [r.seq for r in again.read_after(0)] == list(range(1, 10))  # read: scanned now
    assert scanned == [segments[-1].name] + [p.name for p in segments[:-1]]
    _append(again, 1)
    assert again.last_seq == 10


def test_damage_in_a_closed_segment_is_found_when_it_is_read(tmp_path: Path) -> None:
    segments = _three_segments(tmp_path)
    damaged = bytearray(segments[0].read_bytes())
    damaged[40] ^= 0x01  # inside its first record
    segments[0].write_bytes(bytes(damaged))
    again = _journal(tmp_path, segment_bytes=600)  # the till opens: new sales are safe
    assert again.last_seq == 9
    _append(again, 1)
    later = again.segment_spans()[1][1]
    assert [r.seq for r in again.read_after(later - 1)][-1] == 10  # the rest reads
    with pytest.raises(StoreError) as err:
        list(again.read_after(0))
    assert err.value.code is StoreErrorCode.JOURNAL_CORRUPT
    assert segments[0].read_bytes() == bytes(damaged), "found damage must not change the file"


def test_a_closed_segment_short_of_a_record_is_a_gap_when_it_is_read(tmp_path: Path) -> None:
    segments = _three_segments(tmp_path)
    journal = _journal(tmp_path, segment_bytes=600)
    _, first, last, _ = journal.segment_spans()[0]
    assert last > first  # two records at least: one can go
    offsets = journal._scanned(journal._segments[0]).offsets
    journal.close()
    segments[0].write_bytes(segments[0].read_bytes()[: offsets[-1]])
    again = _journal(tmp_path, segment_bytes=600)
    with pytest.raises(StoreError) as err:
        list(again.read_after(0))
    assert err.value.code is StoreErrorCode.JOURNAL_GAP


def test_a_closed_segment_with_a_damaged_header_is_refused_at_the_open(tmp_path: Path) -> None:
    segments = _three_segments(tmp_path)
    segments[1].write_bytes(b"XXXX" + segments[1].read_bytes()[4:])
    with pytest.raises(StoreError) as err:
        _journal(tmp_path, segment_bytes=600)
    assert err.value.code is StoreErrorCode.JOURNAL_CORRUPT


class _FailingOps:
    """Fails the n-th write or fsync with an OS error, as a full or dying disk does."""

    def __init__(self, errno_: int, fail_write: bool = True) -> None:
        self.errno = errno_
        self.fail_write = fail_write
        self.armed = False

    def write(self, fd: int, data: bytes) -> int:
        if self.armed and self.fail_write:
            half = os.write(fd, data[: len(data) // 2])  # a partial write, then the disk is full
            assert half
            raise OSError(self.errno, os.strerror(self.errno))
        return os.write(fd, data)

    def fsync(self, fd: int) -> None:
        if self.armed and not self.fail_write:
            raise OSError(self.errno, os.strerror(self.errno))
        os.fdatasync(fd)


@pytest.mark.parametrize("fail_write", [True, False], ids=["write", "fsync"])
def test_a_failed_append_leaves_nothing_and_the_next_one_succeeds(
    tmp_path: Path, fail_write: bool
) -> None:
    import errno

    ops = _FailingOps(errno.ENOSPC, fail_write)
    journal = Journal(tmp_path / "journal", ops=ops)
    journal.open()
    _append(journal, 2)
    size = _segment(tmp_path).stat().st_size
    ops.armed = True
    with pytest.raises(StoreError) as err:
        _append(journal, 1)
    assert err.value.code is StoreErrorCode.NOT_DURABLE
    assert err.value.params["reason"] == "ENOSPC"
    assert _segment(tmp_path).stat().st_size == size
    assert journal.last_seq == 2
    ops.armed = False
    _append(journal, 1)
    journal.close()
    assert [r.seq for r in _journal(tmp_path).read_after(0)] == [1, 2, 3]


class _Recorded:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def write(self, fd: int, data: bytes) -> int:
        self.calls.append("write")
        return os.write(fd, data)

    def fsync(self, fd: int) -> None:
        self.calls.append("fsync")
        os.fdatasync(fd)


def test_the_write_back_starts_before_on_written_and_the_fsync_comes_last(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ops = _Recorded()
    journal = Journal(tmp_path / "journal", ops=ops)
    journal.open()
    ops.calls.clear()
    advised: list[tuple[int, int, int]] = []
    real = os.posix_fadvise

    def advise(fd: int, offset: int, length: int, advice: int) -> None:
        ops.calls.append("write-back")
        advised.append((offset, length, advice))
        real(fd, offset, length, advice)

    monkeypatch.setattr(os, "posix_fadvise", advise)
    record = encode_record(1, "s1", AT, [event_text({"type": "Noted"})])
    start = _segment(tmp_path).stat().st_size
    journal.append(record, on_written=lambda: ops.calls.append("on_written"))
    assert ops.calls == ["write", "write-back", "on_written", "fsync"]
    assert advised == [(start, len(record), os.POSIX_FADV_DONTNEED)]  # the record's range
    journal.close()


def test_a_refused_write_back_hint_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(fd: int, offset: int, length: int, advice: int) -> None:
        raise OSError(22, "Invalid argument")  # a file system without it

    monkeypatch.setattr(os, "posix_fadvise", refuse)
    journal = _journal(tmp_path)
    _append(journal, 3)
    journal.close()
    assert [r.seq for r in _journal(tmp_path).read_after(0)] == [1, 2, 3]


def test_a_failing_on_written_cuts_the_record_back_off(tmp_path: Path) -> None:
    journal = _journal(tmp_path)
    _append(journal, 2)
    size = _segment(tmp_path).stat().st_size

    def fails() -> None:
        raise RuntimeError("can't start new thread")

    with pytest.raises(RuntimeError):
        journal.append(encode_record(3, "s1", AT, [event_text({"type": "Noted"})]),
                       on_written=fails)
    assert _segment(tmp_path).stat().st_size == size and journal.last_seq == 2
    _append(journal, 1)  # lands where the failed one was: the segment stays readable
    journal.close()
    assert [r.seq for r in _journal(tmp_path).read_after(0)] == [1, 2, 3]


def test_a_record_is_the_json_object_of_its_header_and_events_put_together() -> None:
    events = [{"type": "Noted", "text": "洗剪吹 \"快\"\n", "n": 1}, {"type": "Other", "x": []}]
    record = encode_record(9, "store-1", AT, [event_text(e) for e in events])
    payload = record[20:]
    expected = {"v": 1, "seq": 9, "store": "store-1", "at": AT.isoformat(), "events": events}
    assert json.loads(payload) == expected
    assert payload == json.dumps(expected, ensure_ascii=False, separators=(",", ":")).encode()


@given(seq=st.integers(1, 2**63 - 1), store_id=st.text(),
       at=st.datetimes(timezones=st.just(UTC)), events=st.lists(st.text(max_size=3)))
def test_a_record_payload_is_the_json_of_its_fields(
    seq: int, store_id: str, at: datetime, events: list[str]
) -> None:
    texts = [event_text({"type": "Noted", "text": e}) for e in events]
    payload = encode_record(seq, store_id, at, texts)[20:]  # after magic, seq, length, CRC
    head = {"v": JOURNAL_FORMAT, "seq": seq, "store": store_id, "at": at.isoformat()}
    whole = json.dumps({**head, "events": [json.loads(t) for t in texts]},
                       ensure_ascii=False, separators=(",", ":"))
    assert payload == whole.encode()


# ------------------------------------------------------------ segments made of a spare


def _prepared(path: Path, segment_bytes: int = 4096) -> Journal:
    """A journal whose current segment began as a prepared spare (zeros after its records)."""
    journal = _journal(path, segment_bytes=segment_bytes)
    assert not journal.prepare_spare(), "not for a segment less than a quarter full"
    assert not (path / "journal" / "next.spare").exists()
    while journal.segment_spans()[-1][3] < segment_bytes // 4:
        _append(journal, 1)
    assert journal.prepare_spare()
    assert journal.prepare_spare(), "one is ready"
    while len(journal.segment_spans()) == 1:
        _append(journal, 1)
    return journal


def test_a_new_segment_is_the_spare_and_appends_overwrite_its_zeros(tmp_path: Path) -> None:
    journal = _prepared(tmp_path)
    spare = tmp_path / "journal" / "next.spare"
    assert not spare.exists(), "the roll used the spare"
    closed, current = journal.segment_spans()
    assert closed[0].stat().st_size == closed[3], "a closed segment is cut to its records"
    assert current[0].stat().st_size == 4096
    before = current[0].stat().st_size
    _append(journal, 3)
    assert current[0].stat().st_size == before, "an append into the spare changes no size"
    data = current[0].read_bytes()
    end = journal.segment_spans()[-1][3]
    assert data[end:] == bytes(len(data) - end)
    journal.close()
    again = _journal(tmp_path, segment_bytes=4096)
    assert again.last_seq == journal.last_seq
    assert not (tmp_path / "quarantine").exists(), "unused space is not a torn tail"
    assert [r.seq for r in again.read_after(0)] == list(range(1, again.last_seq + 1))
    _append(again, 1)
    assert [r.seq for r in again.read_after(0)][-1] == journal.last_seq + 1


def test_an_old_growing_segment_of_format_1_is_still_read_and_appended(tmp_path: Path) -> None:
    segment, data = _segment_of_format(tmp_path, 2, 1)
    again = _journal(tmp_path)
    (record,) = _append(again, 1)
    assert [r.seq for r in again.read_after(0)] == [1, 2, 3]
    assert segment.read_bytes() == data + record  # grew by appending


def _spare_segment_closed(path: Path) -> tuple[Journal, Path, bytes, int, int]:
    """A closed journal whose last segment is a spare's: the journal, that segment, its
    bytes, and where its last record starts and ends."""
    journal = _prepared(path)
    records = _append(journal, 2)
    journal.close()
    segment, *_, end = journal.segment_spans()[-1]
    return journal, segment, segment.read_bytes(), end - len(records[-1]), end


def test_a_torn_record_in_unused_space_is_quarantined_and_zeroed_at_every_offset(
    tmp_path: Path,
) -> None:
    journal, path, whole, start, end = _spare_segment_closed(tmp_path)
    for cut in range(start, end):
        # The power went mid-append: the record's first ``cut - start`` bytes reached the
        # disk, the rest of its space still holds zeros.
        path.write_bytes(whole[:cut] + bytes(len(whole) - cut))
        again = _journal(tmp_path, segment_bytes=4096)
        assert again.last_seq == journal.last_seq - 1, cut
        data = path.read_bytes()
        assert len(data) == len(whole), "the spare's space is kept, not cut off"
        assert data[:start] == whole[:start] and data[start:] == bytes(len(whole) - start)
        _append(again, 1)  # and the next sale is written where the torn one was
        assert [r.seq for r in again.read_after(0)][-1] == journal.last_seq
        again.close()
    quarantined = sorted((tmp_path / "quarantine").iterdir())
    assert len(quarantined) == end - start - 1  # the cut at ``start`` left nothing to keep
    assert all(whole[start:end].startswith(q.read_bytes()) for q in quarantined)


def test_a_torn_record_whose_first_bytes_did_not_reach_the_disk_is_quarantined(
    tmp_path: Path,
) -> None:
    journal, path, whole, start, end = _spare_segment_closed(tmp_path)
    torn = whole[:start] + bytes(16) + whole[start + 16 : end] + bytes(len(whole) - end)
    path.write_bytes(torn)
    again = _journal(tmp_path, segment_bytes=4096)
    assert again.last_seq == journal.last_seq - 1
    assert path.read_bytes()[start:] == bytes(len(whole) - start)
    (kept,) = (tmp_path / "quarantine").iterdir()
    assert kept.read_bytes() == torn[start:end]


def test_a_spare_that_cannot_be_written_leaves_none_and_the_segment_grows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    import errno

    import edge_store.journal as journal_module

    def full(path: Path, data: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    journal = _journal(tmp_path, segment_bytes=4096)
    while journal.segment_spans()[-1][3] < 1024:
        _append(journal, 1)
    monkeypatch.setattr(journal_module, "atomic_write", full)
    assert not journal.prepare_spare()
    assert "ENOSPC" in caplog.text
    assert not (tmp_path / "journal" / "next.spare").exists()
    while len(journal.segment_spans()) == 1:
        _append(journal, 1)
    path, *_, size = journal.segment_spans()[-1]
    assert path.stat().st_size == size, "no spare: a segment that grows by appending"
    _append(journal, 1)
    assert path.stat().st_size > size
    journal.close()
    assert _journal(tmp_path, segment_bytes=4096).last_seq == journal.last_seq


# ------------------------------------------------------------ segments recycled by retention


def _recycled(path: Path) -> tuple[Journal, Path, bytes]:
    """A journal whose current segment is the oldest one, removed by retention and written
    over since: the journal, that segment, and its bytes as it was removed."""
    journal = _journal(path, segment_bytes=4096)
    while len(journal.segment_spans()) < 3:
        _append(journal, 1)
    oldest, _, last, size = journal.segment_spans()[0]
    assert size >= 2048
    old = oldest.read_bytes()
    assert journal.remove_through(last) == [oldest]
    spare = path / "journal" / "next.spare"
    assert spare.read_bytes() == old and not oldest.exists()
    assert journal.spares_recycled == 1
    assert journal.prepare_spare() and journal.spares_written == 0, "no zeros written"
    while spare.exists():
        _append(journal, 1)
    current = journal.segment_spans()[-1][0]
    assert current.stat().st_size == len(old)
    return journal, current, old


def test_a_removed_segment_is_the_next_spare_and_its_old_records_are_not_read_as_new(
    tmp_path: Path,
) -> None:
    journal, current, old = _recycled(tmp_path)
    _append(journal, 1)
    assert current.stat().st_size == len(old), "appends overwrite the old records"
    end = journal.segment_spans()[-1][3]
    data = current.read_bytes()
    assert data[end:] == old[end:], "what follows the last record is the old segment's"
    prefix = valid_prefix(data, current.name)
    assert prefix is not None and (prefix.last_seq, prefix.end) == (journal.last_seq, end)
    journal.close()
    again = _journal(tmp_path, segment_bytes=4096)
    assert again.last_seq == journal.last_seq
    assert not (tmp_path / "quarantine").exists(), "old records are not a torn tail"
    assert [r.seq for r in again.read_after(0)] == list(range(again.first_seq, again.last_seq + 1))
    _append(again, 2)
    again.close()
    assert _journal(tmp_path, segment_bytes=4096).last_seq == journal.last_seq + 2


def _recycled_closed(path: Path) -> tuple[Journal, Path, bytes, bytes, int, int]:
    """A closed journal whose last record went into a recycled segment: the journal, the
    segment, its bytes before and after that record was written, where the record starts
    and ends."""
    journal, current, _ = _recycled(path)
    _append(journal, 1)
    before = current.read_bytes()
    (record,) = _append(journal, 1)
    journal.close()
    end = journal.segment_spans()[-1][3]
    return journal, current, before, current.read_bytes(), end - len(record), end


def test_a_torn_record_over_old_records_is_quarantined_at_every_offset(tmp_path: Path) -> None:
    journal, path, before, whole, start, end = _recycled_closed(tmp_path)
    first_seq = journal.segment_spans()[-1][1]
    kept = 0
    for cut in range(start, end):
        # The power went mid-append: the record's first ``cut - start`` bytes reached the
        # disk, the old segment's bytes are still there after them.
        path.write_bytes(whole[:cut] + before[cut:])
        again = _journal(tmp_path, segment_bytes=4096)
        assert again.last_seq == journal.last_seq - 1, cut
        data = path.read_bytes()
        assert len(data) == len(whole) and data[:start] == whole[:start], cut
        if cut - start >= 12:  # its magic and sequence reached the disk: a torn record
            kept += 1
            old = journal_module._first_old_record(data, start, first_seq)
            assert old is not None and data[start:old] == bytes(old - start), cut
        else:  # not told from an old record's middle: written over by the next append
            assert data == whole[:cut] + before[cut:], cut
        _append(again, 1)
        assert [r.seq for r in again.read_after(0)][-1] == journal.last_seq
        again.close()
        assert _journal(tmp_path, segment_bytes=4096).last_seq == journal.last_seq, cut
        path.write_bytes(whole)
    quarantined = sorted((tmp_path / "quarantine").iterdir())
    assert len(quarantined) == kept == end - start - 12
    assert all(q.read_bytes().startswith(whole[start : start + 12]) for q in quarantined)


def test_damage_in_a_recycled_segment_before_a_good_record_is_refused(tmp_path: Path) -> None:
    journal, path, old = _recycled(tmp_path)
    *_, last = _append(journal, 6)
    journal.close()
    whole = path.read_bytes()
    _, first_seq, _, end = journal.segment_spans()[-1]
    start = end - len(last)  # of the last record; the one before it ends there
    assert start - 700 > 400, "inside the segment's records, after its first"
    reverted = whole[: start - 700] + old[start - 700 : start] + whole[start:]
    # What the card lost holds an old record whole: the scan stops there, and must look on.
    assert start - 700 < (journal_module._first_old_record(reverted, start - 700, first_seq)
                          or start) < start
    for damaged in (
        whole[: start - 40] + bytes([whole[start - 40] ^ 1]) + whole[start - 39 :],
        reverted,  # the end of the record before the last read back as the old segment's
    ):
        path.write_bytes(damaged)
        with pytest.raises(StoreError) as err:
            _journal(tmp_path, segment_bytes=4096)
        assert err.value.code is StoreErrorCode.JOURNAL_CORRUPT
        assert path.read_bytes() == damaged, "a refused open must not change the file"


def test_a_removed_segment_is_not_the_spare_when_there_is_one_or_one_is_being_made(
    tmp_path: Path,
) -> None:
    journal = _journal(tmp_path, segment_bytes=4096)
    while len(journal.segment_spans()) < 5:
        _append(journal, 1)
    spans = journal.segment_spans()
    spare = tmp_path / "journal" / "next.spare"
    with journal._preparing:  # the snapshot thread is writing zeros
        removed = journal.remove_through(spans[0][2])
    assert removed == [spans[0][0]] and not spare.exists() and not removed[0].exists()
    assert journal.remove_through(spans[1][2]) == [spans[1][0]] and spare.is_file()
    made = spare.stat().st_ino
    assert journal.remove_through(spans[2][2]) == [spans[2][0]]
    assert spare.stat().st_ino == made and not spans[2][0].exists(), "one spare is enough"
    assert journal.spares_recycled == 1


def test_a_crash_while_segments_are_removed_leaves_segments_that_follow_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    journal = _journal(tmp_path, segment_bytes=4096)
    while len(journal.segment_spans()) < 5:
        _append(journal, 1)
    spans = journal.segment_spans()

    def power_cut(src: object, dst: object) -> None:
        raise SystemExit("the power went")  # after the older ones went, before the newest

    monkeypatch.setattr(journal_module.os, "rename", power_cut)
    with pytest.raises(SystemExit):
        journal.remove_through(spans[2][2])
    monkeypatch.undo()
    journal.close()
    assert [p.exists() for p, *_ in spans] == [False, False, True, True, True]
    again = _journal(tmp_path, segment_bytes=4096)  # no gap: the newest removed one is first
    assert (again.first_seq, again.last_seq) == (spans[2][1], journal.last_seq)
    assert [r.seq for r in again.read_after(0)] == list(range(spans[2][1], journal.last_seq + 1))
    again.close()
