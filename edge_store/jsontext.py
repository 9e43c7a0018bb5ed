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
        body = text_encoder(cls)(event)
    except (TypeError, AttributeError) as err:
        raise CodecError(f"cannot write {type(event).__name__}: {err}") from err
    tag = f'"type":{_quoted(event.type_name)}}}'
    return f"{body[:-1]},{tag}" if len(body) > 2 else f"{{{tag}"


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
            return lambda v: _quoted(v.value)
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


def _dataclass_text(cls: type) -> Text:
    fields = init_fields(cls)
    built: list[Text] = []

    def text_of(v: Any) -> str:
        if not built:  # made at first use, so self-referencing types terminate
            env: dict[str, Any] = {}
            parts = []
            for i, (name, ftp, *_) in enumerate(fields):
                env[f"t{i}"] = text_encoder(ftp)
                # The braces of the object doubled: the body is an f-string.
                parts.append(f'"{name}":{{t{i}(v.{name})}}')
            body = ",".join(parts)
            built.append(compile_fn(f"def fn(v):\n    return f'{{{{{body}}}}}'\n", env))
        out: str = built[0](v)
        return out

    return text_of
