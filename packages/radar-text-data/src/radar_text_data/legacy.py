"""Readers for what earlier radar-text-datas wrote, in one place: manifest field names of
radar-text-data 0.2, read under their current names with one ``FutureWarning`` whose text
``rename_note`` writes. Standard library only."""

from __future__ import annotations

import warnings

__all__ = ["RENAMED_FIELDS", "rename_note", "renamed_fields"]

RENAMED_FIELDS = {"hard_negative_of": "twin_of"}  # radar-text-data <= 0.2 manifest field names


def rename_note(where: str, old: list[str]) -> str:
    """The one text of every rename: ``FILE:LINE: renamed manifest field(s) hard_negative_of -> twin_of; ...``."""
    names = ", ".join(f"{k} -> {RENAMED_FIELDS[k]}" for k in old)
    return f"{where}: renamed manifest field(s) {names}; read under the new name (rewrite the manifest to silence this)"


def renamed_fields(row: dict, where: str, error: type[Exception] = ValueError) -> dict:
    """A row with old field names read under the new ones (with a warning); a row holding both an
    old name and its new one raises ``error``."""
    old = [k for k in RENAMED_FIELDS if k in row]
    if not old:
        return row
    warnings.warn(rename_note(where, old), FutureWarning, stacklevel=3)
    clash = [k for k in old if RENAMED_FIELDS[k] in row]
    if clash:
        raise error(f"{where}: both {clash[0]} and its new name {RENAMED_FIELDS[clash[0]]}")
    return {RENAMED_FIELDS.get(k, k): v for k, v in row.items()}
