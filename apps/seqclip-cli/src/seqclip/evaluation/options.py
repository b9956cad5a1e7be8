"""What an evaluation task may use besides the model and the split: ``EvalOptions``, and the one
``Scorer`` made from them."""

from __future__ import annotations

from dataclasses import dataclass

from radar_text_data.classes import ClassPrompts

from ..config import EVAL_BATCH, POOLED
from ..errors import UserError
from ..model.seqclip import SeqClip
from ..recognition import CALIBRATIONS, DEFAULT_CALIBRATION, DEFAULT_PROMPTS, PROMPT_CHOICES
from .scorer import Scorer

__all__ = ["EvalOptions", "DEFAULT_OPTIONS"]


@dataclass(frozen=True)
class EvalOptions:
    """What a task may use besides the model and the split."""

    similarity: str = POOLED  # the score (config.EVAL_SIMILARITIES; see Scorer)
    protocol: str = "full"  # retrieval: full | in-batch
    batch_size: int = EVAL_BATCH  # embedding batch; the in-batch protocol's batch
    classes: tuple[ClassPrompts, ...] | None = None  # zero-shot candidates (None: the dataset's own)
    templates: tuple[str, ...] | None = None  # zero-shot templates (None: zero_shot's defaults)
    unseen: tuple[str, ...] | None = None  # classes never seen in training (None: as the dataset records
    # them, among the candidates; ("none",): no generalised report)
    prompts: str = DEFAULT_PROMPTS  # zero-shot prompt source: auto | names | descriptions | both
    calibration: str = DEFAULT_CALIBRATION  # the generalised report's calibrated rule (recognition.CALIBRATIONS)

    def __post_init__(self) -> None:
        if self.prompts not in PROMPT_CHOICES:
            raise UserError(f"prompts: must be one of {' | '.join(PROMPT_CHOICES)}, got {self.prompts!r}")
        if self.calibration not in CALIBRATIONS:
            raise UserError(f"calibration: must be one of {' | '.join(CALIBRATIONS)}, got {self.calibration!r}")

    def scorer(self, model: SeqClip) -> Scorer:
        """The one scorer of a task (the similarity checked against ``model`` here)."""
        return Scorer(model, self.similarity, self.batch_size)


DEFAULT_OPTIONS = EvalOptions()  # pooled score, full gallery, the dataset's own classes
