"""Embedding a split and scoring retrieval (used by validation, the end of training and ``seqclip eval``)."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader

from radar_views import VIEW_NAMES

from .data import RadarTextDataset, collate
from .model import SeqClip
from .retrieval import retrieval_metrics

__all__ = ["embed_split", "split_retrieval"]


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


def split_retrieval(model: SeqClip, dataset: RadarTextDataset, batch_size: int = 64) -> dict:
    emb = embed_split(model, dataset, batch_size)
    return retrieval_metrics(emb["radar"], emb["text"], emb["caption_clip"])
