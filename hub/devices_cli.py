"""``salon-edge devices doctor|listen``: set up and check a store's hardware.

``doctor`` lists the input devices, serial ports and printers it can see and which
configured device is which, opens each configured device once, then (unless
``--no-self-test``) prints a self-test receipt in the chosen language, kicks the
drawer, blinks the light and beeps. ``listen`` shows decoded inputs and device states
live. Exit status: 0 done, 1 a configured device is missing or failed its test,
2 a usage or configuration error. Scanned pay codes and card UIDs are shown masked.
"""

from __future__ import annotations

import argparse
import platform
import queue
import socket
import sys
import time
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from devices.config import DevicesConfig
    from devices.ports import DeviceStatus
    from devices.receipt_doc import Receipt
    from hub.device_setup import Devices
    from kiosk.i18n import Locale

__all__ = ["add_devices_commands", "describe_item"]

OK, CHECK_FAILED, REFUSED = 0, 1, 2


def add_devices_commands(commands: Any) -> None:
    """Add ``devices`` and its actions to the ``salon-edge`` subcommands."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, default=None,
                        help="the settings file whose [devices] table names the devices "
                             "(default: none configured)")
    common.add_argument("--lang", choices=("zh_CN", "en"), default="zh_CN",
                        help="language of the report and the self-test receipt (default zh_CN)")
    devices = commands.add_parser(
        "devices", help="the store's hardware: doctor, listen",
        description="Find and check scanners, card readers, the printer, drawer and lights. "
                    "Exit status: 0 done, 1 a device is missing or failed, 2 usage error.")
    actions = devices.add_subparsers(dest="devices_action", metavar="ACTION", required=True)
    doctor = actions.add_parser("doctor", parents=[common],
                                help="list what is plugged in, check the configured devices, "
                                     "print a self-test receipt")
    doctor.add_argument("--no-self-test", action="store_true",
                        help="do not print, kick the drawer, blink or beep")
    doctor.set_defaults(handler=_doctor)
    listen = actions.add_parser("listen", parents=[common],
                                help="show decoded scans, cards and device states live")
    listen.add_argument("--seconds", type=float, default=None,
                        help="stop after this long (default: until Ctrl-C)")
    listen.add_argument("--fake-devices", action="store_true",
                        help="listen to fake devices that replay a few sample inputs, then stop")
    listen.set_defaults(handler=_listen)
    role = actions.add_parser(
        "set-role", parents=[common],
        help="save what an input device is (its stable id as doctor lists it), overriding "
             "the guess from its name: scanner, card_reader, keyboard, or auto to forget")
    role.add_argument("stable_id", help="e.g. /dev/input/by-id/usb-...-event-kbd or 0c2e:0b61")
    role.add_argument("role", choices=("scanner", "card_reader", "keyboard", "auto"))
    role.set_defaults(handler=_set_role)


def _load(args: argparse.Namespace, out: TextIO) -> DevicesConfig | None:
    from devices.config import DevicesConfig, load_config
    from devices.errors import DeviceError
    from kiosk.i18n import render_error

    if args.config is None:
        return DevicesConfig()
    try:
        return load_config(args.config)
    except DeviceError as err:
        print(render_error(err, args.lang), file=out)
        return None


def _state_text(status: DeviceStatus, locale: Locale) -> str:
    from devices.errors import DeviceError
    from kiosk.i18n import render_error, text

    state = text(f"cli.devices_state_{status.state.value}", locale)
    if status.reason is None:
        return state
    return f"{state}: {render_error(DeviceError(status.reason, dict(status.params)), locale)}"


def _doctor(args: argparse.Namespace) -> int:
    from devices.doctor import check_inputs, self_test, survey
    from devices.ports import DeviceState
    from hub.device_setup import build_devices
    from kiosk.i18n import render_error, text

    out: TextIO = sys.stdout
    locale: Locale = args.lang
    config = _load(args, out)
    if config is None:
        return REFUSED
    seen = survey(config)
    print(text("cli.devices_hid_heading", locale), file=out)
    for hid in seen.hid:
        role = text(f"cli.devices_role_{hid.classification.role.value}", locale)
        role += f" ({hid.classification.basis.value})"
        name = hid.device.name or "?"
        mine = f" -> {hid.configured_as}" if hid.configured_as else ""
        problem = f" ({render_error(_error(hid.device.error), locale)})" if hid.device.error else ""
        print(f"  {hid.device.path}  {hid.device.stable_id}  \"{name}\"  {role}{mine}{problem}",
              file=out)
    _none_if_empty(seen.hid, out, locale)
    print(text("cli.devices_serial_heading", locale), file=out)
    for port, device_id in seen.serial:
        label = " ".join(x for x in (port.stable_path, port.usb_id, port.description) if x)
        line = "  ".join(x for x in (f"  {port.path}", label) if x)
        print(line + (f" -> {device_id}" if device_id else ""), file=out)
    _none_if_empty(seen.serial, out, locale)
    print(text("cli.devices_printer_heading", locale), file=out)
    for printer in seen.usb_printers:
        print(f"  {printer.usb_id}  {printer.product}  {printer.lp_node}", file=out)
    _none_if_empty(seen.usb_printers, out, locale)

    devices = build_devices(config, lambda: datetime.now(UTC), watch=False)
    try:
        statuses = {s.device_id: s for s in devices.manager.statuses()}
        inputs = [(m.device, m.kind) for m in devices.manager.inputs()]
        statuses.update({s.device_id: s for s in check_inputs(inputs)})
        if devices.printer is not None:
            statuses[devices.printer.device_id] = devices.printer.status()
        print(text("cli.devices_configured_heading", locale), file=out)
        for status in statuses.values():
            kind = text(f"cli.devices_kind_{status.kind.value}", locale)
            print(f"  {status.device_id}  {kind}  {_state_text(status, locale)}", file=out)
        if not statuses:
            key = "cli.devices_none" if args.config else "cli.devices_no_config"
            print("  " + text(key, locale), file=out)
        failed = any(s.state in (DeviceState.MISSING, DeviceState.ERROR)
                     for s in statuses.values())
        if not args.no_self_test and statuses:
            receipt = _self_test_receipt(list(statuses.values()), locale, _store_of(args.config))
            print(text("cli.devices_self_test_heading", locale), file=out)
            for result in self_test(receipt, devices.printer, devices.drawer, devices.light,
                                    devices.buzzer):
                outcome = (text("cli.devices_self_test_ok", locale) if result.error is None
                           else render_error(result.error, locale))
                print(f"  {result.device_id}  {outcome}", file=out)
                failed = failed or result.error is not None
    finally:
        devices.close()
    return CHECK_FAILED if failed else OK


def _set_role(args: argparse.Namespace) -> int:
    from devices.errors import DeviceError
    from devices.hid_identity import HidRole, OverrideStore
    from kiosk.i18n import render_error, text

    out: TextIO = sys.stdout
    config = _load(args, out)
    if config is None:
        return REFUSED
    if not config.overrides:
        print(text("cli.devices_no_overrides", args.lang), file=out)
        return REFUSED
    role = None if args.role == "auto" else HidRole(args.role)
    try:
        OverrideStore(config.overrides).set(args.stable_id, role)
    except DeviceError as err:
        print(render_error(err, args.lang), file=out)
        return REFUSED
    print(text("cli.devices_role_saved", args.lang, device=args.stable_id,
               role=text(f"cli.devices_role_{(role or HidRole.UNKNOWN).value}", args.lang)
               if role else args.role), file=out)
    return OK


def _error(code: Any) -> Any:
    from devices.errors import DeviceError

    return DeviceError(code, {})


def _none_if_empty(items: list[Any], out: TextIO, locale: Locale) -> None:
    from kiosk.i18n import text

    if not items:
        print("  " + text("cli.devices_none", locale), file=out)


_SIOCGIFADDR = 0x8915


def _addresses() -> str:
    """This machine's IPv4 addresses, loopback left out, or "-".

    Read from the interfaces rather than by resolving the host name, which on a Pi
    gives /etc/hosts' 127.0.1.1 and with DNS unreachable may wait for its timeout.
    """
    import fcntl
    import struct

    found = []
    try:
        names = [name for _, name in socket.if_nameindex()]
    except OSError:
        return "-"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for name in names:
            try:
                answer = fcntl.ioctl(probe.fileno(), _SIOCGIFADDR,
                                     struct.pack("256s", name.encode()[:15]))
            except OSError:  # no IPv4 address on it
                continue
            address = socket.inet_ntoa(answer[20:24])
            if not address.startswith("127."):
                found.append(f"{name} {address}")
    return ", ".join(found) or "-"


def _store_of(config_path: Path | None) -> str:
    """The store's name and id from the settings' ``[store]`` table, or "-" without one."""
    if config_path is None:
        return "-"
    try:
        store = tomllib.loads(config_path.read_text(encoding="utf-8")).get("store", {})
    except (OSError, tomllib.TOMLDecodeError):
        return "-"  # already reported by the devices table's loading, if it matters
    if not isinstance(store, dict):
        return "-"
    return " ".join(str(store[k]) for k in ("name", "id") if store.get(k)) or "-"


def _self_test_receipt(statuses: list[DeviceStatus], locale: Locale, store: str) -> Receipt:
    from devices.receipt_doc import Align, Receipt, Row, Rule, Text
    from hub.cli import _version
    from kiosk.i18n import text

    now = datetime.now().astimezone()
    blocks: list[Any] = [
        Text(text("cli.devices_receipt_title", locale), Align.CENTER, big=True),
        Rule(),
        Row(text("cli.devices_receipt_store", locale), store),
        Row(text("cli.devices_receipt_time", locale), f"{now:%Y-%m-%d %H:%M}"),
        Row(text("cli.devices_receipt_host", locale), socket.gethostname()),
        Row(text("cli.devices_receipt_network", locale), _addresses()),
        Row(text("cli.devices_receipt_version", locale), f"{_version()} / {platform.machine()}"),
        Rule(),
    ]
    blocks += [Row(s.device_id, text(f"cli.devices_state_{s.state.value}", locale))
               for s in statuses]
    blocks += [Rule(), Text(text("cli.devices_receipt_footer", locale), Align.CENTER)]
    return Receipt(job_id=f"self-test-{now:%Y%m%d%H%M%S}", blocks=tuple(blocks))


def describe_item(item: Any, locale: Locale) -> str:
    """One queued input or state change as a line for ``listen`` (pay codes, cards masked)."""
    from devices.ports import DeviceStateChanged, StaffCalled
    from kiosk.i18n import text
    from salon.scans import BarcodeScanned, CardPresented, PayCodeScanned, ScanGarbled

    if isinstance(item, DeviceStateChanged):
        status = item.status
        return f"{status.device_id}: {_state_text(status, locale)}"
    if isinstance(item, BarcodeScanned):
        return text("cli.devices_barcode", locale, device=item.device_id,
                    symbology=item.symbology.value, code=item.code)
    if isinstance(item, PayCodeScanned):
        return text("cli.devices_pay_code", locale, device=item.device_id,
                    wallet=text(f"cli.devices_wallet_{item.wallet.value}", locale),
                    code=_masked(item.code))
    if isinstance(item, CardPresented):
        return text("cli.devices_card", locale, device=item.device_id,
                    source=item.source.value, uid=_masked(item.uid))
    if isinstance(item, ScanGarbled):
        return text("cli.devices_garbled", locale, device=item.device_id,
                    reason=item.reason.value, length=item.length)
    if isinstance(item, StaffCalled):
        return text("cli.devices_staff_called", locale, device=item.device_id)
    return repr(item)


def _masked(code: str) -> str:
    return "*" * max(len(code) - 4, 0) + code[-4:]


class _Replay:
    """``--fake-devices``: a barcode, a pay code, a card, a garbled scan, the scanner
    unplugged and back; each step waits until what it caused has been seen, so the
    replay reads the same on a slow machine."""

    def __init__(self, devices: Devices) -> None:
        from devices.fakes import FakeCardReader, FakeScanner
        from devices.ports import DeviceState, DeviceStateChanged
        from salon.scans import BarcodeScanned, CardPresented, PayCodeScanned, ScanGarbled

        scanner = next(d for d in devices.inputs if isinstance(d, FakeScanner))
        reader = next(d for d in devices.inputs if isinstance(d, FakeCardReader))

        def state(device_id: str, wanted: DeviceState) -> Callable[[Any], bool]:
            return lambda i: (isinstance(i, DeviceStateChanged)
                              and i.status.device_id == device_id and i.status.state is wanted)

        def kind(cls: type) -> Callable[[Any], bool]:
            return lambda i: isinstance(i, cls)

        connected: set[str] = set()

        def both_connected(item: Any) -> bool:  # the two readers connect in either order
            for device_id in (scanner.device_id, reader.device_id):
                if state(device_id, DeviceState.CONNECTED)(item):
                    connected.add(device_id)
            return len(connected) == 2

        self._steps: list[tuple[Callable[[], None], Callable[[Any], bool]]] = [
            (lambda: None, both_connected),
            (lambda: scanner.scan("6901234567892"), kind(BarcodeScanned)),
            (lambda: scanner.scan("134567890123456789"), kind(PayCodeScanned)),
            (lambda: reader.present("04:A1:B2:C3"), kind(CardPresented)),
            (lambda: scanner.scan("6901234567893"), kind(ScanGarbled)),
            (scanner.unplug, state(scanner.device_id, DeviceState.MISSING)),
            (scanner.replug, state(scanner.device_id, DeviceState.CONNECTED)),
        ]
        self._waiting: Callable[[Any], bool] | None = None

    def advance(self, item: Any | None) -> bool:
        """Note ``item`` (None: nothing came); run the next step when due. False when done."""
        if self._waiting is not None:
            if item is None or not self._waiting(item):
                return True
            self._waiting = None
        if not self._steps:
            return False
        act, self._waiting = self._steps.pop(0)
        act()
        return True


def _listen(args: argparse.Namespace) -> int:
    from hub.device_setup import build_devices, fake_devices
    from kiosk.i18n import text

    out: TextIO = sys.stdout
    config = _load(args, out)
    if config is None:
        return REFUSED
    if args.config is None and not args.fake_devices:
        print(text("cli.devices_no_config", args.lang), file=out)
        return REFUSED
    clock = lambda: datetime.now(UTC)  # noqa: E731 - the one clock of this command
    devices = fake_devices(clock) if args.fake_devices else build_devices(config, clock)
    replay = _Replay(devices) if args.fake_devices else None
    if replay is not None:
        replay.advance(None)  # the first step: wait for the readers to connect
    devices.manager.start()
    deadline = None if args.seconds is None else time.monotonic() + args.seconds
    try:
        while deadline is None or time.monotonic() < deadline:
            try:
                item = devices.manager.events.get(timeout=0.3)
            except queue.Empty:
                item = None
            if item is not None:
                print(describe_item(item, args.lang), file=out, flush=True)
            if replay is not None and not replay.advance(item):
                break  # the replay is over
    except KeyboardInterrupt:
        pass
    finally:
        devices.close()
    return OK
