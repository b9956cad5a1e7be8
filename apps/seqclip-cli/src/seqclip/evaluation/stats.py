"""Confidence intervals: bootstraps that resample clips (a clip's comparisons or captions move
together), and the Wilson interval of a proportion."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["bootstrap_interval", "bootstrap_statistic", "wilson_interval", "BOOTSTRAP_SAMPLES"]

BOOTSTRAP_SAMPLES = 2000


def bootstrap_interval(
    per_clip: Sequence[Sequence[float]], level: float = 0.95, samples: int = BOOTSTRAP_SAMPLES, seed: int = 0
) -> tuple[float, float]:
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


def wilson_interval(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion, in percent (sound for small n and for 0 or n hits)."""
    if n == 0:
        raise ValueError("wilson_interval needs at least one trial")
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low = 0.0 if successes == 0 else max(0.0, centre - half)  # exact at the ends (rounding aside)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return float(100 * low), float(100 * high)


def bootstrap_statistic(n: int, statistic, samples: int = BOOTSTRAP_SAMPLES, seed: int = 0) -> tuple[float, float]:
    """95 % percentile interval of ``statistic(indices)`` over ``samples`` resamples of ``n`` clips."""
    rng = np.random.default_rng(seed)
    values = [statistic(rng.integers(0, n, size=n)) for _ in range(samples)]
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)
