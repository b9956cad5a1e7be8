"""Functional CLIP / SigLIP losses on features or on a given logit matrix.

Conventions follow OpenCLIP: features are L2-normalised by the caller and ``logit_scale`` is
the multiplier (already exponentiated). Low-precision inputs are upcast so the loss is computed
in float32. ``sample_ids`` (optional, ``[B]``) marks entries that are positives of each other.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from .targets import positive_mask, sigmoid_labels, softmax_targets

__all__ = [
    "clip_loss",
    "siglip_loss",
    "loss_from_logits",
    "ABSENT",
    "soft_cross_entropy",
    "pair_logits",
    "clip_loss_from_logits",
    "siglip_loss_from_logits",
    "with_negatives",
]


def _f32(x: Tensor) -> Tensor:
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x


def _check_pair(radar: Tensor, text: Tensor) -> None:
    if radar.dim() != 2 or text.dim() != 2 or radar.shape[1] != text.shape[1]:
        raise ValueError(
            f"features must be [B, d] with the same d, got radar {tuple(radar.shape)}, text {tuple(text.shape)}"
        )


def pair_logits(
    radar: Tensor, text: Tensor, logit_scale: Tensor | float, logit_bias: Tensor | float | None = None
) -> Tensor:
    """``scale * radar @ text.T (+ bias)`` in float32 or float64: ``[Br, Bt]``."""
    logits = _f32(radar) @ _f32(text).T * _f32(torch.as_tensor(logit_scale, device=radar.device))
    if logit_bias is not None:
        logits = logits + _f32(torch.as_tensor(logit_bias, device=radar.device))
    return logits


def soft_cross_entropy(logits: Tensor, targets: Tensor) -> Tensor:
    """Mean over rows of ``-sum_j targets_ij * log_softmax(logits_i)_j``."""
    return -(targets * F.log_softmax(logits, dim=1)).sum(dim=1).mean()


def clip_loss_from_logits(
    logits_per_radar: Tensor, logits_per_text: Tensor, mask: Tensor, text_mask: Tensor | None = None
) -> Tensor:
    """Symmetric InfoNCE: mean of radar->text and text->radar cross-entropies.

    ``mask`` marks the positives of the radar rows; ``text_mask`` those of the text rows
    (default ``mask.T``, the square single-process case).
    """
    loss_r = soft_cross_entropy(logits_per_radar, softmax_targets(mask))
    loss_t = soft_cross_entropy(logits_per_text, softmax_targets(mask.T if text_mask is None else text_mask))
    return (loss_r + loss_t) / 2


def siglip_loss_from_logits(logits: Tensor, mask: Tensor) -> Tensor:
    """``-sum(log sigmoid(z * logits)) / rows`` with ``z = +1`` on positives, ``-1`` elsewhere."""
    return -F.logsigmoid(sigmoid_labels(mask) * logits).sum() / logits.shape[0]


def clip_loss(
    radar_features: Tensor,
    text_features: Tensor,
    logit_scale: Tensor | float,
    logit_bias: Tensor | float | None = None,
    sample_ids: Tensor | None = None,
) -> Tensor:
    """Symmetric InfoNCE on paired features ``[B, d]`` (row i of each modality is a pair)."""
    _check_pair(radar_features, text_features)
    logits = pair_logits(radar_features, text_features, logit_scale, logit_bias)
    return loss_from_logits(logits, "infonce", sample_ids=sample_ids)


def siglip_loss(
    radar_features: Tensor,
    text_features: Tensor,
    logit_scale: Tensor | float,
    logit_bias: Tensor | float | None,
    sample_ids: Tensor | None = None,
) -> Tensor:
    """Sigmoid loss of SigLIP on paired features ``[B, d]``."""
    _check_pair(radar_features, text_features)
    logits = pair_logits(radar_features, text_features, logit_scale, logit_bias)
    return loss_from_logits(logits, "siglip", sample_ids=sample_ids)


def with_negatives(logits: Tensor, mask: Tensor, negative_logits: Tensor | None) -> tuple[Tensor, Tensor]:
    """Append extra negative columns ``[rows, m]`` to the radar rows' logits and (all False) to their
    positive mask. A negative that must not count for a row is given a very low logit (``-1e9``),
    which contributes nothing to either loss."""
    if negative_logits is None:
        return logits, mask
    if negative_logits.dim() != 2 or negative_logits.shape[0] != logits.shape[0]:
        raise ValueError(f"negative_logits must be [{logits.shape[0]}, m], got {tuple(negative_logits.shape)}")
    negative_logits = _f32(negative_logits)
    extra = torch.zeros_like(negative_logits, dtype=torch.bool)
    return torch.cat([logits, negative_logits], 1), torch.cat([mask, extra], 1)


ABSENT = -1e9  # the logit of an entry that does not exist (exp(ABSENT - max) is 0 in float32)


def loss_from_logits(
    logits: Tensor,
    kind: str = "infonce",
    logit_bias: Tensor | float | None = None,
    sample_ids: Tensor | None = None,
    negative_logits: Tensor | None = None,
    present: Tensor | None = None,
) -> Tensor:
    """The same objectives on a given square logit matrix ``[B, B]`` (a pooled one, or a sequence
    similarity's).

    ``kind="infonce"``: CLIP's symmetric cross-entropy over rows and columns. ``kind="siglip"``: sigmoid
    loss, with ``logit_bias`` added first. ``negative_logits [B, m]``: extra negatives of the radar
    rows only (radar->text direction; never positives, never queries). ``present [B, B]`` (bool):
    the entries that were computed (a sparse matrix: hard negatives); the others are neither positives
    nor negatives (their logits are set to ``ABSENT``); every row and column needs a present positive.
    """
    if logits.dim() != 2 or logits.shape[0] != logits.shape[1]:
        raise ValueError(f"logits must be a square [B, B] matrix, got {tuple(logits.shape)}")
    if sample_ids is not None and sample_ids.shape != (logits.shape[0],):
        raise ValueError(f"sample_ids must have shape [{logits.shape[0]}], got {tuple(sample_ids.shape)}")
    logits = _f32(logits)
    b = logits.shape[0]
    mask = positive_mask(b, b, logits.device, sample_ids, sample_ids)
    if present is not None:
        if present.shape != logits.shape:
            raise ValueError(f"present must have the logits' shape {tuple(logits.shape)}, got {tuple(present.shape)}")
        mask = mask & present
        logits = logits.masked_fill(~present, ABSENT)
    if kind == "infonce":
        logits_r, mask_r = with_negatives(logits, mask, negative_logits)
        return clip_loss_from_logits(logits_r, logits.T, mask_r, mask.T)
    if kind == "siglip":
        logits, mask = with_negatives(logits, mask, negative_logits)
        if logit_bias is not None:
            logits = logits + _f32(torch.as_tensor(logit_bias, device=logits.device))
        return siglip_loss_from_logits(logits, mask)
    raise ValueError(f"kind must be 'infonce' or 'siglip', got {kind!r}")
