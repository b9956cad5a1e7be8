"""The fast path: range profiles synthesised only in a window of range bins around the body.

Per chunk of frames, every body segment's chirp-by-chirp range profile ``a e^{j phase} D(beta - b)``
(``D`` = the periodic-Hann window's DTFT, ``hann_strip``) is written on the 13 bins around its beat
bin, inside a window of whole noise blocks (16 bins) that holds every segment of the chunk. The
window gets static clutter and Gaussian noise and goes through ``radar_views.frame_statistics``.
Every other block holds noise only (static clutter is cancelled exactly by clutter removal), so its
contribution to the views is drawn from the per-block statistics of a bank of noise frames that went
through the same chain: the views' sums are additive over range bins (``FrameStatistics``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from radar_views import (
    SPEED_OF_LIGHT,
    FrameStatistics,
    RadarConfig,
    RadarViews,
    azimuth_spectrum,
    frame_statistics,
    steering_matrix,
)

from .kernel import hann_dtft, hann_strip
from .scene import StaticClutter, Trajectories
from .synth import (
    SynthConfig,
    chirp_times,
    elevation_gain,
    point_geometry,
    segment_geometry,
    virtual_x,
    virtual_z,
)

__all__ = [
    "iter_fast_views",
    "body_window",
    "static_profile",
    "window_profiles",
    "NoiseBank",
    "HALF_BINS",
    "NOISE_BLOCK",
]

HALF_BINS = 6  # bins on each side of the beat bin (Hann sidelobes there: about -55 dB)
NOISE_BLOCK = 16  # range bins per noise block; the signal window is made of whole blocks


def _block_size(num_bins: int) -> int:
    """``NOISE_BLOCK``, or the largest divisor of it that tiles ``num_bins`` range bins."""
    return math.gcd(num_bins, NOISE_BLOCK)


def window_profiles(coef: np.ndarray, strip: np.ndarray, start: np.ndarray, width: int) -> np.ndarray:
    """Sum over segments of strips placed in a window: ``coef [C, RX, K]`` (complex amplitude per
    chirp, receiver, segment), ``strip [C, K, M]`` (kernel on M consecutive bins), ``start [C, K]``
    (first bin of each strip in the window) -> ``[C, RX, width]``.

    The strips are written into a dense ``[C, K, width]`` matrix (one flat assignment) and summed
    over segments by one batched complex GEMM.
    """
    c, k, m = strip.shape
    local = np.zeros((c, k, width), dtype=np.complex64)
    rows = np.arange(c * k, dtype=np.int64).reshape(c, k) * width + start  # [C, K]
    local.reshape(-1)[(rows[..., None] + np.arange(m)).reshape(-1)] = strip.reshape(-1)
    return coef.astype(np.complex64, copy=False) @ local  # [C, RX, W]


class NoiseBank:
    """Gaussian range-domain noise frames (windowed-FFT white noise: ``0.5 X_k - 0.25 X_{k-1} -
    0.25 X_{k+1}`` with ``X`` white of variance ``N sigma^2``), stored range-doubled
    ``[B, L, TX, RX, 2N]`` so that any circularly shifted window is a slice, and the
    ``FrameStatistics`` of each of their ``NOISE_BLOCK``-bin blocks after the views chain."""

    def __init__(self, cfg: RadarConfig, synth: SynthConfig, rng: np.random.Generator) -> None:
        n = cfg.num_samples
        shape = (synth.noise_bank_frames, *cfg.frame_shape)
        x = rng.standard_normal((*shape, 2), dtype=np.float32) * np.float32(synth.noise_std * np.sqrt(n / 2))
        x = x[..., 0] + 1j * x[..., 1]
        frames = (0.5 * x - 0.25 * np.roll(x, 1, axis=-1) - 0.25 * np.roll(x, -1, axis=-1)).astype(np.complex64)
        self.block = _block_size(n)
        b, loops, tx, rx, _ = frames.shape
        blocks = frames.reshape(b, loops, tx, rx, n // self.block, self.block)
        blocks = blocks.transpose(0, 4, 1, 2, 3, 5).reshape(-1, loops, tx, rx, self.block)  # [B * NB, L, TX, RX, bl]
        self.stats = frame_statistics(blocks, input_domain="range")
        self.doubled = np.concatenate([frames, frames], axis=-1)  # [B, L, TX, RX, 2N]

    def add_window_noise(self, prof: np.ndarray, lo: int, rng: np.random.Generator) -> None:
        """Add noise to one frame's window ``prof [L, TX, RX, W]`` starting at range bin ``lo``: a bank
        frame with random circular shifts in loops and range (slices of the range-doubled bank)."""
        banked, loops = self.doubled.shape[:2]
        n, width = self.doubled.shape[-1] // 2, prof.shape[-1]
        b = int(rng.integers(banked))
        shift_l, shift_r = (int(s) for s in rng.integers(0, [loops, n]))
        s = (lo - shift_r) % n
        part = self.doubled[b, ..., s : s + width]  # [L, TX, RX, W], bins lo - shift_r ... (mod n)
        prof[shift_l:] += part[: loops - shift_l]  # np.roll(part, shift_l, axis=0)
        prof[:shift_l] += part[loops - shift_l :]

    def block_statistics(self, frames: int, blocks: int, rng: np.random.Generator) -> FrameStatistics:
        """Statistics of ``blocks`` noise-only blocks in each of ``frames`` frames, each block drawn
        from the bank: range power ``[F, blocks * block]`` and the Doppler power and covariance summed
        over those blocks."""
        pick = rng.integers(self.stats.range_power.shape[0], size=(frames, blocks))  # [F, nb]
        return FrameStatistics(
            self.stats.range_power[pick].reshape(frames, -1),
            self.stats.doppler_power[pick].sum(axis=1),
            self.stats.covariance[pick].sum(axis=1),
        )


def static_profile(clutter: StaticClutter, cfg: RadarConfig, beam_deg: float | None = None) -> np.ndarray:
    """Range profiles of the static clutter, identical in every chirp: ``[TX, RX, N]``; ``beam_deg``:
    the antennas' elevation beam (``synth.elevation_gain``), None for none."""
    rc, u, amp = point_geometry(clutter.positions, clutter.rcs)
    if beam_deg is not None:
        amp = amp * elevation_gain(clutter.positions[:, 2] / rc, beam_deg)
    n = cfg.num_samples
    tau0 = 2 * rc / SPEED_OF_LIGHT
    beta = cfg.slope_hz_per_s * tau0 * n / cfg.sample_rate_hz  # [K]
    d = hann_dtft(beta[:, None] - np.arange(n)[None, :], n)  # [K, N]
    phase = 2 * np.pi * cfg.first_sample_freq_hz * tau0[:, None, None] - np.pi * virtual_x(cfg)[None] * u[:, None, None]
    zv = virtual_z(cfg)
    if zv is not None:  # the elevated elements' extra path
        phase = phase - np.pi * zv[None] * (clutter.positions[:, 2] / rc)[:, None, None]  # [K, TX, RX]
    coef = amp[:, None, None] * np.exp(1j * phase)  # [K, TX, RX]
    return np.einsum("ktr,kn->trn", coef, d).astype(np.complex64)


def _phasors(amp: np.ndarray, phase: np.ndarray) -> np.ndarray:
    """``amp e^{j phase}`` as complex64 from float32 cos and sin (phases already reduced to a few
    radians; a complex128 ``exp`` costs 3-4x more)."""
    phase = phase.astype(np.float32)
    out = np.empty((*phase.shape, 2), dtype=np.float32)
    np.cos(phase, out=out[..., 0])
    np.sin(phase, out=out[..., 1])
    out *= np.broadcast_to(amp, phase.shape).astype(np.float32)[..., None]
    return out.view(np.complex64)[..., 0]


def _fold(prof: np.ndarray, lo: int, n: int) -> np.ndarray:
    """A window wider than the profile wraps around: fold it onto the ``n`` bins 0..n-1 (rare)."""
    out = np.zeros((*prof.shape[:-1], n), dtype=prof.dtype)
    bins = (lo + np.arange(prof.shape[-1])) % n
    for s in range(0, prof.shape[-1], n):
        out[..., bins[s : s + n]] += prof[..., s : s + n]
    return out


def body_window(
    traj: Trajectories,
    cfg: RadarConfig,
    frames: np.ndarray,
    xv: np.ndarray | None = None,
    block: int | None = None,
    beam_deg: float | None = None,
) -> tuple[np.ndarray, int]:
    """The body's range profiles of ``frames``, chirp by chirp, on a window of whole ``block``-bin
    blocks around it: ``([F, L, TX, RX, W], first bin)`` (the first bin may be < 0 or the window
    folded onto all ``N`` bins when it is wider, then 0); no noise, no clutter. ``beam_deg``: the
    antennas' elevation beam (``synth.elevation_gain``), None for none."""
    n = cfg.num_samples
    xv = virtual_x(cfg) if xv is None else xv  # [TX, RX]
    block = _block_size(n) if block is None else block
    f = frames.shape[0]
    t0 = chirp_times(cfg, frames)  # [F, L, TX]
    c, a = traj.at(t0)  # [F, L, TX, K, 3]
    r, u, amp = segment_geometry(c, a, traj.sizes)  # [F, L, TX, K]
    if beam_deg is not None:
        amp = amp * elevation_gain(c[..., 2] / r, beam_deg)
    tau0 = 2 * r / SPEED_OF_LIGHT
    beta = cfg.slope_hz_per_s * tau0 * n / cfg.sample_rate_hz  # beat frequency in bins
    centre = np.rint(beta).astype(np.int64)
    lo = (int(centre.min()) - HALF_BINS) // block * block  # window of whole blocks (may start < 0)
    width = -(-(int(centre.max()) + HALF_BINS + 1 - lo) // block) * block
    strip = hann_strip(beta - centre, n, HALF_BINS)  # [F, L, TX, K, M]
    # carrier phase at the first sample (float64: f0 tau is ~1e4 rad) and the element's offset
    phase = (2 * np.pi * cfg.first_sample_freq_hz * tau0) % (2 * np.pi)  # [F, L, TX, K]
    phase = phase[..., None, :] - np.pi * xv[None, None, :, :, None] * u[..., None, :]  # [F, L, TX, RX, K]
    zv = virtual_z(cfg)
    if zv is not None:  # the elevated elements' extra path; w = z / R
        phase = phase - np.pi * zv[None, None, :, :, None] * (c[..., 2] / r)[..., None, :]
    coef = _phasors(amp[..., None, :], phase)
    k, m = strip.shape[-2:]
    prof = window_profiles(
        coef.reshape(-1, cfg.num_rx, k), strip.reshape(-1, k, m), (centre - HALF_BINS - lo).reshape(-1, k), width
    )
    prof = prof.reshape(f, cfg.num_loops, cfg.num_tx, cfg.num_rx, width)  # [F, L, TX, RX, W]
    if width > n:
        return _fold(prof, lo, n), 0
    return prof, lo


def iter_fast_views(
    traj: Trajectories,
    clutter: StaticClutter | None,
    cfg: RadarConfig,
    synth: SynthConfig,
    num_frames: int,
    rng: np.random.Generator,
    chunk: int = 4,
    noise: bool = True,
    azimuth: str = "bartlett",
) -> Iterator[RadarViews]:
    """Linear-power views of a clip, ``chunk`` frames at a time (clutter removal and TDM
    compensation on, as ``radar_views.iter_views`` by default)."""
    n = cfg.num_samples
    xv = virtual_x(cfg)  # [TX, RX]
    static = static_profile(clutter, cfg) if clutter is not None else None
    bank = NoiseBank(cfg, synth, rng) if noise else None
    block = _block_size(n)
    steering = steering_matrix(cfg)
    for first in range(0, num_frames, chunk):
        frames = np.arange(first, min(first + chunk, num_frames))
        f = frames.shape[0]
        prof, lo = body_window(traj, cfg, frames, xv, block)  # [F, L, TX, RX, W]
        width = prof.shape[-1]
        bins = (lo + np.arange(width)) % n  # [W] range bins of the window
        if static is not None:
            prof += static[..., bins]
        if bank is not None:
            for i in range(f):
                bank.add_window_noise(prof[i], lo % n, rng)
        stats = frame_statistics(prof, input_domain="range")
        range_power = np.zeros((f, n), dtype=np.float32)
        range_power[:, bins] = stats.range_power
        doppler_power, cov = stats.doppler_power, stats.covariance
        if bank is not None and width < n:
            outside = np.setdiff1d(np.arange(n), bins)  # whole blocks, ascending
            rest = bank.block_statistics(f, outside.size // block, rng)
            range_power[:, outside] = rest.range_power
            doppler_power = doppler_power + rest.doppler_power
            cov = cov + rest.covariance
        az = azimuth_spectrum(cov, steering, azimuth)  # [F, 128]
        yield RadarViews(range_power.T.copy(), doppler_power.T.astype(np.float32), az.T.astype(np.float32))
