"""Multi-view ViT radar encoder: one timm ViT per view (equal token grids), view fusion and an
EOT transformer, with frame masks and time-major token sequences.

The configuration (``radar_encoder.config``: ``RadarEncoderConfig``, ``PRESETS``) needs only the
standard library; the modules that need torch and timm load on first use, so a command line can
list the presets and check a configuration without importing torch.
"""

from __future__ import annotations

import importlib
from importlib.metadata import version

from .config import FUSIONS, PRESETS, VIEW_KEYS, RadarEncoderConfig, register_preset, resolve_views
from .patches import PatchPlan, plan_patches

_LAZY = {"RadarEncoder": "encoder", "RadarEncoderOutput": "encoder"}

__all__ = [
    "RadarEncoder",
    "RadarEncoderConfig",
    "RadarEncoderOutput",
    "plan_patches",
    "PatchPlan",
    "PRESETS",
    "register_preset",
    "resolve_views",
    "VIEW_KEYS",
    "FUSIONS",
]
__version__ = version("radar-encoder")


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
