"""Every name of an earlier clip-losses that is still read, in one place (timm's ``_registry.py``
deprecations): old values of arguments and old function names, each taken under its new name with
one ``FutureWarning`` whose text ``rename_note`` writes."""

from __future__ import annotations

import warnings
from typing import Any

__all__ = ["RENAMED_VALUES", "RENAMED_FUNCTIONS", "rename_note", "renamed_value", "renamed_function"]

RENAMED_VALUES = {"kind": {"clip": "infonce"}}  # loss_from_logits(kind=...): "clip" before 0.3
RENAMED_FUNCTIONS = {"sequence_loss": "loss_from_logits"}  # before 0.4: the loss of any square logit matrix


def rename_note(old: str, new: str) -> str:
    """The one text of every rename: ``sequence_loss is now loss_from_logits``."""
    return f"{old} is now {new}"


def renamed_value(where: str, name: str, value: Any) -> Any:
    """``value`` of argument ``name`` under its current name; an old one warns."""
    new = RENAMED_VALUES.get(name, {}).get(value) if isinstance(value, str) else None
    if new is None:
        return value
    warnings.warn(rename_note(f"{where}({name}={value!r})", f"{name}={new!r}"), FutureWarning, stacklevel=3)
    return new


def renamed_function(module: str, name: str, namespace: dict) -> Any:
    """For a module's ``__getattr__``: the function now called ``RENAMED_FUNCTIONS[name]``, with a warning."""
    if name not in RENAMED_FUNCTIONS:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    new = RENAMED_FUNCTIONS[name]
    warnings.warn(rename_note(name, new), FutureWarning, stacklevel=3)
    return namespace[new]
