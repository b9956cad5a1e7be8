"""Scatterer trajectories of a clip: body ellipsoids (with aspect-dependent RCS) and static clutter."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .body import SEGMENTS, BodyShape, Pose, forward_kinematics
from .defaults import CLUTTER_RANGE_M
from .motion import ClipPlan, clip_pose

__all__ = [
    "Trajectories",
    "body_trajectories",
    "ellipsoid_rcs",
    "StaticClutter",
    "sample_clutter",
    "RADAR_HEIGHT_M",
    "POSE_RATE_HZ",
    "grounded_pose",
]

RADAR_HEIGHT_M = 1.0  # radar mounted 1 m above the floor, boresight horizontal
POSE_RATE_HZ = 400.0  # kinematics sampled at 400 Hz and interpolated to chirp / sample times


def ellipsoid_rcs(los: np.ndarray, axis: np.ndarray, radius: np.ndarray, half_length: np.ndarray) -> np.ndarray:
    """RCS (m^2) of a prolate ellipsoid (semi-axes a = b = radius, c = half_length) seen along ``los``:
    ``sigma = pi a^2 b^2 c^2 / (a^2 sin^2(theta) cos^2(phi) + b^2 sin^2(theta) sin^2(phi) + c^2 cos^2(theta))^2``
    (Mahafza), which for a = b depends on the aspect angle theta to the long axis only."""
    cos_t = np.abs(np.einsum("...i,...i->...", los, axis))  # einsum: a sum over a length-3 axis is slow
    sin2 = 1.0 - np.minimum(cos_t, 1.0) ** 2
    a2, c2 = radius**2, half_length**2
    return np.pi * a2 * a2 * c2 / (a2 * sin2 + c2 * cos_t**2) ** 2


@dataclass
class Trajectories:
    """Body segments sampled at ``rate`` Hz from t = 0: centres ``[S, B, 3]`` (radar frame, radar at
    the origin), long axes ``[S, B, 3]``, semi-axes ``[B, 2]`` (B = 16 for the parametric body; a
    skeleton has one per bone and volume); ``torso_index``: the segment whose range is the torso's."""

    centres: np.ndarray
    axes: np.ndarray
    sizes: np.ndarray
    rate: float
    torso_index: int = SEGMENTS.index("torso")

    def at(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Linear interpolation to times ``t`` (any shape): centres, axes ``[*t.shape, B, 3]``."""
        pos = np.clip(t * self.rate, 0, self.centres.shape[0] - 1.000001)
        i = pos.astype(np.int64)
        f = (pos - i)[..., None, None]
        c = self.centres[i] * (1 - f) + self.centres[i + 1] * f
        a = self.axes[i] * (1 - f) + self.axes[i + 1] * f
        return c, a

    def torso_range(self, t: np.ndarray) -> np.ndarray:
        c, _ = self.at(t)
        return np.linalg.norm(c[..., self.torso_index, :], axis=-1)


def grounded_pose(plan: ClipPlan, times: np.ndarray, frame_rate: float, body: BodyShape) -> Pose:
    """The clip's pose at ``times`` with the pelvis lowered so that the lowest foot rests on the
    floor (from the posture only: a jump or a fall still leaves it)."""
    pose = clip_pose(plan, times, frame_rate, body)
    still = replace(pose, pelvis_dz=np.zeros_like(pose.pelvis_dz), fall_angle=np.zeros_like(pose.fall_angle))
    c0, _, sizes = forward_kinematics(still, body)
    feet = [SEGMENTS.index("foot_l"), SEGMENTS.index("foot_r")]
    lowest = c0[:, feet, 2].min(axis=1) - sizes[feet[0], 0]
    return replace(pose, pelvis_dz=pose.pelvis_dz - lowest)


def body_trajectories(plan: ClipPlan, frame_rate: float, rate: float = POSE_RATE_HZ) -> Trajectories:
    """Forward kinematics of a planned clip with the feet kept on the floor (except in flight)."""
    body = BodyShape(plan.height)
    duration = plan.num_frames / frame_rate
    times = np.arange(int(np.ceil(duration * rate)) + 2) / rate
    centres, axes, sizes = forward_kinematics(grounded_pose(plan, times, frame_rate, body), body)
    centres[..., 2] -= RADAR_HEIGHT_M
    return Trajectories(centres, axes, sizes, rate)


@dataclass
class StaticClutter:
    """Static point scatterers (walls, furniture): positions ``[K, 3]``, RCS ``[K]``."""

    positions: np.ndarray
    rcs: np.ndarray


def sample_clutter(
    rng: np.random.Generator, count: int | None = None, range_m: tuple[float, float] = CLUTTER_RANGE_M
) -> StaticClutter:
    """2-6 (or ``count``) static reflectors ``range_m`` away (``Room.clutter_range_m``), within +-70 deg."""
    k = int(rng.integers(2, 7)) if count is None else count
    r = rng.uniform(*range_m, k)
    az = np.radians(rng.uniform(-70, 70, k))
    z = rng.uniform(-0.9, 1.2, k)
    pos = np.stack([r * np.sin(az), r * np.cos(az), z], axis=-1)
    return StaticClutter(pos, rng.uniform(0.3, 8.0, k))
