"""Snapshot format 2's reader (dataclasses as JSON arrays), and what every format shares:
the state's classes, their fields in packing order and the layout fingerprint.

Format 3 (``edge_store.pickled``) is what a snapshot is written in now; a format 2
snapshot, written by a build before it, is still read, by a ``Reader``. Format 2's
codec differed from the journal's (``edge_store.codec``) in three ways:

* a dataclass is the array of its fields in declaration order, not an object: about half
  the bytes and no key lookups. The snapshot names each class's fields once
  (``schema``); a reader given the names a file was written with reads each field by
  its name, so a build that added, removed or moved a field reads an older snapshot
  (a new field takes its default), as the journal's codec reads older records;
* records are built without running their ``__init__``: a frozen dataclass's init sets
  each field through ``object.__setattr__``, which was half of all decoding;
* a ``Reader`` shares equal strings, numbers and times across one whole snapshot, so an
  id that appears in many slices (a member, a lot, a ticket) is held once in memory;
  maps of ``str`` to ``int`` or ``str`` are the exception (see ``_container``).

Values are not checked one by one as the journal's are: the gzip CRC catches a damaged
file, and a shape that does not fit (a field whose type changed) is still a ``CodecError``.
The per-class functions are generated source, as ``dataclasses`` itself does: a closure
per field costs a call per value, which at this scale is the whole budget.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import typing
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime
from enum import Enum
from typing import Any

from edge_store.codec import (
    CodecError,
    compile_fn,
    construct,
    expect_array,
    expect_object,
    init_fields,
    optional_arg,
)

__all__ = [
    "Reader", "Schema", "SharedTimes", "assemble", "classes", "field_types", "layout", "schema",
]

Schema = dict[str, list[str]]
"""Each dataclass (``module.qualname``) → its fields in the order a snapshot packs them."""

Fn = Callable[[Any], Any]


def _same(v: Any) -> Any:
    return v


class SharedTimes:
    """Times and days read from their ISO text, equal ones as one object."""

    def __init__(self) -> None:
        self._times: dict[str, datetime] = {}
        self._days: dict[str, date] = {}

    def time(self, text: str) -> datetime:
        found = self._times.get(text)
        if found is None:
            found = self._times[text] = datetime.fromisoformat(text)
            if found.tzinfo is None:
                raise CodecError(f"time without a zone: {text!r}")
        return found

    def day(self, text: str) -> date:
        found = self._days.get(text)
        if found is None:
            found = self._days[text] = date.fromisoformat(text)
        return found


class Reader:
    """Unpacks one snapshot; everything read through one reader shares equal values.

    ``written`` is the schema the snapshot was written with, when it differs from this
    build's: its fields are then matched to this build's by name.
    """

    def __init__(self, written: Schema | None = None) -> None:
        self._written = written or {}
        self._strs: dict[str, str] = {}
        self._ints: dict[int, int] = {}
        self._when = SharedTimes()
        self._fns: dict[Any, Fn | None] = {}

    def read(self, data: Any, tp: Any) -> Any:
        """The value of type ``tp`` that ``pack`` made ``data`` from (else CodecError)."""
        try:
            fn = self._unpacker(tp)
            return data if fn is None else fn(data)
        except CodecError:
            raise
        except (TypeError, ValueError, KeyError, IndexError, AttributeError) as err:
            raise CodecError(f"cannot read {getattr(tp, '__name__', tp)!s}: {err}") from err

    # ---------------------------------------------------------------- building

    def _unpacker(self, tp: Any) -> Fn | None:
        if tp not in self._fns:
            self._fns[tp] = self._build(tp)
        return self._fns[tp]

    def _build(self, tp: Any) -> Fn | None:
        if tp is str:
            share_str = self._strs.setdefault
            return lambda v: share_str(v, v)
        if tp is int:
            share_int = self._ints.setdefault
            return lambda v: share_int(v, v)
        if tp in (bool, type(None)):
            return None
        if tp is datetime:
            return self._when.time
        if tp is date:
            return self._when.day
        inner = optional_arg(tp)
        if inner is not None:
            fn = self._unpacker(inner)
            return None if fn is None else (lambda v: None if v is None else fn(v))
        if isinstance(tp, type) and issubclass(tp, Enum):
            return tp._value2member_map_.__getitem__
        if dataclasses.is_dataclass(tp) and isinstance(tp, type):
            return self._dataclass(tp)
        return self._container(tp)

    def _container(self, tp: Any) -> Fn:
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        share = self._strs.setdefault
        if origin in (list, set, frozenset) or (origin is tuple and args[1:] == (Ellipsis,)):
            make: Callable[[Any], Any] = origin
            if args[0] is str:
                return lambda v: make([share(x, x) for x in expect_array(v)])
            item = self._unpacker(args[0]) or _same
            return lambda v: make([item(x) for x in expect_array(v)])
        if origin is tuple:
            fns = [self._unpacker(a) or _same for a in args]
            return lambda v: tuple([f(x) for f, x in zip(fns, expect_array(v), strict=True)])
        if origin is dict:
            if args == (str, int) or args == (str, str):
                # Counts and id maps by member or source (hundreds of thousands of entries
                # at years of sales): taken as json made them. Sharing their keys took
                # more of the start than the few MiB it saved.
                return expect_object
            val = self._unpacker(args[1]) or _same
            if args[0] is str:
                return lambda v: {share(k, k): val(x) for k, x in expect_object(v).items()}
            key = self._unpacker(args[0]) or _same
            return lambda v: {key(k): val(x) for k, x in expect_array(v)}
        raise TypeError(f"a snapshot cannot hold {tp!r}")

    def _dataclass(self, cls: type) -> Fn:
        fields = init_fields(cls)
        names = [name for name, *_ in fields]
        stored = self._written.get(_qualname(cls), names)
        env: dict[str, Any] = {
            "array": expect_array, "S": self._strs.setdefault, "I": self._ints.setdefault,
            "missing": _missing,
        }
        frozen = cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
        values = []
        for i, (name, ftp, has_default, default) in enumerate(fields):
            if name not in stored:  # a field this build added: its default, as in the journal
                env[f"f{i}"] = default
                values.append(f"f{i}()" if has_default else f"missing(cls, {name!r})")
                continue
            x = f"x{stored.index(name)}"
            if ftp is str:  # the commonest fields, inlined: a call less per value
                value = f"S({x}, {x})"
            elif ftp is int:
                value = f"I({x}, {x})"
            elif (fn := self._unpacker(ftp)) is None:
                value = x
            else:
                env[f"u{i}"] = fn
                value = f"u{i}({x})"
            if not frozen and has_default and isinstance(made := default(), defaultdict):
                env[f"d{i}"] = made.default_factory  # a book relies on it being one again
                value = f"defaultdict(d{i}, {value})"
            values.append(value)
        slots = [f"x{j}" for j in range(len(stored))]
        if not slots:
            unpack = "    array(v)\n"
        else:
            unpack = f"    {', '.join(slots)}{',' if len(slots) == 1 else ''} = array(v)\n"
        body = construct(cls, names, values, env)
        return compile_fn("def fn(v):\n" + unpack + body, env)


def assemble(cls: type, values: dict[str, Any]) -> Any:
    """A mutable dataclass from fields read one by one; a missing field takes its default."""
    kwargs = dict(values)
    for name, _, has_default, default in init_fields(cls):
        if name not in kwargs:
            if not has_default:
                raise CodecError(f"{cls.__name__} lacks the field {name!r}")
            kwargs[name] = default()
        elif has_default and isinstance(made := default(), defaultdict):
            # A slice relies on its defaultdict fields being ones again.
            kwargs[name] = defaultdict(made.default_factory, kwargs[name])
    return cls(**kwargs)


def _missing(cls: type, name: str) -> Any:
    raise CodecError(f"{cls.__name__} lacks the field {name!r} (the snapshot predates it)")


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


@functools.cache
def _reachable(tp: Any) -> tuple[type, ...]:
    """Every dataclass and enum class reachable from ``tp``, each once, in the order found."""
    seen: set[Any] = set()
    found: list[type] = []

    def walk(t: Any) -> None:
        if t in seen:
            return
        seen.add(t)
        if isinstance(t, type) and dataclasses.is_dataclass(t):
            found.append(t)
            for _, ftp, *_ in init_fields(t):
                walk(ftp)
        elif isinstance(t, type) and issubclass(t, Enum):
            found.append(t)
        else:
            for arg in typing.get_args(t):
                walk(arg)

    walk(tp)
    return tuple(found)


def schema(tp: Any) -> Schema:
    """The field names of every dataclass reachable from ``tp``, in packing order."""
    return {_qualname(t): [name for name, *_ in init_fields(t)]
            for t in _reachable(tp) if not issubclass(t, Enum)}


def classes(tp: Any) -> dict[str, type]:
    """Every dataclass and enum class reachable from ``tp``, by qualified name."""
    return {_qualname(t): t for t in _reachable(tp)}


def field_types(tp: Any) -> dict[str, dict[str, str]]:
    """Each dataclass reachable from ``tp`` → its fields' types, as ``layout`` spells them."""
    return {_qualname(t): {name: repr(ftp) for name, ftp, *_ in init_fields(t)}
            for t in _reachable(tp) if not issubclass(t, Enum)}


def layout(tp: Any) -> str:
    """A fingerprint of every dataclass, field, type and enum value reachable from ``tp``."""
    parts = [
        f"{_qualname(t)}{[m.value for m in t]!r}" if issubclass(t, Enum)
        else _qualname(t) + "(" + ",".join(
            f"{name}:{ftp!r}" for name, ftp, *_ in init_fields(t)) + ")"
        for t in _reachable(tp)
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]
