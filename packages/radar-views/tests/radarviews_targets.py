"""Point-target cubes straight from the signal model of ARCHITECTURE.md (exact, per sample)."""

from __future__ import annotations

import numpy as np

from radar_views import SPEED_OF_LIGHT, RadarConfig


def chirp_start_times(cfg: RadarConfig, frames: int) -> np.ndarray:
    """Start time of every chirp ``[F, L, TX]``: TDM slots fire one chirp period apart."""
    f = np.arange(frames)[:, None, None] * cfg.frame_period_s
    lm = np.arange(cfg.num_loops)[None, :, None] * cfg.num_tx + np.arange(cfg.num_tx)[None, None, :]
    return f + lm * cfg.chirp_period_s


def point_target_cube(
    cfg: RadarConfig,
    frames: int,
    r0: float,
    v: float,
    theta_deg: float,
    amplitude: float = 1.0,
    elevation_deg: float = 0.0,
) -> np.ndarray:
    """A scatterer at range ``r0 + v t``, azimuth ``theta`` and elevation ``elevation``: complex64
    ``[F, L, TX, RX, N]``."""
    t_fast = np.arange(cfg.num_samples) / cfg.sample_rate_hz  # [N]
    t_abs = chirp_start_times(cfg, frames)[..., None, None] + cfg.adc_start_s + t_fast  # [F, L, TX, 1, N]
    x_virtual, z_virtual = (cfg.virtual_positions[:, i].reshape(cfg.num_tx, cfg.num_rx)[..., None] for i in (0, 1))
    el = np.radians(elevation_deg)
    u, w = np.cos(el) * np.sin(np.radians(theta_deg)), np.sin(el)  # direction cosines across and up
    path = 2 * (r0 + v * t_abs) - (x_virtual * u + z_virtual * w) * cfg.wavelength_m / 2
    tau = path / SPEED_OF_LIGHT
    phase = 2 * np.pi * (cfg.slope_hz_per_s * tau * t_fast + cfg.first_sample_freq_hz * tau)
    return (amplitude * np.exp(1j * phase)).astype(np.complex64)


def range_at_frame_middle(cfg: RadarConfig, frame: int, r0: float, v: float) -> float:
    starts = chirp_start_times(cfg, frame + 1)[frame]
    return r0 + v * (starts.min() + starts.max() + cfg.chirp_period_s) / 2
