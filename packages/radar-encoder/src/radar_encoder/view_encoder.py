"""``ViewEncoder``: one timm ViT over one radar view, time-major tokens, padded columns masked."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import torch
from timm.layers import resample_abs_pos_embed, resample_patch_embed
from timm.models import VisionTransformer
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from .attention import Attention

__all__ = ["ViewEncoder", "run_blocks", "load_state_dict_file"]


def run_blocks(blocks: Iterable[nn.Module], x: Tensor, key_mask: Tensor | None, grad_checkpointing: bool) -> Tensor:
    """Apply timm blocks with a boolean key-padding mask ``[b, n]`` (True = attend; ``None``: no padding,
    which lets SDPA pick its flash kernel). The mask is used as given: testing it for "all True" would
    make the host wait for the device."""
    attn_mask = None if key_mask is None else key_mask[:, None, None, :]  # [b, 1, 1, n]
    for blk in blocks:
        if grad_checkpointing and torch.is_grad_enabled():
            x = checkpoint(blk, x, attn_mask, use_reentrant=False)
        else:
            x = blk(x, attn_mask=attn_mask)
    return x


def load_state_dict_file(path: str | Path) -> dict[str, Tensor]:
    """A state dict from ``.safetensors`` or a torch file (loaded with ``weights_only=True``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    state = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and key in state and isinstance(state[key], dict):
            state = state[key]
    return state


class ViewEncoder(nn.Module):
    """A ``[b, H, T]`` view -> ``[b, (T / pt) * rows, embed_dim]`` tokens in time-major order.

    Uses a timm ``VisionTransformer`` (``in_chans=1``, no class token) for its patch embedding,
    positional table, blocks and norm; positional embeddings are sliced (not interpolated) for
    clips shorter than ``max_frames``, so a short clip and its padded version agree exactly.
    """

    def __init__(
        self,
        height: int,
        max_frames: int,
        patch_size: tuple[int, int],
        vit_dim: int,
        depth: int,
        heads: int,
        mlp_ratio: float,
        embed_dim: int,
        drop_path_rate: float = 0.0,
    ) -> None:
        super().__init__()
        self.rows = height // patch_size[0]
        self.max_cols = max_frames // patch_size[1]
        self.vit = VisionTransformer(
            img_size=(height, max_frames),
            patch_size=patch_size,
            in_chans=1,
            num_classes=0,
            global_pool="",
            embed_dim=vit_dim,
            depth=depth,
            num_heads=heads,
            mlp_ratio=mlp_ratio,
            class_token=False,
            dynamic_img_size=True,
            drop_path_rate=drop_path_rate,
            attn_layer=Attention,
        )
        self.proj = nn.Linear(vit_dim, embed_dim)
        self.grad_checkpointing = False

    def forward(self, view: Tensor, col_mask: Tensor | None) -> Tensor:
        """One view ``[b, bins, T]`` and its column mask ``[b, cols]`` (``None``: no padding) -> ``[b, n, d]``."""
        b = view.shape[0]
        x = self.vit.patch_embed(view[:, None])  # [b, rows, cols, d] (NHWC)
        cols, dim = x.shape[2], x.shape[3]
        pos = self._pos_embed().reshape(1, self.rows, self.max_cols, dim)[:, :, :cols]
        x = self.vit.pos_drop(x + pos)
        x = x.transpose(1, 2).reshape(b, cols * self.rows, dim)  # time-major: index t * rows + r
        x = self.vit.norm_pre(x)
        key_mask = None if col_mask is None else col_mask.repeat_interleave(self.rows, dim=1)  # [b, n]
        x = run_blocks(self.vit.blocks, x, key_mask, self.grad_checkpointing)
        return self.proj(self.vit.norm(x))  # [b, n, embed_dim]

    def _pos_embed(self) -> Tensor:
        pos = self.vit.pos_embed
        assert pos is not None  # the ViT is built with a learned positional table
        return pos

    def load_vit_weights(self, path: str | Path) -> list[str]:
        """Load timm ViT weights (any patch size, channels, grid): patch embedding resampled and
        summed to one channel, positional table resampled. Returns the keys left at init."""
        raw = load_state_dict_file(path)
        prefix = 1 if "cls_token" in raw else 0  # class-token slots at the front of pos_embed
        state = {k: v for k, v in raw.items() if not k.startswith(("head", "fc_norm", "cls_token"))}
        w = state.get("patch_embed.proj.weight")
        target = self.vit.patch_embed.proj.weight
        if w is not None:
            if w.shape[1] != 1:
                w = w.sum(dim=1, keepdim=True)  # RGB -> one channel, as timm's adapt_input_conv
            if tuple(w.shape[-2:]) != tuple(target.shape[-2:]):
                w = resample_patch_embed(w, list(target.shape[-2:]))
            state["patch_embed.proj.weight"] = w
        pos = state.get("pos_embed")
        if pos is not None and pos.shape != self._pos_embed().shape:
            side = int(round((pos.shape[1] - prefix) ** 0.5))  # timm checkpoints use square grids
            pos = resample_abs_pos_embed(
                pos, [self.rows, self.max_cols], old_size=[side, side], num_prefix_tokens=prefix
            )
            state["pos_embed"] = pos[:, prefix:]
        missing, unexpected = self.vit.load_state_dict(state, strict=False)
        if unexpected:
            raise ValueError(f"{path}: unexpected keys for a ViT of this size: {unexpected[:5]}")
        return list(missing)
