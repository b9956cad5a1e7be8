"""Closed-form DTFT of the periodic Hann window: the range profile of a single tone."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["hann_dtft", "dirichlet", "hann_strip"]


def dirichlet(u: np.ndarray, n: int) -> np.ndarray:
    """``G(u) = sum_{k<n} exp(j 2 pi u k / n) = exp(j pi u (n-1)/n) sin(pi u) / sin(pi u / n)``, |u| < n."""
    den = np.sin(np.pi * u / n)
    small = np.abs(den) < 1e-12
    ratio = np.where(small, float(n), np.sin(np.pi * u) / np.where(small, 1.0, den))
    return np.exp(1j * np.pi * u * (n - 1) / n) * ratio


def hann_dtft(u: np.ndarray, n: int) -> np.ndarray:
    """``D(u) = sum_k w_k exp(j 2 pi u k / n)`` for the periodic Hann window ``w_k = 0.5 - 0.5 cos(2 pi k / n)``.

    The range-FFT bin ``b`` of a tone at ``beta`` bins is ``D(beta - b)``. Reference form of
    ``hann_strip``."""
    return 0.5 * dirichlet(u, n) - 0.25 * dirichlet(u - 1, n) - 0.25 * dirichlet(u + 1, n)


@lru_cache(maxsize=8)
def _strip_constants(n: int, half: int):
    m = np.arange(-half - 1, half + 2)  # offsets -half-1 .. half+1 (one extra each side for the Hann taps)
    c = np.where(m % 2 == 0, 1.0, -1.0) * np.exp(-1j * np.pi * m * (n - 1) / n)
    return m, np.cos(np.pi * m / n), np.sin(np.pi * m / n), c


def hann_strip(delta: np.ndarray, n: int, half: int) -> tuple[np.ndarray, np.ndarray]:
    """``D(delta - m)`` for ``m = -half..half`` as ``phase * strip``: returns ``phase [...]`` (complex,
    common to the strip) and ``strip [..., 2 half + 1]`` (complex), for ``|delta| <= 0.5``.

    Uses ``sin(pi (d - m) / n) = sin(pi d / n) cos(pi m / n) - cos(pi d / n) sin(pi m / n)`` and
    ``sin(pi (d - m)) = (-1)^m sin(pi d)``: one complex exponential and three sines per tone.
    """
    m, cos_m, sin_m, c = _strip_constants(n, half)
    d = np.where(np.abs(delta) < 1e-7, 1e-7, delta)[..., None]  # the limit d -> 0 is continuous
    den = np.sin(np.pi * d / n) * cos_m - np.cos(np.pi * d / n) * sin_m
    g = (np.sin(np.pi * d) / den) * c  # G(d - m) without the common phase exp(j pi d (n-1)/n)
    strip = 0.5 * g[..., 1:-1] - 0.25 * g[..., 2:] - 0.25 * g[..., :-2]  # D(d - m): G(u), G(u - 1), G(u + 1)
    phase = np.exp(1j * np.pi * d[..., 0] * (n - 1) / n)
    return phase, strip
