"""A dataset's classes as a zero-shot evaluation sees them: its ``classes.json``, else the labels of
its one-activity clips; each clip's label; the unseen classes it records. No torch: a command line
checks its options against them before any model loads."""

from __future__ import annotations

from collections.abc import Sequence

from .classes import CLASSES, ClassPrompts, bare_class, read_classes, read_unseen
from .contract import SPLITS
from .errors import DataError
from .records import ClipRecord
from .source import DataLocation, open_split

__all__ = ["clip_label", "dataset_classes", "resolve_unseen", "NO_UNSEEN"]

NO_UNSEEN = "none"  # --unseen none: no generalised report, whatever the dataset records


def clip_label(record: ClipRecord) -> str | None:
    """A clip's class: the activity of its segments when they all have one (else None)."""
    acts = set(record.activities)
    return next(iter(acts)) if len(acts) == 1 else None


def dataset_classes(location: DataLocation) -> list[ClassPrompts]:
    """A dataset's own classes: its ``classes.json`` (as ``data synth`` and ``data convert`` write it),
    else the labels in the records of all its splits, sorted."""
    root = location.root
    if root is not None and (root / CLASSES).is_file():
        return read_classes(root / CLASSES)
    labels = {
        label for split in SPLITS for r in open_split(location, split).records if (label := clip_label(r)) is not None
    }
    if not labels:
        raise DataError(
            "zero-shot needs classes: this dataset has no classes.json and no clip with one activity "
            "label in its segments; pass --classes FILE, or convert the data with --labels"
        )
    return [bare_class(name) for name in sorted(labels)]


def resolve_unseen(location: DataLocation, names: Sequence[str], given: Sequence[str] | None) -> tuple[str, ...]:
    """The unseen classes among the candidate ``names``: ``given`` (each must be a candidate; ``[NO_UNSEEN]``:
    none), else those the dataset records (``unseen.txt``) that are candidates."""
    if given is None:
        return tuple(n for n in read_unseen(location.root) if n in names)
    if list(given) == [NO_UNSEEN]:
        return ()
    missing = [n for n in given if n not in names]
    if missing:
        raise DataError(f"{missing} are not among the {len(names)} classes ({', '.join(names)})")
    return tuple(given)
