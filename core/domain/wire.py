"""A generic JSON codec for the domain's frozen dataclasses, driven by their type hints.

Used where domain objects cross a process boundary (the engine channel to the console and the
strategy host). Decimals travel as strings (exact), enums as their values, InstrumentId as
'SYMBOL.VENUE', datetimes as ISO text; each object carries its type name. decode(encode(x)) == x.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any

from . import account, instrument, market, orders

_TYPES: dict[str, type] = {
    cls.__name__: cls
    for module in (account, instrument, market, orders)
    for cls in vars(module).values()
    if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == module.__name__
}
_TYPES.pop("InstrumentId", None)  # travels as text


def register(cls: type) -> type:
    """Make another frozen dataclass encodable (e.g. events defined outside core.domain)."""
    _TYPES[cls.__name__] = cls
    return cls


def encode(value: Any) -> Any:
    """Turn a domain object (or containers of them) into JSON-safe data."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, instrument.InstrumentId):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {"__type__": type(value).__name__}
        out.update({f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)})
        return out
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [encode(v) for v in value]
    raise TypeError(f"cannot encode {type(value).__name__}")


def decode(data: Any, hint: Any = None) -> Any:
    """Inverse of encode(); `hint` is the expected type where the data carries none."""
    if isinstance(data, dict) and "__type__" in data:
        cls = _TYPES.get(data["__type__"])
        if cls is None:
            raise ValueError(f"unknown wire type {data['__type__']!r}")
        hints = _hints(cls)
        kwargs = {name: decode(data[name], hints[name]) for name in hints if name in data}
        return cls(**kwargs)
    if hint is None or hint is Any:
        if isinstance(data, list):
            return [decode(v) for v in data]
        if isinstance(data, dict):
            return {k: decode(v) for k, v in data.items()}
        return data
    return _coerce(data, hint)


@cache
def _hints(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.init}


def _coerce(data: Any, hint: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if data is None:
            return None
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        return _coerce(data, options[0]) if len(options) == 1 else data
    if origin in (tuple, list):
        args = typing.get_args(hint)
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0]) for v in data)
        if origin is tuple:
            return tuple(_coerce(v, a) for v, a in zip(data, args))
        return [_coerce(v, args[0] if args else Any) for v in data]
    if origin is dict:
        _, value_hint = typing.get_args(hint) or (Any, Any)
        return {k: _coerce(v, value_hint) for k, v in data.items()}
    if isinstance(data, dict) and "__type__" in data:
        return decode(data)
    if hint is Decimal:
        return Decimal(data)
    if hint is instrument.InstrumentId:
        return instrument.InstrumentId.parse(data)
    if hint is datetime:
        return datetime.fromisoformat(data)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(data)
    return data
