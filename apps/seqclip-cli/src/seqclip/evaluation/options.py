"""What an evaluation task may use besides the model and the split: ``EvalOptions``, and the one
``Scorer`` made from them. Its fields hold the help text of ``seqclip eval``'s options. Torch is
imported only to score (the CLI reads the options before the model loads)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, get_args

from radar_text_data.classes import ClassPrompts

from ..config import EVAL_BATCH, EVAL_SIMILARITIES, HELP, POOLED
from ..errors import UserError
from ..recognition import (
    CALIBRATIONS,
    DEFAULT_CALIBRATION,
    DEFAULT_PROMPTS,
    INDUCTIVE,
    PREFERRED_PROMPTS,
    PROMPT_CHOICES,
)

if TYPE_CHECKING:
    from ..model.seqclip import SeqClip
    from .scorer import Scorer

__all__ = ["EvalOptions", "DEFAULT_OPTIONS", "Protocol", "PROTOCOLS"]

Protocol = Literal["full", "in-batch"]  # retrieval: every clip, or the reference code base's batches
PROTOCOLS: tuple[str, ...] = get_args(Protocol)


@dataclass(frozen=True)
class EvalOptions:
    """What a task may use besides the model and the split."""

    similarity: str = field(
        default=POOLED,
        metadata={
            HELP: f"Score: {' | '.join(EVAL_SIMILARITIES)} (pooled: cosine of the pooled features; total: the "
            "pooled score plus seq_weight x the model's sequence similarity, as its training loss adds them; "
            "the others: that component of the sequence similarity)."
        },
    )
    protocol: Protocol = field(default="full", metadata={HELP: "full (every clip) | in-batch (reference protocol)."})
    batch_size: int = field(default=EVAL_BATCH, metadata={HELP: "Embedding batch; the in-batch protocol's batch."})
    classes: tuple[ClassPrompts, ...] | None = field(
        default=None,
        metadata={
            HELP: "Zero-shot candidates: a text file (one class a line) or JSON {class: phrase} / "
            "{class: [prompt, ...]} / {class: {phrase, descriptions}}. [default: the dataset's classes.json, "
            "else the labels in its records]"
        },
    )
    templates: tuple[str, ...] | None = None  # zero-shot templates (None: zero_shot's defaults)
    unseen: tuple[str, ...] | None = field(
        default=None,
        metadata={
            HELP: "Classes never seen in training, comma-separated, among the candidates: adds the generalised "
            "zero-shot report; none: no report. [default: those of the candidates the dataset records]"
        },
    )
    prompts: str = field(
        default=DEFAULT_PROMPTS,
        metadata={
            HELP: f"Zero-shot prompts from the class {' | '.join(PROMPT_CHOICES)}: names (phrase in templates, "
            "or the class's prompts), descriptions (what the body does, as the class file gives them), both "
            f"(each set averaged, the two weighted alike); auto: {PREFERRED_PROMPTS} (chosen on validation) "
            "when every candidate has descriptions, else names."
        },
    )
    calibration: str = field(
        default=DEFAULT_CALIBRATION,
        metadata={
            HELP: f"Generalised zero-shot: the rule reported as calibrated, fitted on the val split "
            f"({' | '.join(CALIBRATIONS)}; inductive: {', '.join(INDUCTIVE)}); every rule is in the JSON."
        },
    )

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise UserError(f"protocol: must be one of {' | '.join(PROTOCOLS)}, got {self.protocol!r}")
        if self.prompts not in PROMPT_CHOICES:
            raise UserError(f"prompts: must be one of {' | '.join(PROMPT_CHOICES)}, got {self.prompts!r}")
        if self.calibration not in CALIBRATIONS:
            raise UserError(f"calibration: must be one of {' | '.join(CALIBRATIONS)}, got {self.calibration!r}")

    def scorer(self, model: SeqClip) -> Scorer:
        """The one scorer of a task (the similarity checked against ``model`` here)."""
        from .scorer import Scorer

        return Scorer(model, self.similarity, self.batch_size)


DEFAULT_OPTIONS = EvalOptions()  # pooled score, full gallery, the dataset's own classes
