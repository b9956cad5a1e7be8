"""Bootstrap confidence intervals that resample clips (a clip's comparisons or captions move together)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["bootstrap_interval", "BOOTSTRAP_SAMPLES"]

BOOTSTRAP_SAMPLES = 2000


def bootstrap_interval(per_clip: Sequence[Sequence[float]], level: float = 0.95, samples: int = BOOTSTRAP_SAMPLES,
                       seed: int = 0) -> tuple[float, float]:
    """Percentile interval of the mean over all values, resampling the clips with replacement.

    ``per_clip[i]`` holds clip i's values (e.g. 0/1 per comparison, or R@1 hits of its captions),
    in percent or as fractions alike; the interval is in the same unit.
    """
    if not per_clip:
        raise ValueError("bootstrap_interval needs at least one clip")
    sums = np.array([float(np.sum(v)) for v in per_clip])  # [n]
    counts = np.array([len(v) for v in per_clip], dtype=np.float64)  # [n]
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(per_clip), size=(samples, len(per_clip)))  # [samples, n]
    means = sums[picks].sum(1) / np.maximum(counts[picks].sum(1), 1)  # [samples]
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)
