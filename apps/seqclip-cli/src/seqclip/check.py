"""``seqclip data check``: validate a dataset directory and list every problem with its file and line."""

from __future__ import annotations

import json
from pathlib import Path

from radar_synth.dataset import MANIFEST

from .data import BadClipError, load_clip

__all__ = ["check_dataset"]

REQUIRED = ("id", "split", "file", "captions")
SPLITS = ("train", "val", "test")


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
