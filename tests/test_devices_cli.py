"""``salon-edge devices doctor|listen`` on this machine: no hardware, a printer on loopback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hub.cli import main
from tests.test_escpos_printer import Listener, printed

ROOT = Path(__file__).resolve().parents[1]


def test_doctor_finds_no_hardware_here_without_a_traceback() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "hub", "devices", "doctor", "--lang", "en"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    for heading in ("Input devices", "Serial ports", "USB printers", "Configured devices"):
        assert heading in run.stdout
    assert "No devices configured: give the store's settings file with --config" in run.stdout


def test_listen_without_a_config_or_fakes_says_what_to_give(
    capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["devices", "listen", "--seconds", "0", "--lang", "en"]) == 2
    assert "--config" in capsys.readouterr().out


def test_the_receipts_network_line_lists_interface_addresses_not_loopback() -> None:
    from hub.devices_cli import _addresses

    shown = _addresses()
    assert shown == "-" or all(
        len(part.split(" ")) == 2 and not part.split(" ")[1].startswith("127.")
        for part in shown.split(", ")
    )


def test_doctor_prints_a_chinese_self_test_receipt_and_reports_a_missing_scanner(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listener = Listener()
    try:
        config = tmp_path / "salon-edge.toml"
        config.write_text(f"""
[store]
id = "S-XH-01"
name = "丝域美发 · 徐汇店"

[devices]
input_dir = "{tmp_path / 'input'}"

[[devices.scanner]]
id = "front-scanner"
evdev = "0c2e:0b61"

[devices.printer]
id = "printer"
connection = "network"
host = "127.0.0.1"
port = {listener.port}
timeout = 2.0
status_timeout = 0.2

[devices.drawer]
id = "drawer"
via = "printer"
""", encoding="utf-8")
        status = main(["devices", "doctor", "--config", str(config)])
        out = capsys.readouterr().out
        assert status == 1  # the scanner is not plugged in
        assert "front-scanner" in out and "未找到" in out
        # a network printer is connected per job: the status check, the receipt and the
        # drawer kick each come on their own connection, and main() may return before
        # the listener has read the last one
        received = b"".join(listener.wait(3))
    finally:
        listener.close()
    paper = printed(received)
    text = "\n".join(line.text for line in paper.lines)
    assert "设备自检" in text and "front-scanner" in text and "S-XH-01" in text
    assert b"\x1bp\x00" in received and b"\x1bp\x01" in received  # the drawer, both pins


def test_doctor_refuses_a_broken_config_with_its_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "salon-edge.toml"
    config.write_text('[[devices.scanner]]\nid = "s"\nevdev = "0c2e:0b61"\nspeed = 3\n',
                      encoding="utf-8")
    assert main(["devices", "doctor", "--config", str(config), "--lang", "en"]) == 2
    out = capsys.readouterr().out
    assert "speed" in out and "s" in out


@pytest.mark.parametrize("mistake", [
    "[devices]\nlight = 5\n",
    '[devices]\ndrawer = "relay"\n',
    '[devices]\n[[devices.scanner]]\nid = "s"\nevdev = "0c2e:0b61"\nlayout = "fr"\n',
    '[devices]\n[[devices.scanner]]\nid = "s"\nevdev = "0c2e:0b61"\nidle_gap_ms = -5\n',
    '[devices]\n[[devices.scanner]]\nid = "s"\nevdev = "/dev/input/event3"\n',
])
def test_doctor_reports_a_config_mistake_instead_of_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mistake: str
) -> None:
    config = tmp_path / "salon-edge.toml"
    config.write_text(mistake, encoding="utf-8")
    assert main(["devices", "doctor", "--config", str(config), "--lang", "en"]) == 2
    assert "misconfigured" in capsys.readouterr().out


def test_listen_shows_fake_inputs_with_pay_codes_and_cards_masked(
    capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["devices", "listen", "--fake-devices", "--seconds", "60", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "barcode ean13 6901234567892" in out
    assert "WeChat pay code" in out and "134567890123456789" not in out
    assert "****B2C3" in out and "04A1B2C3" not in out
    assert "unreadable (check_digit" in out
    missing = out.index("scanner: missing")
    assert "scanner: connected" in out[missing:]  # back after the replug


def test_set_role_saves_an_override_that_doctor_then_uses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    overrides = tmp_path / "hid-overrides.json"
    config = tmp_path / "salon-edge.toml"
    config.write_text(f'[devices]\noverrides = "{overrides}"\n', encoding="utf-8")
    args = ["devices", "set-role", "--config", str(config), "--lang", "en"]
    assert main([*args, "0c2e:0b61", "keyboard"]) == 0
    assert "Saved: 0c2e:0b61 is a keyboard" in capsys.readouterr().out
    from devices.hid_identity import HidRole, OverrideStore

    assert OverrideStore(overrides).load() == {"0c2e:0b61": HidRole.KEYBOARD}
    assert main([*args, "0c2e:0b61", "auto"]) == 0
    assert OverrideStore(overrides).load() == {}
    bare = tmp_path / "bare.toml"
    bare.write_text("[devices]\n", encoding="utf-8")
    assert main(["devices", "set-role", "--config", str(bare), "x", "scanner"]) == 2
