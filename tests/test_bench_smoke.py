"""The store benchmark still runs end to end (tiny sizes; figures are not judged here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_store_benchmark_prints_its_table(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "store_bench.py"), "--members", "150",
         "--first", "200", "--sales", "400", "--samples", "15", "--tinydb-inserts", "1"],
        capture_output=True, text=True, timeout=600, check=False,
        env={"BENCH_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    for label in ("commit p50 / p99 ms: edge store", "the rest (the store's Python)",
                  "bare write+fdatasync", "SQLite WAL FULL",
                  "stock TinyDB", "cold start s", "resident MiB after start",
                  "while a snapshot is written: commits"):
        assert label in result.stdout
    assert "(1000)" in result.stdout  # the cold start replayed the 1,000 tail records
