"""A consistent copy of the state for a snapshot: containers copied, frozen records shared.

Writing a snapshot encodes the whole state, seconds of work at years of sales; the till
must not wait that long. So under the store's lock only this copy is taken, and the
snapshot thread encodes the copy while the store goes on selling. Frozen dataclasses
whose fields are immutable (text, numbers, times, enums, tuples of such, other such
records) are shared with the live state: the domain replaces them, it never changes
them. Every dict, list, set and mutable dataclass is copied, so the live state can
move on without the copy seeing it. The books' indexes are not copied: a snapshot leaves
them out, and the copy is only ever written.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import typing
from collections.abc import Callable
from datetime import date, datetime
from enum import Enum
from typing import Any

from edge_store.codec import init_fields, optional_arg
from salon.indexes import DERIVED

__all__ = ["copy_of"]

Copier = Callable[[Any], Any]


def copy_of(value: Any, tp: Any) -> Any:
    """A copy of ``value`` (of type ``tp``) that later changes to ``value`` leave alone.

    The books' indexes (``salon.indexes``) are the exception: shared, since a snapshot does
    not hold them; ``reindex`` on the copy rebuilds them from what it holds.
    """
    fn = _copier(tp)
    return value if fn is None else fn(value)


@functools.cache
def _copier(tp: Any) -> Copier | None:
    """The function copying a ``tp``; None where the value is immutable and shared."""
    return _build(tp)


def _build(tp: Any) -> Copier | None:
    if tp in (str, int, bool, type(None), datetime, date):
        return None
    if isinstance(tp, type) and issubclass(tp, Enum):
        return None
    inner = optional_arg(tp)
    if inner is not None:
        fn = _copier(inner)
        return None if fn is None else (lambda v: None if v is None else fn(v))
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _dataclass(tp)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is tuple or origin is frozenset:
        fns = [_copier(a) for a in args if a is not Ellipsis]
        if all(fn is None for fn in fns):
            return None
        raise TypeError(f"{tp!r}: an immutable container of mutable values cannot be shared")
    if origin in (list, set):
        item = _copier(args[0])
        make: Callable[[Any], Any] = origin
        return make if item is None else (lambda v: make([item(x) for x in v]))
    if origin is dict:
        if _copier(args[0]) is not None:
            raise TypeError(f"{tp!r}: dict keys must be immutable")
        val = _copier(args[1])
        if val is None:
            return _shallow  # dict.copy keeps a defaultdict one
        return lambda v: _dict_of_copies(v, val)
    raise TypeError(f"a snapshot cannot hold {tp!r}")


def _shallow(v: Any) -> Any:
    return v.copy()


def _dict_of_copies(v: dict[Any, Any], val: Copier) -> dict[Any, Any]:
    out = v.copy()  # the same type (defaultdict) and order
    for key, item in out.items():
        out[key] = val(item)
    return out


def _dataclass(cls: type) -> Copier | None:
    # A book's indexes (salon.indexes) are left shared: a snapshot does not hold them.
    derived = {f.name for f in dataclasses.fields(cls) if f.metadata.get(DERIVED)}
    fields = [(name, _copier(ftp)) for name, ftp, *_ in init_fields(cls) if name not in derived]
    mutable = [(name, fn) for name, fn in fields if fn is not None]
    frozen = cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
    if frozen and not mutable:
        return None

    def copied(v: Any) -> Any:
        out = copy.copy(v)  # every attribute, transient wiring included
        for name, fn in mutable:
            object.__setattr__(out, name, fn(getattr(v, name)))
        return out

    return copied
