"""``EOTTransformer``: positional embedding, a learnable end-of-tokens token, pre-LN blocks."""

from __future__ import annotations

import torch
from timm.layers import trunc_normal_
from timm.models.vision_transformer import Block
from torch import Tensor, nn

from .attention import Attention
from .view_encoder import run_blocks

__all__ = ["EOTTransformer"]


class EOTTransformer(nn.Module):
    """Tokens ``[b, n, d]`` + mask ``[b, n]`` -> (normed tokens ``[b, n, d]``, normed EOT ``[b, d]``).

    The EOT token is appended after the last token and attends to every valid token (key-padding
    mask); ``pooled = proj(ln(eot))`` is taken by the encoder's head.
    """

    def __init__(
        self, dim: int, depth: int, heads: int, mlp_ratio: float, max_tokens: int, drop_path_rate: float = 0.0
    ) -> None:
        super().__init__()
        self.pos_embed = nn.Parameter(torch.zeros(1, max_tokens, dim))
        self.eot_token = nn.Parameter(torch.zeros(1, 1, dim))
        rates = torch.linspace(0, drop_path_rate, depth).tolist()
        self.blocks = nn.ModuleList(
            Block(dim, heads, mlp_ratio, qkv_bias=True, drop_path=r, attn_layer=Attention) for r in rates
        )
        self.norm = nn.LayerNorm(dim)
        self.grad_checkpointing = False
        trunc_normal_(self.pos_embed, std=0.02)
        trunc_normal_(self.eot_token, std=0.02)

    def forward(self, x: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
        """Tokens ``[b, n, d]`` and their mask ``[b, n]`` (``None``: no padding) -> (tokens, EOT ``[b, d]``)."""
        b, n, d = x.shape
        x = x + self.pos_embed[:, :n]  # time-major positions: a shorter clip uses a prefix
        x = torch.cat([x, self.eot_token.expand(b, 1, d)], dim=1)  # [b, n + 1, d]
        key_mask = None if mask is None else torch.cat([mask, mask.new_ones(b, 1)], dim=1)
        x = self.norm(run_blocks(self.blocks, x, key_mask, self.grad_checkpointing))
        return x[:, :n], x[:, n]
