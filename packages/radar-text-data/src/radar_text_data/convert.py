"""``convert_folder``: a user's own clips and captions to the directory format, validated first."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from radar_views import VIEW_NAMES, check_new_output, staged_directory

from .check import format_problems
from .clips import clip_arrays, view_problem, write_clip
from .manifest import write_manifest
from .records import ClipRecord, RecordError

__all__ = ["convert_folder", "read_captions", "ConvertError", "split_by_fraction"]


class ConvertError(ValueError):
    """The source cannot be converted; the message lists every problem found (nothing was written)."""


def convert_folder(src: str | os.PathLike, captions_file: str | os.PathLike, out: str | os.PathLike,
                   val_fraction: float = 0.1, test_fraction: float = 0.1, seed: int = 0,
                   overwrite: bool = False) -> Path:
    """Convert a folder of per-clip ``<id>.npz`` (with range_time, doppler_time, azimuth_time) or
    ``<id>/{range_time,doppler_time,azimuth_time}.npy`` plus a captions file (JSON object
    ``{id: [caption, ...]}`` or JSON lines ``{"id": ..., "captions": [...]}``) to the directory format,
    with a seeded random train / val / test split.

    Every clip is validated first as ``check_dataset`` validates a dataset (the views' bins and
    frames, finite values as stored in float16, non-empty captions): any problem raises
    ``ConvertError`` listing them and nothing is written. The dataset is assembled beside ``out``
    and renamed into place; an existing non-empty ``out`` is refused unless ``overwrite`` (then it
    is moved aside to ``OUT.old-<date>-<time>``)."""
    src, out = Path(src), Path(out)
    if not src.is_dir():
        raise FileNotFoundError(f"source folder not found: {src}")
    captions = read_captions(Path(captions_file))
    check_new_output(out, overwrite)
    split = split_by_fraction(sorted(captions), val_fraction, test_fraction, seed)
    records, problems = _validated_records(src, captions, split, str(captions_file))
    if problems:
        raise ConvertError(f"{len(problems)} problem(s) in {src} with {captions_file}; nothing was written:\n"
                           f"{format_problems(problems)}")
    with staged_directory(out, overwrite) as staged:
        for record in records:
            write_clip(staged / record.file, clip_arrays(_read_views(src, record.id)))
        write_manifest(staged, records)
    return out


def split_by_fraction(ids: list[str], val_fraction: float, test_fraction: float, seed: int) -> dict[str, str]:
    """``{id: split}`` by a seeded permutation: ``round(test_fraction * n)`` test, then val, the rest train."""
    for name, share in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0.0 <= share < 1.0:
            raise ValueError(f"{name} must lie in [0, 1), got {share}")
    if val_fraction + test_fraction >= 1.0:
        raise ValueError(f"val_fraction + test_fraction must leave clips for training, got "
                         f"{val_fraction} + {test_fraction}")
    order = np.random.default_rng(seed).permutation(len(ids))
    n_test, n_val = int(round(test_fraction * len(ids))), int(round(val_fraction * len(ids)))
    return {ids[i]: "test" if rank < n_test else "val" if rank < n_test + n_val else "train"
            for rank, i in enumerate(order)}


def _validated_records(src: Path, captions: dict[str, list[str]], split: dict[str, str], where: str
                       ) -> tuple[list[ClipRecord], list[str]]:
    """The records of every clip, and every problem found reading and checking the clips."""
    records, problems = [], []
    for cid in sorted(captions):
        try:
            arrays = _read_views(src, cid)
        except (OSError, ValueError) as err:
            problems.append(str(err))
            continue
        problem = view_problem(clip_arrays(arrays))  # as stored: float16
        if problem:
            problems.append(f"{_view_source(src, cid)}: {problem}")
            continue
        row = {"id": cid, "split": split[cid], "file": f"clips/{cid}.npz", "captions": captions[cid],
               "segments": [], "frame_rate_hz": None, "num_frames": int(arrays["range_time"].shape[-1]), "radar": None}
        try:
            records.append(ClipRecord.from_dict(row, f"{where}: clip {cid!r}"))
        except RecordError as err:
            problems.append(str(err))
    return records, problems


def _view_source(src: Path, cid: str) -> Path:
    return src / f"{cid}.npz" if (src / f"{cid}.npz").is_file() else src / cid


def _read_views(src: Path, cid: str) -> dict[str, np.ndarray]:
    path = _view_source(src, cid)
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: np.asarray(z[k]) for k in VIEW_NAMES if k in z}
        else:
            arrays = {k: np.load(path / f"{k}.npy", allow_pickle=False) for k in VIEW_NAMES
                      if (path / f"{k}.npy").is_file()}
    except (OSError, ValueError, EOFError) as err:
        raise ValueError(f"{path}: unreadable ({type(err).__name__}: {err})") from None
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
            return {str(k): [v] if isinstance(v, str) else v for k, v in data.items()}  # checked per record
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
