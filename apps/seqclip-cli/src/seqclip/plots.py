"""Figures: one clip's views (``seqclip data show``)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from radar_synth import read_manifest  # noqa: E402

from .data import load_clip  # noqa: E402

__all__ = ["plot_clip"]


def plot_clip(root: str | Path, clip_id: str, out: str | Path) -> Path:
    root = Path(root)
    rows = {r["id"]: r for r in read_manifest(root)}
    if clip_id not in rows:
        raise ValueError(f"no clip {clip_id!r} in {root / 'manifest.jsonl'}")
    row = rows[clip_id]
    views = load_clip(root, row)
    rate = row.get("frame_rate_hz") or 50.0
    fig, axes = plt.subplots(3, 1, figsize=(10, 8), constrained_layout=True)
    for ax, (name, img) in zip(axes, views.items(), strict=True):
        t_end = img.shape[1] / rate
        ax.imshow(img, origin="lower", aspect="auto", extent=(0, t_end, 0, img.shape[0]), cmap="viridis")
        ax.set(ylabel=f"{name.replace('_time', '')} bin", xlabel="time (s)")
    fig.suptitle(f"{clip_id} ({row['split']})\n" + "\n".join(row["captions"]), fontsize=9)
    out = Path(out)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out
