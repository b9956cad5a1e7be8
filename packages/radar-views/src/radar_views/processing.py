"""The per-frame processing chain, vectorised over a chunk of frames.

raw chunk [F, loops, tx, rx, samples] complex
  -> window + range FFT (samples -> range bins)
  -> static clutter removal (subtract the mean over loops)       range-time = sum |.|^2 over loops, antennas
  -> window + Doppler FFT + fftshift (loops -> Doppler bins, row N/2 = 0 m/s)
  -> per-Doppler covariance of the virtual array, summed over range: R_d [F, D, V, V]
                                                                   Doppler-time = trace(R_d)
  -> TDM motion compensation (a phase per TX slot and Doppler bin) -> R = sum_d C_d R_d C_d^H
  -> azimuth spectrum over 128 bins uniform in sin(theta): Bartlett a^H R a (default) or
     Capon 1 / a^H (R + dI)^-1 a                                   azimuth-time
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.fft

from .config import RadarConfig

__all__ = [
    "AZIMUTH_METHODS", "AZIMUTH_BINS", "range_fft", "remove_static_clutter", "doppler_fft",
    "doppler_covariance", "tdm_phase", "steering_matrix", "azimuth_spectrum", "frame_powers",
]

AZIMUTH_METHODS = ("bartlett", "capon")
AZIMUTH_BINS = 128


@lru_cache(maxsize=16)
def _hann(n: int) -> np.ndarray:
    return np.hanning(n).astype(np.float32)


def range_fft(chunk: np.ndarray, workers: int = 1) -> np.ndarray:
    """Hann window + FFT over samples: ``[F, L, TX, RX, N]`` -> same shape, range bins last."""
    x = chunk * _hann(chunk.shape[-1])
    return scipy.fft.fft(x, axis=-1, workers=workers, overwrite_x=True)


def remove_static_clutter(profiles: np.ndarray) -> np.ndarray:
    """Subtract each (antenna, range bin)'s mean over the loops of its frame (in place)."""
    profiles -= profiles.mean(axis=1, keepdims=True)
    return profiles


def doppler_fft(profiles: np.ndarray, workers: int = 1) -> np.ndarray:
    """Hann window + FFT over loops + fftshift: ``[F, L, TX, RX, R]`` -> ``[F, D, TX, RX, R]``.

    Row ``D/2`` is zero radial velocity; a receding target (growing range, growing phase)
    lands above it.
    """
    win = _hann(profiles.shape[1])[None, :, None, None, None]
    spec = scipy.fft.fft(profiles * win, axis=1, workers=workers, overwrite_x=True)
    return np.fft.fftshift(spec, axes=1)


def doppler_covariance(spec: np.ndarray) -> np.ndarray:
    """Virtual-array covariance per Doppler bin, summed over range: ``[F, D, V, V]``."""
    f, d, tx, rx, r = spec.shape
    y = spec.reshape(f, d, tx * rx, r)  # [F, D, V, R]
    return y @ np.conj(y.transpose(0, 1, 3, 2))  # [F, D, V, V]


@lru_cache(maxsize=16)
def tdm_phase(num_doppler: int, num_tx: int, num_rx: int) -> np.ndarray:
    """Compensation ``C[d, v] = exp(-j 2 pi m (d - D/2) / (N_tx D))`` for virtual element v of
    TX slot m: undoes the phase a mover gains between the TX slots of one loop."""
    k = np.arange(num_doppler) - num_doppler // 2
    slot = np.repeat(np.arange(num_tx), num_rx)
    return np.exp(-2j * np.pi * k[:, None] * slot[None, :] / (num_tx * num_doppler)).astype(np.complex64)


@lru_cache(maxsize=16)
def _steering(xs: tuple[float, ...], bins: int) -> np.ndarray:
    sin_theta = (np.arange(bins) - bins // 2) / (bins // 2)
    return np.exp(-1j * np.pi * np.outer(sin_theta, np.asarray(xs))).astype(np.complex64)


def steering_matrix(cfg: RadarConfig, bins: int = AZIMUTH_BINS) -> np.ndarray:
    """``A[k, v] = exp(-j pi x_v sin(theta_k))``, ``sin(theta_k) = (k - bins/2) / (bins/2)``."""
    return _steering(tuple(cfg.virtual_positions[:, 0].tolist()), bins)


def azimuth_spectrum(cov: np.ndarray, steering: np.ndarray, method: str = "bartlett",
                     loading: float = 0.01) -> np.ndarray:
    """Spatial spectrum of covariances ``[F, V, V]`` -> ``[F, K]`` (real, >= 0)."""
    if method == "bartlett":
        # a_k^H R a_k for every k: [F, K]
        p = np.einsum("kv,fvw,kw->fk", np.conj(steering), cov, steering, optimize=True)
        return np.maximum(p.real, 0.0)
    if method == "capon":
        m = cov.shape[-1]
        trace = np.trace(cov, axis1=1, axis2=2).real  # [F]
        eye = np.eye(m, dtype=cov.dtype)
        load = (loading * np.maximum(trace, 1e-30) / m)[:, None, None]
        inv = np.linalg.inv(cov + load * eye)
        denom = np.einsum("kv,fvw,kw->fk", np.conj(steering), inv, steering, optimize=True).real
        return 1.0 / np.maximum(denom, 1e-30)
    raise ValueError(f"azimuth method must be one of {AZIMUTH_METHODS}, got {method!r}")


def frame_powers(chunk: np.ndarray, cfg: RadarConfig, clutter_removal: bool = True,
                 azimuth: str = "bartlett", tdm_compensation: bool = True,
                 workers: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Linear-power views of a chunk: range ``[F, N]``, Doppler ``[F, D]``, azimuth ``[F, 128]``."""
    profiles = range_fft(chunk, workers)  # [F, L, TX, RX, N]
    if clutter_removal:
        remove_static_clutter(profiles)
    power = profiles.real**2 + profiles.imag**2
    range_power = power.sum(axis=(1, 2, 3))  # [F, N]
    spec = doppler_fft(profiles, workers)  # [F, D, TX, RX, N]
    cov_d = doppler_covariance(spec)  # [F, D, V, V]
    doppler_power = np.trace(cov_d, axis1=2, axis2=3).real  # [F, D]
    f, d, v, _ = cov_d.shape
    if tdm_compensation:
        c = tdm_phase(d, cfg.num_tx, cfg.num_rx)  # [D, V]
        cov = np.einsum("dp,fdpq,dq->fpq", c, cov_d, np.conj(c), optimize=True)  # [F, V, V]
    else:
        cov = cov_d.sum(axis=1)
    azimuth_power = azimuth_spectrum(cov, steering_matrix(cfg), azimuth)  # [F, 128]
    return (range_power.astype(np.float32), doppler_power.astype(np.float32),
            azimuth_power.astype(np.float32))
