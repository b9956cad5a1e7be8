"""What ``SeqClip.encode_radar`` and ``encode_text`` return: one type for both, every call."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

__all__ = ["Embeddings"]


@dataclass
class Embeddings:
    """``pooled [b, d]`` (L2-normalised unless asked otherwise); with ``return_sequence``, the
    projected ``sequence [b, n, d]`` and its ``mask [b, n]`` (True: a real time step or word),
    else both None."""

    pooled: Tensor
    sequence: Tensor | None = None
    mask: Tensor | None = None
