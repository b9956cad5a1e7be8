"""A tiny dataset for tests (``numpy.testing``'s idea): random views of the format's shapes
(``VIEW_BINS``), written through the package, no simulation. Every test of the workspace that needs
a dataset on disk builds it here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from .clips import clip_arrays, write_clip
from .contract import VIEW_BINS
from .manifest import write_manifest
from .records import ClipRecord

__all__ = ["tiny_dataset"]


def _segmented(i: int, frames: int) -> dict:
    """Clip ``i``'s captions naming it; 2 of 3 clips wave, then clap (with order-reversed captions)."""
    segments = [{"activity": "wave", "start_frame": 0, "end_frame": 10},
                {"activity": "clap", "start_frame": 10, "end_frame": frames}][: 1 + (i % 3 > 0)]
    if len(segments) == 1:
        return {"captions": [f"clip {i} a waves", f"clip {i} b waves"], "segments": segments}
    return {"captions": [f"clip {i} a waves, then claps", f"clip {i} b waves, then claps"], "segments": segments,
            "captions_reversed": [f"clip {i} a claps, then waves", f"clip {i} b claps, then waves"]}


def tiny_dataset(root: str | Path, n: int = 12, frames: int | Sequence[int] = 32, seed: int = 0,
                 splits: Sequence[str] | None = None, captions: Callable[[int], list[str]] | None = None) -> Path:
    """``n`` clips ``c000..`` of uniform random views (``frames`` frames, or clip ``i`` ``frames[i]``;
    seeded), in ``splits`` (default: all but 4 train, 2 val, 2 test). ``captions(i)``: clip ``i``'s
    captions, and no segments; default: captions naming the clip, 2 of 3 clips with two segments and
    order-reversed captions."""
    root = Path(root)
    rng = np.random.default_rng(seed)
    splits = list(splits or ["train"] * (n - 4) + ["val"] * 2 + ["test"] * 2)
    lengths = [frames] * n if isinstance(frames, int) else list(frames)
    records = []
    for i, length in enumerate(lengths):
        cid = f"c{i:03d}"
        views = {k: rng.random((bins, length)) for k, bins in VIEW_BINS.items()}  # [bins, T]
        write_clip(root / "clips" / f"{cid}.npz", clip_arrays(views))
        text = {"captions": captions(i), "segments": []} if captions else _segmented(i, length)
        records.append(ClipRecord.from_dict({"id": cid, "split": splits[i], "file": f"clips/{cid}.npz", **text,
                                             "frame_rate_hz": 50.0, "num_frames": length, "radar": None}))
    write_manifest(root, records)
    return root
