"""Dataset validation: ``check_headers`` (fast, before training: file, arrays, shapes, dtype, read
from the ``.npy`` headers without decompressing) and ``check_dataset`` (``seqclip data check``:
the manifest and every clip's content)."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from radar_synth.dataset import MANIFEST
from radar_views import VIEW_NAMES

from .config import FRAME_MULTIPLE
from .data import VIEW_BINS, BadClipError, load_clip

__all__ = ["check_dataset", "check_headers", "clip_header_problem", "format_problems"]

REQUIRED = ("id", "split", "file", "captions")
SPLITS = ("train", "val", "test")
SHOWN_PROBLEMS = 20  # problems listed in one message; the rest are counted


def clip_header_problem(root: Path, row: dict) -> str | None:
    """Why a manifest row's clip cannot be used, judged from the zip directory and ``.npy`` headers
    (present, readable, every view, ``[bins, T]`` with the view's bins, one T >= 16, float); None if fine."""
    path = root / str(row.get("file", ""))
    if not row.get("captions"):
        return f"{path}: no captions in the manifest (id {row.get('id')!r})"
    if not path.is_file():
        return f"{path}: clip file missing (manifest id {row.get('id')!r})"
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            missing = [k for k in VIEW_NAMES if f"{k}.npy" not in names]
            if missing:
                return f"{path}: missing array(s) {missing}"
            headers = {k: _npy_header(zf, f"{k}.npy") for k in VIEW_NAMES}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        return f"{path}: unreadable ({type(err).__name__}: {err})"
    for name, (shape, dtype) in headers.items():
        if len(shape) != 2 or shape[0] != VIEW_BINS[name]:
            return f"{path}: {name} must be [{VIEW_BINS[name]}, T], got {list(shape)}"
        if dtype.kind != "f":
            return f"{path}: {name} has dtype {dtype}, expected a float type"
    frames = sorted({shape[1] for shape, _ in headers.values()})
    if len(frames) != 1:
        return f"{path}: views disagree on the number of frames {frames}"
    if frames[0] < FRAME_MULTIPLE:
        return f"{path}: fewer than {FRAME_MULTIPLE} frames"
    return None


def _npy_header(zf: zipfile.ZipFile, member: str) -> tuple[tuple[int, ...], np.dtype]:
    with zf.open(member) as f:  # reads (and for deflated members, inflates) only the first bytes
        version = np.lib.format.read_magic(f)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read(f)
    return shape, dtype


def check_headers(root: str | Path, rows: Sequence[dict], workers: int = 2) -> list[tuple[dict, str]]:
    """``(row, problem)`` for every row whose clip fails ``clip_header_problem``, in manifest order;
    ``workers`` threads (file opening and inflating release the GIL)."""
    root = Path(root)
    with ThreadPoolExecutor(max(1, workers)) as pool:
        found = pool.map(lambda r: clip_header_problem(root, r), rows, chunksize=64)
        return [(row, p) for row, p in zip(rows, found, strict=True) if p is not None]


def format_problems(problems: Sequence[str], limit: int = SHOWN_PROBLEMS) -> str:
    """At most ``limit`` problems, one per line, then how many more."""
    lines = [f"  {p}" for p in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"  ... and {len(problems) - limit} more")
    return "\n".join(lines)


def check_dataset(root: str | Path) -> list[str]:
    """Problems found, each ``file[:line]: message``; empty when the dataset is usable."""
    root = Path(root)
    manifest = root / MANIFEST
    if not manifest.is_file():
        return [f"{manifest}: missing"]
    problems, seen, files_by_split = [], {}, {}
    for lineno, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), 1):
        where = f"{manifest}:{lineno}"
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            problems.append(f"{where}: not valid JSON ({err.msg})")
            continue
        if not isinstance(row, dict):
            problems.append(f"{where}: expected a JSON object")
            continue
        missing = [k for k in REQUIRED if k not in row]
        if missing:
            problems.append(f"{where}: missing fields {missing}")
            continue
        if row["id"] in seen:
            problems.append(f"{where}: duplicate id {row['id']!r} (first on line {seen[row['id']]})")
        seen.setdefault(row["id"], lineno)
        if row["split"] not in SPLITS:
            problems.append(f"{where}: split {row['split']!r} is not one of {SPLITS}")
        caps = row["captions"]
        if not isinstance(caps, list) or not caps or any(not isinstance(c, str) or not c.strip() for c in caps):
            problems.append(f"{where}: empty caption (captions must be a non-empty list of non-empty strings)")
        files_by_split.setdefault(row["file"], set()).add(row["split"])
        try:
            arrays = load_clip(root, row)
            frames = arrays["range_time"].shape[-1]
            if row.get("num_frames") not in (None, frames):
                problems.append(f"{where}: num_frames {row['num_frames']} but {root / row['file']} has {frames}")
        except BadClipError as err:
            problems.append(f"{where}: {err}")
    for file, splits in sorted(files_by_split.items()):
        if len(splits) > 1:
            problems.append(f"{manifest}: split leakage: {file} is in {sorted(splits)}")
    return problems
