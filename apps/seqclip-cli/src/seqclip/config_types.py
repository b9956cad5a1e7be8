"""Type checks of typed configurations: a dataclass's fields against their annotations, before any
work (standard library only)."""

from __future__ import annotations

import types
import typing
from dataclasses import fields
from typing import Any, Literal, get_args, get_origin

__all__ = ["check_types"]


def check_types(obj: Any, where: str = "") -> None:
    """Raise ``TypeError`` naming the field, the expected type and the value when a dataclass field
    holds a value of the wrong type (ints are accepted for floats, bools never for ints)."""
    hints = typing.get_type_hints(type(obj))
    for f in fields(obj):
        value = getattr(obj, f.name)
        if not _matches(value, hints[f.name]):
            raise TypeError(
                f"{where}{f.name}: expected {_type_name(hints[f.name])}, got {value!r} ({type(value).__name__})"
            )


def _matches(value: Any, hint: Any) -> bool:
    origin = get_origin(hint)
    if origin is Literal:
        return value in get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, h) for h in get_args(hint))
    if origin is dict:
        return isinstance(value, dict)
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


def _type_name(hint: Any) -> str:
    origin = get_origin(hint)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(hint))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(h) for h in get_args(hint))
    return "null" if hint is type(None) else getattr(hint, "__name__", str(hint))
