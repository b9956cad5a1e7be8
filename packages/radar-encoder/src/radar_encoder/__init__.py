"""Multi-view ViT radar encoder: one timm ViT per view (equal token grids), view fusion and an
EOT transformer, with frame masks and time-major token sequences."""

from importlib.metadata import version

from .config import FUSIONS, PRESETS, VIEW_KEYS, RadarEncoderConfig, register_preset, resolve_views
from .encoder import RadarEncoder, RadarEncoderOutput
from .patches import PatchPlan, plan_patches

__all__ = [
    "RadarEncoder", "RadarEncoderConfig", "RadarEncoderOutput", "plan_patches", "PatchPlan", "PRESETS",
    "register_preset", "resolve_views", "VIEW_KEYS", "FUSIONS",
]
__version__ = version("radar-encoder")
