"""Point clouds as TI's mmWave Demo Visualizer saves them (CSV), the form MARS, mRI and many lab
datasets publish: one row a point, header ``Frame #,# Obj,X,Y,Z,Doppler,Intensity`` (other columns
allowed, in any order; names compared without case or spaces).

- Frames: rows sharing ``Frame #``; the numbers between the first and the last without a row are
  frames without points. The CSV holds no times: frame ``n`` is at ``(n - first) / frame_rate_hz``.
- Axes: TI's own (X right, Y ahead, Z up) by default; ``axes`` names the source column of each of
  (right, forward, up), a minus sign flipping one (``"-y,x,z"`` when depth is X).
- Labels: the folder a file sits in (``SRC/<label>/*.csv``), or a labels file (``labels.read_labels``:
  ``id,label`` with ids the files' paths under SRC without ``.csv``).
- Splits: seeded by recording (``convert.split_by_fraction``), so overlapping windows never straddle
  splits.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from radar_views import PointCloud, RadarConfig

from .contract import SPLIT_FRACTIONS
from .convert import split_by_fraction
from .errors import DataError
from .labels import label_phrase, read_labels
from .recordings import Recording, convert_point_clouds, parse_axes, to_sensor_axes
from .textfile import read_text

__all__ = [
    "TI_CSV_COLUMNS",
    "TICsvFormatError",
    "read_ti_csv",
    "ti_csv_recordings",
    "convert_ti_csv",
    "TI_CSV_WINDOW",
    "TI_CSV_STRIDE",
]

TI_CSV_COLUMNS = ("Frame #", "X", "Y", "Z", "Doppler", "Intensity")  # read; "# Obj" and others are skipped
TI_CSV_WINDOW, TI_CSV_STRIDE = 128, 64  # at 50 frames/s


class TICsvFormatError(DataError):
    """A file that is not a TI Demo Visualizer point-cloud CSV; the message names it (and the line)."""


def _key(name: str) -> str:
    return "".join(name.split()).lower()


def read_ti_csv(path: str | os.PathLike, frame_rate_hz: float, axes: str = "x,y,z") -> PointCloud:
    """One recording as a ``PointCloud``; a missing column or a value that is no number raises
    ``TICsvFormatError`` naming the file (and line)."""
    path = Path(path)
    if not frame_rate_hz > 0:
        raise DataError(f"frame_rate_hz must be > 0, got {frame_rate_hz}")
    order = parse_axes(axes)
    rows = list(csv.reader(read_text(path).splitlines()))
    if not rows:
        raise TICsvFormatError(f"{path}: empty (expected the header {','.join(TI_CSV_COLUMNS)})")
    header = {_key(h): i for i, h in enumerate(rows[0])}
    missing = [c for c in TI_CSV_COLUMNS if _key(c) not in header]
    if missing:
        raise TICsvFormatError(
            f"{path}: no column {', '.join(missing)} in the header (expected "
            f"{','.join(TI_CSV_COLUMNS)}, as the mmWave Demo Visualizer saves it)"
        )
    cols = [header[_key(c)] for c in TI_CSV_COLUMNS]
    values = np.empty((len(rows) - 1, len(cols)))  # [points, 6]
    for lineno, row in enumerate(rows[1:], 2):
        try:
            values[lineno - 2] = [float(row[c]) for c in cols]
        except (ValueError, IndexError):
            raise TICsvFormatError(f"{path}:{lineno}: expected numbers in {', '.join(TI_CSV_COLUMNS)}") from None
    if not len(values):
        raise TICsvFormatError(f"{path}: no points")
    frame = values[:, 0].astype(np.int64)
    points = to_sensor_axes(values[:, 1:], order)  # [points, 5]
    first = int(frame.min())
    numbers = np.arange(first, int(frame.max()) + 1)
    frames = [points[frame == n] for n in numbers]
    return PointCloud(frames, (numbers - first) / frame_rate_hz)


def ti_csv_recordings(
    src: str | os.PathLike,
    frame_rate_hz: float,
    labels_file: str | os.PathLike | None = None,
    val_fraction: float = SPLIT_FRACTIONS[1],
    test_fraction: float = SPLIT_FRACTIONS[2],
    seed: int = 0,
    axes: str = "x,y,z",
) -> list[Recording]:
    """Every ``*.csv`` under ``src`` (recursively) with its label, split by recording; ids are the
    files' paths under ``src`` without ``.csv``, ``/`` as ``_``."""
    root = Path(src)
    if not root.is_dir():
        raise FileNotFoundError(f"source folder not found: {root}")
    parse_axes(axes)
    files = sorted(root.rglob("*.csv"))
    if not files:
        raise TICsvFormatError(f"{root}: no .csv files (expected TI Demo Visualizer point clouds)")
    keys = {f: f.relative_to(root).with_suffix("").as_posix() for f in files}
    if labels_file is not None:
        given = read_labels(labels_file)
        unknown = sorted(set(keys.values()) - set(given))
        if unknown:
            raise DataError(
                f"{labels_file}: no label for {len(unknown)} recording(s): {', '.join(unknown[:5])}"
                f"{', ...' if len(unknown) > 5 else ''} (ids are the files' paths under {root} "
                f"without .csv)"
            )
        several = sorted(k for k in keys.values() if len({s.label for s in given[k]}) != 1)
        if several:
            raise DataError(f"{labels_file}: one label a recording, got several for {', '.join(several[:5])}")
        labels = {f: given[k][0].label for f, k in keys.items()}
    else:
        top = [f for f in files if f.parent == root]
        if top:
            raise TICsvFormatError(
                f"{top[0]}: no label: put each recording in a folder named after its label "
                f"(SRC/<label>/*.csv), or give a labels file"
            )
        labels = {f: f.parent.name for f in files}
    ids = {f: k.replace("/", "_") for f, k in keys.items()}
    split = split_by_fraction(sorted(ids.values()), val_fraction, test_fraction, seed, what="recordings")
    return [Recording(ids[f], split[ids[f]], labels[f], f, partial(read_ti_csv, f, frame_rate_hz, axes)) for f in files]


def convert_ti_csv(
    src: str | os.PathLike,
    out: str | os.PathLike,
    frame_rate_hz: float,
    labels_file: str | os.PathLike | None = None,
    window: int = TI_CSV_WINDOW,
    stride: int = TI_CSV_STRIDE,
    val_fraction: float = SPLIT_FRACTIONS[1],
    test_fraction: float = SPLIT_FRACTIONS[2],
    seed: int = 0,
    axes: str = "x,y,z",
    grid: RadarConfig | None = None,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
    angle: str = "azimuth",
) -> Path:
    """A folder of TI Demo Visualizer CSVs as a dataset at ``out`` (``recordings.convert_point_clouds``):
    views on ``grid`` (default ``RadarConfig()``, 50 frames/s), windows of ``window`` frames every
    ``stride``, captions from each label read as a phrase (``sit_down`` -> "sit down"); ``angle="elevation"``:
    the third view holds each point's elevation (``point_cloud_views``)."""
    recordings = ti_csv_recordings(src, frame_rate_hz, labels_file, val_fraction, test_fraction, seed, axes)
    phrases = {r.label: label_phrase(r.label) for r in recordings}
    return convert_point_clouds(
        recordings,
        out,
        phrases,
        window,
        stride,
        grid or RadarConfig(),
        None,
        overwrite=overwrite,
        extras={"dataset": "TI CSV", "source_frame_rate_hz": frame_rate_hz},
        progress=progress,
        angle=angle,
    )
