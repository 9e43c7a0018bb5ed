"""``salon-edge store info|verify|backup|restore``: look after one store's data directory.

Exit status: 0 done, 1 a check found a problem (``verify``), 2 a usage error or a
refusal (the store is locked, the archive damaged, the target not empty ...). Messages
are in the catalog (``cli.*`` texts, ``store.*`` errors), zh_CN by default.

The store modules are imported inside the handlers so ``salon-edge --help`` stays quick.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from edge_store.errors import StoreError
    from kiosk.i18n import Locale

__all__ = ["add_store_commands"]

OK, CHECK_FAILED, REFUSED = 0, 1, 2


def add_store_commands(commands: Any) -> None:
    """Add ``store`` and its actions to the ``salon-edge`` subcommands (an argparse action)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", required=True, type=Path,
                        help="the store's data directory (holds store.json and journal/)")
    common.add_argument("--lang", choices=("zh_CN", "en"), default="zh_CN",
                        help="language of the messages (default zh_CN)")
    store = commands.add_parser(
        "store", help="the store's data: info, verify, backup, restore",
        description="Look after the store's data directory. Exit status: 0 done, "
                    "1 a check found a problem, 2 usage error or refusal.")
    actions = store.add_subparsers(dest="store_action", metavar="ACTION", required=True)

    info = actions.add_parser("info", parents=[common],
                              help="what the store holds (safe while the kiosk runs)")
    info.set_defaults(handler=_guarded(_info))

    verify = actions.add_parser(
        "verify", parents=[common],
        help="replay the journal and compare it with the snapshots (stop the kiosk first)")
    verify.add_argument("--store-id", help="expected store id (default: the one in store.json)")
    verify.set_defaults(handler=_guarded(_verify))

    backup = actions.add_parser(
        "backup", parents=[common],
        help="write a checksummed archive of the store (safe while the kiosk runs)")
    backup.add_argument("dest", type=Path, metavar="DEST",
                        help="a directory (the archive is named for the store, time and record) "
                             "or an archive file name")
    backup.add_argument("--rotate", action="store_true",
                        help="then remove old archives in DEST: keep the newest of each of the "
                             "last --keep-daily days and --keep-weekly ISO weeks")
    backup.add_argument("--keep-daily", type=int, default=7, metavar="N")
    backup.add_argument("--keep-weekly", type=int, default=4, metavar="N")
    backup.set_defaults(handler=_guarded(_backup))

    restore = actions.add_parser(
        "restore", parents=[common],
        help="restore the data directory from an archive (stop the kiosk first)")
    restore.add_argument("archive", type=Path, metavar="ARCHIVE")
    restore.add_argument("--store-id", required=True,
                         help="the store this device is; another store's archive needs --force")
    restore.add_argument("--force", action="store_true",
                         help="restore over existing data (moved aside, never deleted) or "
                              "another store's archive")
    restore.set_defaults(handler=_guarded(_restore))


Handler = Callable[[argparse.Namespace], int]


def _guarded(handler: Handler) -> Handler:
    """Turn a refusal of the store into its message and exit status 2."""

    def run(args: argparse.Namespace) -> int:
        from edge_store.errors import StoreError

        try:
            return handler(args)
        except StoreError as err:
            _refused(err, args.lang)
            return REFUSED

    return run


def _refused(err: StoreError, lang: Locale) -> None:
    from edge_store.errors import StoreErrorCode
    from kiosk.i18n import render_error, text

    print(render_error(err, lang), file=sys.stderr)
    if err.code is StoreErrorCode.LOCKED:
        print(text("cli.stop_service_first", lang, pid=err.params.get("pid", "?")),
              file=sys.stderr)


def _say(args: argparse.Namespace, msgid: str, **params: object) -> None:
    from kiosk.i18n import text

    print(text(msgid, cast("Locale", args.lang), **params))


def _now() -> datetime:
    """Local, zone-aware: rotation counts the salon's days, archive names are UTC anyway."""
    return datetime.now().astimezone()


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024**2:
        return f"{n / 1024:.1f} KiB"
    if n < 1024**3:
        return f"{n / 1024**2:.1f} MiB"
    return f"{n / 1024**3:.1f} GiB"


def _info(args: argparse.Namespace) -> int:
    from edge_store.info import read_info

    info = read_info(args.data_dir)
    _say(args, "cli.info_store", store_id=info.store_id, path=info.data_dir)
    if info.restoring is not None:
        _say(args, "cli.info_restoring", archive=info.restoring)
    _say(args, "cli.info_journal", first=info.first_seq, last=info.last_seq,
         segments=info.segments, size=_size(info.journal_bytes))
    if info.snapshot_seqs:
        _say(args, "cli.info_snapshots", seqs=", ".join(map(str, info.snapshot_seqs)))
    else:
        _say(args, "cli.info_no_snapshot")
    if info.acked_seq is None:
        _say(args, "cli.info_not_acked")
    else:
        _say(args, "cli.info_acked", seq=info.acked_seq)
    _say(args, "cli.info_free", size=_size(info.free_bytes))
    if info.quarantined:
        _say(args, "cli.info_quarantine", n=len(info.quarantined))
        for name, size in info.quarantined:
            print(f"  {name} ({_size(size)})")
    else:
        _say(args, "cli.info_quarantine_none")
    if info.holder_pid is None:
        _say(args, "cli.info_not_running")
    else:
        _say(args, "cli.info_running", pid=info.holder_pid)
    return OK


def _verify(args: argparse.Namespace) -> int:
    import uuid

    from edge_store.identity import read_identity
    from edge_store.store import EdgeStore
    from edge_store.verify import verify

    # Read store.json first: EdgeStore.open would make a new empty store in a wrong directory.
    store_id = args.store_id or read_identity(args.data_dir)["store_id"]
    store = EdgeStore.open(args.data_dir, store_id, _now, lambda: uuid.uuid4().hex)
    try:
        report = verify(store)
    finally:
        store.close(snapshot=False)
    checked = len(report.snapshots_checked)
    if report.ok:
        _say(args, "cli.verify_ok", records=report.records, snapshots=checked)
        return OK
    _say(args, "cli.verify_failed", n=len(report.differences) + len(report.snapshots_unreadable),
         records=report.records, snapshots=checked)
    for name in report.snapshots_unreadable:
        _say(args, "cli.verify_unreadable", name=name)
    for line in report.differences:
        print(f"  {line}")
    return CHECK_FAILED


def _backup(args: argparse.Namespace) -> int:
    from edge_store.backup import backup
    from edge_store.rotation import rotate

    if args.rotate and not args.dest.is_dir():
        _say(args, "cli.rotate_needs_dir", path=args.dest)
        return REFUSED
    now = _now()
    path = backup(args.data_dir, args.dest, now=now)
    _say(args, "cli.backup_done", path=path, size=_size(path.stat().st_size))
    if args.rotate:
        removed = rotate(args.dest, now, args.keep_daily, args.keep_weekly)
        _say(args, "cli.backup_rotated", n=len(removed))
    return OK


def _restore(args: argparse.Namespace) -> int:
    from edge_store.restore import restore

    done = restore(args.archive, args.data_dir, store_id=args.store_id, now=_now(),
                   force=args.force)
    _say(args, "cli.restore_done", store_id=done.store_id, seq=done.last_seq, path=args.data_dir)
    if done.replaced is not None:
        _say(args, "cli.restore_replaced", path=done.replaced)
    if done.store_id != args.store_id:
        _say(args, "cli.restore_other_store", store_id=done.store_id)
    return OK
