"""FMCW signal synthesis of a clip: an exact per-sample IF generator and a fast range-profile path.

Signal model (ARCHITECTURE.md): a scatterer with round-trip path ``p`` gives
``a exp(j 2 pi (S tau t_fast + f0' tau))``, ``tau = p / c``, with the far-field path of virtual
element v ``p_v = 2 R - x_v (lambda / 2) u``, ``u`` the direction cosine along the array.
Amplitude ``a = A0 sqrt(sigma) / R^2``. Positions are evaluated at each chirp's own time
(TDM slots included) — per sample in the exact path.

- ``exact``: every ADC sample, float64 phases, fresh Gaussian noise; reference for tests/short clips.
- ``fast``: per chirp and scatterer, the range profile ``a e^{j phase} D(beta - b)`` on the 17 bins
  around the beat bin ``beta`` (``D`` = the window's closed-form DTFT), accumulated with bincount;
  static clutter precomputed once; noise from a bank of 4 Gaussian range-domain frames reused with
  random circular shifts (a fresh draw per frame would cost more than everything else).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from radar_views import SPEED_OF_LIGHT, RadarConfig

from .kernel import hann_dtft, hann_strip
from .scene import StaticClutter, Trajectories, ellipsoid_rcs

__all__ = ["SynthConfig", "chirp_times", "iter_adc_chunks", "iter_profile_chunks", "A0"]

A0 = 1000.0  # amplitude of a 1 m^2 scatterer at 1 m
HALF_BINS = 6  # fast path: bins on each side of the beat bin (Hann sidelobes there: about -55 dB)


class SynthConfig:
    """Noise and clutter settings of the simulator."""

    def __init__(self, snr_db: float = 0.0, clutter: bool = True, noise_bank_frames: int = 4) -> None:
        # per-sample SNR of a 1 m^2 scatterer at 5 m; noise std = A0 / 25 / 10^(snr_db / 20)
        self.snr_db = snr_db
        self.clutter = clutter
        self.noise_bank_frames = noise_bank_frames

    @property
    def noise_std(self) -> float:
        return A0 / 25.0 / 10 ** (self.snr_db / 20)


def chirp_times(cfg: RadarConfig, frames: np.ndarray) -> np.ndarray:
    """Start time of each chirp ``[F, L, TX]`` for the given frame indices."""
    lm = np.arange(cfg.num_loops)[:, None] * cfg.num_tx + np.arange(cfg.num_tx)[None, :]
    return frames[:, None, None] * cfg.frame_period_s + lm[None] * cfg.chirp_period_s


def _point_geometry(positions: np.ndarray, rcs: np.ndarray | None = None):
    """Range ``R``, direction cosine along the array ``x / R`` and, given the RCS, the amplitude
    ``A0 sqrt(sigma) / R^2`` of scatterers at ``positions [..., 3]``."""
    r = np.linalg.norm(positions, axis=-1)
    u = positions[..., 0] / r
    return r, u, None if rcs is None else A0 * np.sqrt(rcs) / r**2


def _geometry(centres: np.ndarray, axes: np.ndarray, sizes: np.ndarray):
    """Range, direction cosine along the array, amplitude of every segment: ``[..., 16]``."""
    r, u, _ = _point_geometry(centres)
    sigma = ellipsoid_rcs(-centres / r[..., None], axes, sizes[:, 0], sizes[:, 1])
    return r, u, A0 * np.sqrt(sigma) / r**2


def _virtual_x(cfg: RadarConfig) -> np.ndarray:
    return cfg.virtual_positions[:, 0].reshape(cfg.num_tx, cfg.num_rx)  # [TX, RX] in lambda/2


def iter_adc_chunks(traj: Trajectories, clutter: StaticClutter | None, cfg: RadarConfig, synth: SynthConfig,
                    num_frames: int, rng: np.random.Generator, chunk: int = 2) -> Iterator[np.ndarray]:
    """Exact path: raw ADC chunks ``[f, loops, tx, rx, samples]`` complex64."""
    lam = cfg.wavelength_m
    xv = _virtual_x(cfg)[None, None, :, :, None]  # [1, 1, TX, RX, 1]
    t_fast = np.arange(cfg.num_samples) / cfg.sample_rate_hz
    for start in range(0, num_frames, chunk):
        frames = np.arange(start, min(start + chunk, num_frames))
        t0 = chirp_times(cfg, frames)  # [F, L, TX]
        t = t0[..., None] + cfg.adc_start_s + t_fast  # [F, L, TX, N]
        c, a = traj.at(t)  # [F, L, TX, N, 16, 3]
        r, u, amp = _geometry(c, a, traj.sizes)  # [F, L, TX, N, 16]
        sig = np.zeros((*t0.shape, cfg.num_rx, cfg.num_samples), dtype=np.complex128)
        scatterers = [(r, u, amp)]
        if clutter is not None:
            scatterers.append(_point_geometry(clutter.positions, clutter.rcs))
        for rr, uu, aa in scatterers:
            rr = np.broadcast_to(rr, (*t.shape, rr.shape[-1])) if rr.ndim == 1 else rr
            uu = np.broadcast_to(uu, rr.shape)
            aa = np.broadcast_to(aa, rr.shape)
            for k in range(rr.shape[-1]):
                path = 2 * rr[:, :, :, None, :, k] - xv * lam / 2 * uu[:, :, :, None, :, k]  # [F, L, TX, RX, N]
                tau = path / SPEED_OF_LIGHT
                phase = 2 * np.pi * (cfg.slope_hz_per_s * tau * t_fast + cfg.first_sample_freq_hz * tau)
                sig += aa[:, :, :, None, :, k] * np.exp(1j * phase)
        noise = rng.standard_normal((*sig.shape, 2)) * (synth.noise_std / np.sqrt(2))
        sig += noise[..., 0] + 1j * noise[..., 1]
        yield sig.astype(np.complex64)


def _noise_bank(cfg: RadarConfig, synth: SynthConfig, rng: np.random.Generator) -> np.ndarray:
    """Gaussian range-domain noise frames ``[B, L, TX, RX, N]``: windowed-FFT white noise, i.e.
    ``0.5 X_k - 0.25 X_{k-1} - 0.25 X_{k+1}`` with ``X`` white of variance ``N sigma^2``."""
    shape = (synth.noise_bank_frames, *cfg.frame_shape)
    x = rng.standard_normal((*shape, 2), dtype=np.float32) * np.float32(synth.noise_std * np.sqrt(cfg.num_samples / 2))
    x = x[..., 0] + 1j * x[..., 1]
    return (0.5 * x - 0.25 * np.roll(x, 1, axis=-1) - 0.25 * np.roll(x, -1, axis=-1)).astype(np.complex64)


def _static_profile(clutter: StaticClutter, cfg: RadarConfig) -> np.ndarray:
    """Range profiles of the static clutter, identical in every chirp: ``[TX, RX, N]``."""
    rc, u, amp = _point_geometry(clutter.positions, clutter.rcs)
    n = cfg.num_samples
    tau0 = 2 * rc / SPEED_OF_LIGHT
    beta = cfg.slope_hz_per_s * tau0 * n / cfg.sample_rate_hz  # [K]
    bins = np.arange(n)
    d = hann_dtft(beta[:, None] - bins[None, :], n)  # [K, N]
    xv = _virtual_x(cfg)  # [TX, RX]
    phase = 2 * np.pi * cfg.first_sample_freq_hz * tau0[:, None, None] - np.pi * xv[None] * u[:, None, None]
    coef = amp[:, None, None] * np.exp(1j * phase)  # [K, TX, RX]
    return np.einsum("ktr,kn->trn", coef, d).astype(np.complex64)


LOCAL_BINS = 96  # width of the per-chirp window around the torso that holds every body segment


def _accumulate_bincount(coef: np.ndarray, kern: np.ndarray, centre: np.ndarray, n: int) -> np.ndarray:
    """Reference accumulation: every (chirp, rx, segment, bin) contribution scattered with bincount."""
    f, loops, tx, rx, _ = coef.shape
    offsets = np.arange(kern.shape[-1]) - kern.shape[-1] // 2
    contrib = coef[..., None] * kern[:, :, :, None, :, :]  # [F, L, TX, RX, K, M]
    bins = (centre[..., None] + offsets) % n  # [F, L, TX, K, M]
    rows = np.arange(f * loops * tx * rx).reshape(f, loops, tx, rx) * n
    flat = (rows[..., None, None] + bins[:, :, :, None, :, :]).ravel()
    size = f * loops * tx * rx * n
    prof = np.empty(size, dtype=np.complex64)
    prof.real = np.bincount(flat, weights=contrib.real.ravel(), minlength=size)
    prof.imag = np.bincount(flat, weights=contrib.imag.ravel(), minlength=size)
    return prof.reshape(f, loops, tx, rx, n)


def _accumulate(coef: np.ndarray, kern: np.ndarray, centre: np.ndarray, n: int) -> np.ndarray:
    """Sum of every segment's kernel strip ``kern [F, L, TX, K, M]`` (centred on bin ``centre``)
    weighted by ``coef [F, L, TX, RX, K]`` -> range profiles ``[F, L, TX, RX, N]``.

    Each chirp's strips are written into a dense window of ``LOCAL_BINS`` bins around the
    median segment (plain assignment: one row per segment), summed over segments by one batched
    complex GEMM, and the window is placed into the profile. Falls back to bincount when a
    segment lies outside the window.
    """
    f, loops, tx, rx, k = coef.shape
    m = kern.shape[-1]
    w = LOCAL_BINS
    c = f * loops * tx
    centre = centre.reshape(c, k)
    base = np.median(centre, axis=1).astype(np.int64) - w // 2  # [C] window start (unwrapped)
    start = centre - m // 2 - base[:, None]  # [C, K] strip start inside the window
    if start.min() < 0 or start.max() > w - m:
        return _accumulate_bincount(coef, kern, centre.reshape(f, loops, tx, k), n)
    local = np.zeros((c, k, w), dtype=np.complex64)
    cols = start[..., None] + np.arange(m)  # [C, K, M]
    local[np.arange(c)[:, None, None], np.arange(k)[None, :, None], cols] = kern.reshape(c, k, m)
    window = coef.reshape(c, rx, k).astype(np.complex64) @ local  # [C, RX, W]
    prof = np.zeros((c, rx, n), dtype=np.complex64)
    prof[np.arange(c)[:, None, None], np.arange(rx)[None, :, None], (base[:, None, None] + np.arange(w)) % n] = window
    return prof.reshape(f, loops, tx, rx, n)


def iter_profile_chunks(traj: Trajectories, clutter: StaticClutter | None, cfg: RadarConfig, synth: SynthConfig,
                        num_frames: int, rng: np.random.Generator, chunk: int = 4,
                        noise: bool = True) -> Iterator[np.ndarray]:
    """Fast path: range-profile chunks ``[f, loops, tx, rx, range bins]`` complex64 (the range FFT
    of the periodic-Hann-windowed ADC samples), for ``radar_views.iter_views(input_domain="range")``."""
    n = cfg.num_samples
    xv = _virtual_x(cfg)  # [TX, RX]
    static = _static_profile(clutter, cfg) if clutter is not None else None
    bank = _noise_bank(cfg, synth, rng) if noise else None
    for start in range(0, num_frames, chunk):
        frames = np.arange(start, min(start + chunk, num_frames))
        f = frames.shape[0]
        t0 = chirp_times(cfg, frames)  # [F, L, TX]
        c, a = traj.at(t0)  # [F, L, TX, 16, 3]
        r, u, amp = _geometry(c, a, traj.sizes)  # [F, L, TX, K]
        tau0 = 2 * r / SPEED_OF_LIGHT
        beta = cfg.slope_hz_per_s * tau0 * n / cfg.sample_rate_hz  # beat frequency in bins
        centre = np.rint(beta)
        phase0, kern = hann_strip(beta - centre, n, HALF_BINS)  # [F, L, TX, K], [F, L, TX, K, 13]
        base = 2 * np.pi * cfg.first_sample_freq_hz * tau0  # [F, L, TX, K]
        phase = (base % (2 * np.pi))[..., None, :] - np.pi * xv[None, None, :, :, None] * u[..., None, :]
        coef = (amp * phase0)[..., None, :] * np.exp(1j * phase)  # [F, L, TX, RX, K]
        prof = _accumulate(coef, kern, centre.astype(np.int64), n)  # [F, L, TX, RX, N]
        if static is not None:
            prof += static
        if bank is not None:
            for i in range(f):
                b = int(rng.integers(bank.shape[0]))
                shift_l, shift_r = (int(s) for s in rng.integers(0, [cfg.num_loops, n]))
                prof[i] += np.roll(bank[b], (shift_l, shift_r), axis=(0, 3))
        yield prof
