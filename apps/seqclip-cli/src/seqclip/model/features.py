"""What ``SeqClip`` takes and returns, as types: ``Embeddings`` (``encode_radar`` / ``encode_text``),
``PreparedBatch`` (``prepare``), ``Features`` (``features``) and ``Losses`` (``forward``). The dicts
are plain dicts at run time (DDP and the accumulation cache take them as they are); their keys are
spelled here once."""

# no ``from __future__ import annotations``: Python 3.11 reads ``NotRequired`` / ``Required`` only from
# evaluated annotations (``__required_keys__``)

from dataclasses import dataclass
from typing import Final, Literal, NotRequired, Required, TypedDict, final

from torch import Tensor

__all__ = [
    "Embeddings",
    "TextInputs",
    "PreparedBatch",
    "Features",
    "Losses",
    "SimilarityMean",
    "SIMILARITY_MEANS",
]


@dataclass
class Embeddings:
    """``pooled [b, d]`` (L2-normalised unless asked otherwise); with ``return_sequence``, the
    projected ``sequence [b, n, d]`` and its ``mask [b, n]`` (True: a real time step or word),
    else both None."""

    pooled: Tensor
    sequence: Tensor | None = None
    mask: Tensor | None = None

    def sequence_and_mask(self) -> tuple[Tensor, Tensor]:
        """``sequence`` and ``mask``; a ``ValueError`` when they were not asked for."""
        if self.sequence is None or self.mask is None:
            raise ValueError("these embeddings hold no sequence (embedded without return_sequence)")
        return self.sequence, self.mask


class TextInputs(TypedDict, total=False):
    """Captions as the text tower takes them: the tokenizer's tensors ``[b, l]`` (``input_ids`` and
    the model's extra inputs such as ``token_type_ids``), or with the text cache the frozen layers'
    output ``hidden [b, l, h]``; both with the two masks."""

    input_ids: Tensor  # [b, l]
    token_type_ids: Tensor  # [b, l]
    hidden: Tensor  # [b, l, h]
    attention_mask: Required[Tensor]  # [b, l]
    special_tokens_mask: Required[Tensor]  # [b, l]


@final
class PreparedBatch(TypedDict):
    """A ``Batch`` on the model's device with its captions as ``TextInputs`` (``SeqClip.prepare``).
    With static shapes the order negatives follow the captions in ``text`` (``reversed_valid`` marks
    the real ones); otherwise they are ``reversed_text``."""

    range_time: Tensor  # [b, bins, L]
    doppler_time: Tensor  # [b, bins, L]
    azimuth_time: Tensor  # [b, bins, L]
    mask: NotRequired[Tensor]  # [b, L]; left out when every frame is real
    text: TextInputs  # [b, l] (or [b + m, l] with static shapes)
    positions: NotRequired[Tensor]  # [b]
    sample_ids: NotRequired[Tensor]  # [b]
    sequence_ids: NotRequired[Tensor]  # [b]
    reversed_text: NotRequired[TextInputs]  # [m, l]
    reversed_valid: NotRequired[Tensor]  # [m]
    reversed_sequence_ids: NotRequired[Tensor]  # [m]


@final
class Features(TypedDict, total=False):
    """``SeqClip.features``: pooled features, with a sequence loss the projected sequences and their
    masks, and the order negatives' text features under ``reversed_``."""

    radar: Required[Tensor]  # [b, d]
    text: Required[Tensor]  # [b, d]
    radar_seq: Tensor  # [b, n, d]
    radar_mask: Tensor  # [b, n]
    text_seq: Tensor  # [b, l, d]
    text_mask: Tensor  # [b, l]
    sequence_ids: Tensor  # [b]
    reversed_text: Tensor  # [m, d]
    reversed_text_seq: Tensor  # [m, l, d]
    reversed_text_mask: Tensor  # [m, l]
    reversed_valid: Tensor  # [m]
    reversed_sequence_ids: Tensor  # [m]


SimilarityMean = Literal["sim_global", "sim_local", "sim_attention", "sim_temporal"]
SIMILARITY_MEANS: Final[dict[str, SimilarityMean]] = {
    "global": "sim_global",
    "local": "sim_local",
    "attention": "sim_attention",
    "temporal": "sim_temporal",
}  # a sequence-similarity component -> the key of its mean matched-pair similarity in ``Losses``


@final
class Losses(TypedDict, total=False):
    """``SeqClip.forward``: the losses (0-dim), the logit scale and the batch's logits; with a sequence
    loss its logits and each similarity component's mean over matched pairs (``SIMILARITY_MEANS``)."""

    loss_pooled: Required[Tensor]
    loss_seq: Required[Tensor]
    loss_total: Required[Tensor]  # loss_pooled + seq_weight * loss_seq
    logit_scale: Required[Tensor]
    logits_per_radar: Required[Tensor]  # [b, b]
    seq_logits: Tensor  # [b, b]
    sim_global: Tensor
    sim_local: Tensor
    sim_attention: Tensor
    sim_temporal: Tensor
