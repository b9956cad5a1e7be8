"""What the evaluation tasks return, as types: the JSON of ``seqclip eval --out`` (docs/evaluation.md)
and the retrieval figures of validation and of a training run's summary. Plain dicts at run time
(they are written as JSON); their keys are spelled here once. Percentages are 0-100; an interval is
a 95 % interval ``[lo, hi]``."""

# no ``from __future__ import annotations``: Python 3.11 reads ``NotRequired`` only from evaluated
# annotations (``__required_keys__``)

from typing import Literal, NotRequired, TypedDict

__all__ = [
    "RecallIntervals",
    "RankMetrics",
    "RetrievalProtocol",
    "Directions",
    "RetrievalResult",
    "Validation",
    "PreferenceResult",
    "ClassAccuracy",
    "ZeroShotReport",
    "ZeroShotResult",
    "SeenUnseen",
    "SeenUnseenIntervals",
    "RestrictedTop1",
    "CalibrationRule",
    "Generalized",
    "EvalLabels",
    "RetrievalEvaluation",
    "ZeroShotEvaluation",
    "PreferenceEvaluation",
    "Evaluation",
    "TrainSummary",
]

RecallIntervals = TypedDict("RecallIntervals", {"R@1": list[float], "R@5": list[float], "R@10": list[float]})

RankMetrics = TypedDict(
    "RankMetrics",
    {
        "R@1": float,
        "R@5": float,
        "R@10": float,
        "median_rank": float,
        "mean_rank": float,
        "mAP": float,  # over every correct item
        "interval": NotRequired[RecallIntervals],  # resampling clips
    },
)


class RetrievalProtocol(TypedDict):
    """``full`` (every caption against every clip) or ``in-batch`` (consecutive batches of clips)."""

    name: str
    clips: int
    captions: NotRequired[int]  # full
    batch_size: NotRequired[int]  # in-batch


class Directions(TypedDict):
    """Both directions' rank metrics (``retrieval_metrics``)."""

    text_to_radar: RankMetrics
    radar_to_text: RankMetrics


class RetrievalResult(Directions):
    """``retrieval``: both directions' rank metrics and the protocol."""

    protocol: RetrievalProtocol


class Validation(RetrievalResult):
    """``validate``: the retrieval result, and ``flat``: it and the validation losses (and class
    accuracy on a label dataset) as one level of named numbers, for the log."""

    flat: dict[str, float]


class PreferenceResult(TypedDict):
    """``twins`` and ``order``: how often a clip's own caption scores above its negative."""

    accuracy: float
    interval: list[float]
    comparisons: int  # caption pairs compared
    clips: int
    chance: float
    similarity: str


class ClassAccuracy(TypedDict):
    """One class's top-1 accuracy with its Wilson interval (None: the class has no clip)."""

    accuracy: float | None
    clips: int
    interval: list[float] | None


class ZeroShotReport(TypedDict):
    """``zero_shot_report``: accuracy over the scored clips (balanced: the mean of per-class accuracies),
    chance, per-class accuracy and the confusion matrix (rows: true class, columns: predicted)."""

    top1: float
    top1_interval: list[float]
    top5: float
    top5_interval: list[float]
    top5_k: int
    balanced: float
    balanced_interval: list[float]
    chance_top1: float
    chance_top5: float
    chance_balanced: float
    per_class: dict[str, ClassAccuracy]
    confusion: list[list[int]]


class SeenUnseen(TypedDict):
    """Generalised zero-shot top-1 over the seen classes' clips and the unseen classes' clips, and their
    harmonic mean (None: no clip to measure it on)."""

    seen: float | None
    unseen: float | None
    harmonic_mean: float | None


class SeenUnseenIntervals(TypedDict):
    seen: list[float] | None
    unseen: list[float] | None
    harmonic_mean: list[float] | None


class RestrictedTop1(TypedDict):
    """Top-1 among some classes alone (unseen-only, seen-only)."""

    top1: float | None
    interval: list[float] | None
    clips: int
    chance: float


class CalibrationRule(SeenUnseen):
    """One calibration rule's figures, fitted on validation."""

    intervals: SeenUnseenIntervals
    gamma: float
    standardized: bool
    note: str
    inductive: bool  # reads no clip of an unseen class
    reads: str
    fitted_on: str


class Generalized(TypedDict):
    """Zero-shot with unseen classes: raw and calibrated figures, every rule's, unseen-only and seen-only."""

    unseen_classes: list[str]
    raw: SeenUnseen
    raw_intervals: SeenUnseenIntervals
    calibrated: SeenUnseen
    calibrated_intervals: SeenUnseenIntervals
    calibration: str
    gamma: float
    gamma_rule: str
    fitted_on: str
    rules: dict[str, CalibrationRule]
    validation_clips: int
    validation_labelled: int
    calibrated_on: str
    unseen_only: RestrictedTop1
    seen_only: RestrictedTop1
    seen_clips: int


class ZeroShotResult(ZeroShotReport):
    """``zeroshot``: the report, what was scored and with which prompts, and with unseen classes
    ``generalized``."""

    clips: int
    unlisted_clips: dict[str, int]  # clips of classes not among the candidates, by class
    multi_activity_clips: int  # never scored
    classes: list[str]
    similarity: str
    prompt_source: str  # names, descriptions or both
    prompts: dict[str, list[str]]
    generalized: NotRequired[Generalized]
    confusion_png: NotRequired[str]  # where ``seqclip eval --out`` drew the confusion matrix


class EvalLabels(TypedDict):
    """What ``evaluate_checkpoint`` was asked, ahead of the task's figures in its result."""

    split: str
    checkpoint: str
    similarity: str
    clip_length: int


class RetrievalEvaluation(EvalLabels, RetrievalResult):
    task: Literal["retrieval"]


class ZeroShotEvaluation(EvalLabels, ZeroShotResult):
    task: Literal["zeroshot"]


class PreferenceEvaluation(EvalLabels, PreferenceResult):
    task: Literal["twins", "order"]


Evaluation = RetrievalEvaluation | ZeroShotEvaluation | PreferenceEvaluation  # tagged by ``task``


class TrainSummary(TypedDict):
    """What ``train`` returns; with a test split scored at the end, ``test`` and where it came from."""

    run: str
    steps: int
    epochs: int
    best_val_r1: float | None
    best_val_accuracy: float | None
    skipped_clips: int
    excluded_clips: int
    data: str
    test: NotRequired[RetrievalResult]
    test_clips: NotRequired[int]
    test_model: NotRequired[str]  # best or latest
