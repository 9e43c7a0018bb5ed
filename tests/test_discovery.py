"""Listing hardware: USB printers from a sysfs tree, serial ports with their by-id links."""

from __future__ import annotations

from pathlib import Path

import pytest
from serial.tools import list_ports
from serial.tools.list_ports_common import ListPortInfo

from devices.discovery import list_serial_ports, list_usb_printers


def _usb(sysfs: Path, device: str, vid: str, pid: str, product: str, cls: str) -> Path:
    (sysfs / device).mkdir(parents=True)
    for name, value in (("idVendor", vid), ("idProduct", pid), ("product", product)):
        (sysfs / device / name).write_text(value + "\n")
    interface = sysfs / f"{device}:1.0"
    interface.mkdir()
    (interface / "bInterfaceClass").write_text(cls + "\n")
    return interface


def test_usb_printers_are_found_by_interface_class_with_their_lp_node(tmp_path: Path) -> None:
    sysfs, dev_usb = tmp_path / "sys", tmp_path / "dev-usb"
    printer = _usb(sysfs, "1-1.2", "0416", "5011", "POS58 Printer", "07")
    (printer / "usbmisc" / "lp0").mkdir(parents=True)
    dev_usb.mkdir()
    (dev_usb / "lp0").touch()
    _usb(sysfs, "1-1.3", "0c2e", "0b61", "Barcode Scanner", "03")  # a HID scanner: not listed
    found = list_usb_printers(sysfs, dev_usb)
    assert [(p.usb_id, p.product, p.lp_node) for p in found] == [
        ("0416:5011", "POS58 Printer", str(dev_usb / "lp0"))
    ]


def test_no_sysfs_means_no_printers_rather_than_an_error(tmp_path: Path) -> None:
    assert list_usb_printers(tmp_path / "missing", tmp_path / "missing-too") == []


def test_serial_ports_carry_their_stable_by_id_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = tmp_path / "ttyUSB0"
    node.touch()
    usb = ListPortInfo(str(node))
    usb.vid, usb.pid, usb.serial_number, usb.description = 0x0403, 0x6001, "A9XK", "FT232R"
    uart = ListPortInfo("/dev/ttyS0")  # a built-in UART: no by-id link, no USB ids
    monkeypatch.setattr(list_ports, "comports", lambda: [uart, usb])
    by_id = tmp_path / "by-id"
    by_id.mkdir()
    (by_id / "usb-FTDI_FT232R_A9XK-if00-port0").symlink_to(node)
    found = {p.path: p for p in list_serial_ports(by_id)}
    assert found[str(node)].stable_path == str(by_id / "usb-FTDI_FT232R_A9XK-if00-port0")
    assert (found[str(node)].usb_id, found[str(node)].serial_number) == ("0403:6001", "A9XK")
    assert found["/dev/ttyS0"].stable_path == "" and found["/dev/ttyS0"].usb_id == ""
