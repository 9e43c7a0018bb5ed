"""The [devices] settings: each table becomes its adapter's config, or a clear error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devices.config import load_config, parse_config
from devices.drawer import PrinterKickConfig, RelayDrawerConfig
from devices.errors import DeviceError, DeviceErrorCode
from devices.escpos_printer import ConnectionKind
from devices.ports import DeviceKind

STORE = """
[devices]
overrides = "/var/lib/salon-edge/hid-overrides.json"

[[devices.scanner]]
id = "front-scanner"
evdev = "0c2e:0b61"
idle_gap_ms = 80

[[devices.card_reader]]
id = "card-reader"
serial = "/dev/serial/by-id/usb-FTDI_FT232R_A9XK-if00-port0"
protocol = "stx-etx-hex"

[devices.printer]
id = "printer"
connection = "network"
host = "127.0.0.1"
width = 48

[devices.drawer]
id = "drawer"
via = "printer"

[devices.light]
id = "light"
red_pin = 17
green_pin = 27
amber_pin = 22

[devices.buzzer]
id = "buzzer"
pin = 23
"""


def _invalid(table: dict[str, Any]) -> dict[str, str | int]:
    with pytest.raises(DeviceError) as caught:
        parse_config(table)
    assert caught.value.code is DeviceErrorCode.CONFIG_INVALID
    return caught.value.params


def test_a_whole_store_is_read_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "salon-edge.toml"
    path.write_text(STORE, encoding="utf-8")
    config = load_config(path)
    scanner, reader = config.inputs
    assert (scanner.device_id, scanner.kind, scanner.evdev, scanner.idle_gap_ms) == (
        "front-scanner", DeviceKind.SCANNER, "0c2e:0b61", 80)
    assert reader.kind is DeviceKind.CARD_READER and reader.protocol is not None
    assert reader.protocol.name == "stx-etx-hex"
    assert config.printer is not None and config.printer.connection is ConnectionKind.NETWORK
    assert config.printer.width == 48
    assert isinstance(config.drawer, PrinterKickConfig)
    assert config.light is not None and config.light.amber_pin == 22
    assert config.buzzer is not None and config.call_button is None
    assert config.device_ids() == ["front-scanner", "card-reader", "printer", "drawer", "light",
                                   "buzzer"]


def test_no_devices_section_is_a_store_without_devices(tmp_path: Path) -> None:
    path = tmp_path / "salon-edge.toml"
    path.write_text("[store]\nid = 'S01'\n", encoding="utf-8")
    assert load_config(path).device_ids() == []


def test_a_misspelt_key_names_the_device_and_the_field() -> None:
    params = _invalid({"scanner": [{"id": "front", "evdev": "0c2e:0b61", "idle_gap": 80}]})
    assert (params["device"], params["field"], params["reason"]) == ("front", "idle_gap",
                                                                     "unknown key")


def test_a_value_of_the_wrong_type_is_refused() -> None:
    params = _invalid({"scanner": [{"id": "front", "evdev": "0c2e:0b61", "idle_gap_ms": "80"}]})
    assert (params["field"], params["reason"]) == ("idle_gap_ms", "not a int")
    params = _invalid({"buzzer": {"id": "b", "pin": True}})
    assert params["field"] == "pin"


def test_an_input_needs_exactly_one_way_to_be_read() -> None:
    assert _invalid({"scanner": [{"id": "s"}]})["field"] == "evdev"
    both = {"id": "s", "evdev": "0c2e:0b61", "serial": "/dev/ttyUSB0", "protocol": "line-cr"}
    assert _invalid({"card_reader": [both]})["field"] == "evdev"
    # No named protocol: the framing must be given, its end byte at least.
    assert _invalid({"card_reader": [{"id": "c", "serial": "/dev/ttyUSB0"}]})["field"] == "end"
    stray = {"id": "s", "evdev": "0c2e:0b61", "protocol": "line-cr"}
    assert _invalid({"scanner": [stray]})["reason"] == "only for a serial reader"


def test_an_unknown_serial_protocol_is_refused() -> None:
    params = _invalid({"card_reader": [{"id": "c", "serial": "/dev/ttyUSB0",
                                        "protocol": "no-such"}]})
    assert (params["device"], params["field"]) == ("c", "protocol")


def test_two_devices_with_one_id_and_one_pin_for_two_devices_are_refused() -> None:
    params = _invalid({"scanner": [{"id": "x", "evdev": "0c2e:0b61"}],
                       "buzzer": {"id": "x", "pin": 23}})
    assert (params["device"], params["reason"]) == ("x", "used by two devices")
    params = _invalid({"buzzer": {"id": "buzzer", "pin": 23},
                       "drawer": {"id": "drawer", "via": "relay", "pin": 23}})
    assert params["reason"] == "pin_used_twice"


def test_the_drawer_is_on_the_printer_or_a_relay() -> None:
    assert _invalid({"drawer": {"id": "d", "via": "printer"}})["reason"] == "no printer"
    assert _invalid({"drawer": {"id": "d", "via": "usb"}})["field"] == "via"
    relay = parse_config({"drawer": {"id": "d", "via": "relay", "pin": 5, "active_high": False}})
    assert isinstance(relay.drawer, RelayDrawerConfig) and relay.drawer.pin == 5


def test_broken_toml_and_unknown_sections_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "salon-edge.toml"
    path.write_text("[devices\nscanner = 1\n", encoding="utf-8")
    with pytest.raises(DeviceError) as caught:
        load_config(path)
    assert caught.value.params["field"] == str(path)
    assert _invalid({"scaner": []})["field"] == "scaner"
    with pytest.raises(DeviceError):
        load_config(tmp_path / "missing.toml")


@pytest.mark.parametrize("key", ["printer", "drawer", "light", "buzzer", "call_button"])
def test_a_device_that_is_not_a_table_is_refused_by_name(key: str) -> None:
    params = _invalid({key: "relay"})
    assert (params["device"], params["field"], params["reason"]) == ("devices", key,
                                                                     "not a table")


def test_an_unnamed_input_is_named_by_its_table_and_place() -> None:
    params = _invalid({"scanner": [{"id": "a", "evdev": "0c2e:0b61"}, {"evdev": "0c2e:0b62"}]})
    assert (params["device"], params["field"], params["reason"]) == ("scanner #2", "id",
                                                                     "missing")


def test_an_evdev_readers_match_layout_and_timings_are_checked_when_read() -> None:
    def scanner(**extra: object) -> dict[str, Any]:
        return {"scanner": [{"id": "s", "evdev": "0c2e:0b61", **extra}]}

    params = _invalid(scanner(evdev="/dev/input/event3"))  # numbered in plug order
    assert (params["device"], params["field"]) == ("s", "evdev")

    params = _invalid(scanner(layout="fr"))
    assert (params["device"], params["field"]) == ("s", "layout")
    params = _invalid(scanner(idle_gap_ms=0))
    assert (params["device"], params["field"]) == ("s", "idle_gap_ms")
    params = _invalid(scanner(idle_gap_ms=200, stale_after_ms=100))
    assert (params["device"], params["field"]) == ("s", "stale_after_ms")
