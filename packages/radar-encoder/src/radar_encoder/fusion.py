"""``ViewFusion``: per-token fusion of the views' token sequences (concat | add | attention)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["ViewFusion"]


class ViewFusion(nn.Module):
    """``[b, n, d]`` per view -> ``[b, n, d]``.

    concat: stack -> Linear(V*d -> d); add: mean over views; attention: self-attention across the
    views at each token position (pre-norm, residual), then the mean over views.
    """

    def __init__(self, num_views: int, dim: int, kind: str = "concat", heads: int = 4) -> None:
        super().__init__()
        self.kind = kind
        if kind == "concat":
            self.proj = nn.Linear(num_views * dim, dim)
        elif kind == "attention":
            self.norm = nn.LayerNorm(dim)
            self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        elif kind != "add":
            raise ValueError(f"fusion must be concat, add or attention, got {kind!r}")

    def forward(self, feats: list[Tensor]) -> Tensor:
        stacked = torch.stack(feats, dim=2)  # [b, n, V, d]
        b, n, v, d = stacked.shape
        if self.kind == "concat":
            return self.proj(stacked.reshape(b, n, v * d))
        if self.kind == "add":
            return stacked.mean(dim=2)
        y = stacked.reshape(b * n, v, d)  # attention across views at each token position
        h = self.norm(y)
        y = y + self.attn(h, h, h, need_weights=False)[0]
        return y.mean(dim=1).reshape(b, n, d)
