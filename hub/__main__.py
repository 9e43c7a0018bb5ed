"""Run the salon-edge command line as ``python -m hub``."""

from __future__ import annotations

from hub.cli import main

raise SystemExit(main())
