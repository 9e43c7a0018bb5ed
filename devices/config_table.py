"""A settings table (TOML, as tomllib reads it) made into a config dataclass, field by field.

The one reader of every device's table: a key the class does not know, a missing one
or a value of the wrong type is a ``DeviceError(CONFIG_INVALID)`` naming the device
and the key; enums are read from their value, tuples from arrays, ints as floats.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from enum import Enum
from typing import Any, TypeVar

from devices.errors import DeviceError, config_invalid

__all__ = ["build_config", "check_type"]

_C = TypeVar("_C")


def check_type(device: str, field: str, value: Any, tp: Any) -> Any:
    """``value`` as a ``tp``: enums from their value, tuples from arrays; else CONFIG_INVALID."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(tp)
        for option in options:
            if option is type(None):
                continue
            try:
                return check_type(device, field, value, option)
            except DeviceError:
                continue
        raise config_invalid(device, field, "wrong type")
    if origin is tuple:
        (item, _) = typing.get_args(tp)
        if not isinstance(value, list | tuple):
            raise config_invalid(device, field, "not a list")
        return tuple(check_type(device, field, v, item) for v in value)
    if isinstance(tp, type) and issubclass(tp, Enum):
        try:
            return tp(value)
        except (ValueError, TypeError):  # TypeError: a list or table is not hashable
            allowed = ", ".join(str(m.value) for m in tp)
            raise config_invalid(device, field, f"one of {allowed}") from None
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp is int and isinstance(value, bool):
        raise config_invalid(device, field, "not a int")
    if isinstance(tp, type) and not isinstance(value, tp):
        raise config_invalid(device, field, f"not a {tp.__name__}")
    return value


def build_config(cls: type[_C], table: Mapping[str, Any], *, exclude: tuple[str, ...] = (),
                 where: str = "?", **given: Any) -> _C:
    """A config dataclass from a TOML table (``id`` is its ``device_id``), checked by field.

    ``where`` names the table in errors when it has no ``id`` (e.g. "scanner #2").
    """
    device = str(table.get("id", given.get("device_id", where)))
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    values: dict[str, Any] = dict(given)
    for key, value in table.items():
        name = "device_id" if key == "id" else key
        if name in exclude or name in given:
            continue
        if name not in fields:
            raise config_invalid(device, key, "unknown key")
        values[name] = check_type(device, key, value, hints[name])
    for name, f in fields.items():
        no_default = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if no_default and name not in values:
            raise config_invalid(device, "id" if name == "device_id" else name, "missing")
    return cls(**values)
