"""``seqclip eval``'s tasks, a registry of functions that return results and write no files:
retrieval (full gallery or in-batch), zero-shot recognition, and the two order tests (``order``):
order-swapped twins and order-reversed captions. ``evaluate_checkpoint`` is the one call the CLI
makes. Each task scores through one ``Scorer`` made from its options."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import cast

import torch

from radar_text_data.source import present_splits
from radar_text_data.vocabulary import clip_label, dataset_classes, resolve_unseen

from ..data import RadarTextDataset
from ..errors import UserError
from ..model.seqclip import SeqClip
from .options import DEFAULT_OPTIONS, EvalOptions
from .order import eval_order, eval_twins
from .results import CalibrationRule, Evaluation, Generalized, PreferenceResult, RetrievalResult, ZeroShotResult
from .retrieval import retrieval

__all__ = [
    "EvalOptions",
    "TASKS",
    "TaskResult",
    "run_task",
    "evaluate_checkpoint",
    "eval_retrieval",
    "eval_zeroshot",
    "validation_scores",
    "eval_twins",
    "eval_order",
    "dataset_classes",
    "clip_label",
]


def eval_retrieval(
    model: SeqClip, dataset: RadarTextDataset, options: EvalOptions = DEFAULT_OPTIONS
) -> RetrievalResult:
    """Both directions with 95 % intervals (``retrieval.retrieval``)."""
    return retrieval(options.scorer(model), dataset, options.protocol)


@torch.no_grad()
def eval_zeroshot(model: SeqClip, dataset: RadarTextDataset, options: EvalOptions = DEFAULT_OPTIONS) -> ZeroShotResult:
    """Clips of one activity against exactly the given classes (``options.classes``, else the
    dataset's own); clips of other classes and clips of several activities are counted, not scored.
    With unseen classes (``options.unseen``, else as the dataset records them), the generalised report."""
    from .zero_shot import build_zero_shot_classifier, zero_shot_report

    scorer = options.scorer(model)
    classes = list(options.classes or dataset_classes(dataset.location))
    names = [c.name for c in classes]
    labels = [clip_label(r) for r in dataset.records]
    scored = [i for i, label in enumerate(labels) if label in names]
    unlisted = dict(sorted(Counter(label for label in labels if label is not None and label not in names).items()))
    if not scored:
        raise UserError(
            f"zero-shot: no clip of split {dataset.split!r} has one of the {len(names)} classes as its "
            f"only activity (unlisted labels: {unlisted or 'none'})"
        )
    clf = build_zero_shot_classifier(scorer, classes, options.templates, options.prompts)
    scores = clf.scores(scorer.embed_clips(dataset.subset(scored)))  # [N, C]
    truth = torch.tensor([names.index(labels[i] or "") for i in scored])  # scored: every label is a name
    result: ZeroShotResult = {
        **zero_shot_report(scores, truth, names),
        "clips": len(scored),
        "unlisted_clips": unlisted,
        "multi_activity_clips": labels.count(None),
        "classes": names,
        "similarity": options.similarity,
        "prompt_source": clf.source,
        "prompts": {n: list(p) for n, p in zip(names, clf.prompts, strict=True)},
    }
    unseen = list(resolve_unseen(dataset.location, names, options.unseen))
    if unseen:
        result["generalized"] = _generalized(clf, dataset, scores, truth, names, unseen, options.calibration)
    return result


def validation_scores(clf, dataset: RadarTextDataset) -> tuple[torch.Tensor, torch.Tensor]:
    """Scores ``[N, C]`` of every clip of ``dataset``'s val split and labels ``[N]`` (-1 for a clip
    that is not of exactly one candidate class: unlabelled); none when the dataset has no val split
    (an evaluation-only dataset)."""
    if "val" not in present_splits(dataset.location):
        return torch.zeros(0, len(clf.classes)), torch.zeros(0, dtype=torch.long)
    val = RadarTextDataset(dataset.location, "val", dataset.length, train=False)
    labels = [clip_label(r) for r in val.records]
    truth = torch.tensor([clf.classes.index(x) if x in clf.classes else -1 for x in labels])
    return clf.scores(clf.scorer.embed_clips(val)), truth


def _generalized(clf, dataset, scores, truth, names: list[str], unseen: list[str], calibration: str) -> Generalized:
    """Seen / unseen / harmonic mean with every class a candidate, raw and under each calibration
    rule (fitted on the validation split; ``calibration`` is the one reported as calibrated), and
    unseen-only / seen-only top-1."""
    from ..recognition import CALIBRATIONS, INDUCTIVE
    from .calibration import fit_calibration, seen_labelled
    from .zero_shot import generalized_accuracy, generalized_intervals, restricted_top1

    mask = torch.tensor([n in unseen for n in names])
    val_scores, val_truth = validation_scores(clf, dataset)
    rules: dict[str, CalibrationRule] = {}
    for rule in CALIBRATIONS:
        fitted = fit_calibration(rule, val_scores, val_truth, mask)
        calibrated = fitted.apply(scores)
        rules[rule] = {
            **generalized_accuracy(calibrated, truth, mask),
            "intervals": generalized_intervals(calibrated, truth, mask),
            "gamma": fitted.gamma,
            "standardized": fitted.mean is not None,
            "note": fitted.note,
            "inductive": rule in INDUCTIVE,
            "reads": CALIBRATIONS[rule],
            "fitted_on": fitted.fitted_on,
        }
    chosen = rules[calibration]
    return {
        "unseen_classes": [n for n in names if n in unseen],
        "raw": generalized_accuracy(scores, truth, mask),
        "raw_intervals": generalized_intervals(scores, truth, mask),
        "calibrated": {"seen": chosen["seen"], "unseen": chosen["unseen"], "harmonic_mean": chosen["harmonic_mean"]},
        "calibrated_intervals": chosen["intervals"],
        "calibration": calibration,
        "gamma": chosen["gamma"],
        "gamma_rule": chosen["note"],
        "fitted_on": chosen["fitted_on"],
        "rules": rules,
        "validation_clips": len(val_truth),
        "validation_labelled": int(seen_labelled(val_truth, mask).sum()),
        "calibrated_on": "val",
        "unseen_only": restricted_top1(scores, truth, mask),
        "seen_only": restricted_top1(scores, truth, ~mask),
        "seen_clips": int((~mask[truth]).sum()),
    }


TaskResult = RetrievalResult | ZeroShotResult | PreferenceResult
Task = Callable[[SeqClip, RadarTextDataset, EvalOptions], TaskResult]
# the names of config.EVAL_TASKS, which the CLI lists without importing torch
TASKS: dict[str, Task] = {
    "retrieval": eval_retrieval,
    "zeroshot": eval_zeroshot,
    "twins": eval_twins,
    "order": eval_order,
}


def run_task(
    task: str, model: SeqClip, dataset: RadarTextDataset, options: EvalOptions = DEFAULT_OPTIONS
) -> TaskResult:
    """One registered task's result."""
    if task not in TASKS:
        raise UserError(f"task: must be one of {' | '.join(TASKS)}, got {task!r}")
    return TASKS[task](model, dataset, options)


def evaluate_checkpoint(
    checkpoint: str | Path,
    data: str,
    task: str,
    split: str = "test",
    options: EvalOptions = DEFAULT_OPTIONS,
    clip_length: int | None = None,
    device: str = "auto",
) -> tuple[Evaluation, list[str]]:
    """Load a model (``SeqClip.load_model``), open ``split`` of ``data`` at its training clip length
    (or ``clip_length``) and run ``task``. Returns the result, labelled with what was asked, and
    notes: the loader's (a run without ``best/`` falls back to its latest checkpoint), how many
    clips were cropped to the clip length, how many captions the text tower cuts."""
    from ..distributed import resolve_device
    from ..model.text import cut_captions_note, record_texts

    model = SeqClip.load_model(checkpoint, resolve_device(device))
    length = clip_length or model.config.clip_length
    dataset = RadarTextDataset(data, split, length, train=False)
    longer = sum(1 for r in dataset.records if (r.num_frames or 0) > length)  # None: unknown
    notes = [model.load_note] if model.load_note else []
    notes += (
        [
            f"{longer} of {len(dataset.records)} clips are longer than the clip length {length} and were cropped "
            f"to their first {length} frames (--clip-length sets it)"
        ]
        if longer
        else []
    )
    cut = cut_captions_note(
        model.tokenizer, record_texts(dataset.records), model.config.max_text_length, f"the {split} split"
    )
    notes += [cut] if cut else []
    result = run_task(task, model, dataset, options)
    labels = {
        "task": task,
        "split": split,
        "checkpoint": str(checkpoint),
        "similarity": options.similarity,
        "clip_length": length,
    }
    return cast(Evaluation, labels | dict(result)), notes  # tagged by task, which run_task ran
