"""Indexes a book derives from its own records: kept in step by ``apply``, never stored.

A snapshot leaves them out and the store calls ``SalonState.reindex`` after reading one
(``edge_store.snapshots``), so an index can be added or changed without making older
snapshots wrong, and start-up builds them from the records faster than it would read
them. Each book that has indexes rebuilds them in its ``reindex``.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import MappingProxyType
from typing import TypeVar

__all__ = ["DERIVED", "INDEX", "group"]

DERIVED = "derived"
"""The field metadata key that marks an index."""

INDEX = MappingProxyType({DERIVED: True})
"""The metadata of an index field: ``field(default_factory=dict, metadata=INDEX)``."""

T = TypeVar("T")


def group(pairs: Iterable[tuple[str, T]]) -> dict[str, list[T]]:
    """Key → its values in the order given (the books' per-member lists)."""
    out: dict[str, list[T]] = {}
    for key, value in pairs:
        out.setdefault(key, []).append(value)
    return out
