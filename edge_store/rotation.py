"""Which nightly backups to keep: the newest of each of the last 7 days and of the last 4 weeks.

``to_keep`` is the pure policy (names and times in, names to keep out), so it is tested
with tables and no files; ``rotate`` applies it to a directory. Each store's archives
are rotated on their own, the newest archive of a store is never removed, archives
dated after ``now`` (a clock set back) are kept, and any file that is not one of our
archive names is left alone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path

from edge_store.archive import ArchiveName, parse_archive_name
from edge_store.files import fsync_dir

__all__ = ["rotate", "to_keep"]

log = logging.getLogger(__name__)


def to_keep(
    archives: Iterable[tuple[str, ArchiveName]], now: datetime, keep_daily: int = 7,
    keep_weekly: int = 4,
) -> set[str]:
    """The names to keep of ``(name, parsed name)`` pairs; days and weeks in ``now``'s zone.

    A day counts when it is today or one of the ``keep_daily - 1`` days before it; a
    week when it is this ISO week or one of the ``keep_weekly - 1`` weeks before it.
    """
    today = now.date()
    monday = today - timedelta(days=today.weekday())
    by_store: dict[str, list[tuple[datetime, str]]] = {}
    for name, parsed in archives:
        by_store.setdefault(parsed.store_id, []).append((parsed.created, name))
    kept: set[str] = set()
    for entries in by_store.values():
        entries.sort(reverse=True)  # newest first, so the first seen of a day is its newest
        kept.add(entries[0][1])
        days: set[date] = set()
        weeks: set[date] = set()
        for created, name in entries:
            if created > now:
                kept.add(name)
                continue
            day = created.astimezone(now.tzinfo).date()
            week = day - timedelta(days=day.weekday())
            if (today - day).days < keep_daily and day not in days:
                days.add(day)
                kept.add(name)
            if (monday - week).days // 7 < keep_weekly and week not in weeks:
                weeks.add(week)
                kept.add(name)
    return kept


def rotate(
    backup_dir: Path, now: datetime, keep_daily: int = 7, keep_weekly: int = 4
) -> list[Path]:
    """Remove the archives in ``backup_dir`` the policy does not keep; the paths removed."""
    ours = []
    for path in Path(backup_dir).iterdir():
        parsed = parse_archive_name(path.name)
        if parsed is not None and path.is_file():
            ours.append((path.name, parsed))
    kept = to_keep(ours, now, keep_daily, keep_weekly)
    removed = [Path(backup_dir) / name for name, _ in sorted(ours) if name not in kept]
    for path in removed:
        path.unlink()
    if removed:
        fsync_dir(Path(backup_dir))
        log.info("backup rotation: removed %d old archives", len(removed))
    return removed
