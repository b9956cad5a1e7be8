"""The text cache of a run that freezes all or the lower part of the text tower
(``--text-trainable-layers``, ``--cache-text``): enabled with its bound, filled with the training
split's captions before the first step, and stated in the run's log."""

from __future__ import annotations

import time

from rich.console import Console

from radar_text_data.source import DataLocation

from ..config import TrainConfig
from ..model.seqclip import SeqClip
from ..model.text import record_texts, text_layers

__all__ = ["start_text_cache", "FILL_BATCH"]

FILL_BATCH = 64  # captions per forward while the cache is filled


def start_text_cache(
    model: SeqClip, cfg: TrainConfig, data: DataLocation, excluded: list[str], console: Console | None
) -> None:
    """Cache the frozen part's output (nothing to cache when every text layer trains). For a dataset
    directory, every training caption (and order-reversed caption) is computed before the first
    step, shortest first, while the bound allows: steps run at the cached speed from the first, and
    the log says what it cost. ``console``: rank 0's, None elsewhere."""
    from radar_text_data import read_manifest

    if model.frozen_text_depth() is None:  # N at least the layer count: all of it trains, uncached
        return
    model.cache_text(max_bytes=cfg.text_cache_mb * 2**20)
    if console is not None:
        console.print(_cache_line(model, cfg.text_cache_mb), highlight=False)
    if data.kind != "directory":  # shards stream: their captions are cached as they come
        return
    drop = set(excluded)
    texts = record_texts([r for r in read_manifest(data.root) if r.split == "train" and r.id not in drop])
    start = time.perf_counter()
    held = model.fill_text_cache(texts, FILL_BATCH)
    if console is not None:
        console.print(
            f"text cache: {held:,} of {len(set(texts)):,} training captions computed in "
            f"{time.perf_counter() - start:.0f} s ({model.text_cache.bytes / 2**20:,.0f} MiB)",
            highlight=False,
        )


def _cache_line(model: SeqClip, bound_mb: int) -> str:
    """What the text cache holds and its bound, for the run's log."""
    depth, layers = model.frozen_text_depth(), len(text_layers(model.text_encoder))
    part = "text encoder's" if depth == layers else f"text embeddings' and {depth} lower layers'"
    per_token = model.text_encoder.config.hidden_size * 4 + 1  # float32 hidden state and a mask byte
    return (
        f"text: {layers - depth} of {layers} layers train; each caption's {part} output is computed once and "
        f"cached, at most {bound_mb:,} MiB (about {bound_mb * 2**20 // (per_token * 32):,} captions of 32 tokens)"
    )
