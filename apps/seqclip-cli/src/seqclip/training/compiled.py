"""``--compile``: the whole training step (text tower, radar tower, similarities, losses, and their
backward) as compiled graphs, one per shape. ``SeqClip.static_shapes`` keeps the shapes few: caption
lengths in buckets of ``TEXT_BUCKET`` tokens, order negatives padded to one per row; clips have a fixed
length. On one CUDA device without accumulation the graphs are replayed as CUDA graphs."""

from __future__ import annotations

import torch

from radar_text_data.source import DataLocation

from ..config import TrainConfig
from ..model.seqclip import SeqClip
from ..model.text import TEXT_BUCKET

__all__ = ["compile_step", "graph_count"]


def graph_count(max_text_length: int, bucket: int = TEXT_BUCKET) -> int:
    """Shapes a compiled step can meet: each caption-length bucket, with and without a frame mask."""
    return 2 * -(-max_text_length // bucket)


def compile_step(
    model: SeqClip,
    train_model: torch.nn.Module,
    cfg: TrainConfig,
    device: torch.device,
    world_size: int,
    data: DataLocation,
) -> tuple[torch.nn.Module, bool]:
    """``(compiled train_model, whether it replays CUDA graphs)``; ``model`` gets static shapes. The
    eager ``model`` stays for validation, evaluation and saving (its parameter names are unchanged)."""
    model.static_shapes(TEXT_BUCKET, cfg.batch_size if cfg.order_negatives and _has_order_negatives(data) else 0)
    cuda_graphs = device.type == "cuda" and world_size == 1 and cfg.accum_steps == 1
    limit = graph_count(cfg.max_text_length) * (2 if cfg.accum_steps > 1 else 1)  # features-only graphs too
    torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, limit)
    mode = "reduce-overhead" if cuda_graphs else None
    return torch.compile(train_model, mode=mode, dynamic=False), cuda_graphs


def _has_order_negatives(data: DataLocation) -> bool:
    """Whether batches can hold order-reversed captions (shards: assumed, their captions stream)."""
    if data.kind != "directory":
        return True
    from radar_text_data import read_manifest

    return any(r.captions_reversed for r in read_manifest(data.root))
