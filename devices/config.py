"""The devices section of the store's settings (TOML): which devices it has and how wired.

    [devices]
    input_dir = "/dev/input"                    # optional
    overrides = "/var/lib/salon-edge/hid-overrides.json"

    [[devices.scanner]]                         # or [[devices.card_reader]]
    id = "front-scanner"
    evdev = "usb-Honeywell_1900-event-kbd"      # a by-id name or path, or "0c2e:0b61[:serial]"
    # serial = "/dev/serial/by-id/usb-FTDI-if00-port0"   (instead of evdev)
    # protocol = "stx-etx-hex"                  (a serial reader's protocol)

    [devices.printer]   ... (see devices.escpos_printer.PrinterConfig)
    [devices.drawer]    via = "printer" | "relay", and the fields of its config
    [devices.light]     [devices.buzzer]     [devices.call_button]

Every table becomes one of the adapters' frozen config dataclasses; a key it does not
know, a missing one, or a value of the wrong type is a ``DeviceError(CONFIG_INVALID)``
naming the device and the field, so a typo is reported at start, not ignored.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devices.config_table import build_config, check_type
from devices.drawer import PrinterKickConfig, RelayDrawerConfig
from devices.errors import DeviceError, config_invalid
from devices.escpos_printer import PrinterConfig, printer_config
from devices.gpio_devices import (
    BuzzerConfig,
    CallButtonConfig,
    StatusLightConfig,
    check_distinct_pins,
)
from devices.hid_decoder import DecoderSettings
from devices.hid_identity import DeviceMatch
from devices.keymap import LAYOUTS
from devices.ports import DeviceKind
from devices.serial_protocols import PROTOCOL_KEYS, SerialProtocol, protocol_from_config

__all__ = ["DevicesConfig", "InputConfig", "load_config", "parse_config"]


@dataclass(frozen=True, slots=True)
class InputConfig:
    """A scanner or card reader: read through evdev (``evdev``) or a serial port (``serial``)."""

    device_id: str
    kind: DeviceKind
    evdev: str = ""
    serial: str = ""
    protocol: SerialProtocol | None = None
    layout: str = "us"
    idle_gap_ms: int = 100
    stale_after_ms: int = 3000


@dataclass(frozen=True, slots=True)
class DevicesConfig:
    inputs: tuple[InputConfig, ...] = ()
    printer: PrinterConfig | None = None
    drawer: PrinterKickConfig | RelayDrawerConfig | None = None
    light: StatusLightConfig | None = None
    buzzer: BuzzerConfig | None = None
    call_button: CallButtonConfig | None = None
    input_dir: str = "/dev/input"
    overrides: str = ""

    def device_ids(self) -> list[str]:
        singles = (self.printer, self.drawer, self.light, self.buzzer, self.call_button)
        return [i.device_id for i in self.inputs] + [
            c.device_id for c in singles if c is not None
        ]


_INPUT_KEYS = ("id", "evdev", "serial", "layout", "idle_gap_ms", "stale_after_ms")


def _input(table: Mapping[str, Any], kind: DeviceKind, where: str) -> InputConfig:
    device = str(table.get("id", where))
    if bool(table.get("evdev")) == bool(table.get("serial")):
        raise config_invalid(device, "evdev", "give one of evdev or serial")
    protocol = None
    if table.get("serial"):
        # The protocol's name and any of its fields overridden sit in the device's table.
        protocol = protocol_from_config(device, table, other_keys=_INPUT_KEYS, kind=kind)
        rest = {k: v for k, v in table.items() if k not in PROTOCOL_KEYS}
    else:
        stray = sorted(k for k in table if k in PROTOCOL_KEYS)
        if stray:
            raise config_invalid(device, stray[0], "only for a serial reader")
        rest = dict(table)
    config = build_config(InputConfig, rest, where=where, kind=kind, protocol=protocol)
    if config.evdev:
        _check_evdev(config)
    return config


def _check_evdev(config: InputConfig) -> None:
    """An evdev reader's match, layout and timings, refused here rather than when opened."""
    try:
        DeviceMatch.parse(config.evdev, "/dev/input", config.device_id)
    except DeviceError as err:
        raise config_invalid(config.device_id, "evdev", str(err.params["reason"])) from None
    if config.layout not in LAYOUTS:
        raise config_invalid(config.device_id, "layout", "one of " + ", ".join(LAYOUTS))
    try:
        DecoderSettings(idle_gap=config.idle_gap_ms / 1000,
                        stale_after=config.stale_after_ms / 1000)
    except DeviceError as err:
        raise config_invalid(config.device_id, f"{err.params['field']}_ms",
                       str(err.params["reason"])) from None


def parse_config(table: Mapping[str, Any]) -> DevicesConfig:
    """The ``[devices]`` table of the settings (a mapping, as tomllib reads it)."""
    known = {"input_dir", "overrides", "scanner", "card_reader", "printer", "drawer", "light",
             "buzzer", "call_button"}
    for key in table:
        if key not in known:
            raise config_invalid("devices", key, "unknown key")
    inputs = [
        _input(entry, kind, f"{key} #{n}")
        for key, kind in (("scanner", DeviceKind.SCANNER), ("card_reader", DeviceKind.CARD_READER))
        for n, entry in enumerate(_tables(table, key), start=1)
    ]
    printer = printer_config(_single(table, "printer")) if "printer" in table else None
    drawer: PrinterKickConfig | RelayDrawerConfig | None = None
    if "drawer" in table:
        drawer_table = _single(table, "drawer")
        via = drawer_table.get("via")
        if via == "printer":
            if printer is None:
                raise config_invalid(str(drawer_table.get("id", "drawer")), "via", "no printer")
            drawer = build_config(PrinterKickConfig, drawer_table, exclude=("via",),
                                  where="drawer")
        elif via == "relay":
            drawer = build_config(RelayDrawerConfig, drawer_table, exclude=("via",),
                                  where="drawer")
        else:
            raise config_invalid(str(drawer_table.get("id", "drawer")), "via", "printer or relay")
    light = (build_config(StatusLightConfig, _single(table, "light"), where="light")
             if "light" in table else None)
    buzzer = (build_config(BuzzerConfig, _single(table, "buzzer"), where="buzzer")
              if "buzzer" in table else None)
    button = (build_config(CallButtonConfig, _single(table, "call_button"), where="call_button")
              if "call_button" in table else None)
    relay = drawer if isinstance(drawer, RelayDrawerConfig) else None
    check_distinct_pins([c for c in (light, buzzer, button, relay) if c is not None])
    config = DevicesConfig(
        inputs=tuple(inputs), printer=printer, drawer=drawer, light=light, buzzer=buzzer,
        call_button=button, input_dir=check_type("devices", "input_dir",
                                                  table.get("input_dir", "/dev/input"), str),
        overrides=check_type("devices", "overrides", table.get("overrides", ""), str),
    )
    ids = config.device_ids()
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise config_invalid(twice[0], "id", "used by two devices")
    return config


def _single(table: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    entry = table[key]
    if not isinstance(entry, Mapping):
        raise config_invalid("devices", key, "not a table")
    return entry


def _tables(table: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    entries = table.get(key, [])
    if isinstance(entries, Mapping):
        entries = [entries]
    if not isinstance(entries, list) or not all(isinstance(e, Mapping) for e in entries):
        raise config_invalid("devices", key, "not a table")
    return entries


def load_config(path: Path) -> DevicesConfig:
    """The ``[devices]`` table of a TOML settings file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise config_invalid("devices", str(path), err.strerror or type(err).__name__) from err
    except tomllib.TOMLDecodeError as err:
        raise config_invalid("devices", str(path), str(err)) from err
    section = data.get("devices", {})
    if not isinstance(section, Mapping):
        raise config_invalid("devices", "devices", "not a table")
    return parse_config(section)
