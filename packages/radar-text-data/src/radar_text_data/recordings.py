"""Labelled point-cloud recordings (a public dataset's files) to the directory format.

``convert_point_clouds`` renders each recording's views on a grid profile
(``radar_views.point_cloud_views``, normalised as simulated clips are, in dB), cuts them into
windows, and writes one clip per window with the recording's label as its one segment and captions
rendered from the label's phrase. Readers of each dataset (``radhar``, ``mmfi``, ``ti_csv``) give the
recordings; ``parse_axes`` / ``to_sensor_axes`` put a dataset's x, y, z in the sensor's axes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from radar_views import (
    PointCloud,
    RadarConfig,
    check_angle,
    point_cloud_views,
    staged_directory,
)

from .classes import CLASSES, classes_json
from .clips import clip_arrays, write_clip
from .contract import FRAME_MULTIPLE
from .convert import split_by_fraction
from .errors import DataError
from .labels import CAPTION_TEMPLATES, render_captions
from .manifest import write_manifest
from .records import ClipRecord

__all__ = ["Recording", "convert_point_clouds", "carve_val", "parse_axes", "to_sensor_axes"]


@dataclass(frozen=True)
class Recording:
    """One labelled recording: ``id`` (unique, the prefix of its clips' ids), ``split``, ``label``
    (the dataset's class name), ``path`` (its file, named in errors and in each clip's record) and
    ``read`` (loads its point cloud)."""

    id: str
    split: str
    label: str
    path: Path
    read: Callable[[], PointCloud]


def parse_axes(text: str) -> tuple[tuple[int, float], ...]:
    """``"x,y,z"``-style (right, forward, up) -> ((source column, sign), ...) over columns x, y, z."""
    parts = [p.strip() for p in text.split(",")]
    out = []
    for p in parts:
        sign, name = (-1.0, p[1:]) if p.startswith("-") else (1.0, p)
        if name not in ("x", "y", "z"):
            break
        out.append(("xyz".index(name), sign))
    if len(parts) != 3 or len(out) != 3 or len({c for c, _ in out}) != 3:
        raise DataError(
            f"axes: expected the source column of right, forward and up, each of x, y, z once, a "
            f"minus to flip one (e.g. x,y,z or -y,x,z), got {text!r}"
        )
    return tuple(out)


def to_sensor_axes(points: np.ndarray, order: tuple[tuple[int, float], ...]) -> np.ndarray:
    """Points ``[n, 5]`` (x, y, z, velocity, intensity) with x, y, z reordered and flipped as
    ``parse_axes`` gave ``order``: (right, forward, up), velocity, intensity."""
    return np.column_stack([sign * points[:, c] for c, sign in order] + [points[:, 3], points[:, 4]])


def carve_val(recordings: Sequence[Recording], val_fraction: float, seed: int) -> list[Recording]:
    """The recordings with ``val_fraction`` of each label's train recordings (by recording, seeded)
    moved to val; a label with a single train recording keeps it in train."""
    out = {r.id: r for r in recordings}
    labels = sorted({r.label for r in recordings if r.split == "train"})
    for label in labels:
        ids = sorted(r.id for r in recordings if r.split == "train" and r.label == label)
        if val_fraction <= 0 or len(ids) < 2:
            continue
        for rid, split in split_by_fraction(ids, val_fraction, 0.0, seed, what=f"{label!r} recordings").items():
            if split == "val":
                out[rid] = Recording(rid, "val", label, out[rid].path, out[rid].read)
    return [out[r.id] for r in recordings]


def convert_point_clouds(
    recordings: Sequence[Recording],
    out: str | os.PathLike,
    phrases: dict[str, str],
    window: int,
    stride: int,
    grid: RadarConfig,
    source: RadarConfig | None = None,
    smoothing: float = 1.0,
    weight: str = "intensity",
    overwrite: bool = False,
    extras: dict | None = None,
    angle: str = "azimuth",
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write ``recordings`` as a dataset at ``out``: views on ``grid`` (see
    ``radar_views.point_cloud_views``), windows of ``window`` frames every ``stride`` frames (a
    recording shorter than ``window`` but at least ``FRAME_MULTIPLE`` frames is one clip; a shorter
    one, or a tail, is left out), ids ``<recording id>_w000``, ... Each clip's record holds its
    label as one segment, captions from ``CAPTION_TEMPLATES`` with ``phrases[label]``, the grid's
    ``frame_rate_hz`` and ``radar``, ``source`` (recording, frames) plus ``extras``, and ``angle`` when
    the third view holds elevation.
    ``classes.json`` maps each label to its phrase. The dataset is assembled beside ``out`` and
    renamed into place only when every recording converted (a bad file leaves nothing).

    Args:
        recordings: the labelled recordings, ids unique.
        out: the dataset directory (an existing non-empty one needs ``overwrite``).
        phrases: label -> how captions say it.
        window, stride: frames of a clip and between clip starts, at the grid's frame rate.
        grid, source, smoothing, weight: as ``point_cloud_views`` takes them.
        extras: fields added to every record (e.g. the dataset and sensor).
        angle: what the third view's rows hold, ``azimuth`` or ``elevation`` (``radar_views.ANGLES``).
        progress: called with (recordings done, recordings in all).
    """
    check_angle(angle)
    if window < FRAME_MULTIPLE or stride < 1:
        raise DataError(
            f"window must be at least {FRAME_MULTIPLE} frames and stride at least 1, got {window}, {stride}"
        )
    seen: dict[str, Path] = {}
    for r in recordings:
        if r.id in seen:
            raise DataError(f"{r.path}: recording id {r.id!r} is also {seen[r.id]}'s")
        seen[r.id] = r.path
        if r.label not in phrases:
            raise DataError(f"{r.path}: label {r.label!r} has no phrase")
    records: list[ClipRecord] = []
    with staged_directory(out, overwrite) as staged:  # an existing non-empty out is refused here, before any work
        for done, rec in enumerate(recordings):
            views = point_cloud_views(rec.read(), grid, source, smoothing=smoothing, weight=weight, angle=angle)
            arrays = views.normalized().as_dict()  # dB, as the simulator normalises
            frames = views.num_frames
            starts = (
                range(0, frames - window + 1, stride) if frames >= window else ([0] if frames >= FRAME_MULTIPLE else [])
            )
            captions, _ = render_captions([phrases[rec.label]], CAPTION_TEMPLATES)
            for k, first in enumerate(starts):
                last = min(first + window, frames)
                cid = f"{rec.id}_w{k:03d}"
                write_clip(
                    staged / "clips" / f"{cid}.npz", clip_arrays({n: a[:, first:last] for n, a in arrays.items()})
                )
                row = {
                    "id": cid,
                    "split": rec.split,
                    "file": f"clips/{cid}.npz",
                    "captions": captions,
                    "segments": [{"activity": rec.label, "start_frame": 0, "end_frame": last - first, "params": {}}],
                    "frame_rate_hz": grid.frame_rate_hz,
                    "num_frames": last - first,
                    "radar": grid.to_dict(),
                    "source": {"clip": rec.id, "start_frame": first, "end_frame": last, "file": rec.path.name},
                    **(extras or {}),
                    **({"angle": angle} if angle != "azimuth" else {}),
                }
                records.append(ClipRecord.from_dict(row, f"{rec.path}: window {k}"))
            if progress is not None:
                progress(done + 1, len(recordings))
        if not records:
            raise DataError(
                f"no recording is {FRAME_MULTIPLE} frames long at {grid.frame_rate_hz:g} frames/s: nothing to write"
            )
        write_manifest(staged, records)
        labels = sorted({r.label for r in recordings})
        (staged / CLASSES).write_text(classes_json({n: phrases[n] for n in labels}), encoding="utf-8")
    return Path(out)
