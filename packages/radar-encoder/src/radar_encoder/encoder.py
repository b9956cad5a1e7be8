"""``RadarEncoder``: per-view ViTs with equal token grids -> fusion -> EOT transformer."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .config import VIEW_KEYS, RadarEncoderConfig
from .eot import EOTTransformer
from .fusion import ViewFusion
from .legacy import rename_weight_keys
from .patches import plan_patches
from .view_encoder import ViewEncoder

__all__ = ["RadarEncoder", "RadarEncoderOutput"]


@dataclass
class RadarEncoderOutput:
    pooled: Tensor  # [b, output_dim]  proj(ln(EOT)): the classic CLIP feature
    sequence: Tensor  # [b, n, embed_dim] fused tokens, time-major (t * rows + r)
    sequence_mask: Tensor  # [b, n] True = real token
    time_sequence: Tensor  # [b, T / patch_time, embed_dim] tokens averaged over the rows of each column
    time_mask: Tensor  # [b, T / patch_time]


def _standardize(view: Tensor, mask: Tensor, eps: float = 1e-5) -> Tensor:
    """Zero mean, unit variance per clip over its real frames ``[b, H, T]``; padding stays 0.

    Radar views are mostly an identical noise floor: without this, a randomly initialised encoder
    maps different clips to nearly the same feature (cosine ~0.995) and contrastive training stalls.
    """
    m = mask[:, None, :].to(view.dtype)  # [b, 1, T]
    count = m.sum(dim=(1, 2), keepdim=True) * view.shape[1]
    mean = (view * m).sum(dim=(1, 2), keepdim=True) / count
    var = ((view - mean) * m).square().sum(dim=(1, 2), keepdim=True) / count
    return (view - mean) * torch.rsqrt(var + eps) * m


class RadarEncoder(nn.Module):
    """Multi-view radar encoder (design document §2, §6.1) with padding handled by masks."""

    def __init__(self, config: RadarEncoderConfig | None = None) -> None:
        super().__init__()
        cfg = config or RadarEncoderConfig.preset("tiny")
        self.config = cfg
        self.plan = plan_patches(cfg.view_heights, cfg.max_frames, cfg.token_rows, cfg.patch_time)
        self.encoders = nn.ModuleDict(
            {
                key: ViewEncoder(
                    height,
                    cfg.max_frames,
                    patch,
                    cfg.vit_dim,
                    cfg.vit_depth,
                    cfg.vit_heads,
                    cfg.mlp_ratio,
                    cfg.embed_dim,
                    cfg.drop_path_rate,
                )
                for key, height, patch in zip(VIEW_KEYS, cfg.view_heights, self.plan.patch_sizes, strict=True)
                if key in cfg.views
            }
        )
        self.fusion = ViewFusion(len(cfg.views), cfg.embed_dim, cfg.fusion, cfg.fusion_heads)
        self.eot = EOTTransformer(
            cfg.embed_dim, cfg.eot_depth, cfg.eot_heads, cfg.mlp_ratio, self.plan.num_tokens, cfg.drop_path_rate
        )
        self.head = nn.Linear(cfg.embed_dim, cfg.output_dim, bias=False)
        if cfg.vit_checkpoint:
            for enc in self._view_encoders():
                enc.load_vit_weights(cfg.vit_checkpoint)
        self.set_grad_checkpointing(cfg.grad_checkpointing)
        self._register_load_state_dict_pre_hook(lambda state, prefix, *_: rename_weight_keys(state, prefix))

    def _view_encoders(self) -> list[ViewEncoder]:
        return [enc for enc in self.encoders.values() if isinstance(enc, ViewEncoder)]

    @property
    def output_dim(self) -> int:
        return self.config.output_dim

    def set_grad_checkpointing(self, enable: bool = True) -> None:
        """Recompute transformer blocks in backward (timm's switch name)."""
        for enc in self._view_encoders():
            enc.grad_checkpointing = enable
        self.eot.grad_checkpointing = enable

    # ------------------------------------------------------------------ timm vocabulary
    def forward_features(
        self,
        range_time: Tensor | None = None,
        doppler_time: Tensor | None = None,
        azimuth_time: Tensor | None = None,
        mask: Tensor | None = None,
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """-> (fused tokens ``[b, n, d]``, normed EOT ``[b, d]``, token mask ``[b, n]``, column mask)."""
        views = self._check_inputs(dict(zip(VIEW_KEYS, (range_time, doppler_time, azimuth_time), strict=True)))
        first = next(iter(views.values()))
        b, frames = first.shape[0], first.shape[-1]
        padded = mask is not None  # None: every frame real, and attention runs without a mask
        if mask is None:
            mask = torch.ones(b, frames, dtype=torch.bool, device=first.device)
        elif mask.shape != (b, frames):
            raise ValueError(f"mask must be [batch, frames] = {[b, frames]}, got {list(mask.shape)}")
        mask = mask.to(device=first.device, dtype=torch.bool)
        col_mask = mask.reshape(b, -1, self.config.patch_time).any(dim=-1)  # [b, cols]
        if padded:
            rows = col_mask.any(dim=1)  # [b]
            try:  # no host round-trip: a device-side assert off the CPU
                torch._assert_async(rows.all(), "radar-encoder: a mask row has no valid frame")
            except RuntimeError:
                raise ValueError(f"mask row {int((~rows).nonzero()[0])} has no valid frame") from None
        feats = []
        for key, view in views.items():
            if padded:
                view = view.masked_fill(~mask[:, None, :], 0.0)  # padded frames cannot leak into patches
            if self.config.input_norm == "instance":
                view = _standardize(view, mask)
            feats.append(self.encoders[key](view, col_mask if padded else None))  # [b, n, d]
        fused = self.fusion(feats)  # [b, n, d]
        token_mask = col_mask.repeat_interleave(self.plan.rows, dim=1)  # [b, n]
        tokens, eot = self.eot(fused, token_mask if padded else None)
        return tokens, eot, token_mask, col_mask

    def forward_head(self, eot: Tensor) -> Tensor:
        """``pooled = proj(ln(eot))`` (the norm is the EOT transformer's final LayerNorm)."""
        return self.head(eot)

    def forward(
        self,
        range_time: Tensor | None = None,
        doppler_time: Tensor | None = None,
        azimuth_time: Tensor | None = None,
        mask: Tensor | None = None,
        return_sequence: bool = True,
    ) -> RadarEncoderOutput | Tensor:
        """Views ``[b, bins, T]`` (T <= max_frames, a multiple of patch_time), frame mask ``[b, T]``
        (True = real frame). Returns ``RadarEncoderOutput``, or only ``pooled [b, d]`` when
        ``return_sequence=False``."""
        tokens, eot, token_mask, col_mask = self.forward_features(range_time, doppler_time, azimuth_time, mask)
        pooled = self.forward_head(eot)
        if not return_sequence:
            return pooled
        b, n, d = tokens.shape
        cols = col_mask.shape[1]
        time_sequence = tokens.reshape(b, cols, self.plan.rows, d).mean(dim=2)  # [b, cols, d]
        return RadarEncoderOutput(pooled, tokens, token_mask, time_sequence, col_mask)

    # ------------------------------------------------------------------ helpers
    def _check_inputs(self, given: dict[str, Tensor | None]) -> dict[str, Tensor]:
        cfg = self.config
        views = {}
        for key, height in zip(VIEW_KEYS, cfg.view_heights, strict=True):
            if key not in cfg.views:
                continue
            x = given[key]
            if x is None:
                raise ValueError(f"{key} is required: this encoder uses views {list(cfg.views)}")
            if x.dim() != 3 or x.shape[1] != height:
                raise ValueError(f"{key} must be [batch, {height}, frames], got {list(x.shape)}")
            frames = x.shape[-1]
            if frames > cfg.max_frames or frames % cfg.patch_time or frames == 0:
                raise ValueError(
                    f"{key} has {frames} frames; need a positive multiple of "
                    f"{cfg.patch_time} up to {cfg.max_frames} (radar_views.crop_or_pad)"
                )
            views[key] = x
        shapes = {k: (v.shape[0], v.shape[-1]) for k, v in views.items()}
        if len(set(shapes.values())) != 1:
            raise ValueError(f"views disagree on (batch, frames): {shapes}")
        return views
