"""Readers for what earlier radar-encoders saved, in one place: the view keys of radar-encoder 0.1
in saved configurations and weights, each read under its current name (a configuration's old keys
with one ``FutureWarning`` whose text ``rename_note`` writes). Standard library only."""

from __future__ import annotations

import warnings

__all__ = ["OLD_VIEW_KEYS", "rename_note", "renamed_views", "rename_weight_keys"]

OLD_VIEW_KEYS = {"range": "range_time", "doppler": "doppler_time", "azimuth": "azimuth_time"}  # radar-encoder <= 0.1


def rename_note(old, new) -> str:
    """The one text of every rename: ``view keys ['azimuth', ...] are now ['azimuth_time', ...]``."""
    return f"view keys {old} are now {new}"


def renamed_views(views: tuple[str, ...]) -> tuple[str, ...]:
    """``views`` under the current keys; an old one warns."""
    if not any(v in OLD_VIEW_KEYS for v in views):
        return views
    warnings.warn(rename_note(sorted(OLD_VIEW_KEYS), sorted(OLD_VIEW_KEYS.values())), FutureWarning, stacklevel=4)
    return tuple(OLD_VIEW_KEYS.get(v, v) for v in views)


def rename_weight_keys(state_dict, prefix: str) -> None:
    """Weights saved by radar-encoder <= 0.1 (``encoders.range.*``) under the view names
    (``encoders.range_time.*``), in place; the parameter order, and so optimizer states, are the same."""
    for old, new in OLD_VIEW_KEYS.items():
        head = f"{prefix}encoders.{old}."
        for key in [k for k in state_dict if k.startswith(head)]:
            state_dict[f"{prefix}encoders.{new}.{key[len(head) :]}"] = state_dict.pop(key)
