"""``devices doctor``: what hardware is here, which configured device is which, a self-test.

The survey only reads (input devices are opened to be looked at, never grabbed; serial
ports and printers are listed, not opened). The check opens each configured input
once and asks the printer its status. The self-test prints a receipt, kicks the
drawer, blinks the light and beeps, each result reported, none stopping the others.
The hub renders the report in the engineer's language; nothing here prints.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from devices.config import DevicesConfig
from devices.discovery import SerialPort, UsbPrinter, list_serial_ports, list_usb_printers
from devices.errors import DeviceError, DeviceErrorCode
from devices.hid_identity import (
    Classification,
    DeviceMatch,
    HidDevice,
    Opener,
    OverrideStore,
    classify,
    discover,
    open_evdev,
)
from devices.manager import status_of_error
from devices.ports import (
    Beep,
    Buzzer,
    CashDrawer,
    DeviceKind,
    DeviceState,
    DeviceStatus,
    Indicator,
    InputDevice,
    ReceiptPrinter,
    Signal,
)
from devices.receipt_doc import Receipt

__all__ = [
    "HidSeen",
    "SelfTestResult",
    "Survey",
    "check_inputs",
    "self_test",
    "survey",
]


@dataclass(frozen=True, slots=True)
class HidSeen:
    device: HidDevice
    classification: Classification
    configured_as: str  # the id of the configured device it is, or ""


@dataclass(frozen=True, slots=True)
class Survey:
    hid: list[HidSeen]
    serial: list[tuple[SerialPort, str]]  # each port and the configured device on it, or ""
    usb_printers: list[UsbPrinter]


def survey(config: DevicesConfig, opener: Opener = open_evdev) -> Survey:
    """Every input device, serial port and USB printer visible, matched against ``config``."""
    overrides = OverrideStore(config.overrides).load() if config.overrides else {}
    evdev_matches = [
        (entry.device_id, DeviceMatch.parse(entry.evdev, config.input_dir, entry.device_id))
        for entry in config.inputs if entry.evdev
    ]
    hid = []
    for device in discover(config.input_dir, opener):
        named = next((i for i, m in evdev_matches if m.matches(device)), "")
        hid.append(HidSeen(device, classify(device, overrides=overrides), named))
    serial_paths = {
        os.path.realpath(entry.serial): entry.device_id for entry in config.inputs
        if entry.serial
    }
    ports = [(port, serial_paths.get(os.path.realpath(port.path), ""))
             for port in list_serial_ports()]
    return Survey(hid, ports, list_usb_printers())


def check_inputs(inputs: Sequence[tuple[InputDevice, DeviceKind]]) -> list[DeviceStatus]:
    """Open and close each configured input once: can it be had (grabbed) right now?"""
    out = []
    for device, kind in inputs:
        try:
            device.open()
        except DeviceError as err:
            out.append(status_of_error(device.device_id, kind, err))
            continue
        device.close()
        out.append(DeviceStatus(device.device_id, kind, DeviceState.CONNECTED))
    return out


@dataclass(frozen=True, slots=True)
class SelfTestResult:
    device_id: str
    kind: DeviceKind
    error: DeviceError | None  # None: done


def _attempt(device_id: str, kind: DeviceKind, act: Callable[[], None]) -> SelfTestResult:
    try:
        act()
    except DeviceError as err:
        return SelfTestResult(device_id, kind, err)
    except OSError as err:  # an adapter that let its transport's error through
        return SelfTestResult(device_id, kind, DeviceError(
            DeviceErrorCode.OPEN_FAILED, {"device": device_id, "reason": str(err)}))
    return SelfTestResult(device_id, kind, None)


def self_test(
    receipt: Receipt | None,
    printer: ReceiptPrinter | None,
    drawer: CashDrawer | None,
    light: Indicator | None,
    buzzer: Buzzer | None,
    *,
    blink_seconds: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> list[SelfTestResult]:
    """Print ``receipt``, kick the drawer, blink the light then show READY, beep once."""
    results = []
    if printer is not None and receipt is not None:
        results.append(_attempt(printer.device_id, DeviceKind.PRINTER,
                                lambda: printer.print_receipt(receipt)))
    if drawer is not None:
        results.append(_attempt(drawer.device_id, DeviceKind.DRAWER, drawer.open_drawer))
    if light is not None:
        def blink() -> None:
            light.show(Signal.ATTENTION)
            sleep(blink_seconds)
            light.show(Signal.READY)
        results.append(_attempt(light.device_id, DeviceKind.LIGHT, blink))
    if buzzer is not None:
        results.append(_attempt(buzzer.device_id, DeviceKind.BUZZER,
                                lambda: buzzer.beep(Beep.GOOD)))
    return results
