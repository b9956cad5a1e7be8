"""Targets of the contrastive objectives: which (radar, text) pairs are positives."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["positive_mask", "softmax_targets", "sigmoid_labels"]


def positive_mask(
    rows: int,
    cols: int,
    device: torch.device,
    row_ids: Tensor | None = None,
    col_ids: Tensor | None = None,
    row_offset: int = 0,
) -> Tensor:
    """Boolean ``[rows, cols]``: True where the pair is a positive.

    Without ids, row ``i`` matches column ``i + row_offset`` (the diagonal of the global
    batch). With ids, every pair with the same id is a positive (two captions of one clip).
    """
    if row_ids is None or col_ids is None:
        r = torch.arange(rows, device=device)[:, None] + row_offset
        return r == torch.arange(cols, device=device)[None, :]
    return row_ids.to(device)[:, None] == col_ids.to(device)[None, :]


def softmax_targets(mask: Tensor) -> Tensor:
    """Row-stochastic targets, uniform over each row's positives (the UniCL / SupCon form)."""
    mask = mask.float()
    counts = mask.sum(dim=1, keepdim=True)  # [rows, 1]
    try:  # no host round-trip: a device-side assert off the CPU
        torch._assert_async((counts > 0).all(), "clip-losses: a row without a positive; check sample_ids")
    except RuntimeError:
        raise ValueError("every row needs at least one positive; check sample_ids") from None
    return mask / counts


def sigmoid_labels(mask: Tensor) -> Tensor:
    """SigLIP labels: +1 for positives, -1 for negatives."""
    return mask.float() * 2.0 - 1.0
