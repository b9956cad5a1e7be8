"""Pure figures: arrays in, a PNG out (missing directories are created). What to draw is gathered
in ``figures.py``; nothing here reads a dataset, a run or a model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .legacy import metric  # noqa: E402

_ABSENT = object()  # a metric a line does not hold

__all__ = ["plot_views", "plot_confusion", "plot_curves", "plot_similarity", "plot_retrieval_examples", "plot_timeline"]


def _save(fig, out: str | Path, dpi: int) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi)
    plt.close(fig)
    return out


def plot_views(views: Mapping[str, np.ndarray], frame_rate_hz: float, title: str, out: str | Path) -> Path:
    """One clip's views (``{name: [bins, T]}``) stacked over a shared time axis in seconds."""
    fig, axes = plt.subplots(len(views), 1, figsize=(10, 8), constrained_layout=True, squeeze=False)
    for ax, (name, img) in zip(axes[:, 0], views.items(), strict=True):
        t_end = img.shape[1] / frame_rate_hz
        ax.imshow(img, origin="lower", aspect="auto", extent=(0, t_end, 0, img.shape[0]), cmap="viridis")
        ax.set(ylabel=f"{name.replace('_time', '')} bin", xlabel="time (s)")
    fig.suptitle(title, fontsize=9)
    return _save(fig, out, 90)


def plot_confusion(confusion, classes: Sequence[str], out: str | Path) -> Path:
    """Zero-shot confusion matrix (rows: true class, columns: predicted), rows normalised, counts written."""
    cm = np.asarray(confusion, dtype=float)  # [C, C]
    fig, ax = plt.subplots(figsize=(8, 7), constrained_layout=True)
    ax.imshow(cm / np.maximum(cm.sum(1, keepdims=True), 1), cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(classes)), classes, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(classes)), classes, fontsize=8)
    for i in range(len(classes)):
        for j in range(len(classes)):
            if cm[i, j]:
                ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=7)
    ax.set(xlabel="predicted", ylabel="true", title="zero-shot activity recognition")
    return _save(fig, out, 90)


def plot_curves(lines: Sequence[Mapping], out: str | Path) -> Path:
    """Losses (train, and validation where logged), learning rate and logit scale against the step,
    from metrics lines (``{"step": ..., "loss_total": ..., "val_loss_total": ...}``)."""
    train_lines = [x for x in lines if "loss_total" in x and "val_loss_total" not in x]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4), constrained_layout=True)
    steps = [r["step"] for r in train_lines]
    for key in ("loss_pooled", "loss_seq", "loss_total"):  # runs of seqclip-cli <= 0.4 wrote loss_clip
        values = [metric(r, key, _ABSENT) for r in train_lines]
        if any(v is not _ABSENT for v in values):
            axes[0].plot(steps, [np.nan if v is _ABSENT or v is None else v for v in values], label=key)
    val = [x for x in lines if "val_loss_total" in x]
    if val:
        axes[0].plot([r["step"] for r in val], [r["val_loss_total"] for r in val], "k--", label="val loss_total")
    axes[0].set(xlabel="step", title="losses")
    axes[0].legend()
    axes[1].plot(steps, [r.get("lr", np.nan) for r in train_lines])
    axes[1].set(xlabel="step", title="learning rate")
    axes[2].plot(steps, [r.get("logit_scale", np.nan) for r in train_lines])
    axes[2].set(xlabel="step", title="logit scale")
    return _save(fig, out, 80)


def plot_similarity(similarity: np.ndarray, out: str | Path) -> Path:
    """A clip x caption similarity heatmap (``[clips, clips]``: clip i against clip j's first caption)."""
    fig, ax = plt.subplots(figsize=(6, 5), constrained_layout=True)
    im = ax.imshow(similarity, cmap="magma")
    fig.colorbar(im, ax=ax)
    ax.set(xlabel="caption (clip j)", ylabel="radar clip i", title="validation cosine similarity")
    return _save(fig, out, 80)


def plot_retrieval_examples(examples: Sequence[tuple[str, Sequence[tuple[np.ndarray, str]]]], out: str | Path) -> Path:
    """One row per query: its caption, then its top-ranked clips' Doppler views with their titles."""
    cols = max((len(found) for _, found in examples), default=1)
    fig, axes = plt.subplots(
        max(len(examples), 1),
        cols,
        figsize=(4 * cols, 3 * max(len(examples), 1)),
        constrained_layout=True,
        squeeze=False,
    )
    for q, (caption, found) in enumerate(examples):
        for k, (doppler, title) in enumerate(found):
            axes[q, k].imshow(doppler, origin="lower", aspect="auto", cmap="viridis")
            axes[q, k].set_title(title, fontsize=8)
        axes[q, 0].set_ylabel(caption[:60], fontsize=7)
    return _save(fig, out, 80)


def plot_timeline(
    doppler: np.ndarray, spans: Sequence[tuple[int, int, str, float]], title: str, out: str | Path
) -> Path:
    """A recording's Doppler-time view (``[bins, T]``, x in frames) under a strip of its labels:
    disjoint ``(start, end, label, score)`` spans (``search.windows.timeline_spans``), one colour per
    label, named in a legend."""
    from matplotlib.patches import Patch

    labels = sorted({w[2] for w in spans})
    colours = dict(zip(labels, plt.get_cmap("tab20")(np.linspace(0, 1, max(len(labels), 1))), strict=False))
    fig, (strip, ax) = plt.subplots(
        2, 1, figsize=(12, 4.5), sharex=True, constrained_layout=True, gridspec_kw={"height_ratios": (1, 4)}
    )
    for start, end, label, score in spans:
        strip.barh(0, end - start, left=start, color=colours[label], edgecolor="white")
        strip.text((start + end) / 2, 0, f"{score:.2f}", ha="center", va="center", fontsize=7)
    strip.set(yticks=[], title=title)
    strip.legend(
        handles=[Patch(color=colours[x], label=x) for x in labels],
        loc="upper left",
        bbox_to_anchor=(1, 1),
        fontsize=7,
        frameon=False,
    )
    ax.imshow(doppler, origin="lower", aspect="auto", extent=(0, doppler.shape[1], 0, doppler.shape[0]), cmap="viridis")
    ax.set(xlabel="frame", ylabel="Doppler bin")
    return _save(fig, out, 80)
