"""RadHAR (github.com/nesl/RadHAR, BSD-3-Clause): a TI IWR1443 recording five activities as point
clouds at 30 frames/s, read in its published layout.

- Layout: ``Data/{Train,Test}/{boxing,jack,jump,squats,walk}/*.txt``; Train / Test is the official
  split, the folder the activity.
- Each file is a dump of ROS ``ti_mmwave`` messages: one point per block, blocks separated by
  ``---``; a block holds ``header`` (``seq``, ``stamp`` ``secs`` / ``nsecs``, ``frame_id``),
  ``point_id`` (0 starts a new frame), ``x`` (m, boresight), ``y`` (m), ``z`` (m, up), ``range``,
  ``velocity`` (m/s), ``doppler_bin``, ``bearing`` (deg) and ``intensity`` (dB).
- Axes: the ``ti_mmwave`` driver follows ROS (REP 103): ``x`` forward, ``y`` **left** (it writes
  the sensor's ``-x``), ``z`` up, and ``bearing = atan2(y, x)``. ``read_radhar_file`` returns
  ``radar_views.PointCloud`` points in the sensor's own axes: lateral ``-y`` (right), ``x``, ``z``.
- A frame's time: the driver stamps messages as the serial port delivers them, in bursts (two
  frames 1 ms apart, then 59 ms of nothing), so the frames are spaced evenly between the first and
  the last frame's stamp (30.0 frames/s over a recording).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from radar_views import PointCloud, RadarConfig, sensor_profile

from .errors import DataError
from .recordings import Recording, carve_val, convert_point_clouds

__all__ = [
    "RADHAR_CLASSES",
    "RADHAR_SPLITS",
    "RADHAR_SENSOR",
    "RADHAR_FIELDS",
    "RadHARFormatError",
    "read_radhar_file",
    "radhar_files",
    "radhar_root",
    "radhar_recordings",
    "convert_radhar",
    "RADHAR_WINDOW",
    "RADHAR_STRIDE",
]

RADHAR_CLASSES = {
    "boxing": "boxing",
    "jack": "jumping jacks",
    "jump": "jumping",
    "squats": "squats",
    "walk": "walking",
}  # folder -> how captions say it
RADHAR_SPLITS = {"Train": "train", "Test": "test"}  # folder -> split
RADHAR_SENSOR = "iwr1443-radhar"  # radar_views.SENSOR_PROFILES
RADHAR_WINDOW, RADHAR_STRIDE = 96, 16  # at 50 frames/s: the paper's 60-frame windows every 10 frames at 30
RADHAR_FIELDS = ("secs", "nsecs", "point_id", "x", "y", "z", "velocity", "intensity")  # read from each block


class RadHARFormatError(DataError):
    """A file or folder that is not in RadHAR's layout; the message names it and what was expected."""


def radhar_root(src: str | os.PathLike) -> Path:
    """The folder holding ``Train/`` and ``Test/``: ``src`` itself, or its ``Data/``."""
    src = Path(src)
    for root in (src, src / "Data"):
        if any((root / s).is_dir() for s in RADHAR_SPLITS):
            return root
    raise RadHARFormatError(
        f"{src}: expected RadHAR's Data folder, holding Train/ and Test/ with one folder per "
        f"activity ({', '.join(RADHAR_CLASSES)}) of .txt files"
    )


def radhar_files(src: str | os.PathLike) -> list[tuple[Path, str, str]]:
    """``(file, split, activity)`` of every recording, sorted; an activity folder with another name,
    or a split without any recording, raises ``RadHARFormatError``."""
    root = radhar_root(src)
    out = []
    for folder, split in RADHAR_SPLITS.items():
        if not (root / folder).is_dir():
            continue
        for sub in sorted(p for p in (root / folder).iterdir() if p.is_dir()):
            if sub.name not in RADHAR_CLASSES:
                raise RadHARFormatError(
                    f"{sub}: not a RadHAR activity folder (expected one of {', '.join(RADHAR_CLASSES)})"
                )
            out += [(f, split, sub.name) for f in sorted(sub.glob("*.txt"))]
    if not out:
        raise RadHARFormatError(f"{root}: no recordings (expected Train/<activity>/*.txt or Test/<activity>/*.txt)")
    return out


def read_radhar_file(path: str | os.PathLike) -> PointCloud:
    """One recording as a ``PointCloud`` (sensor axes, see the module docstring). A block without
    one of ``RADHAR_FIELDS``, a value that is not a number, or a file without points raises
    ``RadHARFormatError`` naming the file and the block's first line."""
    path = Path(path)
    rows: list[list[float]] = []
    block: dict[str, float] = {}
    start = 1
    wanted = set(RADHAR_FIELDS)

    def close(lineno: int) -> None:
        nonlocal block, start
        if block:
            missing = [f for f in RADHAR_FIELDS if f not in block]
            if missing:
                raise RadHARFormatError(
                    f"{path}:{start}: point block without {', '.join(missing)} (expected the "
                    f"ti_mmwave fields {', '.join(RADHAR_FIELDS)})"
                )
            rows.append([block[f] for f in RADHAR_FIELDS])
        block, start = {}, lineno + 1

    with open(path, encoding="utf-8", errors="replace") as fh:
        lineno = 0
        for lineno, line in enumerate(fh, 1):
            key, sep, value = line.strip().partition(":")
            if key == "---" and not sep:
                close(lineno)
            elif sep and key in wanted and value.strip():
                try:
                    block[key] = float(value)
                except ValueError:
                    raise RadHARFormatError(f"{path}:{lineno}: {key} is not a number: {value.strip()!r}") from None
        close(lineno)
    if not rows:
        raise RadHARFormatError(f"{path}: no point blocks (expected ti_mmwave messages separated by ---)")
    a = np.asarray(rows, dtype=np.float64)  # [points, fields]
    stamps = a[:, 0] + 1e-9 * a[:, 1]
    starts = np.flatnonzero(a[:, 2] == 0)
    if not len(starts) or starts[0] != 0:
        raise RadHARFormatError(f"{path}: the first point has point_id {int(a[0, 2])}; a frame starts at point_id 0")
    points = np.stack([-a[:, 4], a[:, 3], a[:, 5], a[:, 6], a[:, 7]], axis=1)  # [points, 5]: x right, y forward
    frames = np.split(points, starts[1:])
    times = stamps[starts]
    if len(frames) > 1:  # stamps arrive in bursts (two frames 1 ms apart, then 59 ms): space frames evenly
        if times[-1] <= times[0]:
            raise RadHARFormatError(f"{path}: every frame has the same stamp; expected increasing header stamps")
        times = np.linspace(times[0], times[-1], len(frames))
    return PointCloud(frames, times)


def radhar_recordings(src: str | os.PathLike, val_fraction: float = 0.1, seed: int = 0) -> list[Recording]:
    """Every recording of a RadHAR copy, in its official split, with ``val_fraction`` of each
    activity's Train files (by file, seeded) moved to val; ids are the file names' stems."""
    recordings = [
        Recording(f.stem, split, activity, f, partial(read_radhar_file, f)) for f, split, activity in radhar_files(src)
    ]
    return carve_val(recordings, val_fraction, seed)


def convert_radhar(
    src: str | os.PathLike,
    out: str | os.PathLike,
    window: int = RADHAR_WINDOW,
    stride: int = RADHAR_STRIDE,
    val_fraction: float = 0.1,
    seed: int = 0,
    grid: RadarConfig | None = None,
    smoothing: float = 1.0,
    weight: str = "intensity",
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
    angle: str = "azimuth",
) -> Path:
    """RadHAR's recordings as a dataset at ``out`` (``recordings.convert_point_clouds``): views on
    ``grid`` (default ``RadarConfig()``, the simulator's profile, 50 frames/s) with each point spread
    over the IWR1443's resolution cell, windows of ``window`` frames every ``stride``, the official
    Train / Test split with val carved from Train by file, labels the activity folders' names;
    ``angle="elevation"``: the third view holds each point's elevation (``point_cloud_views``)."""
    return convert_point_clouds(
        radhar_recordings(src, val_fraction, seed),
        out,
        RADHAR_CLASSES,
        window,
        stride,
        grid or RadarConfig(),
        sensor_profile(RADHAR_SENSOR),
        smoothing,
        weight,
        overwrite,
        extras={"dataset": "RadHAR", "sensor": RADHAR_SENSOR},
        progress=progress,
        angle=angle,
    )
