"""Shared pytest options: ``--long`` runs the endurance variants (thousands of power cuts)."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--long", action="store_true", default=False,
                     help="run endurance variants: thousands of iterations instead of hundreds")


@pytest.fixture
def long_run(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--long"))
