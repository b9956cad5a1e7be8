"""Readers for what earlier seqclip-clis saved, in one place: configuration values and config.json
field names of saved models and runs (``config.json``, ``config.toml``), and metric names of old
runs' ``metrics.jsonl``. Each is read under its current name; a renamed configuration value or field
warns once (``FutureWarning``, whose text ``rename_note`` writes; the CLI prints it as a ``note:``
line). Standard library only."""

from __future__ import annotations

import warnings
from typing import Any

__all__ = [
    "RENAMED_VALUES",
    "RENAMED_CONFIG_FIELDS",
    "RENAMED_METRICS",
    "rename_note",
    "renamed_value",
    "metric",
]

# configuration field -> {old value: new value}, as saved models and runs hold them
RENAMED_VALUES: dict[str, dict[str, str]] = {
    "similarity": {"clip": "pooled", "none": "pooled"},  # "none": seqclip-cli <= 0.1.1; "clip": <= 0.4
    "loss": {"clip": "infonce"},  # <= 0.4
    "positives": {"clip": "same_clip", "activities": "same_activities"},  # <= 0.4
}
# config.json field names of seqclip-cli 0.1.x (use_sequence_similarity = false read as similarity pooled)
RENAMED_CONFIG_FIELDS = {
    "sequence_similarity_type": "similarity",
    "sequence_similarity_weight": "seq_weight",
    "sequence_granularity": "granularity",
}
RENAMED_METRICS = {"loss_clip": "loss_pooled"}  # metrics.jsonl of seqclip-cli <= 0.4


def rename_note(name: str, old: Any, new: Any) -> str:
    """The one text of every rename: ``similarity 'clip' is now called 'pooled'``."""
    return f"{name} {old!r} is now called {new!r}"


def renamed_value(name: str, value: Any, where: str = "") -> Any:
    """A saved ``value`` of field ``name`` under its current name; an old one warns (``FutureWarning``,
    prefixed with ``where``: the file)."""
    new = RENAMED_VALUES.get(name, {}).get(value) if isinstance(value, str) else None
    if new is None:
        return value
    warnings.warn(where + rename_note(name, value, new), FutureWarning, stacklevel=3)
    return new


def metric(line: dict, key: str, default: Any = None) -> Any:
    """``line[key]`` of a metrics.jsonl line, read under its old name in runs that wrote that."""
    if key in line:
        return line[key]
    old = next((o for o, n in RENAMED_METRICS.items() if n == key), None)
    return line.get(old, default) if old else default
