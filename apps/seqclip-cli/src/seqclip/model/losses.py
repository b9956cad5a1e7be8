"""Loss assembly of a ``SeqClip`` (open_clip's ``loss.py`` split): the pooled contrastive loss,
the sequence loss, order negatives, and the feature concatenation that gradient accumulation needs.

The loss's parameters (logit scale and bias, the sequence similarity) stay on the model, so
checkpoint keys do not depend on this module. Order negatives (the ``reversed_*`` features of the
order-reversed captions) are extra texts for the radar->text direction of both losses, except for
rows whose activity sequence they describe.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from clip_losses import ABSENT, loss_from_logits, pair_logits

from ..timing import phase
from .features import SIMILARITY_MEANS, Features, Losses

__all__ = ["seqclip_losses", "loss_parameters", "cat_features", "cat_padded", "hard_pairs", "sequence_parts"]


def seqclip_losses(model, feats: Features, sample_ids: Tensor | None = None) -> Losses:
    """Losses (``loss_pooled``, ``loss_seq``, ``loss_total``), logits and similarity components of
    ``model.features`` output. Training: the pooled loss sees the global batch across ranks."""
    with phase("similarity"):
        out = _pooled_loss(model, feats, sample_ids)
        if model.seq_similarity is None:
            return out
        return _add_sequence_loss(model, feats, sample_ids, out)


def _pooled_loss(model, feats: Features, sample_ids: Tensor | None) -> Losses:
    r_pooled, t_pooled = feats["radar"], feats["text"]  # [b, d], [b, d]
    scale = model.logit_scale()
    negative = None
    if "reversed_text" in feats:  # [b, m]
        negative = _negative_logits(feats, pair_logits(r_pooled, feats["reversed_text"], scale))
    if model.training:  # global batch across ranks
        loss_pooled = model.loss_fn(
            r_pooled, t_pooled, scale, model.logit_bias, sample_ids=sample_ids, negative_logits=negative
        )
    else:  # evaluation is per process (validation runs on rank 0 alone)
        loss_pooled = loss_from_logits(
            pair_logits(r_pooled, t_pooled, scale),
            model.config.loss,
            logit_bias=model.logit_bias,
            sample_ids=sample_ids,
            negative_logits=negative,
        )
    return {
        "loss_pooled": loss_pooled,
        "loss_seq": torch.zeros((), device=loss_pooled.device),
        "loss_total": loss_pooled,
        "logit_scale": scale.detach(),
        "logits_per_radar": (scale * r_pooled.float() @ t_pooled.float().T).detach(),  # [b, b]
    }


def _add_sequence_loss(model, feats: Features, sample_ids: Tensor | None, out: Losses) -> Losses:
    sim = model.seq_similarity
    k, b = model.config.seq_hard_negatives, feats["radar_seq"].shape[0]
    present = None  # every pair scored
    if model.training and 0 < k < b - 1:
        parts, present = sequence_parts(sim, feats, hard_pairs(out["logits_per_radar"], sample_ids, k))
    else:
        parts = sim.similarities(feats["radar_seq"], feats["text_seq"], feats["radar_mask"], feats["text_mask"])
    seq_logits = sim.combine(parts)  # [b, b]
    seq_negative = None
    if "reversed_text" in feats:
        seq_negative = _negative_logits(
            feats,
            sim.combine(
                sim.similarities(
                    feats["radar_seq"], feats["reversed_text_seq"], feats["radar_mask"], feats["reversed_text_mask"]
                )
            ),
        )
    loss_seq = loss_from_logits(
        seq_logits,
        model.config.loss,
        logit_bias=model.logit_bias,
        sample_ids=sample_ids,
        negative_logits=seq_negative,
        present=present,
    )
    out["loss_seq"], out["seq_logits"] = loss_seq, seq_logits.detach()
    out["loss_total"] = out["loss_pooled"] + model.config.seq_weight * loss_seq
    for name, v in parts.items():
        out[SIMILARITY_MEANS[name]] = v.detach().diagonal().mean()
    return out


def hard_pairs(pooled: Tensor, sample_ids: Tensor | None, k: int) -> tuple[Tensor, Tensor]:
    """The pairs ``(rows, cols)`` ``[2 b (k + 1)]`` a hard-negative sequence loss scores: each radar
    row's own caption, its other positives, then its ``k`` hardest negatives by the pooled score
    ``pooled [b, b]``, and the same for each caption's column (fixed sizes: no host sync)."""
    b = pooled.shape[0]
    eye = torch.eye(b, dtype=torch.bool, device=pooled.device)
    same = eye if sample_ids is None else sample_ids[:, None] == sample_ids[None, :]
    score = pooled.detach().float().masked_fill(same, 1e30).masked_fill(eye, float("inf"))  # [b, b]
    by_row, by_col = score.topk(k + 1, dim=1).indices, score.topk(k + 1, dim=0).indices  # [b, k+1], [k+1, b]
    own = torch.arange(b, device=pooled.device).repeat_interleave(k + 1)
    return torch.cat([own, by_col.T.reshape(-1)]), torch.cat([by_row.reshape(-1), own])


def sequence_parts(sim, feats: Features, pairs: tuple[Tensor, Tensor]) -> tuple[dict[str, Tensor], Tensor]:
    """Each sequence-similarity component's ``[b, b]`` logits scored on ``pairs`` only (the rest
    ``ABSENT``; a pair listed twice counts once), and the ``[b, b]`` mask of the scored entries."""
    rows, cols = pairs
    b = feats["radar_seq"].shape[0]
    values = sim.pair_similarities(
        feats["radar_seq"], feats["text_seq"], rows, cols, feats["radar_mask"], feats["text_mask"]
    )  # {name: [P]}
    some = next(iter(values.values()))
    count = some.new_zeros(b, b).index_put((rows, cols), torch.ones_like(some), accumulate=True)  # [b, b]
    present = count > 0
    parts = {
        name: torch.where(
            present, v.new_zeros(b, b).index_put((rows, cols), v, accumulate=True) / count.clamp_min(1), ABSENT
        )
        for name, v in values.items()
    }
    return parts, present


def _negative_logits(feats: Features, logits: Tensor) -> Tensor:
    """``[b, m]`` negative logits, with a negative that describes a row's own activity sequence
    (a twin's reversed caption is the other twin's story) pushed out of that row's loss."""
    same = feats["sequence_ids"][:, None] == feats["reversed_sequence_ids"][None, :]  # [b, m]
    if "reversed_valid" in feats:  # static shapes: rows that only pad the negatives to a fixed count
        same = same | ~feats["reversed_valid"][None, :]
    return logits.float().masked_fill(same, -1e9)


def loss_parameters(model) -> list[nn.Parameter]:
    """Parameters that the losses use directly (not through ``features``): logit scale and bias and
    the sequence similarity's own projections."""
    modules = [m for m in (model.logit_scale, model.seq_similarity) if m is not None]
    extra = [model.logit_bias] if model.logit_bias is not None else []
    return [p for m in modules for p in m.parameters()] + extra


def cat_features(parts: Sequence[Features]) -> Features:
    """Concatenate ``SeqClip.features`` of several micro-batches along the batch axis (``cat_padded``);
    order negatives (present in some micro-batches only) are concatenated from those that have them."""
    return cast(Features, cat_padded(cast(Sequence[Mapping[str, Tensor]], parts)))


def cat_padded(parts: Sequence[Mapping[str, Tensor]]) -> dict[str, Tensor]:
    """Each key's tensors concatenated along the batch axis, from the parts that have it; text
    sequences (``*text_seq`` ``[b, l, d]``, ``*text_mask`` ``[b, l]``) are zero-padded (and so masked)
    to the longest tokenisation."""
    out = {}
    for key in dict.fromkeys(k for p in parts for k in p):
        tensors = [p[key] for p in parts if key in p]
        if key.endswith(("text_seq", "text_mask")):
            length = max(t.shape[1] for t in tensors)
            tail = (0, 0) if key.endswith("text_seq") else ()  # text_seq [b, l, d], text_mask [b, l]
            tensors = [F.pad(t, (*tail, 0, length - t.shape[1])) for t in tensors]
        out[key] = torch.cat(tensors)  # [sum b, ...]
    return out
