"""The host's half of a training forward (``SeqClip.prepare``): a batch of the data path, captions as
strings, becomes tensors on the model's device, so that the step itself never reads the host."""

from __future__ import annotations

from typing import cast

import torch
import torch.nn.functional as F

from ..batches import ROW_IDS, Batch
from .features import PreparedBatch, TextInputs

__all__ = ["prepare"]


def prepare(model, batch: Batch) -> PreparedBatch:
    """``batch``'s tensors on ``model``'s device, plus ``text`` (and ``reversed_text``): the captions'
    token tensors ``[b, l]``, or with the text cache its outputs. A frame mask that is on the CPU and
    all True is dropped (attention then runs unmasked: a read of host data, no device wait). With
    ``static_shapes``, the order negatives follow the captions in ``text``, padded to a fixed count
    (``reversed_valid [m]`` marks the real ones; padded ids are -1)."""
    device = next(model.parameters()).device
    captions, negatives = batch["captions"], batch.get("captions_reversed") or []
    extra = max(model.static_negatives - len(negatives), 0) if model.static_negatives else 0
    texts = [*captions, *negatives, *captions[:1] * extra] if model.static_negatives else captions  # [b (+ m)]
    out: PreparedBatch = {
        "range_time": batch["range_time"].to(device, non_blocking=True),  # [b, bins, T]
        "doppler_time": batch["doppler_time"].to(device, non_blocking=True),
        "azimuth_time": batch["azimuth_time"].to(device, non_blocking=True),
        "text": _text(model, texts, device),
    }
    for k in ROW_IDS:
        if k in batch:
            out[k] = batch[k].to(device, non_blocking=True)  # [b]
    mask = batch.get("mask")
    if mask is not None and (mask.device.type != "cpu" or not bool(mask.all())):
        out["mask"] = mask.to(device, non_blocking=True)  # [b, T]
    if model.static_negatives:  # one text batch of a fixed row count
        out["reversed_valid"] = torch.arange(len(negatives) + extra, device=device) < len(negatives)  # [m]
        ids = batch.get("reversed_sequence_ids", torch.zeros(0, dtype=torch.long))
        out["reversed_sequence_ids"] = F.pad(ids, (0, extra), value=-1).to(device, non_blocking=True)
    elif negatives:
        out["reversed_text"] = _text(model, negatives, device)  # [m, l]
        out["reversed_sequence_ids"] = batch["reversed_sequence_ids"].to(device, non_blocking=True)  # [m]
    return out


def _text(model, captions: list[str], device: torch.device) -> TextInputs:
    """Token tensors ``[b, l]``, or with the text cache the frozen part's outputs (``hidden [b, l, h]``
    and masks; ``SeqClip.features`` runs the trainable top layers on them)."""
    if model.text_cache is None:
        return cast(TextInputs, model.tokenize(captions, device))
    hidden, attention, special = model.cached_text(captions)
    return {"hidden": hidden, "attention_mask": attention, "special_tokens_mask": special}
