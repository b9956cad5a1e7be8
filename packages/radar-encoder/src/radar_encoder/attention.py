"""``Attention``: timm's multi-head self-attention, with its fused kernel run in fp32 for bf16 inputs on a CPU.

PyTorch's CPU flash-attention kernel is slower in bf16 than in fp32 (2-3x, its backward most, at the
encoder's head size of 32), while the projections around it run several times faster in bf16 where
the CPU has native bf16. Under ``torch.autocast("cpu", torch.bfloat16)`` this module keeps the
projections in bf16 and computes the attention itself in fp32, which is also the more exact of the
two. Elsewhere (fp32, CUDA, timm's non-fused path) it computes what timm's ``Attention`` computes;
the weights and their names are timm's.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from timm.layers import Attention as TimmAttention
from torch import Tensor

__all__ = ["Attention"]


class Attention(TimmAttention):
    """timm's ``Attention`` (the same parameters and state-dict keys) whose fused attention runs in
    fp32 when its inputs are bf16 on a CPU."""

    def forward(self, x: Tensor, attn_mask: Tensor | None = None, is_causal: bool = False) -> Tensor:
        """Tokens ``[b, n, d]`` and an optional boolean or additive mask broadcastable to
        ``[b, heads, n, n]`` -> ``[b, n, d_out]``."""
        if not (self.fused_attn and x.device.type == "cpu"):
            return super().forward(x, attn_mask=attn_mask, is_causal=is_causal)
        b, n, _ = x.shape
        gate_layer = getattr(self, "gate", None)  # timm >= 1.0.28, None unless gated
        gate = None if gate_layer is None else gate_layer(x).sigmoid()
        qkv = self.qkv(x).reshape(b, n, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)  # [b, heads, n, head_dim] each
        q, k = self.q_norm(q), self.k_norm(k)
        dtype = v.dtype
        with torch.autocast("cpu", enabled=False):  # autocast would cast the kernel's inputs back to bf16
            if dtype == torch.bfloat16:
                q, k, v = q.float(), k.float(), v.float()
            if attn_mask is not None and attn_mask.is_floating_point():
                attn_mask = attn_mask.to(q.dtype)
            x = F.scaled_dot_product_attention(
                q, k, v, attn_mask=attn_mask, dropout_p=self.attn_drop.p if self.training else 0.0, is_causal=is_causal
            ).to(dtype)  # [b, heads, n, head_dim]
        x = x.transpose(1, 2).reshape(b, n, -1)  # [b, n, heads * head_dim]
        x = self.norm(x)
        if gate is not None:
            x = x * gate
        return self.proj_drop(self.proj(x))
