"""PLACEHOLDER for the demo store; the real hub/demo.py replaces this whole module.

It only keeps ``salon-edge demo`` wired end to end until the demo is built: it says so and
exits 1, so nothing mistakes it for a working demo.
"""

from __future__ import annotations

from typing import TextIO

__all__ = ["run"]


def run(out: TextIO) -> int:
    """Say that the demo is not built yet and return a failing status."""
    print("demo not built yet", file=out)
    return 1
