"""Snapshot formats 3 and 4: the state's records as pickles whose only callables are the snapshot's.

Reading a snapshot is most of a start-up, and at years of sales JSON was its cost: the
text parsed into a tree of values, then every record built from its array by generated
Python, every id and time shared through a dict so that one member's id is one string
in memory (hashing each id again to find the one already read). A pickle is parsed and
its strings, lists and dicts are made in C, and its memo shares each object written
more than once as that one object, with no hashing. Measured at 200,000 sales: the
state in 0.4-0.7 s against 1.4-1.8 s from JSON lines.

A pickle can name any importable callable, and unpickling calls it: reading a file
means running what it names. Here it names none. ``find_class`` refuses every global,
so a snapshot cannot reach a module, a class or a function. The only callables a
snapshot's pickles can call are the builders that its persistent ids name (``Builders``):
one per dataclass and enum of the state's own layout, the reading of an ISO time or
day, ``dict``, and ``more``, which gives back the dict or list of a large field's first
part for the entries of a later part to go into (format 4). A builder makes its record
from the fields given, as the journal's decoder does (``codec.construct``), never
running code of the record's class. A damaged or crafted file can so at worst fail to
read or read as wrong values of the state's own types; the gzip CRC and length catch a
damaged one.

Each record is written as its builder's id and its fields' values in declaration
order; the snapshot's header names each class's fields in that order and their types,
so a build whose classes added, dropped or moved fields reads an older snapshot by
field name (an added field takes its default), and one whose field changed its type
refuses it (the store then replays the journal instead).
"""

from __future__ import annotations

import io
import operator
import pickle
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime
from enum import Enum
from typing import Any

from edge_store.codec import CodecError, compile_fn, construct, init_fields
from edge_store.packed import Schema, SharedTimes

__all__ = ["PROTOCOL", "UNPICKLE_ERRORS", "Builders", "Reducers", "SlicePickler",
           "fresh_unpickler"]

PROTOCOL = 5

UNPICKLE_ERRORS = (pickle.UnpicklingError, TypeError, KeyError, IndexError, AttributeError,
                   OverflowError, RecursionError)
"""What unpickling damaged or foreign bytes raises besides ValueError and EOFError."""

_TIME, _DAY, _DICT, _MORE, _ENUM = "time", "day", "dict", "more", "enum:"


class _Tag:
    """The callable of a record's reduction: written as a persistent id, never called."""

    __slots__ = ("pid",)

    def __init__(self, pid: str) -> None:
        self.pid = pid

    def __call__(self, *args: Any) -> Any:
        raise TypeError(f"{self.pid} is a snapshot's builder id, not a function")


Same = Callable[[str, str], str]
"""``dict.setdefault`` of a slice's texts: the first of equal strings, for all of them."""


class Reducers(dict[type, Callable[[Any, Same], Any]]):
    """Type → its reduction to a tag and field values; the types of ``classes`` only."""

    def __init__(self, classes: dict[str, type]) -> None:
        super().__init__()
        self._classes = classes

    def __missing__(self, cls: type) -> Callable[[Any, Same], Any]:
        fn = self[cls] = self._reducer(cls)
        return fn

    def _reducer(self, cls: type) -> Callable[[Any, Same], Any]:
        if cls is datetime or cls is date:
            tag = _Tag(_TIME if cls is datetime else _DAY)
            return lambda v, same: (tag, (v.isoformat(),))
        if cls is defaultdict:  # a book's counts: read back as a dict, made one again
            dict_tag = _Tag(_DICT)
            return lambda v, same: (dict_tag, (dict(v),))
        name = f"{cls.__module__}.{cls.__qualname__}"
        if self._classes.get(name) is not cls:
            raise TypeError(f"a snapshot cannot hold {cls!r}: not of the state's layout")
        if issubclass(cls, Enum):
            enum_tag = _Tag(_ENUM + name)
            return lambda v, same: (enum_tag, (v.value,))
        names = [field for field, *_ in init_fields(cls)]
        record_tag = _Tag(name)
        if not names:
            return lambda v, same: (record_tag, ())
        if len(names) == 1:
            one = operator.attrgetter(names[0])
            return lambda v, same: (record_tag, (_shared(one(v), same),))
        fields = operator.attrgetter(*names)
        # Equal text in the fields of a slice's records is written as one object.
        return lambda v, same: (record_tag, tuple([
            same(x, x) if type(x) is str else x for x in fields(v)]))


def _shared(x: Any, same: Same) -> Any:
    return same(x, x) if type(x) is str else x


class _More:
    """The entries of a dict or list after its first part, to go into that first part.

    Pickled as the first part (a reference to it: the slice's memo has it) passed to the
    ``more`` builder, which gives it back, followed by the entries: the reader's
    unpickler puts them straight into that dict or list (``SETITEMS`` / ``APPENDS``), so
    a large field is built once, not as parts merged into it afterwards.
    """

    __slots__ = ("entries", "first")

    def __init__(self, first: Any, entries: Any) -> None:
        self.first = first
        self.entries = entries


_MORE_TAG = _Tag(_MORE)


def _reduce_more(more: _More) -> Any:
    if type(more.first) is dict:
        return _MORE_TAG, (more.first,), None, None, iter(more.entries.items())
    return _MORE_TAG, (more.first,), None, iter(more.entries), None


def _more(target: Any) -> Any:
    """The ``more`` builder: the dict or list that the entries pickled after it go into."""
    if type(target) is not dict and type(target) is not list:
        raise pickle.UnpicklingError(f"more entries for a {type(target).__name__}")
    return target


class _Pickler(pickle.Pickler):
    def __init__(self, file: Any, reducers: Reducers, same: Same) -> None:
        super().__init__(file, protocol=PROTOCOL)
        self._reduce = reducers.__getitem__
        self._same = same

    def reducer_override(self, obj: Any) -> Any:
        # Called for every object but None, bools, numbers, text, bytes and exact tuples,
        # lists, dicts and sets (those pickle themselves, without a callable).
        if type(obj) is _More:
            return _reduce_more(obj)
        return self._reduce(type(obj))(obj, self._same)

    def persistent_id(self, obj: Any) -> str | None:
        return obj.pid if type(obj) is _Tag else None


class SlicePickler:
    """Pickles the parts of one slice one after another with one memo: an object written
    again is a reference to the first, and reads back as that same object.

    Equal strings become one object before they are written (in records' fields and in
    the keys of a part that is a dict): the live state holds many copies of one id (each
    command and each replayed event brings its own), and the memo shares objects, not
    values. Measured on a 200,000-sale state whose every string was its own object: read
    back, 128 MiB without this and 111 with it (103 for the same state with its strings
    shared when written); the write's peak grew from 37 to 64 MiB over the state.
    """

    def __init__(self, reducers: Reducers) -> None:
        self._chunks: list[bytes] = []
        texts: dict[str, str] = {}
        self._same: Same = texts.setdefault
        self._pickler = _Pickler(self, reducers, self._same)
        self._firsts: dict[str, Any] = {}

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def dump(self, field: str, part: Any) -> bytes:
        """The pickle of ``(field, part)``: the field's value, or its first part."""
        if type(part) is dict:
            part = self._keys_shared(part)
        self._firsts[field] = part
        return self._dump((field, part))

    def dump_more(self, field: str, part: Any) -> bytes:
        """The pickle of ``(field, value)`` where ``part`` (a dict or list) holds the
        entries of the field's value after those dumped before: read back, ``value`` is
        the field's first part, with these entries added to it."""
        first = self._firsts[field]
        if type(part) is not type(first) or type(part) not in (dict, list):
            raise TypeError(f"more of {field} must be a {type(first).__name__}")
        if type(part) is dict:
            part = self._keys_shared(part)
        return self._dump((field, _More(first, part)))

    def _keys_shared(self, part: dict[Any, Any]) -> dict[Any, Any]:
        same = self._same
        return {same(k, k) if type(k) is str else k: v for k, v in part.items()}

    def _dump(self, value: Any) -> bytes:
        self._pickler.dump(value)
        out = b"".join(self._chunks)
        self._chunks.clear()
        return out


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"a snapshot names no code; this one names {module}.{name}")


def fresh_unpickler(
    stream: io.BufferedIOBase, builders: Builders | None = None
) -> pickle.Unpickler:
    """An unpickler of ``stream`` whose pickles can call ``builders`` (else nothing)."""
    unpickler = _Unpickler(stream)
    if builders is not None:
        # A C function in place of a method: no Python frame per record read.
        unpickler.persistent_load = builders.__getitem__  # type: ignore[method-assign]
    return unpickler


class Builders(dict[str, Callable[..., Any]]):
    """Persistent id → the builder it names, made at its first use.

    ``classes`` are this build's dataclasses and enums by qualified name; ``written`` the
    field names the snapshot's records were written with, where they are not this
    build's (see ``Snapshots``).
    """

    def __init__(self, classes: dict[str, type], written: Schema | None = None) -> None:
        super().__init__()
        self._classes = classes
        self._written = written or {}
        self._ints: dict[int, int] = {}
        self._when = SharedTimes()  # equal times in a snapshot are one object

    def __missing__(self, pid: Any) -> Callable[..., Any]:
        fn = self[pid] = self._builder(pid)
        return fn

    def _builder(self, pid: Any) -> Callable[..., Any]:
        if pid == _TIME:
            return self._when.time
        if pid == _DAY:
            return self._when.day
        if pid == _DICT:
            return dict
        if pid == _MORE:
            return _more
        if type(pid) is not str:
            raise pickle.UnpicklingError(f"a snapshot's builder id is text, not {pid!r}")
        name = pid.removeprefix(_ENUM)
        cls = self._classes.get(name)
        if cls is None:
            raise pickle.UnpicklingError(f"no class {name} in this build")
        if pid.startswith(_ENUM):
            if not issubclass(cls, Enum):
                raise pickle.UnpicklingError(f"{name} is not an enum in this build")
            return cls._value2member_map_.__getitem__
        if issubclass(cls, Enum):
            raise pickle.UnpicklingError(f"{name} is an enum in this build")
        return self._record(name, cls)

    def _record(self, name: str, cls: type) -> Callable[..., Any]:
        fields = init_fields(cls)
        names = [field for field, *_ in fields]
        stored = self._written.get(name, names)
        env: dict[str, Any] = {"missing": _missing, "I": self._ints.setdefault}
        frozen = cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
        values = []
        for i, (field, ftp, has_default, default) in enumerate(fields):
            if field not in stored:  # a field this build added: its default
                env[f"f{i}"] = default
                values.append(f"f{i}()" if has_default else f"missing(cls, {field!r})")
                continue
            value = f"x{stored.index(field)}"
            if ftp is int:  # equal amounts are one object (a pickle writes each number anew)
                value = f"I({value}, {value})"
            if not frozen and has_default and isinstance(made := default(), defaultdict):
                env[f"d{i}"] = made.default_factory  # a book relies on it being one again
                value = f"defaultdict(d{i}, {value})"
            values.append(value)
        args = ", ".join(f"x{j}" for j in range(len(stored)))
        body = construct(cls, names, values, env)
        return compile_fn(f"def fn({args}):\n" + body, env)


def _missing(cls: type, name: str) -> Any:
    raise CodecError(f"{cls.__name__} lacks the field {name!r} (the snapshot predates it)")
