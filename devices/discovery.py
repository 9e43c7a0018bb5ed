"""What hardware this machine can see: serial ports and receipt printers (USB, lp nodes).

Input devices are listed by ``devices.hid_identity``. Printers are found through sysfs
(USB interface class 7) and ``/dev/usb/lp*`` rather than by opening USB devices, so a
listing never disturbs a printer that is printing. Everything here only reads.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from serial.tools import list_ports

__all__ = ["SerialPort", "UsbPrinter", "list_serial_ports", "list_usb_printers"]

_USB_PRINTER_CLASS = "07"


@dataclass(frozen=True, slots=True)
class SerialPort:
    path: str
    stable_path: str  # the /dev/serial/by-id link to it, or "" (a built-in UART has none)
    description: str
    usb_id: str  # "vid:pid" in hex, or ""
    serial_number: str


@dataclass(frozen=True, slots=True)
class UsbPrinter:
    usb_id: str  # "vid:pid"
    product: str
    lp_node: str  # /dev/usb/lpN if the usblp driver has bound it, else ""


def _by_id_links(by_id: Path) -> dict[str, str]:
    links: dict[str, str] = {}
    try:
        names = os.listdir(by_id)
    except OSError:
        return links
    for name in names:
        link = by_id / name
        try:
            links[os.path.realpath(link)] = str(link)
        except OSError:
            continue
    return links


def list_serial_ports(by_id: Path = Path("/dev/serial/by-id")) -> list[SerialPort]:
    """Every serial port pyserial finds, with its stable by-id path where udev made one."""
    links = _by_id_links(by_id)
    ports = []
    for info in sorted(list_ports.comports(), key=lambda p: p.device):
        usb = f"{info.vid:04x}:{info.pid:04x}" if info.vid is not None and info.pid else ""
        ports.append(SerialPort(
            path=info.device,
            stable_path=links.get(os.path.realpath(info.device), ""),
            description="" if info.description in (None, "n/a") else str(info.description),
            usb_id=usb,
            serial_number=info.serial_number or "",
        ))
    return ports


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return ""


def list_usb_printers(
    sysfs: Path = Path("/sys/bus/usb/devices"), dev_usb: Path = Path("/dev/usb")
) -> list[UsbPrinter]:
    """USB devices with a printer interface (class 07), and the lp node bound to each."""
    printers: list[UsbPrinter] = []
    try:
        entries = sorted(os.listdir(sysfs))
    except OSError:
        return printers
    for name in entries:
        interface = sysfs / name
        if ":" not in name or _read(interface / "bInterfaceClass") != _USB_PRINTER_CLASS:
            continue
        device = sysfs / name.split(":", 1)[0]
        lp = ""
        try:  # the printer may be pulled out between the two reads
            nodes = sorted(os.listdir(interface / "usbmisc"))
        except OSError:
            nodes = []
        if nodes and (dev_usb / nodes[0]).exists():
            lp = str(dev_usb / nodes[0])
        printers.append(UsbPrinter(
            usb_id=f"{_read(device / 'idVendor')}:{_read(device / 'idProduct')}",
            product=_read(device / "product"),
            lp_node=lp,
        ))
    return printers
