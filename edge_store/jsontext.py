"""An event as the JSON text a journal record holds, made straight from the dataclass.

``records.event_text(codec.encode_event(e))`` builds a dict of plain values, then has
``json`` walk it again: on a checkout's five events (a 4 KB record) that was a fifth of
the whole commit. Here each type gets a function, generated once from its type hints as
the codec's are, that puts the text together directly; the text is byte for byte what
the two-step path makes (a test holds them equal for every event type), so records,
the sales history and HQ see no difference.

The rules are the codec's. A value that does not fit its field's type (``None`` where a
``str`` belongs, ``True`` for an ``int``) raises ``CodecError`` before anything is
written: the two-step path would have written a record the store could not read back.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import typing
from collections.abc import Callable
from datetime import date, datetime
from enum import Enum
from json.encoder import encode_basestring
from typing import Any

from edge_store.codec import CodecError, compile_fn, encode, init_fields, optional_arg
from salon.events import Event

__all__ = ["event_json", "text_encoder"]

Text = Callable[[Any], str]

_quoted: Callable[[str], str] = encode_basestring  # C: quotes and escapes, keeps non-ASCII


def event_json(event: Event) -> str:
    """``event`` as ``event_text(encode_event(event))`` would make it: its fields, then its type."""
    cls: Any = type(event)  # a class is hashable; mypy's Hashable says not
    try:
        return _event_text(cls)(event)
    except (TypeError, AttributeError) as err:
        raise CodecError(f"cannot write {type(event).__name__}: {err}") from err


@functools.cache
def _event_text(cls: Any) -> Text:
    """The event's fields as ``text_encoder`` writes them, and its ``"type"`` tag last."""
    return _dataclass_text(cls, f'"type":{_quoted(cls.type_name)}')


def _plain(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _str(v: Any) -> str:
    if not isinstance(v, str):
        raise CodecError(f"expected text, found {type(v).__name__}")
    return _quoted(v)


def _int(v: Any) -> str:
    if v.__class__ is int:
        return int.__repr__(v)
    if isinstance(v, int) and not isinstance(v, bool):
        return int.__repr__(v)
    raise CodecError(f"expected a whole number, found {type(v).__name__}")


def _bool(v: Any) -> str:
    if v is True:
        return "true"
    if v is False:
        return "false"
    raise CodecError(f"expected true or false, found {type(v).__name__}")


def _null(v: Any) -> str:
    if v is not None:
        raise CodecError(f"expected nothing, found {type(v).__name__}")
    return "null"


def _moment(v: Any) -> str:
    return f'"{v.isoformat()}"'


def _enum_texts(tp: type[Enum]) -> dict[Enum, str]:
    """Each member of a text-valued enum and its value's JSON text."""
    return {member: _quoted(member.value) for member in tp}


@functools.cache
def text_encoder(tp: Any) -> Text:
    """The function writing a value of type ``tp`` as JSON text (built once per type)."""
    if tp is str:
        return _str
    if tp is bool:
        return _bool
    if tp is int:
        return _int
    if tp is type(None):
        return _null
    if tp is Any or tp is float:
        return _plain
    if tp is datetime or tp is date:
        return _moment
    inner = optional_arg(tp)
    if inner is not None:
        some = text_encoder(inner)
        return lambda v: "null" if v is None else some(v)
    if isinstance(tp, type) and issubclass(tp, Enum):
        if all(isinstance(member.value, str) for member in tp):
            texts = _enum_texts(tp)
            return lambda v: texts[v] if v.__class__ is tp else _quoted(v.value)
        return lambda v: _plain(v.value)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _dataclass_text(tp)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (set, frozenset):
        plain = functools.partial(encode, tp=tp)  # sorted as the codec sorts them
        return lambda v: _plain(plain(v))
    if origin is list or (origin is tuple and len(args) == 2 and args[1] is Ellipsis):
        item = text_encoder(args[0])
        return lambda v: f"[{','.join([item(x) for x in v])}]"
    if origin is tuple:
        items = [text_encoder(a) for a in args]
        return lambda v: f"[{','.join([e(x) for e, x in zip(items, v, strict=True)])}]"
    if origin is dict:
        key_tp, val_tp = args
        val = text_encoder(val_tp)
        if key_tp is str:
            return lambda v: f"{{{','.join([f'{_str(k)}:{val(x)}' for k, x in v.items()])}}}"
        key = text_encoder(key_tp)
        return lambda v: f"[{','.join([f'[{key(k)},{val(x)}]' for k, x in v.items()])}]"
    raise TypeError(f"the codec cannot encode {tp!r}")


_building: set[type] = set()
"""Dataclasses whose function is being made: a field of the same type (a tree) gets one
made at its first call instead of being made again without end."""


def _dataclass_text(cls: type, tag: str = "") -> Text:
    """One generated function per dataclass, the checks of plain fields written into it.

    A checkout's record holds ~90 whole numbers and ~70 texts: a call per value to
    ``_int`` or ``_str`` was a third of the encoding. The generated code tests the exact
    class inline and calls those only for anything else (a subclass, or a wrong value,
    which they refuse as before).
    """
    if cls in _building:
        made: list[Text] = []

        def later(v: Any) -> str:  # made at its first use, when the outer one is done
            if not made:
                made.append(_dataclass_text(cls))
            return made[0](v)

        return later
    _building.add(cls)
    try:
        env: dict[str, Any] = {
            "q": _quoted, "_str": _str, "_int": _int, "_bool": _bool, "tag": tag,
        }
        lines: list[str] = []
        parts: list[str] = []
        for i, (name, ftp, *_) in enumerate(init_fields(cls)):
            lines += _field_lines(f"x{i}", f"v.{name}", ftp, env)
            # An f-string's braces: the value's place; a time's text is quoted here.
            value = f'"{{x{i}}}"' if ftp is datetime or ftp is date else f"{{x{i}}}"
            parts.append(f'"{name}":{value}')
        if tag:
            parts.append("{tag}")
        body = ",".join(parts)
        source = "".join(f"    {line}\n" for line in lines)
        return compile_fn(f"def fn(v):\n{source}    return f'{{{{{body}}}}}'\n", env)
    finally:
        _building.discard(cls)


def _field_lines(x: str, src: str, tp: Any, env: dict[str, Any]) -> list[str]:
    """Statements leaving in ``x`` the text of the value ``src`` (a time's unquoted)."""
    if tp is str:
        return [f"{x} = {src}", f"{x} = q({x}) if {x}.__class__ is str else _str({x})"]
    if tp is int:  # an exact int is formatted by the f-string, as its repr
        return [f"{x} = {src}", f"if {x}.__class__ is not int: {x} = _int({x})"]
    if tp is bool:
        return [f"{x} = _bool({src})"]
    if tp is datetime or tp is date:
        return [f"{x} = {src}.isoformat()"]
    if optional_arg(tp) is str:
        return [
            f"{x} = {src}",
            f"{x} = 'null' if {x} is None else q({x}) if {x}.__class__ is str else _str({x})",
        ]
    if isinstance(tp, type) and issubclass(tp, Enum) and all(isinstance(m.value, str) for m in tp):
        # A member of the field's own enum by a table (an enum's ``.value`` is a Python
        # property: a microsecond, a dozen times a checkout); anything else as before.
        env[f"e_{x}"], env[f"E_{x}"] = _enum_texts(tp), tp
        return [f"{x} = {src}", f"{x} = e_{x}[{x}] if {x}.__class__ is E_{x} else q({x}.value)"]
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is list or (origin is tuple and len(args) == 2 and args[1] is Ellipsis):
        item = args[0]
        if dataclasses.is_dataclass(item) and isinstance(item, type):
            env[f"t_{x}"] = text_encoder(item)
            return [f"{x} = '[' + ','.join([t_{x}(y) for y in {src}]) + ']'"]
    env[f"t_{x}"] = text_encoder(tp)
    return [f"{x} = t_{x}({src})"]
