"""Every name of an earlier radar-synth that is still read, in one place (timm's ``_registry.py``
deprecations), each taken under its new name with one ``FutureWarning``. Standard library only."""

from __future__ import annotations

import warnings
from typing import Any

__all__ = ["RENAMED_KEYWORDS", "rename_note", "renamed_keyword"]

# before 0.7.1: plan_clip(exclude=) named the held-out activities, a word the toolkit keeps for bad clips
RENAMED_KEYWORDS = {"plan_clip": {"exclude": "unseen"}}


def rename_note(owner: str, old: str, new: str) -> str:
    """The one text of every rename: ``plan_clip(exclude=...) is now unseen=...``."""
    return f"{owner}({old}=...) is now {new}=..."


def renamed_keyword(owner: str, old: str, value: Any, current: Any) -> Any:
    """The value of keyword ``RENAMED_KEYWORDS[owner][old]``: ``value`` given under the old name
    ``old`` (with a warning), else ``current``."""
    if value is None:
        return current
    warnings.warn(rename_note(owner, old, RENAMED_KEYWORDS[owner][old]), FutureWarning, stacklevel=3)
    return value
