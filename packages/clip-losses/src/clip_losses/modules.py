"""Loss modules with cross-device negatives (OpenCLIP semantics) and the learnable logit scale."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .distributed import gather_features, gather_no_grad, world
from .functional import (
    clip_loss_from_logits,
    loss_from_logits,
    pair_logits,
    siglip_loss_from_logits,
    with_negatives,
)
from .targets import positive_mask

__all__ = ["ClipLoss", "SigLipLoss", "LogitScale"]


class ClipLoss(nn.Module):
    """Symmetric InfoNCE over the global batch of a process group (or the local batch alone).

    ``local_loss``: each rank scores only its own rows against all gathered columns (memory
    O(b x B) instead of O(B^2)). ``gather_with_grad``: gradients flow through the gather.
    Equivalence to one process on the concatenated batch (tested): the loss averaged over
    ranks equals it in every mode; with ``gather_with_grad=True`` the DDP-averaged parameter
    gradients equal it; with both flags False each rank's features get exactly their share
    of the single-process gradient, so DDP's averaging divides parameter gradients by the
    world size; ``local_loss=True, gather_with_grad=False`` drops the other ranks' terms and
    is an approximation (as in OpenCLIP).
    """

    def __init__(self, local_loss: bool = False, gather_with_grad: bool = False) -> None:
        super().__init__()
        self.local_loss = local_loss
        self.gather_with_grad = gather_with_grad

    def forward(
        self,
        radar_features: Tensor,
        text_features: Tensor,
        logit_scale: Tensor | float,
        logit_bias: Tensor | float | None = None,
        sample_ids: Tensor | None = None,
        negative_logits: Tensor | None = None,
    ) -> Tensor:
        """``negative_logits [b, m]``: extra negatives of this rank's radar rows (radar->text only);
        across ranks they take the ``local_loss`` form, whose rank average is the global loss."""
        rank, size = world()
        if size == 1:
            logits = pair_logits(radar_features, text_features, logit_scale, logit_bias)
            return loss_from_logits(logits, "infonce", sample_ids=sample_ids, negative_logits=negative_logits)
        all_r = gather_features(radar_features, self.gather_with_grad)  # [B, d]
        all_t = gather_features(text_features, self.gather_with_grad)  # [B, d]
        all_ids = None if sample_ids is None else gather_no_grad(sample_ids)
        if not self.local_loss and negative_logits is None:
            logits = pair_logits(all_r, all_t, logit_scale, logit_bias)  # [B, B]
            return loss_from_logits(logits, "infonce", sample_ids=all_ids)
        b, total = radar_features.shape[0], all_r.shape[0]
        mask = positive_mask(b, total, radar_features.device, sample_ids, all_ids, row_offset=rank * b)
        logits_r = pair_logits(radar_features, all_t, logit_scale, logit_bias)  # [b, B]
        logits_t = pair_logits(text_features, all_r, logit_scale, logit_bias)  # [b, B]
        logits_r, mask_r = with_negatives(logits_r, mask, negative_logits)  # [b, B + m]
        return clip_loss_from_logits(logits_r, logits_t, mask_r, mask)


class SigLipLoss(nn.Module):
    """SigLIP's sigmoid loss; across ranks each rank scores its radar rows against every rank's
    text features (exchanged with gradient), so the rank-averaged loss and the DDP-averaged
    gradients equal the single-process loss on the concatenated batch."""

    def forward(
        self,
        radar_features: Tensor,
        text_features: Tensor,
        logit_scale: Tensor | float,
        logit_bias: Tensor | float | None,
        sample_ids: Tensor | None = None,
        negative_logits: Tensor | None = None,
    ) -> Tensor:
        """``negative_logits [b, m]`` (bias not yet added): extra negatives of this rank's radar rows."""
        rank, _ = world()
        all_t = gather_features(text_features, gather_with_grad=True)  # [B, d]
        all_ids = None if sample_ids is None else gather_no_grad(sample_ids)
        b = radar_features.shape[0]
        mask = positive_mask(b, all_t.shape[0], radar_features.device, sample_ids, all_ids, row_offset=rank * b)
        logits = pair_logits(radar_features, all_t, logit_scale, logit_bias)  # [b, B]
        if negative_logits is not None and logit_bias is not None:
            negative_logits = negative_logits + logit_bias
        logits, mask = with_negatives(logits, mask, negative_logits)  # [b, B + m]
        return siglip_loss_from_logits(logits, mask)


class LogitScale(nn.Module):
    """Learnable temperature stored as a log; ``forward()`` returns ``min(exp(log), max_scale)``.

    Call ``clamp_()`` after each optimiser step (as OpenCLIP does) to keep the stored value in
    range, so the gradient is not stuck at zero above the cap.
    """

    def __init__(self, init: float = 1 / 0.07, max_scale: float = 100.0) -> None:
        super().__init__()
        if not 0 < init <= max_scale:
            raise ValueError(f"need 0 < init <= max_scale, got init={init}, max_scale={max_scale}")
        self.max_scale = float(max_scale)
        self.log_scale = nn.Parameter(torch.tensor(math.log(init)))

    def forward(self) -> Tensor:
        return self.log_scale.exp().clamp(max=self.max_scale)

    @torch.no_grad()
    def clamp_(self) -> None:
        self.log_scale.clamp_(max=math.log(self.max_scale))

    def extra_repr(self) -> str:
        return f"scale={float(self.forward().detach()):.4g}, max_scale={self.max_scale}"
