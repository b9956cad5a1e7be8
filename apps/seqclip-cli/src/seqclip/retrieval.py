"""Retrieval metrics over a full gallery, computed in chunks (memory O(chunk x gallery)).

Ties are ranked deterministically: a gallery item with the same score as the target counts as
ahead of it when its index is lower (rank = #greater + #equal-with-lower-index + 1).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

__all__ = ["retrieval_metrics", "rank_metrics", "text_to_radar_ranks", "radar_to_text_ranks"]


def _ranks(queries: Tensor, gallery: Tensor, target_cols: list[Tensor], chunk: int, score_fn) -> tuple[list[list[int]]]:
    """For each query, the 1-based ranks of its target gallery items."""
    out: list[list[int]] = []
    n = gallery.shape[0]
    col = torch.arange(n, device=gallery.device)
    for start in range(0, queries.shape[0], chunk):
        scores = score_fn(queries[start:start + chunk], gallery)  # [c, N]
        for i, targets in enumerate(target_cols[start:start + chunk]):
            s = scores[i]
            ranks = []
            for t in targets.tolist():
                st = s[t]
                ahead = (s > st).sum() + ((s == st) & (col < t)).sum()
                ranks.append(int(ahead) + 1)
            out.append(ranks)
    return out


def _cosine(q: Tensor, g: Tensor) -> Tensor:
    return q.float() @ g.float().T


def text_to_radar_ranks(text: Tensor, radar: Tensor, caption_clip: Tensor, chunk: int = 1024, score_fn=_cosine):
    """Rank of each caption's clip among all clips."""
    return [r[0] for r in _ranks(text, radar, [t.view(1) for t in caption_clip], chunk, score_fn)]


def radar_to_text_ranks(radar: Tensor, text: Tensor, caption_clip: Tensor, chunk: int = 1024, score_fn=_cosine):
    """Ranks of every caption of each clip among all captions."""
    targets = [(caption_clip == i).nonzero().flatten() for i in range(radar.shape[0])]
    return _ranks(radar, text, targets, chunk, score_fn)


def rank_metrics(first_ranks: list[int], all_ranks: list[list[int]] | None = None) -> dict[str, float]:
    """R@1/5/10, median and mean rank of the best correct item; mAP over all correct items."""
    r = np.asarray(first_ranks, dtype=np.float64)
    out = {f"R@{k}": float((r <= k).mean() * 100) for k in (1, 5, 10)}
    out["median_rank"] = float(np.median(r))
    out["mean_rank"] = float(r.mean())
    groups = all_ranks if all_ranks is not None else [[int(x)] for x in r]
    aps = []
    for ranks in groups:
        ranks = sorted(ranks)
        aps.append(np.mean([(i + 1) / rank for i, rank in enumerate(ranks)]))
    out["mAP"] = float(np.mean(aps) * 100)
    return out


def retrieval_metrics(radar: Tensor, text: Tensor, caption_clip: Tensor, chunk: int = 1024,
                      score_fn=_cosine) -> dict[str, dict[str, float]]:
    """Both directions over the full gallery. ``radar [N, d]``, ``text [M, d]``, ``caption_clip [M]``
    (clip index of each caption). radar->text: any caption of the clip is correct."""
    t2r = text_to_radar_ranks(text, radar, caption_clip, chunk, score_fn)
    r2t = radar_to_text_ranks(radar, text, caption_clip, chunk, score_fn)
    return {"text_to_radar": rank_metrics(t2r), "radar_to_text": rank_metrics([min(r) for r in r2t], r2t)}
