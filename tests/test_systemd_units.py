"""The systemd units call the command line with arguments it accepts."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

from hub.cli import _build_parser

UNITS = Path(__file__).resolve().parents[1] / "systemd"


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(UNITS / name)
    return parser


def test_the_backup_service_runs_a_rotating_backup_the_cli_understands() -> None:
    argv = shlex.split(_unit("salon-edge-backup.service")["Service"]["ExecStart"])
    assert argv[0].endswith("/salon-edge")
    args = _build_parser().parse_args(argv[1:])
    assert args.command == "store" and args.rotate
    assert args.data_dir == Path("/var/lib/salon-edge/store")


def test_the_backup_timer_fires_nightly_and_catches_up_after_power_off() -> None:
    timer = _unit("salon-edge-backup.timer")["Timer"]
    assert timer["OnCalendar"].endswith("03:30:00")
    assert timer["Persistent"] == "true"
