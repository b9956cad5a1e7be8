"""Retrieval metrics over a full gallery, computed in chunks (memory O(chunk x gallery)).

Scores come from functions of query indices, so cosine features and sequence similarities
share one ranking path. Ties are ranked deterministically: a gallery item with the same score
as the target counts as ahead of it when its index is lower (rank = #greater + #equal-lower + 1).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

__all__ = ["retrieval_metrics", "metrics_from_scores", "ranks_from_scores", "rank_metrics"]

ScoreRows = Callable[[Tensor], Tensor]  # query indices [c] -> scores [c, gallery]


def ranks_from_scores(score_rows: ScoreRows, targets: list[Tensor], chunk: int = 1024) -> list[list[int]]:
    """1-based ranks of each query's target gallery items."""
    out: list[list[int]] = []
    for start in range(0, len(targets), chunk):
        q = torch.arange(start, min(start + chunk, len(targets)))
        scores = score_rows(q).float()  # [c, G]
        col = torch.arange(scores.shape[1])
        for i, tgt in enumerate(targets[start:start + chunk]):
            s = scores[i]
            st = s[tgt][:, None]  # [k, 1]
            ahead = (s[None] > st).sum(1) + ((s[None] == st) & (col[None] < tgt[:, None])).sum(1)
            out.append((ahead + 1).tolist())
    return out


def rank_metrics(first_ranks: list[int], all_ranks: list[list[int]] | None = None) -> dict[str, float]:
    """R@1/5/10, median and mean rank of the best correct item; mAP over all correct items."""
    r = np.asarray(first_ranks, dtype=np.float64)
    out = {f"R@{k}": float((r <= k).mean() * 100) for k in (1, 5, 10)}
    out["median_rank"] = float(np.median(r))
    out["mean_rank"] = float(r.mean())
    groups = all_ranks if all_ranks is not None else [[int(x)] for x in r]
    out["mAP"] = float(np.mean([np.mean([(i + 1) / k for i, k in enumerate(sorted(g))]) for g in groups]) * 100)
    return out


def metrics_from_scores(t2r: ScoreRows, r2t: ScoreRows, num_clips: int, caption_clip: Tensor, chunk: int = 1024,
                        return_ranks: bool = False) -> dict:
    """Both directions from score functions: ``t2r(captions) -> [c, clips]``, ``r2t(clips) -> [c, captions]``.
    text->radar: the caption's clip is the target; radar->text: every caption of the clip is correct."""
    t2r_ranks = [r[0] for r in ranks_from_scores(t2r, [c.view(1) for c in caption_clip], chunk)]
    r2t_ranks = ranks_from_scores(r2t, [(caption_clip == i).nonzero().flatten() for i in range(num_clips)], chunk)
    if return_ranks:
        return {"t2r": t2r_ranks, "r2t": r2t_ranks}
    return {"text_to_radar": rank_metrics(t2r_ranks), "radar_to_text": rank_metrics([min(r) for r in r2t_ranks], r2t_ranks)}


def retrieval_metrics(radar: Tensor, text: Tensor, caption_clip: Tensor, chunk: int = 1024) -> dict:
    """Cosine retrieval of L2-normalised features ``radar [N, d]``, ``text [M, d]``, ``caption_clip [M]``."""
    radar, text = radar.float(), text.float()
    return metrics_from_scores(lambda q: text[q] @ radar.T, lambda q: radar[q] @ text.T, radar.shape[0],
                               caption_clip, chunk)
