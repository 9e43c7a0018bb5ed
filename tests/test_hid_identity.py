"""Which input device is which: stable ids, discovery, scanner/reader/keyboard, saved overrides."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from devices.errors import DeviceError, DeviceErrorCode
from devices.fakes_evdev import FakeEvdevBus, FakeEvdevDevice
from devices.hid_identity import (
    Basis,
    ClassifyRules,
    DeviceMatch,
    HidDevice,
    HidRole,
    OverrideStore,
    classify,
    discover,
    event_nodes,
)

BY_ID = "usb-Honeywell_Imaging___Mobility_1900_19015B4E1D-event-kbd"


def _device(name: str, vendor: int = 0x1A2C, product: int = 0x0001, *, by_id: str = "",
            serial: str = "", can_type: bool = True) -> HidDevice:
    return HidDevice("/dev/input/event4", by_id, name, vendor, product, serial, "", can_type)


@pytest.fixture
def bus(tmp_path: Path) -> FakeEvdevBus:
    return FakeEvdevBus(str(tmp_path / "input"))


def test_discover_lists_every_node_with_its_stable_id_and_name(bus: FakeEvdevBus) -> None:
    scanner = bus.plug(FakeEvdevDevice(), by_id=BY_ID)
    reader = bus.plug(FakeEvdevDevice("IC Reader", vendor=0xFFFF, product=0x0035, uniq="0815"))
    found = discover(bus.input_dir, opener=bus)
    assert [d.path for d in found] == [scanner, reader]
    assert found[0].stable_id == os.path.join(bus.input_dir, "by-id", BY_ID)
    assert found[0].name == "Honeywell Imaging & Mobility 1900"
    assert found[1].stable_id == "ffff:0035:0815"
    assert found[1].ids() == ("ffff:0035:0815", "ffff:0035")


def test_discover_opens_briefly_and_never_grabs(bus: FakeEvdevBus) -> None:
    scanner = FakeEvdevDevice()
    bus.plug(scanner)
    discover(bus.input_dir, opener=bus)
    assert scanner.opens == 1 and scanner.handles == [] and not scanner.grabbed


def test_a_node_we_may_not_read_is_listed_with_the_reason(bus: FakeEvdevBus) -> None:
    node = bus.plug(FakeEvdevDevice())
    bus.denied.add(os.path.realpath(node))
    [device] = discover(bus.input_dir, opener=bus)
    assert device.error is DeviceErrorCode.PERMISSION_DENIED
    assert classify(device).role is HidRole.UNKNOWN


def test_event_nodes_are_listed_in_kernel_order(tmp_path: Path) -> None:
    for n in (10, 2, 1):
        (tmp_path / f"event{n}").touch()
    (tmp_path / "mouse0").touch()
    assert [Path(p).name for p in event_nodes(str(tmp_path))] == ["event1", "event2", "event10"]


def test_a_missing_input_directory_has_no_devices(tmp_path: Path) -> None:
    assert discover(str(tmp_path / "none"), opener=FakeEvdevBus(str(tmp_path / "x"))) == []


@pytest.mark.parametrize("name", [
    "Symbol Technologies Barcode Scanner",
    "NT USB Scan Engine", "HID 0c2e:0b61", "Newtologic QR Code Reader",
])
def test_scanners_are_told_by_name(name: str) -> None:
    result = classify(_device(name, vendor=0x1234))
    assert (result.role, result.basis) == (HidRole.SCANNER, Basis.NAME)


@pytest.mark.parametrize("name", [
    "Sycreader RFID Technology Co., Ltd SYC ID&IC USB Reader", "IC Reader", "USB Card Reader",
    "Mag-Tek USB Swipe Reader Magstripe", "RFID Scanner",
])
def test_card_readers_are_told_by_name_before_scanners(name: str) -> None:
    result = classify(_device(name))
    assert (result.role, result.basis) == (HidRole.CARD_READER, Basis.NAME)


@pytest.mark.parametrize(("vendor", "role"), [
    (0x0C2E, HidRole.SCANNER), (0x05E0, HidRole.SCANNER), (0x05F9, HidRole.SCANNER),
    (0x1EAB, HidRole.SCANNER), (0x0801, HidRole.CARD_READER),
])
def test_a_device_with_a_plain_name_is_told_by_its_makers_vendor_id(
    vendor: int, role: HidRole
) -> None:
    result = classify(_device("USB Keyboard", vendor=vendor))
    assert (result.role, result.basis) == (role, Basis.VENDOR)


def test_a_keyboard_is_a_keyboard() -> None:
    result = classify(_device("Logitech USB Keyboard", vendor=0x046D))
    assert (result.role, result.basis) == (HidRole.KEYBOARD, Basis.KEYS)


def test_a_device_that_cannot_type_is_unknown_whatever_its_name() -> None:
    assert classify(_device("Barcode Scanner Consumer Control", can_type=False)).role is (
        HidRole.UNKNOWN
    )


def test_the_config_names_devices_and_its_own_patterns() -> None:
    match = DeviceMatch.parse("1a2c:0001", "/dev/input")
    rules = ClassifyRules(devices=((match, HidRole.CARD_READER),), scanner_names=("wedge",))
    assert classify(_device("USB Keyboard"), rules).role is HidRole.CARD_READER
    assert classify(_device("USB Keyboard"), rules).basis is Basis.CONFIG
    assert classify(_device("Cheap Wedge", vendor=0x9999), rules).role is HidRole.SCANNER
    assert classify(_device("Barcode", vendor=0x9999), rules).role is HidRole.KEYBOARD


def test_a_saved_override_wins_over_name_and_config() -> None:
    device = _device("Barcode Scanner", by_id="/dev/input/by-id/usb-x-event-kbd")
    rules = ClassifyRules(devices=((DeviceMatch.parse("1a2c:0001", "/dev/input"),
                                    HidRole.SCANNER),))
    result = classify(device, rules, {device.stable_id: HidRole.KEYBOARD})
    assert (result.role, result.basis) == (HidRole.KEYBOARD, Basis.OVERRIDE)


def test_an_override_saved_by_usb_id_still_applies_when_a_by_id_link_appears() -> None:
    device = _device("USB Keyboard", serial="77", by_id="/dev/input/by-id/usb-x-event-kbd")
    assert classify(device, overrides={"1a2c:0001": HidRole.SCANNER}).role is HidRole.SCANNER


def test_a_match_parses_usb_ids_and_by_id_names() -> None:
    assert DeviceMatch.parse("0C2E:0b61", "/dev/input") == DeviceMatch(vendor=0x0C2E,
                                                                      product=0x0B61)
    assert DeviceMatch.parse("0c2e:0b61:SN:1", "/dev/input").serial == "SN:1"
    assert DeviceMatch.parse(BY_ID, "/in").by_id == f"/in/by-id/{BY_ID}"
    assert str(DeviceMatch.parse("0c2e:0b61:7", "/in")) == "0c2e:0b61:7"


def test_a_usb_match_without_serial_matches_any_serial_and_with_one_only_that() -> None:
    device = _device("x", vendor=0x0C2E, product=0x0B61, serial="A1")
    assert DeviceMatch.parse("0c2e:0b61", "/in").matches(device)
    assert DeviceMatch.parse("0c2e:0b61:A1", "/in").matches(device)
    assert not DeviceMatch.parse("0c2e:0b61:B2", "/in").matches(device)


def test_overrides_are_saved_and_loaded(tmp_path: Path) -> None:
    store = OverrideStore(tmp_path / "state" / "hid_overrides.json")
    assert store.load() == {}
    store.set("0c2e:0b61", HidRole.SCANNER)
    store.set("/dev/input/by-id/usb-kbd", HidRole.KEYBOARD)
    assert OverrideStore(store.path).load() == {
        "0c2e:0b61": HidRole.SCANNER, "/dev/input/by-id/usb-kbd": HidRole.KEYBOARD,
    }
    assert store.set("0c2e:0b61", None) == {"/dev/input/by-id/usb-kbd": HidRole.KEYBOARD}
    assert json.loads(store.path.read_text())["version"] == 1
    assert os.listdir(store.path.parent) == ["hid_overrides.json"]  # no temp file left


def test_a_failed_save_leaves_the_old_file_whole_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = OverrideStore(tmp_path / "hid_overrides.json")
    store.save({"0c2e:0b61": HidRole.SCANNER})
    before = store.path.read_bytes()

    def fail(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        store.save({"0c2e:0b61": HidRole.KEYBOARD})
    monkeypatch.undo()
    assert store.path.read_bytes() == before
    assert os.listdir(tmp_path) == ["hid_overrides.json"]


@pytest.mark.parametrize("content", [
    "{", "[]", '{"overrides": []}', '{"overrides": {"x": "printer"}}',
])
def test_a_damaged_overrides_file_is_config_invalid(tmp_path: Path, content: str) -> None:
    path = tmp_path / "hid_overrides.json"
    path.write_text(content)
    with pytest.raises(DeviceError) as bad:
        OverrideStore(path).load()
    assert bad.value.code is DeviceErrorCode.CONFIG_INVALID
    assert bad.value.params["field"] == str(path)
