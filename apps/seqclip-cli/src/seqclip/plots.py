"""Figures: one clip's views (``seqclip data show``)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from radar_text_data import SPLITS  # noqa: E402
from radar_text_data.source import open_split, resolve_data  # noqa: E402

__all__ = ["plot_clip"]


def plot_clip(data: str | Path, clip_id: str, out: str | Path) -> Path:
    """The three views of clip ``clip_id`` of a dataset (directory or shards), captions as the title."""
    location = resolve_data(data)
    for split in SPLITS:
        source = open_split(location, split)
        found = [i for i, r in enumerate(source.records) if r.id == clip_id]
        if found:
            break
    else:
        raise ValueError(f"no clip {clip_id!r} in {data}")
    row = source.records[found[0]]
    views = source.load(found[0])
    rate = row.frame_rate_hz or 50.0
    fig, axes = plt.subplots(3, 1, figsize=(10, 8), constrained_layout=True)
    for ax, (name, img) in zip(axes, views.items(), strict=True):
        t_end = img.shape[1] / rate
        ax.imshow(img, origin="lower", aspect="auto", extent=(0, t_end, 0, img.shape[0]), cmap="viridis")
        ax.set(ylabel=f"{name.replace('_time', '')} bin", xlabel="time (s)")
    fig.suptitle(f"{clip_id} ({row.split})\n" + "\n".join(row.captions), fontsize=9)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def plot_confusion(confusion, classes: list[str], out: str | Path) -> Path:
    """Zero-shot confusion matrix (rows: true activity, columns: predicted)."""
    import numpy as np

    cm = np.asarray(confusion, dtype=float)
    fig, ax = plt.subplots(figsize=(8, 7), constrained_layout=True)
    ax.imshow(cm / np.maximum(cm.sum(1, keepdims=True), 1), cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(classes)), classes, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(classes)), classes, fontsize=8)
    for i in range(len(classes)):
        for j in range(len(classes)):
            if cm[i, j]:
                ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=7)
    ax.set(xlabel="predicted", ylabel="true", title="zero-shot activity recognition")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def plot_run(run: str | Path, data: str | Path | None = None, examples: int = 3) -> list[Path]:
    """``RUN/plots/``: loss curves, learning rate and logit scale from metrics.jsonl; with the run's
    model (``best/``, else its latest checkpoint), a validation similarity heatmap and retrieval
    examples (query + top-3 Doppler views), at the model's training clip length."""
    import json

    import numpy as np
    import torch

    run = Path(run)
    metrics = run / "metrics.jsonl"
    if not metrics.is_file():
        raise FileNotFoundError(f"{run} has no metrics.jsonl (is it a seqclip run directory?)")
    rows = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
    train_rows = [r for r in rows if "loss_total" in r and "val_loss_total" not in r]
    out_dir = run / "plots"
    out_dir.mkdir(exist_ok=True)
    written = []
    fig, axes = plt.subplots(1, 3, figsize=(15, 4), constrained_layout=True)
    steps = [r["step"] for r in train_rows]
    for key in ("loss_clip", "loss_seq", "loss_total"):
        if any(key in r for r in train_rows):
            axes[0].plot(steps, [r.get(key, np.nan) for r in train_rows], label=key)
    val = [r for r in rows if "val_loss_total" in r]
    if val:
        axes[0].plot([r["step"] for r in val], [r["val_loss_total"] for r in val], "k--", label="val loss_total")
    axes[0].set(xlabel="step", title="losses")
    axes[0].legend()
    axes[1].plot(steps, [r.get("lr", np.nan) for r in train_rows])
    axes[1].set(xlabel="step", title="learning rate")
    axes[2].plot(steps, [r.get("logit_scale", np.nan) for r in train_rows])
    axes[2].set(xlabel="step", title="logit scale")
    written.append(out_dir / "curves.png")
    fig.savefig(written[-1], dpi=80)
    plt.close(fig)
    from .runs import latest_checkpoint

    if not (run / "best").is_dir() and latest_checkpoint(run) is None:
        return written
    from .data import RadarTextDataset
    from .eval_tasks import load_model
    from .evaluate import embed_split

    if data is None:
        import tomllib

        data = tomllib.loads((run / "config.toml").read_text())["train"]["data"]
    model, _ = load_model(run, torch.device("cpu"))
    ds = RadarTextDataset(data, "val", model.config.clip_length, train=False)
    emb = embed_split(model, ds)
    first = [int((emb["caption_clip"] == i).nonzero()[0, 0]) for i in range(len(emb["positions"]))]
    sim = (emb["radar"] @ emb["text"][first].T).numpy()
    fig, ax = plt.subplots(figsize=(6, 5), constrained_layout=True)
    im = ax.imshow(sim, cmap="magma")
    fig.colorbar(im, ax=ax)
    ax.set(xlabel="caption (clip j)", ylabel="radar clip i", title="validation cosine similarity")
    written.append(out_dir / "val_similarity.png")
    fig.savefig(written[-1], dpi=80)
    plt.close(fig)
    fig, axes = plt.subplots(examples, 3, figsize=(12, 3 * examples), constrained_layout=True, squeeze=False)
    for q in range(min(examples, len(first))):
        scores = emb["text"][first[q]] @ emb["radar"].T
        top = torch.argsort(scores, descending=True, stable=True)[:3].tolist()
        for k, clip in enumerate(top):
            position = emb["positions"][clip]
            doppler = ds.views_at(position)["doppler_time"]
            axes[q, k].imshow(doppler, origin="lower", aspect="auto", cmap="viridis")
            mark = "correct" if clip == q else "other clip"
            axes[q, k].set_title(f"#{k + 1} ({mark}) {ds.record_at(position).id}", fontsize=8)
        axes[q, 0].set_ylabel(emb["captions"][first[q]][:60], fontsize=7)
    written.append(out_dir / "retrieval_examples.png")
    fig.savefig(written[-1], dpi=80)
    plt.close(fig)
    return written
