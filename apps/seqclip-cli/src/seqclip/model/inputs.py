"""The host's half of a training forward (``SeqClip.prepare``): a batch of the data path, captions as
strings, becomes tensors on the model's device, so that the step itself never reads the host."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["prepare", "TEXT_KEYS"]

TEXT_KEYS = ("hidden", "attention_mask", "special_tokens_mask")  # a text-cache entry's tensors


def prepare(model, batch: dict) -> dict:
    """``batch``'s tensors on ``model``'s device, plus ``text`` (and ``reversed_text``): the captions'
    token tensors ``[b, l]``, or with the text cache its outputs. A frame mask that is on the CPU and
    all True is dropped (attention then runs unmasked: a read of host data, no device wait). With
    ``static_shapes``, the order negatives follow the captions in ``text``, padded to a fixed count
    (``reversed_valid [m]`` marks the real ones; padded ids are -1)."""
    device = next(model.parameters()).device
    out = {
        k: v.to(device, non_blocking=True) for k, v in batch.items() if torch.is_tensor(v) and k != "mask"
    }  # views [b, bins, T], ids [b]
    mask = batch.get("mask")
    if mask is not None and (mask.device.type != "cpu" or not bool(mask.all())):
        out["mask"] = mask.to(device, non_blocking=True)  # [b, T]
    captions, negatives = batch["captions"], batch.get("captions_reversed") or []
    if model.static_negatives:  # one text batch of a fixed row count
        extra = max(model.static_negatives - len(negatives), 0)
        out["reversed_valid"] = torch.arange(len(negatives) + extra, device=device) < len(negatives)  # [m]
        ids = batch.get("reversed_sequence_ids", torch.zeros(0, dtype=torch.long))
        out["reversed_sequence_ids"] = F.pad(ids, (0, extra), value=-1).to(device, non_blocking=True)
        out["text"] = _text(model, [*captions, *negatives, *captions[:1] * extra], device)  # [b + m, l]
        return out
    out["text"] = _text(model, captions, device)
    if negatives:
        out["reversed_text"] = _text(model, negatives, device)
    return out


def _text(model, captions: list[str], device: torch.device) -> dict[str, Tensor]:
    """Token tensors ``[b, l]``, or with the text cache the frozen part's outputs (``hidden [b, l, h]``
    and masks; ``SeqClip.features`` runs the trainable top layers on them)."""
    if model.text_cache is None:
        return model.tokenize(captions, device)
    return dict(zip(TEXT_KEYS, model.cached_text(captions), strict=True))
