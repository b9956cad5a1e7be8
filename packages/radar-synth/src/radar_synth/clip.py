"""Render one planned clip to radar views (streamed through ``radar_views``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from radar_views import RadarConfig, RadarViews, iter_views

from .errors import SynthError
from .fast import iter_fast_views
from .motion import ClipPlan
from .scene import Trajectories, body_trajectories, sample_clutter
from .synth import SynthConfig, iter_adc_chunks

__all__ = ["RenderedClip", "render_clip", "render_trajectories", "write_raw_capture", "PATHS", "MAX_RAW_FRAMES"]

PATHS = ("fast", "exact")
MAX_RAW_FRAMES = 100  # raw captures are 1 MiB per frame: only for short clips


@dataclass
class RenderedClip:
    views: RadarViews  # float32, normalised as requested
    torso_range_m: np.ndarray  # [T] range of the torso at the middle of each frame


def render_clip(
    plan: ClipPlan,
    rng: np.random.Generator,
    cfg: RadarConfig | None = None,
    synth: SynthConfig | None = None,
    path: str = "fast",
    normalize: str = "db",
    noise: bool = True,
    clutter: bool | None = None,
) -> RenderedClip:
    """Simulate ``plan`` and compute its views; the raw cube is produced and consumed chunk by chunk."""
    cfg = cfg or RadarConfig()
    return render_trajectories(
        body_trajectories(plan, cfg.frame_rate_hz), plan.num_frames, rng, cfg, synth, path, normalize, noise, clutter
    )


def render_trajectories(
    traj: Trajectories,
    num_frames: int,
    rng: np.random.Generator,
    cfg: RadarConfig | None = None,
    synth: SynthConfig | None = None,
    path: str = "fast",
    normalize: str = "db",
    noise: bool = True,
    clutter: bool | None = None,
) -> RenderedClip:
    """Simulate ``num_frames`` frames of any body trajectories (the parametric body's, or a skeleton's)."""
    cfg = cfg or RadarConfig()
    synth = synth or SynthConfig()
    if path not in PATHS:
        raise SynthError(f"path must be one of {PATHS}, got {path!r}")
    use_clutter = synth.clutter if clutter is None else clutter
    scene_clutter = sample_clutter(rng) if use_clutter else None
    if path == "fast":
        blocks = iter_fast_views(traj, scene_clutter, cfg, synth, num_frames, rng, noise=noise)
    else:
        if not noise:
            synth = SynthConfig(snr_db=300.0, clutter=synth.clutter)
        chunks = iter_adc_chunks(traj, scene_clutter, cfg, synth, num_frames, rng)
        blocks = iter_views(chunks, cfg)
    views = RadarViews.concat(blocks).normalized(normalize)
    mid = np.arange(num_frames) * cfg.frame_period_s + cfg.num_loops * cfg.loop_period_s / 2
    return RenderedClip(views, traj.torso_range(mid).astype(np.float32))


def write_raw_capture(
    plan: ClipPlan,
    rng: np.random.Generator,
    out_path,
    cfg: RadarConfig | None = None,
    synth: SynthConfig | None = None,
    fmt: str = "xwr18xx",
):
    """Simulate a short clip with the exact path and write it as a DCA1000 ``.bin`` (int16 I/Q,
    rounded and clipped), for testing readers and pipelines on raw data."""
    from radar_views import write_dca1000

    cfg = cfg or RadarConfig()
    if plan.num_frames > MAX_RAW_FRAMES:
        raise SynthError(f"raw output is for short clips (<= {MAX_RAW_FRAMES} frames), got {plan.num_frames}")
    synth = synth or SynthConfig()
    traj = body_trajectories(plan, cfg.frame_rate_hz)
    clutter = sample_clutter(rng) if synth.clutter else None
    cube = np.concatenate(list(iter_adc_chunks(traj, clutter, cfg, synth, plan.num_frames, rng)))
    parts = np.clip(np.round(np.stack([cube.real, cube.imag])), -32768, 32767)
    return write_dca1000(out_path, (parts[0] + 1j * parts[1]).astype(np.complex64), cfg, fmt)
