"""Backup and restore of a synthetic store: archive size and time, gzip next to xz.

    python bench/backup_bench.py [--members 2000] [--sales 3000]

Builds a store (hub.workload: real checkouts through the domain), then measures
``edge_store.backup.backup`` (tar.gz, the format chosen) and, as the baseline measured
in the same run, the same tar compressed with xz (preset 6), and ``restore`` (which
checks every checksum and opens the staged store once before it moves it in).
"""

from __future__ import annotations

import argparse
import io
import lzma
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edge_store.backup import backup
from edge_store.restore import restore
from edge_store.store import EdgeStore, StoreOptions
from hub.demo_data import DEMO_DAY
from hub.workload import Workload
from salon.testing import ManualClock, SequentialIds

STORE_ID = "store-bench-001"
_CLI_PEAK = """import sys
from hub.cli import main
status = main(["store", "backup", sys.argv[1], "--data-dir", sys.argv[2]])
print(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
sys.exit(status)
"""
"""The CLI in a child, printing its peak resident KiB (VmHWM: ru_maxrss would count the
parent's size at the fork)."""


def _build(path: Path, members: int, sales: int) -> None:
    clock = ManualClock(DEMO_DAY)
    store = EdgeStore.open(path, STORE_ID, clock, SequentialIds("B"), StoreOptions())
    work = Workload(store, lambda: store.state, clock)
    work.setup()
    work.register(members)
    work.sales(sales)
    store.close()


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _tar_bytes(archive: Path) -> bytes:
    """The uncompressed tar inside ``archive``, to compress it another way."""
    out = io.BytesIO()
    with tarfile.open(archive, "r:gz") as src, tarfile.open(fileobj=out, mode="w") as dst:
        for info in src:
            dst.addfile(info, src.extractfile(info))
    return out.getvalue()


def _timed(fn: object) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()  # type: ignore[operator]
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--sales", type=int, default=3000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = root / "data"
        build_s, _ = _timed(lambda: _build(data, args.members, args.sales))
        now = datetime.now(UTC)
        rows = []
        for level in (1, 6, 9):
            seconds, archive = _timed(
                lambda lv=level: backup(data, root / f"gz{lv}.tar.gz", now=now, compresslevel=lv))
            assert isinstance(archive, Path)
            rows.append((f"tar.gz level {level}", seconds, archive.stat().st_size))
        raw = _tar_bytes(root / "gz6.tar.gz")
        rows.append(("tar (no compression)", 0.0, len(raw)))
        xz_s, xz = _timed(lambda: lzma.compress(raw, preset=6))
        assert isinstance(xz, bytes)
        rows.append(("tar.xz preset 6 (compress only)", xz_s, len(xz)))
        restore_s, _ = _timed(lambda: restore(root / "gz6.tar.gz", root / "restored",
                                              store_id=STORE_ID, now=now))
        cli_s, child = _timed(lambda: subprocess.run(
            [sys.executable, "-c", _CLI_PEAK, str(root), str(data)],
            cwd=Path(__file__).resolve().parents[1], check=True, capture_output=True, text=True))
        child_peak = int(child.stdout.split()[-1]) // 1024  # type: ignore[attr-defined]
        print(f"store: {args.members} members, {args.sales} sales, built in {build_s:.1f} s; "
              f"data directory {_du(data) / 2**20:.1f} MiB")
        print(f"{'archive':34} {'seconds':>8} {'MiB':>8}")
        for name, seconds, size in rows:
            print(f"{name:34} {seconds:8.2f} {size / 2**20:8.2f}")
        print(f"{'restore of tar.gz level 6':34} {restore_s:8.2f}")
        print(f"{'salon-edge store backup (process)':34} {cli_s:8.2f}"
              f"   peak resident memory {child_peak} MiB")


if __name__ == "__main__":
    main()
