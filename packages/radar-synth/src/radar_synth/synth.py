"""FMCW signal synthesis of a clip: an exact per-sample IF generator and a fast range-profile path.

Signal model (ARCHITECTURE.md): a scatterer with round-trip path ``p`` gives
``a exp(j 2 pi (S tau t_fast + f0' tau))``, ``tau = p / c``, with the far-field path of virtual
element v at ``(x_v, z_v)`` half-wavelengths ``p_v = 2 R - (x_v u + z_v w) lambda / 2``, ``u = x / R`` the
direction cosine along the array and ``w = z / R`` the elevation's sine.
Amplitude ``a = A0 sqrt(sigma) / R^2``. Positions are evaluated at each chirp's own time
(TDM slots included) — per sample in the exact path.

- ``exact``: every ADC sample, float64 phases, fresh Gaussian noise; reference for tests/short clips.
- ``fast`` (``fast.py``): per chirp and segment the range profile ``a e^{j phase} D(beta - b)`` on
  the bins around the beat bin, only in a window around the body; noise-only bins from statistics.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from radar_views import SPEED_OF_LIGHT, RadarConfig

from .scene import StaticClutter, Trajectories, ellipsoid_rcs

__all__ = [
    "SynthConfig",
    "chirp_times",
    "iter_adc_chunks",
    "point_geometry",
    "segment_geometry",
    "elevation_gain",
    "virtual_x",
    "virtual_z",
    "A0",
]

A0 = 1000.0  # amplitude of a 1 m^2 scatterer at 1 m


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


def point_geometry(positions: np.ndarray, rcs: np.ndarray | None = None):
    """Range ``R``, direction cosine along the array ``x / R`` and, given the RCS, the amplitude
    ``A0 sqrt(sigma) / R^2`` of scatterers at ``positions [..., 3]``."""
    r = np.sqrt(np.einsum("...i,...i->...", positions, positions))
    u = positions[..., 0] / r
    return r, u, None if rcs is None else A0 * np.sqrt(rcs) / r**2


def elevation_gain(sin_elevation: np.ndarray, beam_deg: float) -> np.ndarray:
    """Two-way amplitude gain of antennas whose one-way power falls to half ``beam_deg`` above or
    below boresight (a Gaussian beam in elevation), for scatterers seen at ``sin_elevation`` (``z / R``,
    any shape): ``exp(-ln 2 (el / beam_deg)^2)``, el the elevation angle."""
    el = np.degrees(np.arcsin(np.clip(sin_elevation, -1.0, 1.0)))
    return np.exp(-np.log(2.0) * (el / beam_deg) ** 2)


def segment_geometry(centres: np.ndarray, axes: np.ndarray, sizes: np.ndarray):
    """Range, direction cosine along the array, amplitude of every segment: ``[..., 16]``."""
    r, u, _ = point_geometry(centres)
    sigma = ellipsoid_rcs(-centres / r[..., None], axes, sizes[:, 0], sizes[:, 1])
    return r, u, A0 * np.sqrt(sigma) / r**2


def virtual_x(cfg: RadarConfig) -> np.ndarray:
    return cfg.virtual_positions[:, 0].reshape(cfg.num_tx, cfg.num_rx)  # [TX, RX] in lambda/2


def virtual_z(cfg: RadarConfig) -> np.ndarray | None:
    """The virtual elements' heights ``[TX, RX]`` in half-wavelengths above the lowest, or None for an
    array of one row (no elevation phase)."""
    z = cfg.virtual_positions[:, 1].reshape(cfg.num_tx, cfg.num_rx)
    z = z - z.min()
    return z if z.any() else None


def iter_adc_chunks(
    traj: Trajectories,
    clutter: StaticClutter | None,
    cfg: RadarConfig,
    synth: SynthConfig,
    num_frames: int,
    rng: np.random.Generator,
    chunk: int = 2,
) -> Iterator[np.ndarray]:
    """Exact path: raw ADC chunks ``[f, loops, tx, rx, samples]`` complex64."""
    lam = cfg.wavelength_m
    xv = virtual_x(cfg)[None, None, :, :, None]  # [1, 1, TX, RX, 1]
    zv = virtual_z(cfg)
    zv = np.zeros_like(xv) if zv is None else zv[None, None, :, :, None]  # [1, 1, TX, RX, 1]
    t_fast = np.arange(cfg.num_samples) / cfg.sample_rate_hz
    for start in range(0, num_frames, chunk):
        frames = np.arange(start, min(start + chunk, num_frames))
        t0 = chirp_times(cfg, frames)  # [F, L, TX]
        t = t0[..., None] + cfg.adc_start_s + t_fast  # [F, L, TX, N]
        c, a = traj.at(t)  # [F, L, TX, N, 16, 3]
        r, u, amp = segment_geometry(c, a, traj.sizes)  # [F, L, TX, N, 16]
        sig = np.zeros((*t0.shape, cfg.num_rx, cfg.num_samples), dtype=np.complex128)
        scatterers = [(r, u, c[..., 2] / r, amp)]
        if clutter is not None:
            rc, uc, ac = point_geometry(clutter.positions, clutter.rcs)
            scatterers.append((rc, uc, clutter.positions[:, 2] / rc, ac))
        for rr, uu, ww, aa in scatterers:
            rr = np.broadcast_to(rr, (*t.shape, rr.shape[-1])) if rr.ndim == 1 else rr
            uu, ww, aa = (np.broadcast_to(x, rr.shape) for x in (uu, ww, aa))
            for k in range(rr.shape[-1]):
                offset = xv * uu[:, :, :, None, :, k] + zv * ww[:, :, :, None, :, k]  # [F, L, TX, RX, N]
                path = 2 * rr[:, :, :, None, :, k] - offset * lam / 2  # [F, L, TX, RX, N]
                tau = path / SPEED_OF_LIGHT
                phase = 2 * np.pi * (cfg.slope_hz_per_s * tau * t_fast + cfg.first_sample_freq_hz * tau)
                sig += aa[:, :, :, None, :, k] * np.exp(1j * phase)
        noise = rng.standard_normal((*sig.shape, 2)) * (synth.noise_std / np.sqrt(2))
        sig += noise[..., 0] + 1j * noise[..., 1]
        yield sig.astype(np.complex64)
