"""The per-frame processing chain, vectorised over a chunk of frames.

raw chunk [F, loops, tx, rx, samples] complex
  -> periodic-Hann windows (one multiply) + range FFT (samples -> range bins) + Doppler FFT over
     loops (-> Doppler bins; row N/2 = 0 m/s after the shift)
  -> static clutter removal: subtracting each (antenna, range bin)'s mean over loops before the
     window equals subtracting mean x FFT(window) after it, which is nonzero on 3 Doppler bins
     only, so it costs a mean and a 3-bin correction instead of a pass over the cube
                              range-time   = sum over Doppler and antennas of |spectrum|^2
  -> per-Doppler covariance of the virtual array, summed over range: R_d [F, D, V, V]
                              Doppler-time = trace(R_d)
  -> TDM motion compensation (a phase per TX slot and Doppler bin) -> R = sum_d C_d R_d C_d^H
  -> azimuth spectrum over 128 bins uniform in sin(theta): Bartlett a^H R a (default) or
     Capon 1 / a^H (R + dI)^-1 a   azimuth-time
The cube-sized spectrum is kept in FFT order; only the small outputs are shifted.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np
import scipy.fft

from .config import RadarConfig
from .errors import RadarViewsError

__all__ = [
    "AZIMUTH_METHODS",
    "AZIMUTH_BINS",
    "INPUT_DOMAINS",
    "window",
    "range_fft",
    "range_doppler_spectrum",
    "doppler_covariance",
    "tdm_phase",
    "steering_matrix",
    "azimuth_spectrum",
    "FrameStatistics",
    "frame_statistics",
    "frame_powers",
]

AZIMUTH_METHODS = ("bartlett", "capon")
AZIMUTH_BINS = 128


@lru_cache(maxsize=16)
def window(n: int) -> np.ndarray:
    """Periodic Hann window (its DFT has three nonzero bins)."""
    import scipy.signal  # here, not at import: scipy.signal takes ~1.5 s to import

    return scipy.signal.windows.hann(n, sym=False).astype(np.float32)


@lru_cache(maxsize=16)
def _window_spectrum(n: int) -> tuple[np.ndarray, np.ndarray]:
    spectrum = np.fft.fft(window(n).astype(np.float64))
    bins = np.flatnonzero(np.abs(spectrum) > 1e-9 * n)
    return bins, spectrum[bins].astype(np.complex64)


@lru_cache(maxsize=16)
def _window_2d(loops: int, samples: int) -> np.ndarray:
    return window(loops)[:, None, None, None] * window(samples)  # [L, 1, 1, N]


def range_fft(chunk: np.ndarray, workers: int = 1) -> np.ndarray:
    """Window + FFT over samples: ``[..., N]`` -> same shape, range bins last."""
    return scipy.fft.fft(chunk * window(chunk.shape[-1]), axis=-1, workers=workers, overwrite_x=True)


INPUT_DOMAINS = ("adc", "range")


def range_doppler_spectrum(
    chunk: np.ndarray, clutter_removal: bool = True, workers: int = 1, input_domain: str = "adc"
) -> np.ndarray:
    """Range and Doppler FFTs of a chunk, in FFT order: ``[F, L, TX, RX, N]`` -> ``[F, D, TX, RX, R]``.

    ``input_domain="adc"``: raw samples; both windows are applied in one multiply, and with
    ``clutter_removal`` the loop mean is the range FFT of the raw chunk's loop mean (1/L of the
    work). ``input_domain="range"``: the chunk already holds range profiles (periodic-Hann window
    + FFT over samples, as ``range_fft``), e.g. from a simulator that synthesises them directly.
    Either way, with ``clutter_removal`` the result equals the Doppler FFT of the windowed range
    profiles after subtracting their mean over loops.
    """
    loops, samples = chunk.shape[1], chunk.shape[-1]
    if input_domain == "adc":
        spec = scipy.fft.fft(chunk * _window_2d(loops, samples), axis=-1, workers=workers, overwrite_x=True)
    elif input_domain == "range":
        spec = chunk * window(loops)[:, None, None, None]
    else:
        raise RadarViewsError(f"input_domain must be one of {INPUT_DOMAINS}, got {input_domain!r}")
    spec = scipy.fft.fft(spec, axis=1, workers=workers, overwrite_x=True)
    if clutter_removal:
        bins, w_spec = _window_spectrum(loops)
        mean = range_fft(chunk.mean(axis=1), workers) if input_domain == "adc" else chunk.mean(axis=1)
        spec[:, bins] -= w_spec[None, :, None, None, None] * mean[:, None]  # mean: [F, TX, RX, R]
    return spec


def doppler_covariance(spec: np.ndarray) -> np.ndarray:
    """Virtual-array covariance per Doppler bin, summed over range: ``[F, D, V, V]``."""
    f, d, tx, rx, r = spec.shape
    y = spec.reshape(f, d, tx * rx, r)  # [F, D, V, R]
    return y @ np.conj(y).transpose(0, 1, 3, 2)  # [F, D, V, V]


@lru_cache(maxsize=16)
def tdm_phase(num_doppler: int, num_tx: int, num_rx: int) -> np.ndarray:
    """Compensation ``C[d, v] = exp(-j 2 pi m k_d / (N_tx D))`` for virtual element v of TX slot m,
    with ``k_d`` the signed Doppler index of FFT-order bin d: undoes the phase a mover gains
    between the TX slots of one loop."""
    k = np.fft.fftfreq(num_doppler, 1.0 / num_doppler)  # signed index in FFT order
    slot = np.repeat(np.arange(num_tx), num_rx)
    return np.exp(-2j * np.pi * k[:, None] * slot[None, :] / (num_tx * num_doppler)).astype(np.complex64)


@lru_cache(maxsize=16)
def _steering(xs: tuple[float, ...], bins: int) -> np.ndarray:
    sin_theta = (np.arange(bins) - bins // 2) / (bins // 2)
    return np.exp(-1j * np.pi * np.outer(sin_theta, np.asarray(xs))).astype(np.complex64)


def steering_matrix(cfg: RadarConfig, bins: int = AZIMUTH_BINS) -> np.ndarray:
    """``A[k, v] = exp(-j pi x_v sin(theta_k))``, ``sin(theta_k) = (k - bins/2) / (bins/2)``."""
    return _steering(tuple(cfg.virtual_positions[:, 0].tolist()), bins)


def azimuth_spectrum(
    cov: np.ndarray, steering: np.ndarray, method: str = "bartlett", loading: float = 0.01
) -> np.ndarray:
    """Spatial spectrum of covariances ``[F, V, V]`` -> ``[F, K]`` (real, >= 0)."""
    if method == "bartlett":
        p = np.einsum("kv,fvw,kw->fk", np.conj(steering), cov, steering, optimize=True)  # a^H R a
        return np.maximum(p.real, 0.0)
    if method == "capon":
        m = cov.shape[-1]
        trace = np.trace(cov, axis1=1, axis2=2).real  # [F]
        load = (loading * np.maximum(trace, 1e-30) / m)[:, None, None]
        inv = np.linalg.inv(cov + load * np.eye(m, dtype=cov.dtype))
        denom = np.einsum("kv,fvw,kw->fk", np.conj(steering), inv, steering, optimize=True).real
        return 1.0 / np.maximum(denom, 1e-30)
    raise RadarViewsError(f"azimuth method must be one of {AZIMUTH_METHODS}, got {method!r}")


class FrameStatistics(NamedTuple):
    """Per-frame sums the views are made of, additive over range bins: for any split of the range
    bins, ``doppler_power`` and ``covariance`` of the whole are the sums over the parts and
    ``range_power`` is the concatenation (a simulator can compute the parts separately)."""

    range_power: np.ndarray  # [F, R]: sum of |Y|^2 over Doppler and antennas
    doppler_power: np.ndarray  # [F, D], shifted (row D/2 = 0 m/s): sum of |Y|^2 over range and antennas
    covariance: np.ndarray  # [F, V, V]: sum over range and Doppler of the (TDM-compensated) snapshots' outer products


def frame_statistics(
    chunk: np.ndarray,
    clutter_removal: bool = True,
    tdm_compensation: bool = True,
    workers: int = 1,
    input_domain: str = "adc",
) -> FrameStatistics:
    """Range power, Doppler power and spatial covariance of each frame of a chunk.

    With ``input_domain="range"`` the chunk may hold any subset of range bins ``[F, L, TX, RX, R']``
    (every step is per range bin until the sums), e.g. only the bins around a simulated target.
    """
    f, loops, tx, rx, n = chunk.shape
    spec = range_doppler_spectrum(chunk, clutter_removal, workers, input_domain)  # [F, D, TX, RX, R]
    flat = spec.view(np.float32).reshape(f, loops * tx * rx, 2 * n)  # re, im interleaved
    range_power = np.einsum("fmk,fmk->fk", flat, flat).reshape(f, n, 2).sum(-1)  # sum |Y|^2 over Doppler, antennas
    cov_d = doppler_covariance(spec)  # [F, D, V, V], FFT order
    doppler_power = np.fft.fftshift(np.trace(cov_d, axis1=2, axis2=3).real, axes=1)  # [F, D]
    if tdm_compensation:
        c = tdm_phase(loops, tx, rx)  # [D, V]
        cov = np.einsum("dp,fdpq,dq->fpq", c, cov_d, np.conj(c), optimize=True)  # [F, V, V]
    else:
        cov = cov_d.sum(axis=1)
    return FrameStatistics(range_power, doppler_power, cov)


def frame_powers(
    chunk: np.ndarray,
    cfg: RadarConfig,
    clutter_removal: bool = True,
    azimuth: str = "bartlett",
    tdm_compensation: bool = True,
    workers: int = 1,
    input_domain: str = "adc",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Linear-power views of a chunk: range ``[F, N]``, Doppler ``[F, D]``, azimuth ``[F, 128]``."""
    stats = frame_statistics(chunk, clutter_removal, tdm_compensation, workers, input_domain)
    azimuth_power = azimuth_spectrum(stats.covariance, steering_matrix(cfg), azimuth)  # [F, 128]
    return (
        stats.range_power.astype(np.float32),
        stats.doppler_power.astype(np.float32),
        azimuth_power.astype(np.float32),
    )
