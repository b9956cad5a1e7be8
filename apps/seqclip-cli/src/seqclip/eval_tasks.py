"""``seqclip eval``'s tasks, a registry of functions that return results and write no files:
retrieval (full gallery or in-batch), zero-shot recognition, and the two order tests: order-swapped
twins and order-reversed captions. ``evaluate_checkpoint`` is the one call the CLI makes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from radar_text_data.classes import ClassPrompts
from radar_text_data.vocabulary import clip_label, dataset_classes, resolve_unseen

from .config import POOLED, TASK_ALIASES
from .data import RadarTextDataset
from .evaluate import (
    check_similarity,
    embed_split,
    pair_scores,
    retrieval,
    score_matrix,
    text_features,
)
from .model import SeqClip
from .stats import bootstrap_interval

__all__ = ["EvalOptions", "TASKS", "run_task", "evaluate_checkpoint", "eval_retrieval", "eval_zeroshot",
           "eval_twins", "eval_order", "preference_accuracy", "dataset_classes", "clip_label"]

@dataclass(frozen=True)
class EvalOptions:
    """What a task may use besides the model and the split."""

    similarity: str = POOLED  # the score: pooled (cosine of the pooled features) or a sequence similarity
    protocol: str = "full"  # retrieval: full | in-batch
    batch_size: int = 64  # embedding batch; the in-batch protocol's batch
    classes: tuple[ClassPrompts, ...] | None = None  # zero-shot candidates (None: the dataset's own)
    templates: tuple[str, ...] | None = None  # zero-shot templates (None: zero_shot's defaults)
    unseen: tuple[str, ...] | None = None  # classes never seen in training (None: as the dataset records
    # them, among the candidates; ("none",): no generalised report)


def eval_retrieval(model: SeqClip, dataset: RadarTextDataset, options: EvalOptions = EvalOptions()) -> dict:
    """Both directions with 95 % intervals (``evaluate.retrieval``)."""
    return retrieval(model, dataset, options.similarity, options.protocol, options.batch_size)


@torch.no_grad()
def eval_zeroshot(model: SeqClip, dataset: RadarTextDataset, options: EvalOptions = EvalOptions()) -> dict:
    """Clips of one activity against exactly the given classes (``options.classes``, else the
    dataset's own); clips of other classes and clips of several activities are counted, not scored.
    With unseen classes (``options.unseen``, else as the dataset records them), the generalised report."""
    from .zero_shot import build_zero_shot_classifier, zero_shot_report

    classes = list(options.classes or dataset_classes(dataset.location))
    names = [c.name for c in classes]
    labels = [clip_label(r) for r in dataset.records]
    scored = [i for i, label in enumerate(labels) if label in names]
    unlisted = dict(sorted(Counter(label for label in labels if label is not None and label not in names).items()))
    counts = {"clips": len(scored), "unlisted_clips": unlisted, "multi_activity_clips": labels.count(None)}
    if not scored:
        raise ValueError(f"zero-shot: no clip of split {dataset.split!r} has one of the {len(names)} classes as its "
                         f"only activity (unlisted labels: {unlisted or 'none'})")
    clf = build_zero_shot_classifier(model, classes, options.templates, options.similarity, options.batch_size)
    scores = _class_scores(model, clf, dataset.subset(scored), options)
    truth = torch.tensor([names.index(labels[i]) for i in scored])
    result = {**zero_shot_report(scores, truth, names), **counts, "classes": names, "similarity": options.similarity,
              "prompts": {n: list(p) for n, p in zip(names, clf.prompts, strict=True)}}
    unseen = list(resolve_unseen(dataset.location, names, options.unseen))
    if unseen:
        result["generalized"] = _generalized(model, clf, dataset, options, scores, truth, names, unseen)
    return result


def _class_scores(model: SeqClip, clf, dataset: RadarTextDataset, options: EvalOptions) -> torch.Tensor:
    emb = embed_split(model, dataset, options.batch_size, return_sequence=options.similarity != POOLED)
    return clf.scores(model, emb)  # [N, C]


def _generalized(model, clf, dataset, options, scores, truth, names: list[str], unseen: list[str]) -> dict:
    """Seen / unseen / harmonic mean with every class a candidate, raw and with calibrated stacking
    (its constant chosen on the validation split), and unseen-only top-1 (only unseen candidates)."""
    from .zero_shot import (
        calibrated_stacking,
        generalized_accuracy,
        generalized_intervals,
        restricted_top1,
    )

    mask = torch.tensor([n in unseen for n in names])
    val = RadarTextDataset(dataset.location, "val", dataset.length, train=False)
    val_labels = [clip_label(r) for r in val.records]
    val_idx = [i for i, label in enumerate(val_labels) if label in names]
    if val_idx:
        val_scores = _class_scores(model, clf, val.subset(val_idx), options)
        chosen = calibrated_stacking(val_scores, torch.tensor([names.index(val_labels[i]) for i in val_idx]), mask)
    else:
        chosen = {"gamma": 0.0, "rule": "no validation clip of the classes: not calibrated"}
    gamma = chosen["gamma"]
    return {"unseen_classes": [n for n in names if n in unseen],
            "raw": generalized_accuracy(scores, truth, mask), "raw_intervals": generalized_intervals(scores, truth, mask),
            "calibrated": generalized_accuracy(scores, truth, mask, gamma),
            "calibrated_intervals": generalized_intervals(scores, truth, mask, gamma), "gamma": gamma,
            "gamma_rule": chosen["rule"], "validation_clips": len(val_idx), "calibrated_on": "val",
            "unseen_only": restricted_top1(scores, truth, mask), "seen_only": restricted_top1(scores, truth, ~mask),
            "seen_clips": int((~mask[truth]).sum())}


@torch.no_grad()
def preference_accuracy(model: SeqClip, dataset: RadarTextDataset, negatives: dict[int, list[str]],
                        batch_size: int = 64, similarity: str = POOLED) -> dict:
    """For clip ``i`` and each ``k < len(negatives[i])``: is its own caption ``k`` scored above
    ``negatives[i][k]``? Accuracy (%), the number of comparisons and clips, a 95 % bootstrap
    interval resampling clips."""
    check_similarity(model, similarity)
    idx = sorted(negatives)
    subset = dataset.subset(idx)
    emb = embed_split(model, subset, batch_size, return_sequence=similarity != POOLED)
    pairs = [list(zip(record.captions, negatives[i], strict=False))  # the shorter list decides
             for i, record in zip(idx, subset.records, strict=True)]
    captions = [own for p in pairs for own, _ in p] + [neg for p in pairs for _, neg in p]
    text = text_features(model, captions, sequence=similarity != POOLED, batch=batch_size)
    clips = torch.tensor([j for j, p in enumerate(pairs) for _ in p])  # [m]
    matrix = score_matrix(model, similarity, emb, text)
    m = len(clips)
    correct = (pair_scores(matrix, clips, torch.arange(m)) > pair_scores(matrix, clips, torch.arange(m, 2 * m)))
    per_clip = [correct[clips == j].float().tolist() for j in range(len(idx))]
    low, high = bootstrap_interval(per_clip)
    return {"accuracy": float(correct.float().mean() * 100), "interval": [100 * low, 100 * high],
            "comparisons": m, "clips": len(idx), "chance": 50.0, "similarity": similarity}


def eval_twins(model: SeqClip, dataset: RadarTextDataset, options: EvalOptions = EvalOptions()) -> dict:
    """Twin test: each clip of an order-swapped twin pair, its caption ``k`` against the twin's caption
    ``k`` (every caption both clips have)."""
    by_id = {r.id: r for r in dataset.records}
    negatives = {i: list(by_id[r.twin_of].captions[:len(r.captions)]) for i, r in enumerate(dataset.records)
                 if r.twin_of in by_id}
    if not negatives:
        raise ValueError(_no_twins_message(dataset))
    return preference_accuracy(model, dataset, negatives, options.batch_size, options.similarity)


def _no_twins_message(dataset: RadarTextDataset) -> str:
    """Which splits of the dataset hold twin pairs, when the one asked for holds none."""
    from radar_text_data import SPLITS
    from radar_text_data.source import open_split

    holding = [s for s in SPLITS if s != dataset.split
               and any(r.twin_of for r in open_split(dataset.location, s).records)]
    if holding:
        return (f"no order-swapped twin pairs in split {dataset.split!r}; this dataset has them in "
                f"{' and '.join(holding)} (choose with --split)")
    return (f"no order-swapped twin pairs in this dataset (radar-synth writes them with --twins; "
            f"split {dataset.split!r} was asked for)")


def eval_order(model: SeqClip, dataset: RadarTextDataset, options: EvalOptions = EvalOptions()) -> dict:
    """Text-order test: each clip of two or more segments, its caption ``k`` against the same caption with
    the segments in reverse order and identical wording otherwise (``captions_reversed`` in the manifest)."""
    negatives = {i: list(r.captions_reversed) for i, r in enumerate(dataset.records) if r.captions_reversed}
    if not negatives:
        raise ValueError("no clip with captions_reversed in this split (radar-synth writes them for clips of 2 or 3 "
                         "activities)")
    return preference_accuracy(model, dataset, negatives, options.batch_size, options.similarity)


Task = Callable[[SeqClip, RadarTextDataset, EvalOptions], dict]
# the names of config.EVAL_TASKS, which the CLI lists without importing torch
TASKS: dict[str, Task] = {"retrieval": eval_retrieval, "zeroshot": eval_zeroshot, "twins": eval_twins,
                          "order": eval_order}


def run_task(task: str, model: SeqClip, dataset: RadarTextDataset, options: EvalOptions = EvalOptions()) -> dict:
    """One registered task's result."""
    task = TASK_ALIASES.get(task, task)
    if task not in TASKS:
        raise ValueError(f"--task must be one of {' | '.join(TASKS)}, got {task!r}")
    return TASKS[task](model, dataset, options)


def evaluate_checkpoint(checkpoint: str | Path, data: str, task: str, split: str = "test",
                        options: EvalOptions = EvalOptions(), clip_length: int | None = None,
                        device: str = "auto") -> tuple[dict, list[str]]:
    """Load a model (``SeqClip.load_model``), open ``split`` of ``data`` at its training clip length
    (or ``clip_length``) and run ``task``. Returns the result, labelled with what was asked, and
    notes: the loader's (a run without ``best/`` falls back to its latest checkpoint), how many
    clips were cropped to the clip length, how many captions the text tower cuts."""
    from .distributed import resolve_device
    from .text import cut_captions_note, record_texts

    model = SeqClip.load_model(checkpoint, resolve_device(device))
    length = clip_length or model.config.clip_length
    dataset = RadarTextDataset(data, split, length, train=False)
    longer = sum(1 for r in dataset.records if (r.num_frames or 0) > length)  # None: unknown
    notes = [model.load_note] if model.load_note else []
    notes += [f"{longer} of {len(dataset.records)} clips are longer than the clip length {length} and were cropped "
              f"to their first {length} frames (--clip-length sets it)"] if longer else []
    cut = cut_captions_note(model.tokenizer, record_texts(dataset.records), model.config.max_text_length,
                            f"the {split} split")
    notes += [cut] if cut else []
    result = run_task(task, model, dataset, options)
    return {"task": TASK_ALIASES.get(task, task), "split": split, "checkpoint": str(checkpoint),
            "similarity": options.similarity, "clip_length": length, **result}, notes
