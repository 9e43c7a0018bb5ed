"""The nightly rotation of backups (7 daily, 4 weekly) and the archive names it reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from edge_store.archive import archive_name, parse_archive_name
from edge_store.rotation import rotate, to_keep
from tests.store_support import STORE_ID


def test_archive_names_read_back_and_other_names_are_not_ours() -> None:
    name = archive_name("store-a-1", datetime(2026, 1, 2, 11, 4, 5, tzinfo=UTC), 42)
    assert name == "store-a-1-20260102T110405Z-seq42.tar.gz"
    parsed = parse_archive_name(name)
    assert parsed is not None and (parsed.store_id, parsed.last_seq) == ("store-a-1", 42)
    for other in ["notes.txt", "x-20260102T110405Z-seq42.tar.gz.tmp", "x-2026-seq1.tar.gz",
                  ".x-backup.abc.tmp", "x-20261399T990000Z-seq1.tar.gz"]:
        assert parse_archive_name(other) is None


CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 25, 20, 0, tzinfo=CST)  # a Wednesday evening in Shanghai


def _nightly(days: int, hour: int = 3) -> list[str]:
    return [f"{(NOW - timedelta(days=d)):%m-%d} {hour:02d}:00" for d in range(days)]


ROTATION_CASES = {
    "60 nights keep the last 7 days and the Sundays of 2 weeks before": (
        _nightly(60),
        {"11-19 03:00", "11-20 03:00", "11-21 03:00", "11-22 03:00", "11-23 03:00",
         "11-24 03:00", "11-25 03:00", "11-15 03:00", "11-08 03:00"},
    ),
    "two in a day keep the later": (["11-25 03:00", "11-25 15:00"], {"11-25 15:00"}),
    "the newest stays however old": (["08-01 03:00", "07-31 03:00"], {"08-01 03:00"}),
    "one dated after now (clock set back) stays": (
        ["11-26 03:00", "11-25 03:00", "11-01 03:00"], {"11-26 03:00", "11-25 03:00"}),
    "days are the salon's, not UTC's": (
        ["11-25 12:00", "11-25 01:00", "11-24 23:00"], {"11-25 12:00", "11-24 23:00"}),
}


def _named(when: str, store: str = STORE_ID) -> tuple[str, object]:
    created = datetime.strptime(f"2026-{when}", "%Y-%m-%d %H:%M").replace(tzinfo=CST)
    name = archive_name(store, created, 7)
    return name, parse_archive_name(name)


@pytest.mark.parametrize("case", ROTATION_CASES)
def test_rotation_keeps_the_newest_of_each_recent_day_and_week(case: str) -> None:
    archives, expected = ROTATION_CASES[case]
    named = {when: _named(when) for when in archives}
    kept = to_keep(named.values(), NOW)  # type: ignore[arg-type]
    assert {when for when, (name, _) in named.items() if name in kept} == expected


def test_rotation_counts_each_store_on_its_own() -> None:
    old_a, old_b = _named("06-01 03:00", "store-a"), _named("06-02 03:00", "store-b")
    assert to_keep([old_a, old_b], NOW) == {old_a[0], old_b[0]}  # type: ignore[list-item]


def test_rotate_removes_only_our_archives_the_policy_lets_go(tmp_path: Path) -> None:
    for when in _nightly(30):
        (tmp_path / _named(when)[0]).write_bytes(b"x")
    strangers = ["notes.txt", ".store-backup.123.tmp", "other.tar.gz"]
    for name in strangers:
        (tmp_path / name).write_bytes(b"keep me")
    removed = rotate(tmp_path, NOW)
    assert len(removed) == 30 - 9
    assert all(not p.exists() for p in removed)
    assert len(list(tmp_path.iterdir())) == 9 + len(strangers)
