"""Every name of an earlier seq-similarity that is still read, in one place (timm's
``_registry.py`` deprecations), each taken under its new name with one ``FutureWarning``."""

from __future__ import annotations

import warnings
from typing import Any

__all__ = ["RENAMED_KEYWORDS", "RENAMED_NAMES", "rename_note", "renamed_keyword", "renamed_name"]

RENAMED_KEYWORDS = {"SequenceSimilarity": {"similarity_type": "similarity"}}  # before 0.3
RENAMED_NAMES = {"SIMILARITY_TYPES": "SIMILARITIES", "SequenceSimilarity.similarity_type": "similarity"}  # before 0.3


def rename_note(owner: str | None, old: str, new: str) -> str:
    """The one text of every rename: ``SequenceSimilarity(similarity_type=...) is now similarity=...``
    (a keyword of ``owner``), ``SIMILARITY_TYPES is now SIMILARITIES`` (a name)."""
    return f"{owner}({old}=...) is now {new}=..." if owner else f"{old} is now {new}"


def renamed_name(old: str) -> str:
    """The current name of ``old`` (``RENAMED_NAMES``), with a warning."""
    warnings.warn(rename_note(None, old, RENAMED_NAMES[old]), FutureWarning, stacklevel=3)
    return RENAMED_NAMES[old]


def renamed_keyword(owner: str, old: str, value: Any, current: Any) -> Any:
    """The value of keyword ``RENAMED_KEYWORDS[owner][old]``: ``value`` given under the old name
    ``old`` (with a warning), else ``current``."""
    if value is None:
        return current
    warnings.warn(rename_note(owner, old, RENAMED_KEYWORDS[owner][old]), FutureWarning, stacklevel=3)
    return value
