"""``crop_or_pad``: fit views to the encoder's fixed length with a frame mask."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .errors import RadarViewsError
from .views import VIEW_NAMES, RadarViews

__all__ = ["crop_or_pad", "DEFAULT_BINS"]

DEFAULT_BINS = (256, 128, 128)


def crop_or_pad(
    views: RadarViews | Mapping[str, np.ndarray],
    length: int = 496,
    multiple: int = 16,
    start: int = 0,
    bins: tuple[int, int, int] | None = DEFAULT_BINS,
) -> tuple[RadarViews, np.ndarray]:
    """Crop to ``min(T, length)`` rounded down to a multiple of ``multiple`` (from frame ``start``),
    then zero-pad to ``length``. Returns the views and a mask ``[length]`` (True = real frame).

    ``bins``: expected rows of (range, Doppler, azimuth); None skips the check.
    """
    if length < multiple or length % multiple:
        raise RadarViewsError(f"length must be a positive multiple of {multiple}, got {length}")
    v = views if isinstance(views, RadarViews) else RadarViews.from_mapping(views)
    arrays = {n: np.asarray(getattr(v, n)) for n in VIEW_NAMES}
    for i, (name, a) in enumerate(arrays.items()):
        if a.ndim != 2:
            raise RadarViewsError(f"{name} must be 2-D [bins, T], got shape {list(a.shape)}")
        if bins is not None and a.shape[0] != bins[i]:
            raise RadarViewsError(f"{name} must have {bins[i]} bins (rows), got {a.shape[0]}")
        if not np.isfinite(a).all():
            raise RadarViewsError(f"{name} holds NaN or Inf")
    frames = {a.shape[1] for a in arrays.values()}
    if len(frames) != 1:
        raise RadarViewsError(f"views disagree on the number of frames: { {n: a.shape[1] for n, a in arrays.items()} }")
    total = frames.pop()
    if not 0 <= start < max(total, 1):
        raise RadarViewsError(f"start must lie in [0, {total}), got {start}")
    keep = (min(total - start, length) // multiple) * multiple
    if keep == 0:
        raise RadarViewsError(f"need at least {multiple} frames from start={start}, got {total - start}")
    out = {}
    for name, a in arrays.items():
        padded = np.zeros((a.shape[0], length), dtype=np.float32)
        padded[:, :keep] = a[:, start : start + keep]
        out[name] = padded
    mask = np.zeros(length, dtype=bool)
    mask[:keep] = True
    return RadarViews(**out), mask
