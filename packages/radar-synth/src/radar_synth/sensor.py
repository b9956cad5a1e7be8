"""Clips in a point-cloud sensor's domain: the body simulated on the sensor's own profile and frame
rate, its range profiles (the fast path's body window, the scene's static clutter over every range
bin, receiver noise) run through the sensor's firmware chain (``radar_views.detect_points`` with its
``SENSOR_CHAINS`` settings), and the point clouds rendered on the grid's views
(``radar_views.point_cloud_views``, each point spread over the sensor's resolution cell) — the
processing a real recording of that sensor gets from ``seqclip data convert --from``.

A profile with elevated virtual elements (the IWR1443's raised TX2) gives each point its elevation
(``z``) as the chain estimates it from their phase; the views use range (the point's distance),
radial velocity and azimuth (its direction cosine), or with ``SensorSpec.angle = "elevation"`` the
elevation's sine in place of azimuth, as ``seqclip data convert --from NAME --angle elevation`` renders
a real recording.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from radar_views import (
    SENSOR_CHAINS,
    PointCloud,
    PointCloudChain,
    RadarConfig,
    RadarViews,
    check_angle,
    detect_points,
    point_cloud_views,
    sensor_profile,
)

from .errors import SynthError
from .fast import NoiseBank, body_window, static_profile
from .motion import DEFAULT_ROOM, ClipPlan, Room
from .scene import Trajectories, body_trajectories, sample_clutter
from .synth import SynthConfig, virtual_x

__all__ = [
    "SensorSpec",
    "SENSOR_ROOMS",
    "resolve_sensor",
    "check_sensor",
    "trajectory_point_cloud",
    "sensor_point_cloud",
    "render_sensor_trajectories",
    "render_sensor_clip",
]


# The rooms a registered sensor's recordings were made in, measured on the recordings' points
# (RadHAR: 5-95 % of its moving points' range 0.9-2.4 m, their azimuth -48 to 26 deg while walking
# and within +-26 deg otherwise); a sensor not listed here gets ``DEFAULT_ROOM``.
SENSOR_ROOMS: dict[str, Room] = {
    "iwr1443-radhar": Room(
        start_range_m=(1.2, 2.2), start_azimuth_deg=(-20.0, 20.0), range_m=(0.8, 2.6), azimuth_deg=50.0, fit_walks=True
    ),
}


@dataclass(frozen=True)
class SensorSpec:
    """A point-cloud sensor's domain: its ``profile`` (bins, chirps, frame rate), its firmware's
    ``chain``, the ``room`` its recordings were made in (where subjects stand, the walls), its
    antennas' ``elevation_beam_deg`` (``synth.elevation_gain``; None: none) and the ``angle`` the views'
    third rows hold (``radar_views.ANGLES``: azimuth, or elevation); ``name`` is what the records say.
    A registered sensor is ``SensorSpec.named(NAME)``; any other (a registered one with one setting
    changed, for an ablation) is built directly."""

    name: str
    profile: RadarConfig
    chain: PointCloudChain
    room: Room = field(default=DEFAULT_ROOM)
    elevation_beam_deg: float | None = None
    angle: str = "azimuth"

    def __post_init__(self) -> None:
        try:
            check_angle(self.angle)
        except ValueError as e:
            raise SynthError(f"sensor: {e}") from None
        if self.elevation_beam_deg is not None and not 0 < self.elevation_beam_deg <= 90:
            raise SynthError(f"sensor: elevation_beam_deg must be in (0, 90] or None, got {self.elevation_beam_deg}")

    @classmethod
    def named(cls, name: str, angle: str = "azimuth") -> SensorSpec:
        """The registered sensor ``name``, its views' third rows holding ``angle``."""
        check_sensor(name)
        room = SENSOR_ROOMS.get(name, DEFAULT_ROOM)
        return cls(name, sensor_profile(name), SENSOR_CHAINS[name], room, angle=angle)


def resolve_sensor(sensor: str | SensorSpec) -> SensorSpec:
    """``sensor`` as a ``SensorSpec`` (a name is looked up in the registries)."""
    return sensor if isinstance(sensor, SensorSpec) else SensorSpec.named(sensor)


def check_sensor(sensor: str | SensorSpec) -> None:
    """``SynthError`` (``sensor: ...``, as a CLI names its flag) unless ``sensor`` records point clouds."""
    if isinstance(sensor, SensorSpec):
        return
    if sensor not in SENSOR_CHAINS:
        raise SynthError(f"sensor: {sensor!r} is not a point-cloud sensor; known: {', '.join(SENSOR_CHAINS)}")


def trajectory_point_cloud(
    traj: Trajectories,
    duration_s: float,
    rng: np.random.Generator,
    sensor: str | SensorSpec,
    synth: SynthConfig | None = None,
    chunk: int = 8,
) -> PointCloud:
    """The point cloud sensor ``sensor`` records of body trajectories over ``duration_s`` seconds,
    one frame per sensor frame period."""
    spec = resolve_sensor(sensor)
    cfg, chain = spec.profile, spec.chain
    synth = synth or SynthConfig()
    count = max(1, int(np.floor(duration_s * cfg.frame_rate_hz + 1e-9)))
    n = cfg.num_samples
    clutter = sample_clutter(rng, range_m=spec.room.clutter_range_m) if synth.clutter else None
    beam = spec.elevation_beam_deg
    static = static_profile(clutter, cfg, beam) if clutter is not None else None  # [TX, RX, N]
    bank = NoiseBank(cfg, synth, rng)
    xv = virtual_x(cfg)
    frames: list[np.ndarray] = []
    for first in range(0, count, chunk):
        idx = np.arange(first, min(first + chunk, count))
        body, lo = body_window(traj, cfg, idx, xv, beam_deg=beam)  # [F, L, TX, RX, W]
        full = np.zeros((len(idx), *cfg.frame_shape), dtype=np.complex64)  # [F, L, TX, RX, N]
        full[..., (lo + np.arange(body.shape[-1])) % n] += body
        if static is not None:
            full += static
        for i in range(len(idx)):
            bank.add_window_noise(full[i], 0, rng)
        frames += detect_points(full, cfg, chain.clutter_removal, chain.cfar, input_domain="range")
    return PointCloud(frames, np.arange(count) * cfg.frame_period_s)


def sensor_point_cloud(
    plan: ClipPlan,
    frame_rate: float,
    rng: np.random.Generator,
    sensor: str | SensorSpec,
    synth: SynthConfig | None = None,
) -> PointCloud:
    """The point cloud sensor ``sensor`` records of ``plan`` (planned at ``frame_rate``: its
    ``num_frames`` span ``num_frames / frame_rate`` seconds)."""
    return trajectory_point_cloud(body_trajectories(plan, frame_rate), plan.num_frames / frame_rate, rng, sensor, synth)


def render_sensor_trajectories(
    traj: Trajectories,
    num_frames: int,
    rng: np.random.Generator,
    sensor: str | SensorSpec,
    grid: RadarConfig | None = None,
    synth: SynthConfig | None = None,
) -> RadarViews:
    """``num_frames`` frames (at ``grid``'s rate) of body trajectories as sensor ``sensor`` records
    them (``trajectory_point_cloud``), on ``grid``'s bins, normalised in dB."""
    grid = grid or RadarConfig()
    spec = resolve_sensor(sensor)
    cloud = trajectory_point_cloud(traj, num_frames / grid.frame_rate_hz, rng, spec, synth)
    return point_cloud_views(cloud, grid, spec.profile, num_frames=num_frames, angle=spec.angle).normalized()


def render_sensor_clip(
    plan: ClipPlan,
    rng: np.random.Generator,
    sensor: str | SensorSpec,
    grid: RadarConfig | None = None,
    synth: SynthConfig | None = None,
) -> RadarViews:
    """The views of ``plan`` (planned at ``grid``'s frame rate) as sensor ``sensor`` records them."""
    grid = grid or RadarConfig()
    return render_sensor_trajectories(
        body_trajectories(plan, grid.frame_rate_hz), plan.num_frames, rng, sensor, grid, synth
    )
