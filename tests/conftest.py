"""Shared pytest options: ``--long`` runs the endurance variants (thousands of power cuts),
``--kills N`` sets the power-cut test's number of kills (a run sized to the time at hand)."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--long", action="store_true", default=False,
                     help="run endurance variants: thousands of iterations instead of hundreds")
    parser.addoption("--kills", type=int, default=None,
                     help="SIGKILLs in the power-cut test (default 200, 3000 with --long)")


@pytest.fixture
def long_run(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--long"))


@pytest.fixture
def kills(request: pytest.FixtureRequest, long_run: bool) -> int:
    chosen = request.config.getoption("--kills")
    if chosen is not None:
        if chosen < 1:
            raise pytest.UsageError(f"--kills must be at least 1, not {chosen}")
        return int(chosen)
    return 3000 if long_run else 200
