"""Calibration of generalised zero-shot scores against the bias toward seen classes, each rule fitted
on validation scores only (``recognition.CALIBRATIONS``): ``stacking`` (calibrated stacking, Chao
et al. 2016: the constant with the highest validation harmonic mean, which needs validation clips of
unseen classes) and three inductive rules that read no unseen label: ``seen-budget`` (the largest
constant that keeps validation seen accuracy within a budget), ``standardize`` (each class's score
standardised over unlabelled validation clips, so a class the model never trained on is not
out-scored by scale alone) and the two in turn. ``fit_calibration`` returns a ``Calibration`` that
``apply`` uses on any scores of the same classes."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ..errors import UserError
from ..recognition import CALIBRATIONS
from .zero_shot import calibrated_stacking

__all__ = ["Calibration", "fit_calibration", "seen_labelled"]

SEEN_BUDGET = 5.0  # points of validation seen accuracy the seen-budget rule may give up


@dataclass(frozen=True)
class Calibration:
    """A fitted rule: scores are standardised (``mean``, ``std``: ``[C]``, or None) and ``gamma`` is
    subtracted from the seen classes' scores (``unseen [C]`` marks the others)."""

    rule: str
    unseen: Tensor
    gamma: float = 0.0
    mean: Tensor | None = None
    std: Tensor | None = None
    note: str = ""
    fitted_on: str = "nothing"  # the validation clips the rule read, in words

    def apply(self, scores: Tensor) -> Tensor:
        """``[N, C]`` calibrated scores; argmax over them is the calibrated prediction."""
        if self.mean is not None:
            scores = (scores - self.mean) / self.std
        return scores - self.gamma * (~self.unseen).float()[None, :]


def _labelled(truth: Tensor, unseen: Tensor) -> tuple[Tensor, Tensor]:
    """``[N]`` bool: clips whose label is a class index, and ``[N]`` bool: of those, the unseen class's."""
    known = (truth >= 0) & (truth < len(unseen))
    return known, known & unseen[truth.clamp(0, len(unseen) - 1)]


def seen_labelled(truth: Tensor, unseen: Tensor) -> Tensor:
    """``[N]`` bool: clips whose label is a seen class. A label that is not a class index (an unknown
    clip: -1) or names an unseen class counts as unlabelled, so what an inductive rule fits cannot
    depend on which unseen class a clip belongs to."""
    known, of_unseen = _labelled(truth, unseen)
    return known & ~of_unseen


def _standardized(scores: Tensor) -> tuple[Tensor, Tensor]:
    """Each class's mean and standard deviation over the clips (rows) of ``scores``."""
    std = scores.std(dim=0, unbiased=False).clamp_min(1e-6) if len(scores) > 1 else torch.ones(scores.shape[1])
    return scores.mean(dim=0), std


def fit_calibration(
    rule: str, scores: Tensor, truth: Tensor, unseen: Tensor, seen_budget: float = SEEN_BUDGET
) -> Calibration:
    """``rule`` fitted on validation ``scores [N, C]`` with labels ``truth [N]`` (-1: unlabelled) for the
    candidates' ``unseen [C]`` mask. Inductive rules read labels only through ``seen_labelled``."""
    if rule not in CALIBRATIONS:
        raise UserError(f"calibration must be one of {' | '.join(CALIBRATIONS)}, got {rule!r}")
    if rule == "none" or not unseen.any() or unseen.all():
        return Calibration(rule, unseen, note="raw scores" if rule == "none" else "no seen or no unseen candidate")
    if len(scores) == 0:
        return Calibration(rule, unseen, note="no validation clip: not calibrated")
    if rule == "stacking":
        known, of_unseen = _labelled(truth, unseen)
        read = f"{int(known.sum())} labelled val clips ({int(of_unseen.sum())} of unseen classes)"
        if not of_unseen.any():
            return Calibration(
                rule, unseen, note="validation holds no clip of an unseen class: not calibrated", fitted_on=read
            )
        chosen = calibrated_stacking(scores[known], truth[known], unseen)
        return Calibration(rule, unseen, chosen["gamma"], note=chosen["rule"], fitted_on=read)
    mean = std = None
    read: list[str] = []
    if rule.startswith("standardize"):
        mean, std = _standardized(scores)  # every validation clip, its label unread
        scores = (scores - mean) / std
        read.append(f"{len(scores)} unlabelled val clips")
    gamma, note = 0.0, f"standardised over {len(scores)} unlabelled validation clips" if mean is not None else ""
    if rule.endswith("seen-budget"):
        mine = seen_labelled(truth, unseen)
        read.append(f"{int(mine.sum())} val clips labelled with a seen class")
        if mine.any():
            chosen = calibrated_stacking(scores[mine], truth[mine], unseen, seen_budget)
            gamma = chosen["gamma"]
            note = "; ".join(x for x in (note, chosen["rule"]) if x)
        else:
            note = "; ".join(x for x in (note, "no labelled validation clip of a seen class: no constant") if x)
    return Calibration(rule, unseen, gamma, mean, std, note, ", ".join(read))
