"""Receipt printer settings: how to reach one printer and how it takes text, checked when built.

``printer_config`` reads the settings' ``[devices.printer]`` table into a
``PrinterConfig``; a wrong value is a DeviceError CONFIG_INVALID naming the key, so a
misconfigured printer is reported at start-up and not at the first receipt.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from escpos.capabilities import CAPABILITIES, get_profile

from devices.config_table import build_config
from devices.errors import config_invalid
from devices.escpos_bytes import PrintFormat

__all__ = ["ConnectionKind", "PrinterConfig", "printer_config"]

_CHINESE_ENCODINGS = ("gb18030", "gbk")
_BAUDRATES = (2400, 4800, 9600, 19200, 38400, 57600, 115200)


class ConnectionKind(StrEnum):
    USB = "usb"  # vendor and product id (needs pyusb)
    SERIAL = "serial"  # /dev/ttyUSB0, baud rate
    NETWORK = "network"  # host, port 9100
    FILE = "file"  # /dev/usb/lp0 (the kernel's usblp driver)


@dataclass(frozen=True, slots=True)
class PrinterConfig:
    """One receipt printer; checked when built (DeviceError CONFIG_INVALID).

    ``encoding`` is "gb18030" or "gbk" for a printer with a Chinese font, else a code
    page of its python-escpos ``profile`` ("CP437", "CP858"); such a printer prints a
    receipt its code page cannot hold (any Chinese) as an image.
    """

    device_id: str
    connection: ConnectionKind
    host: str = ""
    port: int = 9100
    usb_vendor_id: int = 0
    usb_product_id: int = 0
    usb_in_ep: int = 0x82
    usb_out_ep: int = 0x01
    serial_port: str = ""
    baudrate: int = 9600
    path: str = ""
    width: int = 32
    profile: str = "default"
    has_chinese_font: bool = True
    encoding: str = "gb18030"
    timeout: float = 5.0  # connect and write
    status_timeout: float = 0.5  # one status answer

    def __post_init__(self) -> None:
        problems = self._problems()
        if problems:
            raise config_invalid(self.device_id, *problems[0])

    @property
    def address(self) -> str:
        """Where the printer is, for messages: host:port, the device path or usb:vid:pid."""
        return {
            ConnectionKind.NETWORK: f"{self.host}:{self.port}",
            ConnectionKind.SERIAL: self.serial_port,
            ConnectionKind.FILE: self.path,
        }.get(self.connection, f"usb:{self.usb_vendor_id:04x}:{self.usb_product_id:04x}")

    def print_format(self) -> PrintFormat:
        if self.has_chinese_font:
            return PrintFormat(self.width, True, self.encoding.lower())
        code_page = int(get_profile(self.profile).get_code_pages()[self.encoding.upper()])
        codec = CAPABILITIES["encodings"][self.encoding.upper()]["python_encode"]
        return PrintFormat(self.width, False, str(codec), code_page)

    def _problems(self) -> list[tuple[str, str]]:
        checks: list[tuple[str, bool, str]] = [
            ("device_id", bool(self.device_id), "must not be empty"),
            ("connection", isinstance(self.connection, ConnectionKind),
             "one of " + ", ".join(k.value for k in ConnectionKind)),
            ("width", self.width in (32, 48), "32 (58 mm) or 48 (80 mm) columns"),
            # A socket or serial port given inf waits forever (or raises OverflowError).
            ("timeout", self.timeout > 0 and math.isfinite(self.timeout),
             "more than 0 seconds, and finite"),
            ("status_timeout", 0 < self.status_timeout <= self.timeout,
             "more than 0 and at most timeout"),
            ("profile", self.profile in CAPABILITIES["profiles"], "not a python-escpos profile"),
        ]
        kind = self.connection
        if kind is ConnectionKind.NETWORK:
            checks += [("host", bool(self.host), "must not be empty"),
                       ("port", 0 < self.port < 65536, "1 to 65535")]
        elif kind is ConnectionKind.USB:
            checks += [("usb_vendor_id", 0 < self.usb_vendor_id <= 0xFFFF, "1 to 0xffff"),
                       ("usb_product_id", 0 < self.usb_product_id <= 0xFFFF, "1 to 0xffff")]
        elif kind is ConnectionKind.SERIAL:
            checks += [("serial_port", bool(self.serial_port), "must not be empty"),
                       ("baudrate", self.baudrate in _BAUDRATES, "a standard baud rate")]
        elif kind is ConnectionKind.FILE:
            checks += [("path", bool(self.path), "must not be empty")]
        problems = [(field, reason) for field, ok, reason in checks if not ok]
        if not problems:
            problems += self._encoding_problems()
        return problems

    def _encoding_problems(self) -> list[tuple[str, str]]:
        if self.has_chinese_font:
            if self.encoding.lower() not in _CHINESE_ENCODINGS:
                return [("encoding", "gb18030 or gbk for a printer with a Chinese font")]
            return []
        pages = get_profile(self.profile).get_code_pages()
        name = self.encoding.upper()
        known = CAPABILITIES["encodings"].get(name, {})
        if name not in pages or "python_encode" not in known:
            return [("encoding", f"a code page of profile {self.profile}, such as CP437")]
        return []


def printer_config(table: Mapping[str, Any]) -> PrinterConfig:
    """A PrinterConfig from the settings' ``[devices.printer]`` table (``id`` is device_id).

    An unknown or missing key, or a value of the wrong type, is CONFIG_INVALID naming it.
    """
    return build_config(PrinterConfig, table, where="printer")
