"""Which epoch ``best/`` keeps: on a label dataset (every validation clip has one activity) the one of
best validation class accuracy, zero-shot against the dataset's classes; else the one of best
validation retrieval R@1 (``loop.end_epoch``; ``evaluation.retrieval.validate`` measures both)."""

from __future__ import annotations

from ..data import RadarTextDataset

__all__ = ["label_classes"]


def label_classes(val_ds: RadarTextDataset | None) -> tuple | None:
    """The dataset's classes when every validation clip has exactly one activity and there are at
    least two classes (a label dataset: its captions repeat across clips, so retrieval R@1 cannot
    pick the best epoch); None otherwise."""
    from radar_text_data import clip_label, dataset_classes

    if val_ds is None or not val_ds.records:
        return None
    labels = {clip_label(r) for r in val_ds.records}
    if None in labels:
        return None
    classes = tuple(dataset_classes(val_ds.location))
    return classes if len(classes) >= 2 and labels <= {c.name for c in classes} else None
