"""A fake for every port, in one place: what ``--fake-devices`` and other packages' tests use.

Each fake lives beside the adapters of its kind (``fakes_input``, ``fakes_printer``,
``fakes_gpio``) and has helpers to drive and inspect it (``FakeScanner.scan``,
``FakePrinter.printed``, ``FakeCallButton.press`` ...).
"""

from __future__ import annotations

from devices.fakes_gpio import FakeBuzzer, FakeCallButton, FakeDrawer, FakeIndicator
from devices.fakes_input import FakeCardReader, FakeScanner
from devices.fakes_printer import FakePrinter

__all__ = [
    "FakeBuzzer",
    "FakeCallButton",
    "FakeCardReader",
    "FakeDrawer",
    "FakeIndicator",
    "FakePrinter",
    "FakeScanner",
]
