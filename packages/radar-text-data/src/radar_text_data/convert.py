"""``convert_folder``: a user's own clips and captions to the directory format."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from radar_views import VIEW_NAMES

from .clips import clip_arrays, write_clip
from .manifest import write_manifest
from .records import ClipRecord

__all__ = ["convert_folder", "read_captions"]


def convert_folder(src: str | os.PathLike, captions_file: str | os.PathLike, out: str | os.PathLike,
                   val_fraction: float = 0.1, test_fraction: float = 0.1, seed: int = 0) -> Path:
    """Convert a folder of per-clip ``<id>.npz`` (with range_time, doppler_time, azimuth_time) or
    ``<id>/{range_time,doppler_time,azimuth_time}.npy`` plus a captions file (JSON object
    ``{id: [caption, ...]}`` or JSON lines ``{"id": ..., "captions": [...]}``) to the directory format,
    with a seeded random train / val / test split."""
    src, out = Path(src), Path(out)
    captions = read_captions(Path(captions_file))
    ids = sorted(captions)
    order = np.random.default_rng(seed).permutation(len(ids))
    n_test, n_val = int(round(test_fraction * len(ids))), int(round(val_fraction * len(ids)))
    split = {ids[i]: "test" if rank < n_test else "val" if rank < n_test + n_val else "train"
             for rank, i in enumerate(order)}
    records = []
    for cid in ids:
        arrays = _read_views(src, cid)
        write_clip(out / "clips" / f"{cid}.npz", clip_arrays(arrays))
        records.append(ClipRecord.from_dict(
            {"id": cid, "split": split[cid], "file": f"clips/{cid}.npz", "captions": captions[cid], "segments": [],
             "frame_rate_hz": None, "num_frames": int(arrays["range_time"].shape[-1]), "radar": None},
            f"{captions_file}: clip {cid!r}"))
    write_manifest(out, records)
    return out


def _read_views(src: Path, cid: str) -> dict[str, np.ndarray]:
    if (src / f"{cid}.npz").is_file():
        with np.load(src / f"{cid}.npz") as z:
            arrays = {k: np.asarray(z[k]) for k in VIEW_NAMES if k in z}
    else:
        arrays = {k: np.load(src / cid / f"{k}.npy") for k in VIEW_NAMES if (src / cid / f"{k}.npy").is_file()}
    missing = [k for k in VIEW_NAMES if k not in arrays]
    if missing:
        raise FileNotFoundError(f"{src}: clip {cid!r} lacks {missing} (expected {cid}.npz or {cid}/<view>.npy)")
    return arrays


def read_captions(path: Path) -> dict[str, list[str]]:
    """``{id: [caption, ...]}`` from a JSON object or JSON lines; errors name the file and line."""
    if not path.is_file():
        raise FileNotFoundError(f"captions file not found: {path}")
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
        if isinstance(data, dict):
            return {str(k): [v] if isinstance(v, str) else list(v) for k, v in data.items()}
    except json.JSONDecodeError:
        pass
    out = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                obj = json.loads(line)
                out[str(obj["id"])] = list(obj["captions"])
            except (json.JSONDecodeError, KeyError, TypeError):
                raise ValueError(f"{path}:{lineno}: expected {{\"id\": ..., \"captions\": [...]}}") from None
    return out
