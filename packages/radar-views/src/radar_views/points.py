"""Point clouds (what TI's firmware and most public mmWave datasets publish) to the three views.

A point cloud recording is a list of frames, each ``[n, 5]``: ``x`` (m, lateral, toward the
array's +x end: right of boresight seen from behind the sensor, TI's convention), ``y`` (m, along
boresight), ``z`` (m, up), radial velocity (m/s, positive away from the radar) and intensity (dB,
or None), with each frame's time in seconds. ``point_cloud_views`` renders it on the bins of a
``RadarConfig`` (the *grid*: the profile a model was trained on, by default ``RadarConfig()``):

- range row ``|p| / Δr``, Doppler row ``N_loops/2 + v / Δv`` (velocities beyond the grid's
  ±v_max folded, as that sensor would alias them), azimuth row ``64 (1 + x / |p|)`` (``x / |p|``
  is the direction cosine a horizontal array measures, the views' ``sin θ``); with
  ``angle="elevation"`` the third view's rows hold the elevation's sine instead, ``64 (1 + z / |p|)``
  (the view keeps its name, ``azimuth_time``; height is what tells a jump from a squat);
- each point adds its power (``10^(dB/10)``, or 1 with ``weight="count"``) as a Gaussian over
  each axis, of standard deviation ``max(smoothing, half the source sensor's resolution)`` in
  grid bins (``source``: the recording sensor's ``RadarConfig``; a coarse sensor's point spreads
  as its own spectrum would; an elevation spreads as the azimuth does, a sensor estimating it from
  a raised row's phase having no elevation cell of its own) — its mass sums to the point's power
  when it falls inside the grid;
- frames are resampled to the grid's frame rate by nearest time: a grid frame takes the source
  frame nearest to it within one source period, and stays empty when none is that close (a
  recording's gaps stay gaps);
- no clutter is removed or added: a static point lands on Doppler row ``N_loops/2``.

The result is linear power, like ``iter_views``; ``.normalized("db")`` gives the model's input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import RadarConfig
from .errors import RadarViewsError
from .processing import AZIMUTH_BINS
from .views import RadarViews

__all__ = ["PointCloud", "POINT_FIELDS", "WEIGHTS", "ANGLES", "point_cloud_views", "point_bins", "check_angle"]

POINT_FIELDS = ("x", "y", "z", "velocity", "intensity_db")
WEIGHTS = ("intensity", "count")
ANGLES = ("azimuth", "elevation")  # what the third view's rows hold: the sine of that angle
_TRUNCATE = 3.0  # a point's Gaussian reaches this many standard deviations


@dataclass
class PointCloud:
    """A point cloud recording: ``frames[i]`` is ``[n_i, 5]`` float (``POINT_FIELDS``; intensity
    NaN when the source has none), ``times[i]`` its time in seconds (increasing)."""

    frames: list[np.ndarray]
    times: np.ndarray

    def __post_init__(self) -> None:
        self.times = np.asarray(self.times, dtype=np.float64)
        if self.times.ndim != 1 or len(self.times) != len(self.frames):
            raise RadarViewsError(f"times must be [frames] = [{len(self.frames)}], got shape {list(self.times.shape)}")
        if len(self.times) and (not np.isfinite(self.times).all() or (np.diff(self.times) <= 0).any()):
            raise RadarViewsError("frame times must be finite and strictly increasing")
        frames = []
        for i, f in enumerate(self.frames):
            f = (
                np.asarray(f, dtype=np.float64).reshape(-1, len(POINT_FIELDS))
                if np.size(f) == 0
                else np.asarray(f, dtype=np.float64)
            )
            if f.ndim != 2 or f.shape[1] != len(POINT_FIELDS):
                raise RadarViewsError(
                    f"frame {i}: points must be [n, {len(POINT_FIELDS)}] ({', '.join(POINT_FIELDS)}), "
                    f"got shape {list(f.shape)}"
                )
            if not np.isfinite(f[:, :4]).all():
                raise RadarViewsError(f"frame {i}: x, y, z and velocity must be finite")
            frames.append(f)
        self.frames = frames

    @property
    def num_points(self) -> int:
        return sum(len(f) for f in self.frames)

    @property
    def frame_rate_hz(self) -> float | None:
        """The median rate between consecutive frames (None with fewer than two frames)."""
        return None if len(self.times) < 2 else float(1.0 / np.median(np.diff(self.times)))


def check_angle(angle: str) -> None:
    """``RadarViewsError`` unless ``angle`` is one of ``ANGLES``."""
    if angle not in ANGLES:
        raise RadarViewsError(f"angle must be one of {ANGLES}, got {angle!r}")


def point_bins(points: np.ndarray, grid: RadarConfig, angle: str = "azimuth") -> np.ndarray:
    """Fractional (range, Doppler, angle) rows ``[n, 3]`` of points ``[n, >= 4]`` on ``grid``'s bins
    (row centres at integers; velocities folded into the grid's unambiguous interval; ``angle``: the
    third row's, azimuth ``x / |p|`` or elevation ``z / |p|``)."""
    check_angle(angle)
    p = np.asarray(points, dtype=np.float64)
    dist = np.linalg.norm(p[:, :3], axis=1)  # [n]
    nd = grid.num_loops
    v = (p[:, 3] + grid.max_velocity_mps) % (2 * grid.max_velocity_mps) - grid.max_velocity_mps  # folded
    axis = p[:, 2] if angle == "elevation" else p[:, 0]
    u = np.divide(axis, dist, out=np.zeros_like(dist), where=dist > 0)  # direction cosine = sin(angle)
    half = AZIMUTH_BINS // 2
    return np.stack([dist / grid.range_resolution_m, nd / 2 + v / grid.velocity_resolution_mps, half * (1 + u)], axis=1)


def _spread(rows: np.ndarray, weights: np.ndarray, sigma: float, bins: int) -> np.ndarray:
    """``[bins]``: each weight as a Gaussian of ``sigma`` bins centred on its row, truncated at
    ``_TRUNCATE`` sigma and renormalised to its mass inside the truncation (so a point well inside
    the grid adds exactly its weight)."""
    out = np.zeros(bins, dtype=np.float64)
    if not len(rows):
        return out
    reach = int(np.ceil(_TRUNCATE * sigma))
    offsets = np.arange(-reach, reach + 1)  # [k]
    centre = np.rint(rows).astype(np.int64)  # [n]
    idx = centre[:, None] + offsets[None, :]  # [n, k]
    g = np.exp(-0.5 * ((idx - rows[:, None]) / sigma) ** 2)  # [n, k]
    g *= (weights / g.sum(axis=1))[:, None]
    inside = (idx >= 0) & (idx < bins)
    np.add.at(out, idx[inside], g[inside])
    return out


def point_cloud_views(
    cloud: PointCloud,
    grid: RadarConfig | None = None,
    source: RadarConfig | None = None,
    frame_rate_hz: float | None = None,
    smoothing: float = 1.0,
    weight: str = "intensity",
    num_frames: int | None = None,
    angle: str = "azimuth",
) -> RadarViews:
    """Linear-power views of a point cloud recording on ``grid``'s bins (see the module docstring).

    Args:
        cloud: the recording.
        grid: the bins and frame rate of the views (default ``RadarConfig()``, the model's profile).
        source: the recording sensor's profile; its range, Doppler and azimuth resolution set each
            point's spread (None: ``smoothing`` alone).
        frame_rate_hz: the views' frame rate (default: the grid's).
        smoothing: the least standard deviation of a point's spread, in grid bins (> 0).
        weight: ``intensity`` (``10^(dB/10)``; a point without intensity weighs 1) or ``count``.
        num_frames: frames of the views (default: up to the recording's last frame).
        angle: what the third view's rows hold, ``azimuth`` or ``elevation`` (``ANGLES``).
    """
    grid = grid or RadarConfig()
    check_angle(angle)
    if weight not in WEIGHTS:
        raise RadarViewsError(f"weight must be one of {WEIGHTS}, got {weight!r}")
    if not smoothing > 0:
        raise RadarViewsError(f"smoothing must be > 0 bins, got {smoothing}")
    rate = frame_rate_hz or grid.frame_rate_hz
    if not rate > 0:
        raise RadarViewsError(f"frame_rate_hz must be > 0, got {rate}")
    if not len(cloud.frames):
        raise RadarViewsError("the point cloud holds no frame")
    sigmas = [smoothing] * 3
    if source is not None:  # half the source's resolution cell, in grid bins
        aperture = float(np.ptp(source.virtual_positions[:, 0])) + 1.0  # elements of a lambda/2 array
        sigmas = [
            max(smoothing, 0.5 * source.range_resolution_m / grid.range_resolution_m),
            max(smoothing, 0.5 * source.velocity_resolution_mps / grid.velocity_resolution_mps),
            max(smoothing, 0.5 * (2.0 / aperture) * AZIMUTH_BINS / 2),
        ]  # sin(theta) resolution 2 / N
    t0, period = cloud.times[0], 1.0 / rate
    count = int(np.floor((cloud.times[-1] - t0) * rate + 1e-9)) + 1 if num_frames is None else num_frames
    grid_times = t0 + period * np.arange(count)  # [T]
    source_period = 1.0 / (cloud.frame_rate_hz or rate)
    nearest = np.clip(np.searchsorted(cloud.times, grid_times), 1, max(1, len(cloud.times) - 1))
    if len(cloud.times) > 1:  # the nearer of the two neighbours
        left = cloud.times[nearest - 1]
        nearest = np.where(np.abs(grid_times - left) <= np.abs(cloud.times[nearest] - grid_times), nearest - 1, nearest)
    else:
        nearest = np.zeros(count, dtype=np.int64)
    close = np.abs(cloud.times[nearest] - grid_times) <= source_period * (0.5 + 1e-6)
    sizes = (grid.num_samples, grid.num_loops, AZIMUTH_BINS)
    views = [np.zeros((n, count), dtype=np.float32) for n in sizes]
    rendered, columns = -1, []  # the source frame last spread, and its three columns (grid frames repeat it)
    for j in range(count):
        if not close[j]:
            continue
        i = int(nearest[j])
        if i != rendered:
            pts = cloud.frames[i]
            w = (
                np.ones(len(pts))
                if weight == "count"
                else np.where(np.isfinite(pts[:, 4]), 10.0 ** (pts[:, 4] / 10.0), 1.0)
            )
            rows = point_bins(pts, grid, angle)  # [n, 3]
            rendered, columns = i, [_spread(rows[:, a], w, sigmas[a], sizes[a]) for a in range(3)]
        for a in range(3):
            views[a][:, j] = columns[a]
    return RadarViews(*views)
