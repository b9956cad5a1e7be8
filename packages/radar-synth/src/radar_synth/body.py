"""Kinematic body of 16 ellipsoid segments and its forward kinematics.

World frame: radar at the origin, +y boresight (away from the radar), +x lateral (toward the
array's +x end, positive azimuth), +z up. Segment lengths are fractions of the height H
(Boulic-Thalmann / Chen, *The Micro-Doppler Effect in Radar*).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SEGMENTS", "BodyShape", "Pose", "forward_kinematics"]

SEGMENTS = (
    "head",
    "torso",
    "shoulder_l",
    "shoulder_r",
    "upper_arm_l",
    "upper_arm_r",
    "forearm_l",
    "forearm_r",
    "hip_l",
    "hip_r",
    "thigh_l",
    "thigh_r",
    "shank_l",
    "shank_r",
    "foot_l",
    "foot_r",
)
_FRACTIONS = dict(
    head=0.130,
    shoulder_width=0.259,
    torso=0.288,
    hip_width=0.191,
    thigh=0.245,
    shank=0.246,
    foot=0.143,
    upper_arm=0.188,
    forearm=0.152,
)
# equatorial radius of each segment's ellipsoid (m, for H = 1.75 m; scaled with H)
_RADIUS = dict(
    head=0.10, torso=0.15, shoulder=0.06, upper_arm=0.05, forearm=0.045, hip=0.08, thigh=0.075, shank=0.055, foot=0.045
)


@dataclass(frozen=True)
class BodyShape:
    height: float = 1.75  # metres

    def length(self, name: str) -> float:
        return _FRACTIONS[name] * self.height

    def radius(self, name: str) -> float:
        return _RADIUS[name] * self.height / 1.75

    @property
    def leg_length(self) -> float:
        """Thigh + shank: Boulic's Ht."""
        return self.length("thigh") + self.length("shank")


@dataclass
class Pose:
    """Joint angles (degrees) and root state over T time points (arrays of shape [T])."""

    root_x: np.ndarray  # pelvis ground position (m)
    root_y: np.ndarray
    heading: np.ndarray  # facing direction in the x-y plane (rad, 0 = +x, pi/2 = +y away from radar)
    pelvis_dz: np.ndarray  # vertical offset of the pelvis above standing height (m)
    angles: dict[str, np.ndarray]  # see ``ANGLE_NAMES`` in motion.py
    fall_angle: np.ndarray  # rotation of the whole body about the ankles (rad)
    fall_axis: np.ndarray  # [T] direction of the fall in body frame: 0 forward, pi backward, +-pi/2 sideways
    breathing: np.ndarray  # chest displacement along the facing direction (m)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _limb(side_vec, fwd, up, flex_deg, abd_deg, side_sign):
    """Direction of a limb hanging down, flexed forward by ``flex`` and abducted sideways."""
    f, a = np.radians(flex_deg)[:, None], np.radians(abd_deg)[:, None]
    sagittal = -np.cos(f) * up + np.sin(f) * fwd
    return np.cos(a) * sagittal + np.sin(a) * side_sign * side_vec


def forward_kinematics(pose: Pose, body: BodyShape) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Segment ellipsoids over time: centres ``[T, 16, 3]``, long axes ``[T, 16, 3]`` (unit),
    semi-axes ``[16, 2]`` (equatorial radius, half length)."""
    t = pose.root_x.shape[0]
    ang = pose.angles
    up = np.broadcast_to(np.array([0.0, 0.0, 1.0]), (t, 3))
    head_dir = np.stack([np.cos(pose.heading), np.sin(pose.heading), np.zeros(t)], -1)  # facing
    left = np.stack([-np.sin(pose.heading), np.cos(pose.heading), np.zeros(t)], -1)
    # torso: pitch (bend forward), roll (lean to the left), yaw (torsion of the upper body)
    pitch, roll, yaw = (np.radians(ang[k])[:, None] for k in ("torso_pitch", "torso_roll", "torso_yaw"))
    torso_dir = _unit(np.cos(pitch) * np.cos(roll) * up + np.sin(pitch) * head_dir + np.sin(roll) * left)
    fwd_up = _unit(np.cos(yaw) * head_dir + np.sin(yaw) * left)  # upper-body facing
    left_up = np.cross(torso_dir, fwd_up)
    left_up = _unit(left_up)
    fwd_up = _unit(np.cross(left_up, torso_dir))

    ankle_h = 0.04 * body.height
    pelvis = np.stack([pose.root_x, pose.root_y, np.full(t, body.leg_length + ankle_h)], -1)
    pelvis[:, 2] += pose.pelvis_dz
    neck = pelvis + body.length("torso") * torso_dir
    chest = pelvis + 0.5 * body.length("torso") * torso_dir + pose.breathing[:, None] * fwd_up
    head = neck + 0.5 * body.length("head") * torso_dir

    centres, axes, sizes = {}, {}, {}

    def put(name, a, b, radius, axis=None):
        centres[name] = 0.5 * (a + b)
        axes[name] = _unit(b - a) if axis is None else axis
        sizes[name] = (radius, max(0.5 * float(np.linalg.norm((b - a)[0])), radius))

    put("torso", pelvis, neck, body.radius("torso"))
    centres["torso"] = chest
    put("head", neck, neck + body.length("head") * torso_dir, body.radius("head"))
    centres["head"] = head
    hands = {}
    for side, sign in (("l", 1.0), ("r", -1.0)):
        shoulder = neck + sign * 0.5 * body.length("shoulder_width") * left_up
        put(f"shoulder_{side}", neck, shoulder, body.radius("shoulder"))
        upper = _limb(left_up, fwd_up, torso_dir, ang[f"shoulder_flex_{side}"], ang[f"shoulder_abd_{side}"], sign)
        elbow = shoulder + body.length("upper_arm") * upper
        put(f"upper_arm_{side}", shoulder, elbow, body.radius("upper_arm"))
        # elbow flexion bends the forearm forward/up from the upper-arm direction
        e = np.radians(ang[f"elbow_{side}"])[:, None]
        bend_raw = np.cross(upper, left_up)  # anterior normal of the upper arm
        norm = np.linalg.norm(bend_raw, axis=-1, keepdims=True)
        bend = np.where(norm > 1e-3, bend_raw / np.maximum(norm, 1e-9), fwd_up)
        fore = _unit(np.cos(e) * upper + np.sin(e) * bend)
        hand = elbow + body.length("forearm") * fore
        put(f"forearm_{side}", elbow, hand, body.radius("forearm"))
        hands[side] = hand
        hip = pelvis + sign * 0.5 * body.length("hip_width") * left
        put(f"hip_{side}", pelvis, hip, body.radius("hip"))
        thigh = _limb(left, head_dir, up, ang[f"hip_flex_{side}"], ang[f"hip_abd_{side}"], sign)
        knee = hip + body.length("thigh") * thigh
        put(f"thigh_{side}", hip, knee, body.radius("thigh"))
        k = np.radians(ang[f"knee_{side}"])[:, None]  # knee flexion bends the shank backward
        thigh_fwd = _unit(np.cross(thigh, left))  # anterior normal of the thigh
        shank = _unit(np.cos(k) * thigh - np.sin(k) * thigh_fwd)
        ankle = knee + body.length("shank") * shank
        put(f"shank_{side}", knee, ankle, body.radius("shank"))
        a = np.radians(ang[f"ankle_{side}"])[:, None]
        foot_dir = _unit(np.cos(a) * head_dir - np.sin(a) * up)
        put(f"foot_{side}", ankle, ankle + body.length("foot") * foot_dir, body.radius("foot"))

    c = np.stack([centres[n] for n in SEGMENTS], axis=1)  # [T, 16, 3]
    ax = np.stack([axes[n] for n in SEGMENTS], axis=1)
    # fall: rotate everything about the midpoint between the ankles (inverted pendulum)
    if np.any(pose.fall_angle != 0):
        pivot = 0.5 * (centres["foot_l"] + centres["foot_r"])  # [T, 3]
        pivot[:, 2] = 0.0
        direction = np.cos(pose.fall_axis)[:, None] * head_dir + np.sin(pose.fall_axis)[:, None] * left
        axis = _unit(np.cross(up, direction))  # rotating about this tips 'up' toward 'direction'
        c = pivot[:, None] + _rotate(c - pivot[:, None], axis[:, None], pose.fall_angle[:, None])
        ax = _rotate(ax, axis[:, None], pose.fall_angle[:, None])
    sizes_arr = np.array([sizes[n] for n in SEGMENTS])  # [16, 2]
    return c, ax, sizes_arr


def _rotate(v: np.ndarray, k: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Rodrigues rotation of vectors ``v`` about unit axes ``k`` by ``theta`` (broadcasting)."""
    cos, sin = np.cos(theta)[..., None], np.sin(theta)[..., None]
    return v * cos + np.cross(k, v) * sin + k * np.sum(k * v, axis=-1, keepdims=True) * (1 - cos)
