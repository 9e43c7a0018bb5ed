"""salon/ stays pure: stdlib-only imports, no I/O modules, no clock or random-id calls.

This walks the source with ast, in addition to import-linter, so it also catches calls
(``open(...)``, ``datetime.now()``) and stdlib modules that import-linter does not forbid.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

SALON = Path(__file__).resolve().parents[1] / "salon"

BANNED_MODULES = frozenset(
    {
        "socket", "subprocess", "os", "io", "pathlib", "shutil", "tempfile",
        "urllib", "http", "random", "secrets", "uuid",
    }
)
BANNED_CALLS = frozenset(
    {
        "open", "builtins.open", "time.time", "time.monotonic", "datetime.now",
        "datetime.utcnow", "date.today", "datetime.today", "uuid4", "uuid1",
    }
)


def _dotted(node: ast.expr) -> str | None:
    """``a.b.c`` for a Name or an Attribute chain over a Name; None for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _banned_call(name: str) -> bool:
    if name in BANNED_CALLS:
        return True
    # dt.datetime.now() or time.time(): a banned dotted name at the end of a longer chain.
    return any("." in banned and name.endswith("." + banned) for banned in BANNED_CALLS)


def violations(source: str, filename: str) -> list[str]:
    """Every purity violation in ``source`` as ``file:line: what``."""
    found: list[tuple[int, str]] = []

    def report(node: ast.stmt | ast.expr, what: str) -> None:
        found.append((node.lineno, f"{filename}:{node.lineno}: {what}"))

    def check_module(node: ast.stmt, module: str) -> None:
        top = module.partition(".")[0]
        if top != "salon" and top not in sys.stdlib_module_names:
            report(node, f"imports {module!r}, which is neither stdlib nor salon")
        elif top in BANNED_MODULES:
            report(node, f"imports {module!r}: salon does no I/O and makes no clock or ids")

    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                check_module(node, alias.name)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            check_module(node, node.module)
            for alias in node.names:  # from time import time; from datetime import datetime
                if _banned_call(f"{node.module}.{alias.name}"):
                    report(node, f"imports {node.module}.{alias.name}: the clock is passed in")
        elif isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name is not None and _banned_call(name):
                report(node, f"calls {name}(): the clock and ids are passed in")
        # Money is integer fen: no float values, no float type, no true division.
        if isinstance(node, ast.Constant) and isinstance(node.value, float):
            report(node, "float literal: money is integer fen")
        elif isinstance(node, ast.Name) and node.id == "float":
            report(node, "uses float: money is integer fen")
        elif isinstance(node, ast.BinOp | ast.AugAssign) and isinstance(node.op, ast.Div):
            report(node, "true division (/): use salon.money.mul_div or //")
    return [message for _, message in sorted(found, key=lambda item: item[0])]


def salon_modules() -> list[Path]:
    return sorted(SALON.rglob("*.py"))


def test_salon_has_its_modules_where_expected() -> None:
    assert (SALON / "__init__.py").is_file(), f"no salon package at {SALON}"
    assert len(salon_modules()) >= 5, f"only {len(salon_modules())} modules under {SALON}"


def test_salon_imports_only_stdlib_and_makes_no_io_clock_or_id_calls() -> None:
    root = SALON.parent
    problems = [
        problem
        for path in salon_modules()
        for problem in violations(path.read_text(encoding="utf-8"), str(path.relative_to(root)))
    ]
    assert not problems, "salon/ must stay pure:\n" + "\n".join(problems)


def test_checker_reports_each_kind_of_violation_with_file_and_line() -> None:
    source = "\n".join(
        [
            "import socket",
            "from datetime import datetime",
            "import tinydb",
            "from os import path",
            "from time import monotonic",
            "stamp = datetime.now()",
            "handle = open('x')",
            "import datetime as dt; later = dt.datetime.utcnow()",
            "from . import money",
            "from salon.money import format_fen",
            "shift.open()",
            "rate = 0.9",
            "def f(x: float) -> int: return x // 2",
            "half = total / 2",
            "total /= 3",
        ]
    )
    assert violations(source, "salon/bad.py") == [
        "salon/bad.py:1: imports 'socket': salon does no I/O and makes no clock or ids",
        "salon/bad.py:3: imports 'tinydb', which is neither stdlib nor salon",
        "salon/bad.py:4: imports 'os': salon does no I/O and makes no clock or ids",
        "salon/bad.py:5: imports time.monotonic: the clock is passed in",
        "salon/bad.py:6: calls datetime.now(): the clock and ids are passed in",
        "salon/bad.py:7: calls open(): the clock and ids are passed in",
        "salon/bad.py:8: calls dt.datetime.utcnow(): the clock and ids are passed in",
        "salon/bad.py:12: float literal: money is integer fen",
        "salon/bad.py:13: uses float: money is integer fen",
        "salon/bad.py:14: true division (/): use salon.money.mul_div or //",
        "salon/bad.py:15: true division (/): use salon.money.mul_div or //",
    ]
