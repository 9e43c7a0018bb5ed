"""``salon-edge store info|verify|backup|restore``: messages, exit statuses, a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from edge_store.snapshots import Snapshots
from hub.cli import main
from salon.state import STATE_VERSION, SalonState
from tests.store_support import STORE_ID, busy_store, open_store, state_json

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    with busy_store(tmp_path / "data") as (store, _):
        store.acknowledge(10)
    return tmp_path / "data"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["store", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_info_tells_the_store_its_records_and_that_no_kiosk_holds_it(
    data: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = _run(capsys, "info", "--data-dir", str(data), "--lang", "en")
    again = open_store(data)  # info held nothing: the kiosk can open the store right after
    last = again.last_seq
    again.close()
    assert code == 0
    assert f"Store {STORE_ID} in {data}" in out
    assert f"records 1 to {last} in 1 segment(s)" in out
    assert "Acknowledged by HQ: up to record 10" in out
    assert "Quarantine: empty" in out and "Not in use" in out


def test_info_while_the_kiosk_runs_names_its_process_in_chinese_by_default(
    data: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    kiosk = open_store(data)
    code, out, _ = _run(capsys, "info", "--data-dir", str(data))
    kiosk.close()
    assert code == 0
    assert f"正被进程 {os.getpid()} 使用" in out


def test_verify_refuses_a_running_kiosk_and_says_to_stop_the_service(
    data: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    kiosk = open_store(data)
    code, out, err = _run(capsys, "verify", "--data-dir", str(data), "--lang", "en")
    kiosk.close()
    assert code == 2 and out == ""
    assert f"in use by process {os.getpid()}" in err
    assert "stop the salon-edge service first" in err


def test_verify_passes_a_sound_store_and_fails_a_snapshot_that_disagrees(
    data: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = _run(capsys, "verify", "--data-dir", str(data), "--lang", "en")
    assert code == 0 and "no differences" in out
    (snap,) = (data / "snapshots").glob("*.snap")
    snaps = Snapshots(data / "snapshots", STORE_ID, SalonState, state_version=STATE_VERSION)
    seq, state = snaps.read(snap)
    state.catalog.version = 999  # what HQ never sent
    snaps.write(seq, "2026-11-23T02:00:00+00:00", state)  # in place of the sound one
    code, out, _ = _run(capsys, "verify", "--data-dir", str(data), "--lang", "en")
    assert code == 1
    assert "problem(s) found" in out and "catalog.version: 999" in out


def test_backup_then_restore_through_the_command_line(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    live = open_store(data)  # the kiosk keeps running while the backup is taken
    state = state_json(live.state)
    dest = tmp_path / "backups"
    dest.mkdir()
    code, out, _ = _run(capsys, "backup", str(dest), "--data-dir", str(data), "--rotate",
                        "--lang", "en")
    live.close()
    (archive,) = dest.iterdir()
    assert code == 0 and f"Backup written: {archive}" in out and "Old backups removed: 0" in out

    target = tmp_path / "restored"
    code, out, _ = _run(capsys, "restore", str(archive), "--data-dir", str(target),
                        "--store-id", STORE_ID, "--lang", "en")
    assert code == 0 and f"Restored store {STORE_ID}" in out
    again = open_store(target)
    assert state_json(again.state) == state
    again.close()

    code, _, err = _run(capsys, "restore", str(archive), "--data-dir", str(target),
                        "--store-id", STORE_ID, "--lang", "en")
    assert code == 2 and "use --force" in err
    code, out, _ = _run(capsys, "restore", str(archive), "--data-dir", str(target),
                        "--store-id", "store-other", "--force", "--lang", "en")
    assert code == 0 and "moved to" in out and f"configure this device as store {STORE_ID}" in out


def test_refusals_and_usage_errors_exit_with_2(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"\x1f\x8b not really")
    code, _, err = _run(capsys, "restore", str(bad), "--data-dir", str(tmp_path / "t"),
                        "--store-id", STORE_ID)
    assert code == 2 and "已损坏或不是门店备份" in err
    code, _, err = _run(capsys, "info", "--data-dir", str(tmp_path / "nothing"), "--lang", "en")
    assert code == 2 and "holds no store" in err
    assert not (tmp_path / "nothing").exists()
    code, _, _ = _run(capsys, "backup", str(tmp_path / "one.tar.gz"), "--data-dir", str(data),
                      "--rotate")
    assert code == 2
    assert main(["store"]) == 2
    assert main(["store", "restore", str(bad), "--data-dir", str(data)]) == 2  # no --store-id


def test_store_info_runs_as_a_real_process(data: Path) -> None:
    # `python -m hub` from the repository, so the process runs this checkout's code.
    result = subprocess.run(
        [sys.executable, "-m", "hub", "store", "info", "--data-dir", str(data), "--lang", "en"],
        capture_output=True, text=True, cwd=ROOT, check=False, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert f"Store {STORE_ID}" in result.stdout
    assert "Not in use" in result.stdout
