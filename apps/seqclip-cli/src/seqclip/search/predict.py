"""``seqclip predict``: zero-shot labels for unlabelled clips (the top ``k`` classes with their
scores), and for recordings longer than a clip a sliding window that gives a timeline (start, end,
label, score per window). Classes and prompts as zero-shot eval takes them (``build_zero_shot_classifier``);
``gamma`` subtracts a constant from the seen classes' scores (calibrated stacking, as eval reports it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from radar_views import VIEW_NAMES

from ..config import POOLED
from ..data import check_angle_match
from ..errors import UserError
from ..evaluation.scorer import Scorer
from ..evaluation.zero_shot import build_zero_shot_classifier
from ..recognition import DEFAULT_PROMPTS
from .sources import ClipRows
from .windows import check_window, default_stride, windows

__all__ = ["Window", "predict"]


@dataclass
class Window:
    """One clip, or one window of a recording: frames ``[start, end)``, the top classes and their scores."""

    id: str
    start: int
    end: int
    labels: list[str]
    scores: list[float]


@torch.no_grad()
def predict(
    model,
    rows: ClipRows,
    classes: Sequence,
    templates: Sequence[str] | None = None,
    k: int = 3,
    window: int | None = None,
    stride: int | None = None,
    unseen: Sequence[str] = (),
    gamma: float = 0.0,
    batch_size: int = 64,
    advance: Callable[[int], None] = lambda n: None,
    prompts: str = DEFAULT_PROMPTS,
) -> list[Window]:
    """Top-``k`` zero-shot labels of every clip (its first ``clip_length`` frames), or with ``window``
    of every window of every recording (``windows.windows``; ``stride`` default: half the window; a
    recording no longer than the window is one window); ``prompts``: the classes' prompt source
    (``recognition.PROMPT_SOURCES``); ``gamma`` is subtracted from the classes not in ``unseen``. Clips
    whose third view holds another angle than the model's are refused (``check_angle_match``)."""
    check_angle_match(model.config.angle, rows.angle, "the clips")
    if window is not None:
        check_window(window, stride)
    names = [c.name for c in classes]
    if unknown := [n for n in unseen if n not in names]:
        raise UserError(f"unseen: {', '.join(unknown)} not among the candidates ({', '.join(names)})")
    if gamma and not unseen:
        raise UserError("gamma: it is subtracted from the seen classes' scores, so the unseen classes must be named")
    model.eval()
    clf = build_zero_shot_classifier(Scorer(model, POOLED, batch_size), list(classes), templates, prompts)
    offset = torch.tensor([0.0 if name in set(unseen) else gamma for name in clf.classes])  # [C]
    length = window or model.config.clip_length
    stride = stride or default_stride(length)
    out: list[Window] = []
    pending: list[tuple[str, int, dict]] = []
    for i, row in enumerate(rows.rows):
        views = rows.views(i)
        frames = next(iter(views.values())).shape[-1]
        starts = windows(frames, length, stride) if window is not None else [0]
        for start in starts:
            pending.append((row.id, start, {k: v[:, start : start + length] for k, v in views.items()}))
            if len(pending) == batch_size:
                out += _score(model, clf, offset, pending, length, k)
                pending = []
        advance(1)
    return out + (_score(model, clf, offset, pending, length, k) if pending else [])


def _score(model, clf, offset: torch.Tensor, pending: list, length: int, k: int) -> list[Window]:
    from radar_views import crop_or_pad

    cut = [crop_or_pad(v, length) for _, _, v in pending]
    views = [torch.from_numpy(np.stack([getattr(c[0], name) for c in cut])) for name in VIEW_NAMES]  # [b, bins, L]
    mask = torch.from_numpy(np.stack([c[1] for c in cut]))  # [b, L]
    pooled = model.encode_radar(*views, mask).pooled.float().cpu()  # [b, d]
    scores = pooled @ clf.weights.T - offset  # [b, C]
    top = scores.topk(min(k, scores.shape[1]), dim=1)
    return [
        Window(cid, start, start + int(m.sum()), [clf.classes[j] for j in idx.tolist()], val.tolist())
        for (cid, start, _), m, idx, val in zip(pending, mask, top.indices, top.values, strict=True)
    ]
