"""Contrastive objectives for CLIP-style training: CLIP (InfoNCE), SigLIP and the loss of any logit matrix,
multi-positive batches and cross-device negatives with OpenCLIP semantics."""

from importlib.metadata import version

from .distributed import gather_features, gather_no_grad, world
from .functional import (
    ABSENT,
    clip_loss,
    clip_loss_from_logits,
    loss_from_logits,
    pair_logits,
    siglip_loss,
    siglip_loss_from_logits,
    soft_cross_entropy,
    with_negatives,
)
from .modules import ClipLoss, LogitScale, SigLipLoss
from .targets import positive_mask, sigmoid_labels, softmax_targets

__all__ = [
    "clip_loss",
    "siglip_loss",
    "loss_from_logits",
    "ABSENT",
    "ClipLoss",
    "SigLipLoss",
    "LogitScale",
    "pair_logits",
    "soft_cross_entropy",
    "clip_loss_from_logits",
    "siglip_loss_from_logits",
    "positive_mask",
    "softmax_targets",
    "sigmoid_labels",
    "gather_features",
    "gather_no_grad",
    "world",
    "with_negatives",
]
__version__ = version("clip-losses")
