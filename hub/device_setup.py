"""Build the store's devices from the ``[devices]`` settings (or fakes) and own them.

The hub is the composition root: this is where each adapter is made from its config
and handed what it needs (the clock, the pin factory, the printer's raw channel for
the drawer). A device that cannot be built (no GPIO on this machine, a pin in use)
is reported in the manager's states with its reason and left out; the rest run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from devices.config import DevicesConfig, InputConfig
from devices.drawer import PrinterKickConfig, PrinterKickDrawer, RelayDrawer, RelayDrawerConfig
from devices.errors import DeviceError
from devices.escpos_printer import EscposPrinter
from devices.evdev_input import EvdevInput
from devices.fakes import (
    FakeBuzzer,
    FakeCallButton,
    FakeCardReader,
    FakeDrawer,
    FakeIndicator,
    FakePrinter,
    FakeScanner,
)
from devices.gpio_devices import GpioBuzzer, GpioCallButton, GpioStatusLight, default_pin_factory
from devices.hid_decoder import DecoderSettings
from devices.hotplug import HotplugWatcher
from devices.manager import DeviceManager, status_of_error
from devices.ports import (
    Buzzer,
    CallButton,
    CashDrawer,
    DeviceKind,
    DeviceState,
    DeviceStatus,
    Indicator,
    InputDevice,
    ReceiptPrinter,
)
from devices.print_spool import PrintSpool
from devices.serial_reader import SerialReader

__all__ = ["Devices", "build_devices", "fake_devices", "hotplug_dirs"]

log = logging.getLogger(__name__)


@dataclass
class Devices:
    """Every device of the store, built and owned together; ``close`` releases them all."""

    manager: DeviceManager
    inputs: list[InputDevice] = field(default_factory=list)
    printer: ReceiptPrinter | None = None
    spool: PrintSpool | None = None
    drawer: CashDrawer | None = None
    light: Indicator | None = None
    buzzer: Buzzer | None = None
    button: CallButton | None = None
    pin_factory: Any = None

    def close(self) -> None:
        self.manager.stop()
        if self.spool is not None:
            self.spool.close(timeout=5.0)
        for device in (self.printer, self.drawer, self.light, self.buzzer, self.button):
            if device is None:
                continue
            try:
                device.close()
            except (DeviceError, OSError) as err:
                log.warning("device %s: close failed (%s)", device.device_id, err)
        if self.pin_factory is not None:
            self.pin_factory.close()


def hotplug_dirs(config: DevicesConfig) -> list[Path]:
    """Where device nodes appear: input nodes, their by-id links, serial by-id, /dev itself."""
    inputs = Path(config.input_dir)
    return [inputs, inputs / "by-id", Path("/dev/serial/by-id"), Path("/dev")]


def _input(config: InputConfig, clock: Callable[[], datetime], input_dir: str) -> InputDevice:
    if config.protocol is not None:
        return SerialReader(config.device_id, config.serial, config.protocol, clock=clock)
    settings = DecoderSettings(idle_gap=config.idle_gap_ms / 1000,
                               stale_after=config.stale_after_ms / 1000)
    return EvdevInput(config.device_id, config.evdev, config.kind, clock=clock,
                      layout=config.layout, settings=settings, input_dir=input_dir)


def build_devices(
    config: DevicesConfig,
    clock: Callable[[], datetime],
    *,
    pin_factory: Any = None,
    watch: bool = True,
) -> Devices:
    """The real adapters of ``config``; the manager is not started yet (``manager.start()``)."""
    watcher = HotplugWatcher(hotplug_dirs(config)) if watch else None
    devices = Devices(DeviceManager(clock, watcher))
    manager = devices.manager
    for entry in config.inputs:
        try:
            adapter = _input(entry, clock, config.input_dir)
        except DeviceError as err:
            manager.track(status_of_error(entry.device_id, entry.kind, err))
            continue
        devices.inputs.append(adapter)
        manager.add_input(adapter, entry.kind)
    printer = _built(manager, DeviceKind.PRINTER, config.printer, None, EscposPrinter,
                     tracked=False)
    if printer is not None:
        devices.printer = printer
        manager.track(DeviceStatus(printer.device_id, DeviceKind.PRINTER, DeviceState.CONNECTING))
        kick_id = ""
        if isinstance(config.drawer, PrinterKickConfig):  # the config insists on a printer
            devices.drawer = PrinterKickDrawer(config.drawer, printer.send_raw)
            kick_id = config.drawer.device_id
            manager.track(DeviceStatus(kick_id, DeviceKind.DRAWER, DeviceState.CONNECTING))

        def printer_status(status: DeviceStatus) -> None:
            manager.report(status)
            if kick_id:  # a drawer on the printer's port is as reachable as the printer
                manager.report(DeviceStatus(kick_id, DeviceKind.DRAWER, status.state,
                                            status.reason, status.params))

        devices.spool = PrintSpool(printer, on_status=printer_status, clock=clock)
    relay = config.drawer if isinstance(config.drawer, RelayDrawerConfig) else None
    gpio = [(c, kind) for c, kind in (
        (config.light, DeviceKind.LIGHT), (config.buzzer, DeviceKind.BUZZER),
        (config.call_button, DeviceKind.BUTTON), (relay, DeviceKind.DRAWER),
    ) if c is not None]
    if gpio:
        try:
            devices.pin_factory = pin_factory or default_pin_factory()
        except DeviceError as err:
            for wired, kind in gpio:
                manager.track(status_of_error(wired.device_id, kind, err))
    factory = devices.pin_factory
    if factory is not None:
        devices.drawer = _built(manager, DeviceKind.DRAWER, relay, devices.drawer,
                                lambda c: RelayDrawer(c, pin_factory=factory))
        devices.light = _built(manager, DeviceKind.LIGHT, config.light, None,
                               lambda c: GpioStatusLight(c, pin_factory=factory))
        devices.buzzer = _built(manager, DeviceKind.BUZZER, config.buzzer, None,
                                lambda c: GpioBuzzer(c, pin_factory=factory))
        devices.button = _built(manager, DeviceKind.BUTTON, config.call_button, None,
                                lambda c: GpioCallButton(c, pin_factory=factory))
    if devices.button is not None:
        button_id = devices.button.device_id
        devices.button.on_press(lambda: manager.staff_called(button_id))
    return devices


def _built(manager: DeviceManager, kind: DeviceKind, config: Any, default: Any,
           build: Callable[[Any], Any], *, tracked: bool = True) -> Any:
    """``build(config)``, tracked as CONNECTED (unless not ``tracked``: the caller knows
    its state); on a DeviceError the device is reported with its reason and left out."""
    if config is None:
        return default
    try:
        device = build(config)
    except DeviceError as err:
        manager.track(status_of_error(config.device_id, kind, err))
        return default
    if tracked:
        manager.track(DeviceStatus(config.device_id, kind, DeviceState.CONNECTED))
    return device


def fake_devices(clock: Callable[[], datetime]) -> Devices:
    """Every kind of device as its fake, for ``--fake-devices``, the demo and tests."""
    manager = DeviceManager(clock, retry_seconds=1.0)
    scanner, reader = FakeScanner("scanner", clock), FakeCardReader("card_reader", clock)
    manager.add_input(scanner, DeviceKind.SCANNER)
    manager.add_input(reader, DeviceKind.CARD_READER)
    printer = FakePrinter("printer")
    devices = Devices(
        manager, inputs=[scanner, reader], printer=printer,
        spool=PrintSpool(printer, on_status=manager.report, clock=clock, poll_interval=None),
        drawer=FakeDrawer("drawer"), light=FakeIndicator("light"), buzzer=FakeBuzzer("buzzer"),
        button=FakeCallButton("call_button"),
    )
    for device, kind in ((devices.drawer, DeviceKind.DRAWER), (devices.light, DeviceKind.LIGHT),
                         (devices.buzzer, DeviceKind.BUZZER), (devices.button, DeviceKind.BUTTON),
                         (printer, DeviceKind.PRINTER)):
        assert device is not None
        manager.track(DeviceStatus(device.device_id, kind, DeviceState.CONNECTED))
    assert devices.button is not None
    devices.button.on_press(lambda: manager.staff_called("call_button"))
    return devices
