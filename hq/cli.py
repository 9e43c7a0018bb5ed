"""The salon-hq command line: a stub until the HQ service is built in a later issue."""

from __future__ import annotations

import argparse
from importlib.metadata import PackageNotFoundError, version

__all__ = ["main"]


def _version() -> str:
    try:
        return version("salon-edge")
    except PackageNotFoundError:
        return "0+unknown (not installed)"


def main(argv: list[str] | None = None) -> int:
    """Run the salon-hq command line and return its exit status (2: nothing to run yet)."""
    parser = argparse.ArgumentParser(
        prog="salon-hq",
        description=(
            "HQ for the salon chain: event ingest, prices and config, members, reports. "
            "Not built yet: it comes in a later issue; only --version and --help work."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    try:
        parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    parser.print_help()
    return 2
