"""``seqclip eval``'s tasks, a registry of functions that return results and write no files:
retrieval (full gallery or in-batch), zero-shot recognition, and the two order tests: order-swapped
twins and order-reversed captions. ``evaluate_checkpoint`` is the one call the CLI makes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

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

__all__ = ["EvalOptions", "TASKS", "run_task", "evaluate_checkpoint", "eval_retrieval",
           "eval_zeroshot", "eval_twins", "eval_order", "preference_accuracy", "ACTIVITY_PHRASES", "TEMPLATES"]

TEMPLATES = ("a person {}.", "someone {}.", "a radar recording of a person who {}.", "the subject {}.")
ACTIVITY_PHRASES = {
    "walk": "walks", "run": "runs", "stand": "stands still", "wave": "waves", "clap": "claps", "jump": "jumps",
    "squat": "squats down", "sit_down": "sits down", "stand_up": "stands up", "fall": "falls",
    "bend_pick_up": "bends down to pick something up", "turn_around": "turns around", "kick": "kicks",
    "punch": "throws punches", "jog_in_place": "jogs in place",
}


@dataclass(frozen=True)
class EvalOptions:
    """What a task may use besides the model and the split."""

    similarity: str = POOLED  # the score: pooled (cosine of the pooled features) or a sequence similarity
    protocol: str = "full"  # retrieval: full | in-batch
    batch_size: int = 64  # embedding batch; the in-batch protocol's batch


def eval_retrieval(model: SeqClip, dataset: RadarTextDataset, options: EvalOptions = EvalOptions()) -> dict:
    """Both directions with 95 % intervals (``evaluate.retrieval``)."""
    return retrieval(model, dataset, options.similarity, options.protocol, options.batch_size)


@torch.no_grad()
def eval_zeroshot(model: SeqClip, dataset: RadarTextDataset, options: EvalOptions = EvalOptions()) -> dict:
    """Clips whose segments are all one activity, against class prompts averaged over templates."""
    single = [(i, r) for i, r in enumerate(dataset.records)
              if len(set(r.activities)) == 1 and r.activities[0] in ACTIVITY_PHRASES]
    if not single:
        raise ValueError("zero-shot needs clips with a single activity in their segments (radar-synth format)")
    classes = sorted({r.activities[0] for _, r in single} | set(ACTIVITY_PHRASES))
    prompts = [t.format(ACTIVITY_PHRASES[c]) for c in classes for t in TEMPLATES]
    text = model.encode_text(prompts).float().cpu().reshape(len(classes), len(TEMPLATES), -1).mean(1)
    text = torch.nn.functional.normalize(text, dim=-1)  # [C, d]
    emb = embed_split(model, dataset.subset([i for i, _ in single]), options.batch_size)
    scores = emb["radar"] @ text.T  # [N, C]
    truth = torch.tensor([classes.index(r.activities[0]) for _, r in single])
    order = scores.argsort(dim=1, descending=True, stable=True)
    hits = (order[:, 0] == truth).float()  # [N]
    top1 = float(hits.mean() * 100)
    interval = [100 * x for x in bootstrap_interval([[h] for h in hits.tolist()])]
    top5 = float((order[:, :5] == truth[:, None]).any(1).float().mean() * 100)
    confusion = np.zeros((len(classes), len(classes)), dtype=int)
    for t, p in zip(truth.tolist(), order[:, 0].tolist(), strict=True):
        confusion[t, p] += 1
    return {"top1": top1, "top1_interval": interval, "top5": top5, "clips": len(single), "classes": classes,
            "confusion": confusion.tolist(), "chance_top1": 100 / len(classes)}


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
                        device: str = "auto") -> tuple[dict, str | None]:
    """Load a model (``SeqClip.load_model``), open ``split`` of ``data`` at its training clip length
    (or ``clip_length``) and run ``task``. Returns the result, labelled with what was asked, and the
    loader's note (a run without ``best/`` falls back to its latest checkpoint)."""
    from .distributed import resolve_device

    model, note = SeqClip.load_model(checkpoint, resolve_device(device))
    length = clip_length or model.config.clip_length
    dataset = RadarTextDataset(data, split, length, train=False)
    result = run_task(task, model, dataset, options)
    return {"task": TASK_ALIASES.get(task, task), "split": split, "checkpoint": str(checkpoint),
            "similarity": options.similarity, "clip_length": length, **result}, note
