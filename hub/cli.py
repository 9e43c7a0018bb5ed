"""The salon-edge command line: one subcommand per way to run the store hub."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from hub.devices_cli import add_devices_commands
from hub.store_cli import add_store_commands

__all__ = ["main"]

Handler = Callable[[argparse.Namespace], int]


def _version() -> str:
    try:
        return version("salon-edge")
    except PackageNotFoundError:
        return "0+unknown (not installed)"


def _demo(args: argparse.Namespace) -> int:
    # Imported here so that --help and --version never pay for building a store.
    from hub import demo

    return demo.run(out=sys.stdout, locale=args.lang, data_dir=args.data_dir)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="salon-edge", description="The salon store edge hub (kiosk, devices, storage, sync)."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo", help="run a demo store day on a real edge store in a temporary directory: "
        "no hardware, no broker"
    )
    demo.add_argument("--lang", choices=("zh_CN", "en"), default="zh_CN",
                      help="language of the demo's screens and receipts (default zh_CN)")
    demo.add_argument("--data-dir", type=Path, default=None,
                      help="keep the demo store here (default: a temporary directory, removed)")
    demo.set_defaults(handler=_demo)
    add_store_commands(commands)
    add_devices_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the salon-edge command line and return its exit status."""
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors: report the status instead
        return exc.code if isinstance(exc.code, int) else 2
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return handler(args)
    except BrokenPipeError:
        # The reader went away (`salon-edge demo | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
