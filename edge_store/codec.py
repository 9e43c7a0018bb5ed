"""Turn the domain's dataclasses (events, state slices) into JSON-ready values and back.

The codec is driven by the type hints of the dataclasses themselves, so a new event
needs no code here. For each type an encoder and a decoder function are built once
and cached; the journal encodes every commit and the snapshot decodes the whole
state at start-up, so both paths stay free of per-value type inspection.

Rules: ``datetime`` and ``date`` as ISO strings, enums by value, tuples, lists and
sets as JSON arrays (sets sorted), ``dict`` with ``str`` keys as JSON objects and
with other keys as arrays of ``[key, value]`` pairs, ``X | None`` as the value or
``null``. A field missing from the input takes its dataclass default (an older
record written before the field existed); a field with no default that is missing
is an error. Keys the class does not know are ignored only by ``decode``'s caller
deciding the format version is one it understands (see ``edge_store.formats``).
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any

from salon.events import EVENT_TYPES, Event

__all__ = [
    "CodecError",
    "compile_fn",
    "construct",
    "decode",
    "decode_event",
    "encode",
    "encode_event",
    "expect_array",
    "expect_object",
    "field_values",
    "init_fields",
    "optional_arg",
]

Encoder = Callable[[Any], Any]
Decoder = Callable[[Any], Any]



class CodecError(ValueError):
    """A stored value does not fit the type it is read as (a damaged or foreign record)."""


def encode(value: Any, tp: Any | None = None) -> Any:
    """``value`` as plain JSON types; ``tp`` defaults to the value's own class."""
    cls: Any = type(value) if tp is None else tp  # a class is hashable; mypy's Hashable says not
    return _encoder(cls)(value)


def decode(data: Any, tp: Any) -> Any:
    """Rebuild a value of type ``tp`` from what ``encode`` made."""
    try:
        return _decoder(tp)(data)
    except CodecError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError) as err:
        raise CodecError(f"cannot read {_name(tp)}: {err}") from err


def encode_event(event: Event) -> dict[str, Any]:
    """An event as an object tagged with its type name (events are polymorphic in a record)."""
    cls: Any = type(event)
    body: dict[str, Any] = _encoder(cls)(event)
    body["type"] = event.type_name
    return body


def decode_event(data: dict[str, Any]) -> Event:
    try:
        cls = EVENT_TYPES[data["type"]]
    except (KeyError, TypeError):
        raise CodecError(
            f"unknown event type {data.get('type') if isinstance(data, dict) else data!r}"
        ) from None
    event: Event = decode(data, cls)
    return event


def _name(tp: Any) -> str:
    return getattr(tp, "__name__", repr(tp))


@functools.cache
def _encoder(tp: Any) -> Encoder:
    return _build_encoder(tp)


@functools.cache
def _decoder(tp: Any) -> Decoder:
    return _build_decoder(tp)


def _identity(value: Any) -> Any:
    return value


def optional_arg(tp: Any) -> Any | None:
    """``X`` when ``tp`` is ``X | None``; None otherwise."""
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(tp)) == 2:
            return args[0]
        raise TypeError(f"the codec reads only 'X | None' unions, not {tp!r}")
    return None


InitField = tuple[str, Any, bool, Any]
"""(name, resolved type, has default, default value or factory) of one init field."""


_INIT_FIELDS: dict[type, tuple[InitField, ...]] = {}


def init_fields(cls: type) -> tuple[InitField, ...]:
    """The init fields of a dataclass, as ``InitField``; resolved once per class (the
    type hints are evaluated from their text: a start-up asks for each class's many times)."""
    found = _INIT_FIELDS.get(cls)
    if found is None:
        found = _INIT_FIELDS[cls] = _resolve_fields(cls)
    return found


def _resolve_fields(cls: type) -> tuple[InitField, ...]:
    hints = typing.get_type_hints(cls)
    out: list[InitField] = []
    for f in dataclasses.fields(cls):
        if f.metadata.get("transient"):
            continue  # wiring attached at run time (an archive port), not data
        if not f.init:
            raise TypeError(f"{cls.__name__}.{f.name}: the codec needs every field in __init__")
        if f.default is not dataclasses.MISSING:
            out.append((f.name, hints[f.name], True, lambda d=f.default: d))
        elif f.default_factory is not dataclasses.MISSING:
            out.append((f.name, hints[f.name], True, f.default_factory))
        else:
            out.append((f.name, hints[f.name], False, None))
    return tuple(out)


def _build_encoder(tp: Any) -> Encoder:
    if tp in (str, int, bool, type(None)) or tp is Any:
        return _identity
    if tp is datetime or tp is date:
        return lambda v: v.isoformat()
    inner = optional_arg(tp)
    if inner is not None:
        enc = _encoder(inner)
        return lambda v: None if v is None else enc(v)
    if isinstance(tp, type) and issubclass(tp, Enum):
        return lambda v: v.value
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _dataclass_encoder(tp)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (list, set, frozenset) or (
        origin is tuple and len(args) == 2 and args[1] is Ellipsis
    ):
        item = _encoder(args[0])
        if origin in (set, frozenset):
            return lambda v: sorted(item(x) for x in v)
        if item is _identity:
            return list
        return lambda v: [item(x) for x in v]
    if origin is tuple:
        encs = [_encoder(a) for a in args]
        return lambda v: [e(x) for e, x in zip(encs, v, strict=True)]
    if origin is dict:
        key_tp, val_tp = args
        val = _encoder(val_tp)
        if key_tp is str:
            if val is _identity:
                return dict
            return lambda v: {k: val(x) for k, x in v.items()}
        key = _encoder(key_tp)
        return lambda v: [[key(k), val(x)] for k, x in v.items()]
    raise TypeError(f"the codec cannot encode {tp!r}")


def _dataclass_encoder(cls: type) -> Encoder:
    fields = init_fields(cls)
    built: list[Encoder] = []

    def encode_fields(v: Any) -> dict[str, Any]:
        if not built:  # made at first use, so self-referencing types terminate
            env: dict[str, Any] = {}
            values = field_values(fields, lambda tp: None if (e := _encoder(tp)) is _identity
                                  else e, env)
            items = [f"{name!r}: {value}" for (name, *_), value in zip(fields, values, strict=True)]
            # Generated, as dataclasses does: every commit encodes its events through here.
            built.append(compile_fn(f"def fn(v):\n    return {{{', '.join(items)}}}\n", env))
        out: dict[str, Any] = built[0](v)
        return out

    return encode_fields


def field_values(
    fields: Sequence[InitField], encoder_of: Callable[[Any], Encoder | None],
    env: dict[str, Any],
) -> list[str]:
    """Per field, the source of its encoded value: ``v.name``, or ``eN(v.name)`` with the
    field type's encoder put into ``env`` as ``eN`` (None from ``encoder_of``: as it is)."""
    values = []
    for i, (name, ftp, *_) in enumerate(fields):
        enc = encoder_of(ftp)
        if enc is None:
            values.append(f"v.{name}")
        else:
            env[f"e{i}"] = enc
            values.append(f"e{i}(v.{name})")
    return values


def compile_fn(source: str, env: dict[str, Any]) -> Callable[[Any], Any]:
    """The function ``fn`` that ``source`` defines (made from field names only)."""
    exec(source, env)
    fn: Callable[[Any], Any] = env["fn"]
    return fn


def _build_decoder(tp: Any) -> Decoder:
    if tp is Any:
        return _identity
    if tp in (str, int, bool):
        return _checked(tp)
    if tp is type(None):
        return _checked(type(None))
    if tp is datetime:
        return _datetime
    if tp is date:
        return lambda v: date.fromisoformat(v)
    inner = optional_arg(tp)
    if inner is not None:
        dec = _decoder(inner)
        return lambda v: None if v is None else dec(v)
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tp
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _dataclass_decoder(tp)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (list, set, frozenset) or (
        origin is tuple and len(args) == 2 and args[1] is Ellipsis
    ):
        item = _decoder(args[0])
        make: Callable[[Any], Any] = origin
        # A list built first: a generator costs a frame resume per item, and a replay
        # decodes every line, payment and draw of every ticket through here.
        return lambda v: make([item(x) for x in expect_array(v)])
    if origin is tuple:
        decs = [_decoder(a) for a in args]
        return lambda v: tuple([d(x) for d, x in zip(decs, expect_array(v), strict=True)])
    if origin is dict:
        key_tp, val_tp = args
        val = _decoder(val_tp)
        if key_tp is str:
            return lambda v: {_str(k): val(x) for k, x in expect_object(v).items()}
        key = _decoder(key_tp)
        return lambda v: {key(k): val(x) for k, x in expect_array(v)}
    raise TypeError(f"the codec cannot decode {tp!r}")


def _checked(tp: type) -> Decoder:
    def check(v: Any) -> Any:
        # Exact type: bool is an int in Python, yet a JSON true where a number belongs is wrong.
        if type(v) is not tp:
            raise CodecError(f"expected {tp.__name__}, found {type(v).__name__}")
        return v

    return check


def _datetime(v: Any) -> datetime:
    value = datetime.fromisoformat(_str(v))
    if value.tzinfo is None:
        raise CodecError(f"time without a zone: {v!r}")
    return value


def _str(v: Any) -> str:
    if type(v) is not str:
        raise CodecError(f"expected text, found {type(v).__name__}")
    return v


def expect_array(v: Any) -> list[Any]:
    if type(v) is not list:
        raise CodecError(f"expected an array, found {type(v).__name__}")
    return v


def expect_object(v: Any) -> dict[str, Any]:
    if type(v) is not dict:
        raise CodecError(f"expected an object, found {type(v).__name__}")
    return v


def _dataclass_decoder(cls: type) -> Decoder:
    fields = init_fields(cls)
    built: list[Decoder] = []

    def decode_fields(v: Any) -> Any:
        if not built:  # made at first use, so self-referencing types terminate
            env: dict[str, Any] = {"obj": expect_object, "missing": _missing}
            values = []
            for i, (name, ftp, has_default, default) in enumerate(fields):
                env[f"d{i}"] = _decoder(ftp)
                env[f"f{i}"] = default
                # A field missing from an older record takes its default; without one it is
                # an error. A field whose factory makes a defaultdict is read back as one.
                absent = f"f{i}()" if has_default else f"missing(cls, {name!r})"
                value = f"d{i}(data[{name!r}]) if {name!r} in data else {absent}"
                if has_default and isinstance(made := default(), defaultdict):
                    env[f"k{i}"] = made.default_factory
                    value = f"defaultdict(k{i}, {value})"
                values.append(value)
            body = construct(cls, [name for name, *_ in fields], values, env)
            built.append(compile_fn("def fn(v):\n    data = obj(v)\n" + body, env))
        return built[0](v)

    return decode_fields


def _missing(cls: type, name: str) -> Any:
    raise CodecError(f"{cls.__name__} lacks the field {name!r}")


def construct(cls: type, names: list[str], values: list[str], env: dict[str, Any]) -> str:
    """Source lines (for ``compile_fn``) making a ``cls`` from its fields' value expressions.

    A record is made without running its ``__init__``: a frozen dataclass's init sets each
    field through ``object.__setattr__``, which was half of all decoding. A class with
    slots is made as its twin (``_twin``), whose slots the plain attribute stores set,
    and then given its own class; a frozen class's ``__dict__`` is filled; a mutable class
    (a book, a ticket record: few of them) runs its ``__init__``, which fills transient
    fields.
    """
    env.update(cls=cls, new=object.__new__, defaultdict=defaultdict)
    if "__slots__" in cls.__dict__:
        twin = _twin(cls)
        if twin is not None:
            env["twin"] = twin
            stores = "".join(f"    o.{name} = {values[i]}\n" for i, name in enumerate(names))
            return f"    o = new(twin)\n{stores}    o.__class__ = cls\n    return o\n"
        lines = []
        for i, name in enumerate(names):
            env[f"s{i}"] = getattr(cls, name).__set__
            lines.append(f"    s{i}(o, {values[i]})\n")
        return "    o = new(cls)\n" + "".join(lines) + "    return o\n"
    if cls.__dataclass_params__.frozen:  # type: ignore[attr-defined]
        items = ", ".join(f"{name!r}: {values[i]}" for i, name in enumerate(names))
        return f"    o = new(cls)\n    o.__dict__.update({{{items}}})\n    return o\n"
    items = ", ".join(f"{name}={values[i]}" for i, name in enumerate(names))
    return f"    return cls({items})\n"


@functools.cache
def _twin(cls: type) -> type | None:
    """A mutable class of ``cls``'s very memory layout (its slots, its base), or None.

    Setting a slot through a plain attribute store is several times cheaper than a call
    of the slot's descriptor, and a frozen class forbids the store; so a record is made
    as a twin and then assigned ``cls`` as its class, which Python allows between
    classes of one layout (and checks: a twin it refuses is not used).
    """
    if cls.__bases__ != (object,):
        return None
    twin = type(f"{cls.__name__}Twin", (), {"__slots__": cls.__dict__["__slots__"]})
    probe: Any = object.__new__(twin)
    try:
        probe.__class__ = cls
    except TypeError:
        return None
    return twin
