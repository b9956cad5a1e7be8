"""The two order tests: is a clip's own caption scored above a negative that holds the same words in
another order? ``twins``: the order-swapped twin's caption; ``order``: the caption with its
segments reversed (``captions_reversed``). Accuracy with a 95 % interval resampling clips."""

from __future__ import annotations

import torch

from ..data import RadarTextDataset
from ..errors import UserError
from ..model.seqclip import SeqClip
from .options import DEFAULT_OPTIONS, EvalOptions
from .results import PreferenceResult
from .scorer import Scorer
from .stats import bootstrap_interval

__all__ = ["preference_accuracy", "eval_twins", "eval_order"]


@torch.no_grad()
def preference_accuracy(scorer: Scorer, dataset: RadarTextDataset, negatives: dict[int, list[str]]) -> PreferenceResult:
    """For clip ``i`` and each ``k < len(negatives[i])``: is its own caption ``k`` scored above
    ``negatives[i][k]``? Accuracy (%), the number of comparisons and clips, a 95 % bootstrap
    interval resampling clips."""
    idx = sorted(negatives)
    subset = dataset.subset(idx)
    clips = scorer.embed_clips(subset)
    pairs = [
        list(zip(record.captions, negatives[i], strict=False))  # the shorter list decides
        for i, record in zip(idx, subset.records, strict=True)
    ]
    captions = [own for p in pairs for own, _ in p] + [neg for p in pairs for _, neg in p]
    matrix = scorer.matrix(clips, scorer.embed_texts(captions))
    rows = torch.tensor([j for j, p in enumerate(pairs) for _ in p])  # [m]
    m = len(rows)
    correct = scorer.pairs(matrix, rows, torch.arange(m)) > scorer.pairs(matrix, rows, torch.arange(m, 2 * m))
    per_clip = [correct[rows == j].float().tolist() for j in range(len(idx))]
    low, high = bootstrap_interval(per_clip)
    return {
        "accuracy": float(correct.float().mean() * 100),
        "interval": [100 * low, 100 * high],
        "comparisons": m,
        "clips": len(idx),
        "chance": 50.0,
        "similarity": scorer.similarity,
    }


def eval_twins(model: SeqClip, dataset: RadarTextDataset, options: EvalOptions = DEFAULT_OPTIONS) -> PreferenceResult:
    """Twin test: each clip of an order-swapped twin pair, its caption ``k`` against the twin's caption
    ``k`` (every caption both clips have)."""
    by_id = {r.id: r for r in dataset.records}
    negatives = {
        i: list(by_id[r.twin_of].captions[: len(r.captions)])
        for i, r in enumerate(dataset.records)
        if r.twin_of in by_id
    }
    if not negatives:
        raise UserError(_no_twins_message(dataset))
    return preference_accuracy(options.scorer(model), dataset, negatives)


def _no_twins_message(dataset: RadarTextDataset) -> str:
    """Which splits of the dataset hold twin pairs, when the one asked for holds none."""
    from radar_text_data import SPLITS
    from radar_text_data.source import open_split

    holding = [
        s for s in SPLITS if s != dataset.split and any(r.twin_of for r in open_split(dataset.location, s).records)
    ]
    if holding:
        return (
            f"no order-swapped twin pairs in split {dataset.split!r}; this dataset has them in "
            f"{' and '.join(holding)} (choose with --split)"
        )
    return (
        f"no order-swapped twin pairs in this dataset (radar-synth writes them with --twins; "
        f"split {dataset.split!r} was asked for)"
    )


def eval_order(model: SeqClip, dataset: RadarTextDataset, options: EvalOptions = DEFAULT_OPTIONS) -> PreferenceResult:
    """Text-order test: each clip of two or more segments, its caption ``k`` against the same caption with
    the segments in reverse order and identical wording otherwise (``captions_reversed`` in the manifest)."""
    negatives = {i: list(r.captions_reversed) for i, r in enumerate(dataset.records) if r.captions_reversed}
    if not negatives:
        raise UserError(
            "no clip with captions_reversed in this split (radar-synth writes them for clips of 2 or 3 activities)"
        )
    return preference_accuracy(options.scorer(model), dataset, negatives)
