"""The one embedding and scoring path: validation during training, the final test and every
``seqclip eval`` task embed a split with ``embed_split`` and score it with ``score_matrix``;
``retrieval`` ranks the full gallery (or the in-batch protocol) with 95 % intervals."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader

from radar_views import VIEW_NAMES

from .config import POOLED, SIMILARITIES
from .data import RadarTextDataset, collate
from .losses import cat_features
from .model import SeqClip
from .retrieval import metrics_from_scores, rank_metrics
from .stats import bootstrap_interval

__all__ = ["embed_split", "text_features", "score_matrix", "pair_scores", "check_similarity", "retrieval",
           "validate", "PROTOCOLS"]

PROTOCOLS = ("full", "in-batch")


@torch.no_grad()
def embed_split(model: SeqClip, dataset: RadarTextDataset, batch_size: int = 64, device=None,
                return_sequence: bool = False) -> dict:
    """Radar features of every usable clip (crop from frame 0) and text features of all its captions.

    Returns ``radar [N, d]``, ``text [M, d]``, ``captions`` (M strings), ``caption_clip [M]`` (position
    of each caption's clip in ``radar``), ``positions`` (each clip's position in the split, ``dataset.record_at``) and, with
    ``return_sequence``, ``radar_seq``: a list of (sequence, mask) batches.
    """
    device = device or next(model.parameters()).device
    model.eval()
    radar, radar_seq, caps, cap_clip, positions = [], [], [], [], []
    for batch in DataLoader(dataset, batch_size=batch_size, shuffle=False, collate_fn=collate):
        if "captions" not in batch:  # every clip of the batch was skipped
            continue
        args = [batch[k].to(device) for k in (*VIEW_NAMES, "mask")]
        out = model.encode_radar(*args, return_sequence=return_sequence)
        if return_sequence:
            radar_seq.append((out[1].float().cpu(), out[2].cpu()))
            out = out[0]
        radar.append(out.float().cpu())
        for position in batch["positions"].tolist():
            for c in dataset.record_at(position).captions:
                caps.append(c)
                cap_clip.append(len(positions))
            positions.append(position)
    text = [model.encode_text(caps[i:i + batch_size]).float().cpu() for i in range(0, len(caps), batch_size)]
    return {"radar": torch.cat(radar), "text": torch.cat(text), "captions": caps,
            "caption_clip": torch.tensor(cap_clip), "positions": positions, "radar_seq": radar_seq}


@torch.no_grad()
def text_features(model: SeqClip, captions: list[str], sequence: bool, batch: int = 64) -> dict:
    """Pooled text features ``[M, d]`` and, with ``sequence``, token sequences ``[M, l, d]`` (zero-padded
    to the longest batch, as ``cat_features`` pads them) with their masks."""
    parts = []
    for i in range(0, len(captions), batch):
        out = model.encode_text(captions[i:i + batch], return_sequence=sequence)
        parts.append({"text_seq": out[1], "text_mask": out[2], "pooled": out[0]} if sequence else {"pooled": out})
    feats = cat_features(parts)
    feats["pooled"] = feats["pooled"].float().cpu()
    if sequence:
        feats["seq"], feats["mask"] = feats.pop("text_seq"), feats.pop("text_mask")
    return feats


def check_similarity(model: SeqClip, similarity: str) -> None:
    """``similarity`` is one the model can score: ``pooled`` always, a sequence similarity only with one."""
    if similarity not in SIMILARITIES:
        raise ValueError(f"--similarity must be one of {SIMILARITIES}, got {similarity!r}")
    sim = model.seq_similarity
    if similarity != POOLED and sim is None:
        raise ValueError(f"--similarity {similarity}: this model was trained without sequence similarity; use {POOLED}")
    if similarity not in (POOLED, "combined") and similarity not in sim.components:
        raise ValueError(f"--similarity {similarity}: the model's sequence similarity has {list(sim.components)}")


def score_matrix(model: SeqClip, similarity: str, emb: dict, text: dict):
    """A function ``(clip rows [r], text rows [t]) -> scores [r, t]`` for one similarity: ``pooled`` is
    the pooled cosine; a sequence similarity uses the token sequences; ``combined`` adds the
    scaled pooled score to the weighted sequence similarity (as the training loss does)."""
    check_similarity(model, similarity)
    radar, texts = emb["radar"].float(), text["pooled"].float()
    if similarity == POOLED:
        return lambda rows_r, rows_t: radar[rows_r] @ texts[rows_t].T
    device = next(model.parameters()).device
    r_seq = torch.cat([s for s, _ in emb["radar_seq"]]).to(device)  # [N, n, d]
    r_mask = torch.cat([m for _, m in emb["radar_seq"]]).to(device)  # [N, n]
    sim = model.seq_similarity

    @torch.no_grad()
    def scores(rows_r: torch.Tensor, rows_t: torch.Tensor) -> torch.Tensor:
        parts = sim.similarities(r_seq[rows_r], text["seq"][rows_t].to(device), r_mask[rows_r],
                                 text["mask"][rows_t].to(device))
        if similarity != "combined":
            return parts[similarity].float().cpu()
        pooled = model.logit_scale().float().cpu() * radar[rows_r] @ texts[rows_t].T
        return pooled + model.config.seq_weight * sim.combine(parts).float().cpu()

    return scores


def pair_scores(matrix, clips: torch.Tensor, texts: torch.Tensor, chunk: int = 64) -> torch.Tensor:
    """Scores of the pairs ``(clips[i], texts[i])`` ``[m]``: diagonals of ``chunk x chunk`` blocks."""
    out = [matrix(clips[i:i + chunk], texts[i:i + chunk]).diagonal() for i in range(0, len(clips), chunk)]
    return torch.cat(out) if out else torch.zeros(0)


def _intervals(per_clip_ranks: list[list[int]]) -> dict[str, list[float]]:
    """95 % bootstrap intervals of R@1/5/10 (percent), resampling clips."""
    return {f"R@{k}": list(bootstrap_interval([[100.0 * (r <= k) for r in ranks] for ranks in per_clip_ranks]))
            for k in (1, 5, 10)}


def _directions(ranks_t2r: list[int], ranks_r2t: list[list[int]], t2r_by_clip: list[list[int]] | None) -> dict:
    """Both directions' metrics; with ``t2r_by_clip`` (each clip's caption ranks) their 95 % intervals."""
    t2r = rank_metrics(ranks_t2r)
    r2t = rank_metrics([min(r) for r in ranks_r2t], ranks_r2t)
    if t2r_by_clip is not None:
        t2r["interval"] = _intervals(t2r_by_clip)
        r2t["interval"] = _intervals([[min(r)] for r in ranks_r2t])
    return {"text_to_radar": t2r, "radar_to_text": r2t}


def retrieval(model: SeqClip, dataset: RadarTextDataset, similarity: str = POOLED, protocol: str = "full",
              batch_size: int = 64, intervals: bool = True) -> dict:
    """Both directions, with 95 % bootstrap intervals (resampling clips) unless ``intervals`` is off;
    ``full``: every caption against every clip of the split; ``in-batch``: the reference code base's
    protocol (consecutive batches of ``batch_size`` clips, first caption each)."""
    check_similarity(model, similarity)
    if protocol not in PROTOCOLS:
        raise ValueError(f"--protocol must be full or in-batch, got {protocol!r}")
    sequence = similarity != POOLED
    emb = embed_split(model, dataset, batch_size, return_sequence=sequence)
    text = {"pooled": emb["text"], **(text_features(model, emb["captions"], sequence=True) if sequence else {})}
    scores = score_matrix(model, similarity, emb, text)
    if protocol == "in-batch":
        return _in_batch(scores, emb, batch_size, intervals)
    n, m = emb["radar"].shape[0], len(emb["captions"])
    if sequence:
        clips, caps = torch.arange(n), torch.arange(m)
        t2r, r2t, chunk = (lambda q: scores(clips, q).T), (lambda q: scores(q, caps)), 256
    else:  # text rows against the radar gallery, and the reverse: one matmul per chunk
        radar, texts = emb["radar"].float(), emb["text"].float()
        t2r, r2t, chunk = (lambda q: texts[q] @ radar.T), (lambda q: radar[q] @ texts.T), 1024
    ranks = metrics_from_scores(t2r, r2t, n, emb["caption_clip"], chunk, return_ranks=True)
    by_clip = None
    if intervals:
        by_clip = [[] for _ in range(n)]
        for rank, clip in zip(ranks["t2r"], emb["caption_clip"].tolist(), strict=True):
            by_clip[clip].append(rank)
    return {**_directions(ranks["t2r"], ranks["r2t"], by_clip), "protocol": {"name": "full", "clips": n, "captions": m}}


def _in_batch(scores, emb: dict, batch_size: int, intervals: bool) -> dict:
    n = emb["radar"].shape[0]
    first = torch.stack([(emb["caption_clip"] == i).nonzero()[0, 0] for i in range(n)])  # caption 0 of each clip
    t2r, r2t = [], []
    for start in range(0, n, batch_size):
        clips = torch.arange(start, min(start + batch_size, n))
        if len(clips) < batch_size and start > 0:
            break  # the reference protocol drops the last incomplete batch
        caps = first[clips]
        ranks = metrics_from_scores(lambda q, c=clips, t=caps: scores(c, t[q]).T,
                                    lambda q, c=clips, t=caps: scores(c[q], t), len(clips),
                                    torch.arange(len(clips)), 256, return_ranks=True)
        t2r += ranks["t2r"]
        r2t += ranks["r2t"]
    by_clip = [[r] for r in t2r] if intervals else None
    return {**_directions(t2r, r2t, by_clip),
            "protocol": {"name": "in-batch", "batch_size": batch_size, "clips": len(t2r)}}


@torch.no_grad()
def validate(model: SeqClip, val_ds: RadarTextDataset, batch_size: int) -> dict:
    """Validation loss (first caption of each clip, batches of ``batch_size``) and full-gallery
    retrieval by the pooled score; ``flat`` holds both as one level of named numbers (for the log)."""
    model.eval()
    device = next(model.parameters()).device
    losses = []
    for batch in DataLoader(val_ds, batch_size=batch_size, shuffle=False, collate_fn=collate):
        if "captions" not in batch or len(batch["captions"]) < 2:
            continue
        batch = {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}
        out = model(batch)
        losses.append({k: float(v.detach()) for k, v in out.items() if torch.is_tensor(v) and v.dim() == 0})
    metrics = retrieval(model, val_ds, batch_size=batch_size, intervals=False)
    flat = {k: float(np.mean([x[k] for x in losses])) for k in losses[0]} if losses else {"loss_total": float("nan")}
    for direction in ("text_to_radar", "radar_to_text"):
        flat.update({f"{direction}_{k}": v for k, v in metrics[direction].items()})
    model.train()
    return {**metrics, "flat": flat}
