"""What the status light shows and the buzzer says, from the store's and devices' states.

The light: red (FAULT) when the store cannot commit or a device the counter needs is
missing or failing, blinking red (ATTENTION) while someone's call for staff is open,
amber (OFFLINE) without HQ, blinking amber (SYNCING) while sales wait to be sent,
blinking green (STOCK_LOW) while a product is below its low-stock threshold
(``salon.stock.low_stock``), green (READY) otherwise. The buzzer: a short beep for a
read that was accepted, a long one for a garbled read or a card the store refused.
"""

from __future__ import annotations

from collections.abc import Iterable

from devices.ports import Beep, DeviceKind, DeviceState, DeviceStatus, Signal
from salon.scans import DeviceInput, ScanGarbled

__all__ = ["beep_for", "status_signal"]

_COUNTER = {DeviceKind.SCANNER, DeviceKind.CARD_READER, DeviceKind.PRINTER, DeviceKind.DRAWER}
"""The devices a sale needs; the light, buzzer and button failing is no reason to stop."""


def status_signal(
    devices: Iterable[DeviceStatus],
    *,
    store_writable: bool,
    online: bool,
    unsent_records: int,
    staff_called: bool = False,
    low_stock: bool = False,
) -> Signal:
    if not store_writable:
        return Signal.FAULT
    if any(s.kind in _COUNTER and s.state in (DeviceState.MISSING, DeviceState.ERROR)
           for s in devices):
        return Signal.FAULT
    if staff_called:
        return Signal.ATTENTION
    if not online:
        return Signal.OFFLINE
    if unsent_records > 0:
        return Signal.SYNCING
    if low_stock:
        return Signal.STOCK_LOW
    return Signal.READY


def beep_for(item: DeviceInput, *, refused: bool = False) -> Beep:
    """``refused``: the read was good but the store said no (an unknown or blocked card)."""
    if refused or isinstance(item, ScanGarbled):
        return Beep.REFUSED
    return Beep.GOOD
