"""``RadarEncoderConfig`` and the registered presets (tiny | small | base)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from .legacy import OLD_VIEW_KEYS, renamed_views

__all__ = ["RadarEncoderConfig", "PRESETS", "VIEW_KEYS", "OLD_VIEW_KEYS", "FUSIONS", "resolve_views", "register_preset"]

# the view names of radar-views' RadarViews and of every dataset, used as they are (a test keeps them equal)
VIEW_KEYS = ("range_time", "doppler_time", "azimuth_time")
FUSIONS = ("concat", "add", "attention")
_VIEW_ALIASES = {
    "all": VIEW_KEYS,
    "range_only": ("range_time",),
    "doppler_only": ("doppler_time",),
    "azimuth_only": ("azimuth_time",),
}


def resolve_views(spec: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """``"all" | "range_only" | "doppler_only" | "azimuth_only"`` or any list of view keys (the
    names before 0.2, ``range`` / ``doppler`` / ``azimuth``, are read with a deprecation warning)."""
    views = _VIEW_ALIASES.get(spec) if isinstance(spec, str) else renamed_views(tuple(spec))
    if views is None or not views or any(v not in VIEW_KEYS for v in views) or len(set(views)) != len(views):
        raise ValueError(f"views must be one of {list(_VIEW_ALIASES)} or distinct keys from {VIEW_KEYS}, got {spec!r}")
    return tuple(v for v in VIEW_KEYS if v in views)  # canonical order


@dataclass(frozen=True)
class RadarEncoderConfig:
    """Typed configuration of a ``RadarEncoder``; see ``PRESETS`` for the registered sizes."""

    views: tuple[str, ...] | str = "all"  # all | range_only | doppler_only | azimuth_only | a list
    view_heights: tuple[int, int, int] = (256, 128, 128)  # rows of range, Doppler, azimuth views
    input_norm: str = "instance"  # instance: standardise each view of each clip over its real frames | none
    max_frames: int = 496  # longest clip (frames); positional tables are sized for it
    token_rows: int = 8  # token rows per view: patch height = view height / token_rows
    patch_time: int = 16  # frames per token column
    vit_dim: int = 64  # width of each per-view ViT
    vit_depth: int = 2  # blocks per view ViT
    vit_heads: int = 2  # attention heads per view ViT
    mlp_ratio: float = 4.0  # MLP hidden width / width, all transformers
    embed_dim: int = 128  # fused token width d
    fusion: str = "concat"  # concat | add | attention
    fusion_heads: int = 4  # heads of the attention fusion across views
    eot_depth: int = 2  # blocks of the EOT transformer
    eot_heads: int = 4  # heads of the EOT transformer
    output_dim: int = 128  # width of the pooled feature (proj of the EOT token)
    drop_path_rate: float = 0.0  # stochastic depth in all transformers
    grad_checkpointing: bool = False  # recompute transformer blocks in backward
    vit_checkpoint: str | None = None  # local timm ViT weights loaded into every view ViT

    def __post_init__(self) -> None:
        object.__setattr__(self, "views", resolve_views(self.views))
        object.__setattr__(self, "view_heights", tuple(int(h) for h in self.view_heights))
        if self.input_norm not in ("instance", "none"):
            raise ValueError(f"input_norm must be 'instance' or 'none', got {self.input_norm!r}")
        if self.fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, got {self.fusion!r}")
        for name, dim, heads in (
            ("vit", self.vit_dim, self.vit_heads),
            ("eot", self.embed_dim, self.eot_heads),
            ("fusion", self.embed_dim, self.fusion_heads),
        ):
            if dim % heads:
                raise ValueError(f"{name} width {dim} must be divisible by its heads {heads}")

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> RadarEncoderConfig:
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}")
        return replace(PRESETS[name], **overrides)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["views"] = list(self.views)
        d["view_heights"] = list(self.view_heights)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RadarEncoderConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown RadarEncoderConfig fields {unknown}")
        data = dict(data)
        for key in ("views", "view_heights"):
            if key in data and isinstance(data[key], list):
                data[key] = tuple(data[key])
        return cls(**data)


PRESETS: dict[str, RadarEncoderConfig] = {}


def register_preset(name: str, cfg: RadarEncoderConfig) -> None:
    PRESETS[name] = cfg


# trains on a 2-core CPU
register_preset(
    "tiny",
    RadarEncoderConfig(vit_dim=64, vit_depth=2, vit_heads=2, embed_dim=128, eot_depth=2, eot_heads=4, output_dim=128),
)
register_preset(
    "small",
    RadarEncoderConfig(vit_dim=192, vit_depth=6, vit_heads=3, embed_dim=256, eot_depth=4, eot_heads=4, output_dim=256),
)
# ViT-B/16-like per view
register_preset(
    "base",
    RadarEncoderConfig(
        vit_dim=768, vit_depth=12, vit_heads=12, embed_dim=512, eot_depth=6, eot_heads=8, output_dim=512, fusion_heads=8
    ),
)
