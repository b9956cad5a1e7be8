"""Retrieval in both directions over a full gallery (or the in-batch protocol), with 95 %
intervals; the metrics computed in chunks (memory O(chunk x gallery)); validation during training.

Scores come from functions of query indices, so cosine features and sequence similarities
share one ranking path. Ties are ranked deterministically: a gallery item with the same score
as the target counts as ahead of it when its index is lower (rank = #greater + #equal-lower + 1).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader

from ..config import POOLED
from ..data import RadarTextDataset, collate
from ..errors import UserError
from ..model.seqclip import SeqClip
from .options import PROTOCOLS
from .results import Directions, RankMetrics, RecallIntervals, RetrievalResult, Validation
from .scorer import ClipSet, ScoreMatrix, Scorer
from .stats import bootstrap_interval
from .zero_shot import class_accuracy

__all__ = [
    "retrieval_metrics",
    "metrics_from_scores",
    "ranks_both_ways",
    "ranks_from_scores",
    "rank_metrics",
    "retrieval",
    "validate",
]

ScoreRows = Callable[[Tensor], Tensor]  # query indices [c] -> scores [c, gallery]


def ranks_from_scores(score_rows: ScoreRows, targets: list[Tensor], chunk: int = 1024) -> list[list[int]]:
    """1-based ranks of each query's target gallery items."""
    out: list[list[int]] = []
    for start in range(0, len(targets), chunk):
        q = torch.arange(start, min(start + chunk, len(targets)))
        scores = score_rows(q).float()  # [c, G]
        col = torch.arange(scores.shape[1])
        for i, tgt in enumerate(targets[start : start + chunk]):
            s = scores[i]
            st = s[tgt][:, None]  # [k, 1]
            ahead = (s[None] > st).sum(1) + ((s[None] == st) & (col[None] < tgt[:, None])).sum(1)
            out.append((ahead + 1).tolist())
    return out


def rank_metrics(first_ranks: list[int], all_ranks: list[list[int]] | None = None) -> RankMetrics:
    """R@1/5/10, median and mean rank of the best correct item; mAP over all correct items."""
    r = np.asarray(first_ranks, dtype=np.float64)
    groups = all_ranks if all_ranks is not None else [[int(x)] for x in r]
    return {
        "R@1": float((r <= 1).mean() * 100),
        "R@5": float((r <= 5).mean() * 100),
        "R@10": float((r <= 10).mean() * 100),
        "median_rank": float(np.median(r)),
        "mean_rank": float(r.mean()),
        "mAP": float(np.mean([np.mean([(i + 1) / k for i, k in enumerate(sorted(g))]) for g in groups]) * 100),
    }


def ranks_both_ways(
    t2r: ScoreRows, r2t: ScoreRows, num_clips: int, caption_clip: Tensor, chunk: int = 1024
) -> tuple[list[int], list[list[int]]]:
    """Each caption's rank of its clip (text->radar), and each clip's ranks of its captions (radar->text),
    from score functions ``t2r(captions) -> [c, clips]``, ``r2t(clips) -> [c, captions]``."""
    t2r_ranks = [r[0] for r in ranks_from_scores(t2r, [c.view(1) for c in caption_clip], chunk)]
    r2t_ranks = ranks_from_scores(r2t, [(caption_clip == i).nonzero().flatten() for i in range(num_clips)], chunk)
    return t2r_ranks, r2t_ranks


def metrics_from_scores(
    t2r: ScoreRows, r2t: ScoreRows, num_clips: int, caption_clip: Tensor, chunk: int = 1024
) -> Directions:
    """Both directions from score functions (``ranks_both_ways``). text->radar: the caption's clip is the
    target; radar->text: every caption of the clip is correct."""
    t2r_ranks, r2t_ranks = ranks_both_ways(t2r, r2t, num_clips, caption_clip, chunk)
    return {
        "text_to_radar": rank_metrics(t2r_ranks),
        "radar_to_text": rank_metrics([min(r) for r in r2t_ranks], r2t_ranks),
    }


def retrieval_metrics(radar: Tensor, text: Tensor, caption_clip: Tensor, chunk: int = 1024) -> Directions:
    """Cosine retrieval of L2-normalised features ``radar [N, d]``, ``text [M, d]``, ``caption_clip [M]``."""
    radar, text = radar.float(), text.float()
    return metrics_from_scores(
        lambda q: text[q] @ radar.T, lambda q: radar[q] @ text.T, radar.shape[0], caption_clip, chunk
    )


def _intervals(per_clip_ranks: list[list[int]]) -> RecallIntervals:
    """95 % bootstrap intervals of R@1/5/10 (percent), resampling clips."""

    def interval(k: int) -> list[float]:
        return list(bootstrap_interval([[100.0 * (r <= k) for r in ranks] for ranks in per_clip_ranks]))

    return {"R@1": interval(1), "R@5": interval(5), "R@10": interval(10)}


def _directions(ranks_t2r: list[int], ranks_r2t: list[list[int]], t2r_by_clip: list[list[int]] | None) -> Directions:
    """Both directions' metrics; with ``t2r_by_clip`` (each clip's caption ranks) their 95 % intervals."""
    t2r = rank_metrics(ranks_t2r)
    r2t = rank_metrics([min(r) for r in ranks_r2t], ranks_r2t)
    if t2r_by_clip is not None:
        t2r["interval"] = _intervals(t2r_by_clip)
        r2t["interval"] = _intervals([[min(r)] for r in ranks_r2t])
    return {"text_to_radar": t2r, "radar_to_text": r2t}


def retrieval(
    scorer: Scorer,
    dataset: RadarTextDataset,
    protocol: str = "full",
    intervals: bool = True,
    clips: ClipSet | None = None,
) -> RetrievalResult:
    """Both directions, with 95 % bootstrap intervals (resampling clips) unless ``intervals`` is off;
    ``full``: every caption against every clip of the split; ``in-batch``: the reference code base's
    protocol (consecutive batches of the scorer's ``batch_size`` clips, first caption each).
    ``clips``: the split already embedded by ``scorer`` (else it is embedded here)."""
    if protocol not in PROTOCOLS:
        raise UserError(f"protocol: must be full or in-batch, got {protocol!r}")
    clips = clips if clips is not None else scorer.embed_clips(dataset)
    texts = scorer.embed_texts(clips.captions)
    scores = scorer.matrix(clips, texts)
    if protocol == "in-batch":
        return _in_batch(scores, clips, scorer.batch_size, intervals)
    n, m = len(clips), len(clips.captions)
    if scorer.sequence:
        rows, caps = torch.arange(n), torch.arange(m)
        t2r, r2t, chunk = (lambda q: scores(rows, q).T), (lambda q: scores(q, caps)), 256
    else:  # text rows against the radar gallery, and the reverse: one matmul per chunk
        radar, pooled = clips.radar.pooled.float(), texts.pooled.float()
        t2r, r2t, chunk = (lambda q: pooled[q] @ radar.T), (lambda q: radar[q] @ pooled.T), 1024
    t2r_ranks, r2t_ranks = ranks_both_ways(t2r, r2t, n, clips.caption_clip, chunk)
    by_clip: list[list[int]] | None = None
    if intervals:
        by_clip = [[] for _ in range(n)]
        for rank, clip in zip(t2r_ranks, clips.caption_clip.tolist(), strict=True):
            by_clip[clip].append(rank)
    return {**_directions(t2r_ranks, r2t_ranks, by_clip), "protocol": {"name": "full", "clips": n, "captions": m}}


def _in_batch(scores: ScoreMatrix, clips: ClipSet, batch_size: int, intervals: bool) -> RetrievalResult:
    n = len(clips)
    first = torch.stack([(clips.caption_clip == i).nonzero()[0, 0] for i in range(n)])  # caption 0 of each clip
    t2r: list[int] = []
    r2t: list[list[int]] = []
    for start in range(0, n, batch_size):
        rows = torch.arange(start, min(start + batch_size, n))
        if len(rows) < batch_size and start > 0:
            break  # the reference protocol drops the last incomplete batch
        caps = first[rows]
        ranks = ranks_both_ways(
            partial(_t2r_in_batch, scores, rows, caps),
            partial(_r2t_in_batch, scores, rows, caps),
            len(rows),
            torch.arange(len(rows)),
            256,
        )
        t2r += ranks[0]
        r2t += ranks[1]
    by_clip = [[r] for r in t2r] if intervals else None
    return {
        **_directions(t2r, r2t, by_clip),
        "protocol": {"name": "in-batch", "batch_size": batch_size, "clips": len(t2r)},
    }


def _t2r_in_batch(scores: ScoreMatrix, rows: Tensor, caps: Tensor, q: Tensor) -> Tensor:
    return scores(rows, caps[q]).T  # [c, clips]


def _r2t_in_batch(scores: ScoreMatrix, rows: Tensor, caps: Tensor, q: Tensor) -> Tensor:
    return scores(rows[q], caps)  # [c, captions]


@torch.no_grad()
def validate(model: SeqClip, val_ds: RadarTextDataset, batch_size: int, classes: tuple | None = None) -> Validation:
    """Validation loss (first caption of each clip, batches of ``batch_size``), full-gallery
    retrieval by the pooled score and, given the dataset's ``classes`` (a label dataset), zero-shot
    class accuracy over the same embedded clips; ``flat`` holds them as one level of named numbers
    (for the log: ``class_accuracy`` among them)."""
    model.eval()
    losses: list[dict[str, float]] = []
    for batch in DataLoader(val_ds, batch_size=batch_size, shuffle=False, collate_fn=collate):
        if "captions" not in batch or len(batch["captions"]) < 2:
            continue
        out = model(batch)  # prepared on the model's device
        losses.append({k: float(v.detach()) for k, v in out.items() if isinstance(v, Tensor) and v.dim() == 0})
    scorer = Scorer(model, POOLED, batch_size)
    clips = scorer.embed_clips(val_ds)  # once, for retrieval and class accuracy
    metrics = retrieval(scorer, val_ds, intervals=False, clips=clips)
    flat = {k: float(np.mean([x[k] for x in losses])) for k in losses[0]} if losses else {"loss_total": float("nan")}
    for direction, figures in (
        ("text_to_radar", metrics["text_to_radar"]),
        ("radar_to_text", metrics["radar_to_text"]),
    ):
        flat.update({f"{direction}_{k}": v for k, v in figures.items() if isinstance(v, float)})
    if classes:
        flat["class_accuracy"] = class_accuracy(scorer, clips, val_ds, classes)
    model.train()
    return {**metrics, "flat": flat}
