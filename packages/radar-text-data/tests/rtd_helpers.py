"""Small datasets for the radar-text-data tests (random views; written through the package)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from radar_text_data import VIEW_BINS, ClipRecord, clip_arrays, write_clip, write_manifest


def tiny_dataset(root: Path, n: int = 12, frames: int = 32, seed: int = 0, splits=None) -> Path:
    """``n`` clips of random views, captions naming the clip, 2/3 of them with two segments."""
    rng = np.random.default_rng(seed)
    splits = splits or ["train"] * (n - 4) + ["val"] * 2 + ["test"] * 2
    records = []
    for i in range(n):
        cid = f"c{i:03d}"
        views = {k: rng.random((b, frames)) for k, b in VIEW_BINS.items()}
        write_clip(root / "clips" / f"{cid}.npz", clip_arrays(views))
        segs = [{"activity": "wave", "start_frame": 0, "end_frame": 10}, {"activity": "clap", "start_frame": 10,
                                                                           "end_frame": frames}][: 1 + (i % 3 > 0)]
        row = {"id": cid, "split": splits[i], "file": f"clips/{cid}.npz", "captions": [f"clip {i} a waves", f"clip {i} b waves"],
               "segments": segs, "frame_rate_hz": 50.0, "num_frames": frames, "radar": None}
        if len(segs) > 1:
            row["captions"] = [f"clip {i} a waves, then claps", f"clip {i} b waves, then claps"]
            row["captions_reversed"] = [f"clip {i} a claps, then waves", f"clip {i} b claps, then waves"]
        records.append(ClipRecord.from_dict(row))
    write_manifest(root, records)
    return root
