"""The point-cloud chain TI's mmWave demo firmware runs, applied to a radar cube.

chunk [F, loops, tx, rx, samples] (or range profiles, ``input_domain="range"``)
  -> range and Doppler FFTs, static clutter removal on or off (``range_doppler_spectrum``)
  -> detection matrix: power summed over the virtual antennas   [F, D, R]
  -> CFAR along range: a cell is detected when it exceeds the noise estimate by ``threshold_db``
     and is a local maximum of its neighbours (peak grouping, ``PEAK_GROUPINGS``: the 3 x 3
     range-Doppler neighbourhood by default; along Doppler or range only; or none); the estimate
     is the mean of ``train`` cells on each side past ``guard`` cells (``ca``), or the smaller of
     the two sides' means (``caso``, the demo's default: a body spread over range bins does not
     raise its own threshold); at an edge, the side that exists
  -> at each detection: the virtual array's snapshot, TDM-compensated for its Doppler bin;
     azimuth direction cosine ``u`` = the Bartlett peak over ``AZIMUTH_BINS`` values of sin(theta);
     with multi-object beamforming, a second point at the spectrum's next local maximum when it
     reaches ``multi_object_beamforming`` times the first (two reflectors in one range-Doppler cell);
     elevation cosine ``w`` from the phase of the elevated elements against the azimuth row at the
     same x (0 for an array of one row)
  -> a point per azimuth peak, detections strongest first (a second peak right after its detection's
     first), at most ``max_points`` a frame: ``x = r u``,
     ``z = r w``, ``y = sqrt(r^2 - x^2 - z^2)``, radial velocity = signed Doppler index x Δv,
     intensity = 10 log10 of the detection cell's power.

Points follow ``radar_views.points``' axes (x right, y boresight, z up, velocity positive away).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .config import RadarConfig
from .errors import RadarViewsError
from .processing import AZIMUTH_BINS, _steering, range_doppler_spectrum, tdm_phase

__all__ = ["CfarConfig", "PointCloudChain", "detect_points", "CFAR_MODES", "PEAK_GROUPINGS"]

CFAR_MODES = ("ca", "caso")  # cell averaging over both sides; the smaller of the two sides' averages
# the neighbours a detection must be at least as strong as (TI's ``peakGrouping`` range / Doppler flags)
PEAK_GROUPINGS = ("range-doppler", "doppler", "range", "none")


@dataclass(frozen=True)
class CfarConfig:
    """CFAR along range, as TI's demo configures it (``cfarCfg``: CASO, noise window 8, guard 4, 15 dB),
    and its angle step's ``multiObjBeamForming`` (off by default)."""

    guard: int = 4  # cells on each side left out of the noise estimate
    train: int = 8  # cells on each side averaged for the noise estimate
    threshold_db: float = 15.0  # a detection exceeds the noise estimate by this much
    mode: str = "caso"  # CFAR_MODES
    max_points: int = 64  # per frame, strongest first
    min_range_bin: int = 2  # bins nearer than this (the transmitter's leakage) are never detected
    peak_grouping: str = "range-doppler"  # PEAK_GROUPINGS
    # a second point at a detection's second azimuth peak when it reaches this share of the first's
    # magnitude (TI's multiObjBeamForming threshold; its demos use 0.5); 0: one point a detection
    multi_object_beamforming: float = 0.0

    def __post_init__(self) -> None:
        if self.guard < 0 or self.train < 1 or self.max_points < 1 or self.min_range_bin < 0:
            raise RadarViewsError(
                f"CfarConfig: guard >= 0, train >= 1, max_points >= 1, min_range_bin >= 0; got {self}"
            )
        if not 0.0 <= self.multi_object_beamforming <= 1.0:
            raise RadarViewsError(
                f"CfarConfig.multi_object_beamforming must lie in [0, 1] (0: off), got {self.multi_object_beamforming}"
            )
        if self.mode not in CFAR_MODES:
            raise RadarViewsError(f"CfarConfig.mode must be one of {CFAR_MODES}, got {self.mode!r}")
        if self.peak_grouping not in PEAK_GROUPINGS:
            raise RadarViewsError(
                f"CfarConfig.peak_grouping must be one of {PEAK_GROUPINGS}, got {self.peak_grouping!r}"
            )


@dataclass(frozen=True)
class PointCloudChain:
    """How a sensor's firmware makes its point cloud: static clutter removal on or off, and CFAR."""

    clutter_removal: bool = True
    cfar: CfarConfig = field(default_factory=CfarConfig)


def _noise_estimate(power: np.ndarray, guard: int, train: int, mode: str = "ca") -> np.ndarray:
    """Along the last axis: the mean of the training cells on both sides (``ca``), or the smaller of
    the two sides' means (``caso``); at an edge, the cells that exist."""
    n = power.shape[-1]
    c = np.concatenate([np.zeros((*power.shape[:-1], 1)), np.cumsum(power, axis=-1)], axis=-1)  # [..., n + 1]
    i = np.arange(n)

    def window_sum(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = np.clip(lo, 0, n), np.clip(hi, 0, n)
        return c[..., hi] - c[..., lo], np.maximum(hi - lo, 0)

    s_left, n_left = window_sum(i - guard - train, i - guard)
    s_right, n_right = window_sum(i + guard + 1, i + guard + 1 + train)
    if mode == "caso":
        left = np.where(n_left > 0, s_left / np.maximum(n_left, 1), np.inf)
        right = np.where(n_right > 0, s_right / np.maximum(n_right, 1), np.inf)
        return np.minimum(left, right)
    return (s_left + s_right) / np.maximum(n_left + n_right, 1)


def _local_max(power: np.ndarray, grouping: str = "range-doppler") -> np.ndarray:
    """True where a cell of ``[F, D, R]`` is >= its neighbours along ``grouping`` (``PEAK_GROUPINGS``:
    the 8 of the 3 x 3 neighbourhood, the 2 along Doppler, the 2 along range, or none); Doppler is
    cyclic, range not."""
    if grouping == "none":
        return np.ones(power.shape, dtype=bool)
    doppler = (-1, 0, 1) if grouping in ("range-doppler", "doppler") else (0,)
    ranges = (0, 1, 2) if grouping in ("range-doppler", "range") else (1,)
    padded = np.pad(power, ((0, 0), (0, 0), (1, 1)), constant_values=-np.inf)
    best = np.full(power.shape, -np.inf)
    for dd in doppler:
        rolled = np.roll(padded, dd, axis=1)
        for dr in ranges:
            if dd == 0 and dr == 1:
                continue
            best = np.maximum(best, rolled[..., dr : dr + power.shape[-1]])
    return power >= best


def detect_points(
    chunk: np.ndarray,
    cfg: RadarConfig,
    clutter_removal: bool = True,
    cfar: CfarConfig | None = None,
    input_domain: str = "adc",
    first_range_bin: int = 0,
) -> list[np.ndarray]:
    """The point cloud of each frame of a chunk: ``[n, 5]`` float64 (x, y, z, velocity, intensity dB).

    Args:
        chunk: ``[F, loops, tx, rx, samples]`` ADC samples, or ``[F, loops, tx, rx, W]`` range
            profiles with ``input_domain="range"`` (a window of ``W`` range bins).
        cfg: the sensor's profile (resolutions, antenna layout).
        clutter_removal: subtract each range bin's mean over loops (static objects vanish).
        cfar: detection settings (default ``CfarConfig()``).
        input_domain: ``adc`` or ``range`` (see ``processing.range_doppler_spectrum``).
        first_range_bin: the range bin of the window's first column (``input_domain="range"``).
    """
    cfar = cfar or CfarConfig()
    f, loops, tx, rx, _ = chunk.shape
    spec = range_doppler_spectrum(chunk, clutter_removal, input_domain=input_domain)  # [F, D, TX, RX, R], FFT order
    power = (np.abs(spec) ** 2).sum(axis=(2, 3)).astype(np.float64)  # [F, D, R]
    rbin = (first_range_bin + np.arange(power.shape[-1])) % cfg.num_samples  # [R]
    noise = _noise_estimate(power, cfar.guard, cfar.train, cfar.mode)
    peaks = _local_max(power, cfar.peak_grouping)
    hit = (power > noise * 10 ** (cfar.threshold_db / 10)) & peaks & (rbin >= cfar.min_range_bin)
    positions = cfg.virtual_positions  # [V, 2] (x, z), TX-major like the cube
    row = positions[:, 1] == positions[:, 1].min()  # the azimuth row
    steer = _steering(tuple(positions[row, 0].tolist()), AZIMUTH_BINS)  # [K, azimuth elements]
    pairs = [
        (e, int(np.flatnonzero(row & (positions[:, 0] == positions[e, 0]))[0]))
        for e in np.flatnonzero(~row)
        if (row & (positions[:, 0] == positions[e, 0])).any()
    ]
    upper, lower = (np.array(p) for p in zip(*pairs, strict=True)) if pairs else (None, None)  # elevated, below
    comp = tdm_phase(loops, tx, rx)  # [D, V]
    signed = np.fft.fftfreq(loops, 1.0 / loops)  # signed Doppler index of each FFT-order bin
    out = []
    for i in range(f):
        d, r = np.nonzero(hit[i])
        order = np.argsort(-power[i, d, r], kind="stable")[: cfar.max_points]
        d, r = d[order], r[order]
        snap = spec[i, d, :, :, r].reshape(len(d), tx * rx) * comp[d]  # [n, V]
        spectrum = np.abs(np.conj(steer) @ snap[:, row].T)  # [K, n]
        bins, owner = _azimuth_peaks(spectrum, cfar.multi_object_beamforming)  # [n'] each, n' >= n
        u = (bins - AZIMUTH_BINS // 2) / (AZIMUTH_BINS // 2)
        w = np.zeros(len(d))
        if pairs:
            phase = np.angle((snap[:, upper] * np.conj(snap[:, lower])).sum(axis=1))
            w = np.clip(-phase / (np.pi * (positions[upper, 1] - positions[lower, 1]).mean()), -1.0, 1.0)
        d, r, w = d[owner], r[owner], w[owner]  # a second point shares its detection's cell and elevation
        dist = rbin[r] * cfg.range_resolution_m
        x, z = dist * u, dist * w
        y = np.sqrt(np.maximum(dist**2 - x**2 - z**2, 0.0))
        v = signed[d] * cfg.velocity_resolution_mps
        points = np.column_stack([x, y, z, v, 10 * np.log10(np.maximum(power[i, d, r], 1e-30))])
        out.append(points[: cfar.max_points])
    return out


def _azimuth_peaks(spectrum: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """``(azimuth bin, detection)`` of each point from the Bartlett spectra ``[K, n]``: every detection's
    peak, followed, where ``threshold`` > 0, by its strongest other local maximum when that reaches
    ``threshold`` times the peak (sin(theta) is not cyclic: the end bins have one neighbour)."""
    n = spectrum.shape[1]
    first = np.argmax(spectrum, axis=0)  # [n]
    if threshold <= 0 or n == 0:
        return first, np.arange(n)
    padded = np.pad(spectrum, ((1, 1), (0, 0)), constant_values=-np.inf)
    local = (spectrum > padded[:-2]) & (spectrum >= padded[2:])  # [K, n]
    local[first, np.arange(n)] = False
    others = np.where(local, spectrum, -np.inf)
    second = np.argmax(others, axis=0)  # [n]
    has = others[second, np.arange(n)] >= threshold * spectrum[first, np.arange(n)]
    bins = np.stack([first, np.where(has, second, -1)], axis=1).reshape(-1)  # detection by detection
    owner = np.repeat(np.arange(n), 2)
    keep = bins >= 0
    return bins[keep], owner[keep]
