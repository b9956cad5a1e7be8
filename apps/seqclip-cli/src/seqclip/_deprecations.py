"""Every name of an earlier seqclip-cli that is still read, in one registry (timm's
``_registry.py`` deprecations): values of configuration fields and options, config.json field names
of 0.1.x, metric names of old runs, and module paths from before the app's four parts. Each is read
under its new name with one ``FutureWarning`` whose text ``rename_note`` writes (the CLI prints it
as a ``note:`` line). Standard library only."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from typing import Any

__all__ = [
    "RENAMED_VALUES",
    "RENAMED_CONFIG_FIELDS",
    "RENAMED_METRICS",
    "RENAMED_MODULES",
    "rename_note",
    "new_value",
    "renamed_value",
    "metric",
    "install_module_aliases",
]

# field or option -> {old value: new value}; "eval_similarity" is seqclip eval's --similarity
RENAMED_VALUES: dict[str, dict[str, str]] = {
    "similarity": {"clip": "pooled", "none": "pooled"},  # "none": seqclip-cli <= 0.1.1; "clip": <= 0.4
    "loss": {"clip": "infonce"},  # <= 0.4
    "positives": {"clip": "same_clip", "activities": "same_activities"},  # <= 0.4
    "task": {"hard_negatives": "twins"},  # <= 0.4
    # <= 0.6: eval's "combined" was the pooled score plus seq_weight x the sequence similarity, not
    # seq-similarity's combined (the weighted sum of the sequence similarities) that training means
    "eval_similarity": {"clip": "pooled", "none": "pooled", "combined": "total"},
}
# config.json field names of seqclip-cli 0.1.x (use_sequence_similarity = false read as similarity pooled)
RENAMED_CONFIG_FIELDS = {
    "sequence_similarity_type": "similarity",
    "sequence_similarity_weight": "seq_weight",
    "sequence_granularity": "granularity",
}
RENAMED_METRICS = {"loss_clip": "loss_pooled"}  # metrics.jsonl of seqclip-cli <= 0.4
RENAMED_MODULES = {  # seqclip-cli <= 0.6: one flat package
    **{
        f"seqclip.{old}": f"seqclip.training.{new}"
        for old, new in (
            ("main", "setup"),
            ("train", "loop"),
            ("stream", "stream"),
            ("logger", "logger"),
            ("optim", "optim"),
            ("launch", "launch"),
            ("rng", "rng"),
        )
    },
    **{
        f"seqclip.{old}": f"seqclip.evaluation.{new}"
        for old, new in (
            ("evaluate", "scorer"),
            ("eval_tasks", "tasks"),
            ("zero_shot", "zero_shot"),
            ("retrieval", "retrieval"),
            ("stats", "stats"),
            ("report", "report"),
            ("figures", "figures"),
        )
    },
    **{f"seqclip.{old}": f"seqclip.model.{old}" for old in ("losses", "text", "pretrained")},
}


def rename_note(name: str, old: Any, new: Any, quoted: bool = True) -> str:
    """The one text of every rename: ``similarity 'clip' is now called 'pooled'`` (``quoted=False``:
    as typed on a command line, ``--similarity clip is now called pooled``)."""
    show = repr if quoted else str
    return f"{name} {show(old)} is now called {show(new)}"


def new_value(name: str, value: Any) -> str | None:
    """The current name of an old ``value`` of field ``name``; None when it is not an old one."""
    return RENAMED_VALUES.get(name, {}).get(value) if isinstance(value, str) else None


def renamed_value(name: str, value: Any, where: str = "", label: str | None = None) -> Any:
    """``value`` of field ``name`` under its current name; an old one warns (``FutureWarning``)."""
    new = new_value(name, value)
    if new is None:
        return value
    warnings.warn(where + rename_note(label or name, value, new), FutureWarning, stacklevel=3)
    return new


def metric(line: dict, key: str, default: Any = None) -> Any:
    """``line[key]`` of a metrics.jsonl line, read under its old name in runs that wrote that."""
    if key in line:
        return line[key]
    old = next((o for o, n in RENAMED_METRICS.items() if n == key), None)
    return line.get(old, default) if old else default


class _ModuleAliases(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """``import seqclip.main`` (an old path) gives the module now at its new path, with a warning."""

    def find_spec(self, fullname, path=None, target=None):
        return importlib.util.spec_from_loader(fullname, self) if fullname in RENAMED_MODULES else None

    def create_module(self, spec):
        new = RENAMED_MODULES[spec.name]
        warnings.warn(rename_note("module", spec.name, new), FutureWarning, stacklevel=2)
        module = importlib.import_module(new)
        self.own_spec = module.__spec__  # the import system sets __spec__ to the alias's: put back below
        return module

    def exec_module(self, module) -> None:  # the new module is already executed
        module.__spec__ = self.own_spec


def install_module_aliases() -> None:
    """Put the old module paths' finder on ``sys.meta_path`` (once)."""
    if not any(isinstance(f, _ModuleAliases) for f in sys.meta_path):
        sys.meta_path.append(_ModuleAliases())
