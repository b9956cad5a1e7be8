"""Zero-shot recognition with classes and templates as data (open_clip's ``zero_shot_classifier.py``
and ``zero_shot_metadata.py``): ``build_zero_shot_classifier(scorer, classes, templates)`` embeds
each class's prompts; its scores follow the scorer's similarity exactly as retrieval scores a pair.
The metrics are plain functions of a score matrix, so they can be checked by hand."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from radar_text_data.classes import ClassPrompts

from ..config import POOLED
from ..errors import UserError
from ..model.features import Embeddings
from ..recognition import DEFAULT_PROMPTS, NAME_TEMPLATES, PHRASE_TEMPLATES, PROMPT_SOURCES, resolve_prompts
from .results import ClassAccuracy, RestrictedTop1, SeenUnseen, SeenUnseenIntervals, ZeroShotReport
from .scorer import ClipSet, Scorer
from .stats import BOOTSTRAP_SAMPLES, bootstrap_statistic, wilson_interval

__all__ = [
    "PHRASE_TEMPLATES",
    "NAME_TEMPLATES",
    "ZeroShotClassifier",
    "build_zero_shot_classifier",
    "prompt_sets",
    "topk_accuracy",
    "balanced_accuracy",
    "per_class_accuracy",
    "confusion_matrix",
    "generalized_accuracy",
    "generalized_intervals",
    "restricted_top1",
    "calibrated_stacking",
    "zero_shot_report",
]


@dataclass
class ZeroShotClassifier:
    """Class names, their prompts, and what scores a clip against them: ``weights [C, d]`` (the
    normalised weighted mean of each class's prompt embeddings, open_clip's classifier) for the pooled
    score; the prompts' text features, ``prompt_class [P]`` and ``prompt_weight [P]`` (each class's
    weights sum to 1) for a sequence similarity (whose score of a clip and a class is the weighted
    mean of its scores against the class's prompts)."""

    classes: list[str]
    prompts: list[tuple[str, ...]]
    scorer: Scorer
    weights: Tensor | None = None
    text: Embeddings | None = None
    prompt_class: Tensor | None = None
    prompt_weight: Tensor | None = None
    source: str = DEFAULT_PROMPTS  # recognition.PROMPT_SOURCES

    def scores(self, clips: ClipSet) -> Tensor:
        """``[N, C]`` scores of clips embedded by the same scorer (``Scorer.embed_clips``)."""
        if self.scorer.similarity == POOLED:
            return clips.radar.pooled.float() @ self.weights.T
        if self.text is None or self.prompt_class is None or self.prompt_weight is None:
            raise ValueError(f"a {self.scorer.similarity} score needs the classifier's prompt embeddings")
        matrix = self.scorer.matrix(clips, self.text)
        rows = torch.arange(len(clips))
        per_prompt = matrix(rows, torch.arange(len(self.prompt_class))).float() * self.prompt_weight  # [N, P]
        return torch.zeros(len(rows), len(self.classes)).index_add_(1, self.prompt_class, per_prompt)  # [N, C]


def prompt_sets(
    c: ClassPrompts, source: str = DEFAULT_PROMPTS, templates: Sequence[str] | None = None
) -> tuple[tuple[str, ...], ...]:
    """The prompt sets of one class (``recognition.PROMPT_SOURCES``): its names (its own prompts, or
    its phrase put into ``templates``, default ``PHRASE_TEMPLATES`` for a phrase and ``NAME_TEMPLATES``
    for a bare class name), its descriptions exactly as given, or both sets."""
    if source not in PROMPT_SOURCES:
        raise UserError(f"prompts must be one of {' | '.join(PROMPT_SOURCES)}, got {source!r}")
    names = c.texts(tuple(templates) if templates else NAME_TEMPLATES if c.bare else PHRASE_TEMPLATES)
    if source == "names":
        return (names,)
    if not c.descriptions:
        raise UserError(
            f"--prompts {source}: class {c.name!r} has no descriptions (give a class file with "
            f'{{class: {{"descriptions": [...]}}}}, see the README)'
        )
    return (c.descriptions,) if source == "descriptions" else (names, c.descriptions)


@torch.no_grad()
def build_zero_shot_classifier(
    scorer: Scorer,
    classes: Sequence[ClassPrompts],
    templates: Sequence[str] | None = None,
    source: str = DEFAULT_PROMPTS,
) -> ZeroShotClassifier:
    """The classifier of ``classes`` from the prompt sets ``source`` names (``prompt_sets``; ``auto``:
    ``recognition.resolve_prompts``): each set's prompts weigh alike within it and the sets weigh
    alike within a class."""
    if not classes:
        raise UserError("zero-shot needs at least one class")
    source = resolve_prompts(source, all(c.descriptions for c in classes))
    sets = [prompt_sets(c, source, templates) for c in classes]
    prompts = [tuple(p for s in ss for p in s) for ss in sets]
    flat = [p for ps in prompts for p in ps]
    prompt_class = torch.tensor([i for i, ps in enumerate(prompts) for _ in ps])  # [P]
    prompt_weight = torch.tensor([1.0 / (len(ss) * len(s)) for ss in sets for s in ss for _ in s])  # [P]
    text = scorer.embed_texts(flat)
    pooled = torch.nn.functional.normalize(text.pooled, dim=-1) * prompt_weight[:, None]  # [P, d]
    sums = torch.zeros(len(classes), pooled.shape[1]).index_add_(0, prompt_class, pooled)
    weights = torch.nn.functional.normalize(sums, dim=-1)  # [C, d]
    return ZeroShotClassifier(
        [c.name for c in classes],
        prompts,
        scorer,
        weights,
        text if scorer.sequence else None,
        prompt_class,
        prompt_weight,
        source,
    )


# ---------------------------------------------------------------------- metrics of a score matrix
def _ranked(scores: Tensor) -> Tensor:
    return scores.argsort(dim=1, descending=True, stable=True)  # ties: the lower class index first


def topk_accuracy(scores: Tensor, truth: Tensor, k: int) -> Tensor:
    """Per clip, 1.0 when its class is among its ``k`` best-scored classes ``[N]``."""
    return (_ranked(scores)[:, :k] == truth[:, None]).any(1).float()


def class_accuracy(scorer: Scorer, clips: ClipSet, dataset, classes: Sequence[ClassPrompts]) -> float:
    """Top-1 (%) of the embedded ``clips`` of ``dataset`` against ``classes`` (their prompts as
    ``build_zero_shot_classifier`` makes them), over the clips whose one label is among the classes."""
    from radar_text_data.vocabulary import clip_label

    names = [c.name for c in classes]
    labels = [clip_label(dataset.record_at(p)) for p in clips.positions]
    scored = torch.tensor([label in names for label in labels])  # [N]
    truth = torch.tensor([names.index(label) for label in labels if label in names])
    scores = build_zero_shot_classifier(scorer, classes).scores(clips)[scored]  # [n, C]
    return float(topk_accuracy(scores, truth, 1).mean() * 100)


def balanced_accuracy(hits: np.ndarray, truth: np.ndarray) -> float:
    """The mean over the classes present of each class's top-1 accuracy (%)."""
    present = np.unique(truth)
    return float(np.mean([hits[truth == c].mean() for c in present]) * 100)


def per_class_accuracy(hits: np.ndarray, truth: np.ndarray, classes: Sequence[str]) -> dict[str, ClassAccuracy]:
    """Each class's top-1 accuracy (%) with its clip count and 95 % Wilson interval (None: no clip)."""
    out: dict[str, ClassAccuracy] = {}
    for c, name in enumerate(classes):
        mine = hits[truth == c]
        out[name] = (
            {
                "accuracy": float(mine.mean() * 100),
                "clips": int(mine.size),
                "interval": list(wilson_interval(int(mine.sum()), int(mine.size))),
            }
            if mine.size
            else {"accuracy": None, "clips": 0, "interval": None}
        )
    return out


def confusion_matrix(predicted: np.ndarray, truth: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts ``[true class, predicted class]``."""
    out = np.zeros((num_classes, num_classes), dtype=int)
    np.add.at(out, (truth, predicted), 1)
    return out


def generalized_accuracy(scores: Tensor, truth: Tensor, unseen: Tensor, gamma: float = 0.0) -> SeenUnseen:
    """Generalised zero-shot with every class a candidate: top-1 (%) over the seen classes' clips and
    over the unseen classes' clips, and their harmonic mean, after subtracting ``gamma`` from the
    seen classes' scores (calibrated stacking; 0: raw). ``unseen [C]`` marks the unseen classes;
    a figure without clips to measure it on is None."""
    predicted = (scores - gamma * (~unseen).float()[None, :]).argmax(1)
    hits = (predicted == truth).float()
    of_unseen = unseen[truth]
    seen_acc = float(hits[~of_unseen].mean() * 100) if (~of_unseen).any() else None
    unseen_acc = float(hits[of_unseen].mean() * 100) if of_unseen.any() else None
    if seen_acc is None or unseen_acc is None:
        harmonic = None  # undefined without clips of both kinds
    else:
        harmonic = 2 * seen_acc * unseen_acc / (seen_acc + unseen_acc) if seen_acc + unseen_acc > 0 else 0.0
    return {"seen": seen_acc, "unseen": unseen_acc, "harmonic_mean": harmonic}


def generalized_intervals(
    scores: Tensor, truth: Tensor, unseen: Tensor, gamma: float = 0.0, samples: int = BOOTSTRAP_SAMPLES
) -> SeenUnseenIntervals:
    """95 % bootstrap intervals (resampling clips) of ``generalized_accuracy``'s three figures; None
    where a figure is undefined on the clips given."""
    predicted = (scores - gamma * (~unseen).float()[None, :]).argmax(1)
    hits, of_unseen = (predicted == truth).numpy().astype(float), unseen[truth].numpy()
    rng = np.random.default_rng(0)
    values = []
    for _ in range(samples):
        i = rng.integers(0, len(hits), size=len(hits))
        h, u = hits[i], of_unseen[i]
        seen_acc = h[~u].mean() * 100 if (~u).any() else np.nan
        unseen_acc = h[u].mean() * 100 if u.any() else np.nan
        total = seen_acc + unseen_acc
        values.append((seen_acc, unseen_acc, 2 * seen_acc * unseen_acc / total if total > 0 else 0.0))
    drawn = np.array(values)  # [samples, 3]
    point = generalized_accuracy(scores, truth, unseen, gamma)

    def interval(k: int, value: float | None) -> list[float] | None:
        return None if value is None else [float(v) for v in np.nanpercentile(drawn[:, k], [2.5, 97.5])]

    return {
        "seen": interval(0, point["seen"]),
        "unseen": interval(1, point["unseen"]),
        "harmonic_mean": interval(2, point["harmonic_mean"]),
    }


def restricted_top1(scores: Tensor, truth: Tensor, candidates: Tensor) -> RestrictedTop1:
    """Top-1 (%) of the clips whose class is among ``candidates [C]`` (bool), with only those classes
    as candidates (unseen-only or seen-only zero-shot), its 95 % interval, clips and chance."""
    mine = candidates[truth]
    if not mine.any():
        return {"top1": None, "interval": None, "clips": 0, "chance": 100 / max(1, int(candidates.sum()))}
    position = (torch.cumsum(candidates.long(), 0) - 1)[truth[mine]]  # each true class among the candidates
    hits = (scores[mine][:, candidates].argmax(1) == position).numpy().astype(float)
    return {
        "top1": float(hits.mean() * 100),
        "interval": list(bootstrap_statistic(len(hits), lambda i: hits[i].mean() * 100)),
        "clips": int(mine.sum()),
        "chance": 100 / int(candidates.sum()),
    }


def calibrated_stacking(scores: Tensor, truth: Tensor, unseen: Tensor, seen_budget: float = 5.0) -> dict:
    """The constant ``gamma`` of calibrated stacking, chosen on these (validation) scores only.

    With clips of unseen classes: the ``gamma`` with the highest harmonic mean. Without (a validation
    split that holds no unseen class, as ``data synth --unseen`` writes it, or the seen-labelled clips
    that an inductive rule passes): the largest ``gamma``
    whose seen accuracy stays within ``seen_budget`` points of the raw one, the most an unseen class
    can be favoured at a cost validation can measure. The candidates are the exact margins at which a
    prediction flips (best seen score minus best unseen score of each clip), and 0."""
    if not unseen.any() or unseen.all():
        return {"gamma": 0.0, "rule": "no seen or no unseen class among the candidates"}
    best_seen = scores[:, ~unseen].max(1).values
    best_unseen = scores[:, unseen].max(1).values
    margins = sorted({0.0, *[float(m) for m in (best_seen - best_unseen) if m > 0]})
    candidates = [0.0] + [m + 1e-6 for m in margins if m > 0]  # just past each flip
    results = [(g, generalized_accuracy(scores, truth, unseen, g)) for g in candidates]
    has_unseen, has_seen = bool(unseen[truth].any()), bool((~unseen[truth]).any())
    if has_unseen and has_seen:
        gamma, _ = max(results, key=lambda gr: (gr[1]["harmonic_mean"], -gr[0]))
        return {"gamma": gamma, "rule": "highest validation harmonic mean"}
    if not has_seen:
        return {"gamma": 0.0, "rule": "validation holds no clip of a seen class: not calibrated"}
    raw = results[0][1]["seen"] or 0.0  # never None: validation holds clips of seen classes
    within = [g for g, r in results if (r["seen"] or 0.0) >= raw - seen_budget]
    return {
        "gamma": max(within),
        "rule": f"largest constant keeping validation seen accuracy within {seen_budget} "
        f"points of {raw:.1f} (read from clips of seen classes only)",
    }


def zero_shot_report(scores: Tensor, truth: Tensor, classes: Sequence[str]) -> ZeroShotReport:
    """Top-1, top-5 and balanced accuracy (%), each with its 95 % bootstrap interval (resampling
    clips) and chance; per-class accuracy with Wilson intervals; the confusion matrix."""
    n, num = len(truth), len(classes)
    k = min(5, num)
    hits1 = topk_accuracy(scores, truth, 1).numpy()
    hitsk = topk_accuracy(scores, truth, k).numpy()
    t = truth.numpy()
    predicted = _ranked(scores)[:, 0].numpy()
    return {
        "top1": float(hits1.mean() * 100),
        "top1_interval": list(bootstrap_statistic(n, lambda i: hits1[i].mean() * 100)),
        "top5": float(hitsk.mean() * 100),
        "top5_interval": list(bootstrap_statistic(n, lambda i: hitsk[i].mean() * 100)),
        "top5_k": k,
        "balanced": balanced_accuracy(hits1, t),
        "balanced_interval": list(bootstrap_statistic(n, lambda i: balanced_accuracy(hits1[i], t[i]))),
        "chance_top1": 100 / num,
        "chance_top5": 100 * k / num,
        "chance_balanced": 100 / num,
        "per_class": per_class_accuracy(hits1, t, classes),
        "confusion": confusion_matrix(predicted, t, num).tolist(),
    }
