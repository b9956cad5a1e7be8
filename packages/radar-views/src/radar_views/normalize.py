"""Normalisations of linear-power views to network inputs."""

from __future__ import annotations

import numpy as np

from .errors import RadarViewsError

__all__ = ["NORMALIZATIONS", "normalize_view"]

NORMALIZATIONS = ("db", "per_frame", "global", "none", "reference_log", "reference_per_frame")


def _db(power: np.ndarray) -> np.ndarray:
    floor = max(float(power.max(initial=0.0)), 1e-30) * 1e-15  # keeps log10 finite at zero power
    return 10.0 * np.log10(np.maximum(power, 0.0) + floor)


def _minmax(x: np.ndarray, axis: int | None) -> np.ndarray:
    lo = x.min(axis=axis, keepdims=True)
    span = x.max(axis=axis, keepdims=True) - lo
    return np.where(span > 0, (x - lo) / np.where(span > 0, span, 1.0), 0.0)


def normalize_view(power: np.ndarray, mode: str = "db", dynamic_range_db: float = 50.0) -> np.ndarray:
    """Normalise one view ``[bins, T]`` of linear power (time on the last axis).

    - ``db``: 10 log10, clipped to ``dynamic_range_db`` below the clip's peak, mapped to [0, 1];
    - ``per_frame``: 10 log10, min-max per frame (column);
    - ``global``: 10 log10, min-max over the whole view;
    - ``none``: linear power as is;
    - ``reference_log``: the reference code base's older ``log10(x / max + 1e-6)`` + global min-max;
    - ``reference_per_frame``: its newer variant, ``log10(x / max + 1e-6)`` + per-frame min-max.
    """
    if mode == "none":
        return power.astype(np.float32, copy=False)
    if mode in ("db", "per_frame", "global"):
        d = _db(power)
        if mode == "db":
            if not dynamic_range_db > 0:
                raise RadarViewsError(f"dynamic_range_db must be > 0, got {dynamic_range_db}")
            top = d.max(initial=-np.inf)
            out = (np.clip(d, top - dynamic_range_db, top) - (top - dynamic_range_db)) / dynamic_range_db
        else:
            out = _minmax(d, axis=0 if mode == "per_frame" else None)
        return out.astype(np.float32)
    if mode in ("reference_log", "reference_per_frame"):
        x = np.log10(power / max(float(power.max(initial=0.0)), 1e-30) + 1e-6)
        return _minmax(x, axis=None if mode == "reference_log" else 0).astype(np.float32)
    raise RadarViewsError(f"normalize must be one of {NORMALIZATIONS}, got {mode!r}")
