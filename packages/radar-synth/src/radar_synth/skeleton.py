"""Skeleton-driven scenes: joint positions ``[T, J, 3]`` from motion capture (HumanML3D's SMPL-22,
any BVH hierarchy, plain joint arrays) turned into the simulator's body trajectories.

One prolate ellipsoid per bone (centre at the bone's midpoint, long axis along it, half-length from
the bone, radius from a per-bone table scaled to the skeleton's size), plus a trunk volume (pelvis
to neck) and a head volume; the bones these replace are left out. Joints are resampled to the
simulator's pose rate (linear, then Gaussian smoothing), so the fast and exact paths, RCS, noise,
clutter and views are those of the parametric motions.

Coordinates (the simulator's world frame): radar at the origin, 1 m above the floor; +y boresight
(away from the radar), +x lateral (positive azimuth), +z up. A source in another frame is turned
into it by ``to_world`` (its up axis and units; HumanML3D: +y up, metres, facing +z).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .body import SEGMENTS as BODY_SEGMENTS
from .body import BodyShape, forward_kinematics
from .errors import SynthError
from .motion import DEFAULT_ROOM, ClipPlan, Room
from .scene import POSE_RATE_HZ, RADAR_HEIGHT_M, Trajectories, grounded_pose

__all__ = [
    "Skeleton",
    "SMPL22",
    "SKELETONS",
    "skeleton_from_parents",
    "skeleton_trajectories",
    "to_world",
    "place_motion",
    "Placement",
    "sample_placement",
    "facing_angle",
    "body_joints",
    "MotionError",
    "check_joints",
    "REFERENCE_HEIGHT_M",
]

REFERENCE_HEIGHT_M = 1.75  # the per-bone radii below are for a body of this height
# equatorial radius (m at REFERENCE_HEIGHT_M) of each kind of bone, as the parametric body's segments
RADIUS = {
    "head": 0.10,
    "trunk": 0.15,
    "collar": 0.04,
    "shoulder": 0.06,
    "upper_arm": 0.05,
    "forearm": 0.045,
    "hand": 0.035,
    "hip": 0.08,
    "thigh": 0.075,
    "shank": 0.055,
    "foot": 0.045,
    "spine": 0.12,
    "neck": 0.05,
    "other": 0.04,
}


MIN_BONE_M = 0.01


class MotionError(SynthError):
    """A motion that cannot be simulated; the message names the file."""


@dataclass(frozen=True)
class Skeleton:
    """Joint names and parents (-1: the root); ``bones`` as (parent, child, kind) for the ellipsoids;
    ``trunk`` and ``head`` the (from, to) joints of the two volumes (None: no such volume);
    ``left`` / ``right`` a joint pair across the body (hips) that gives the facing;
    ``height_factor`` turns the joints' vertical span into the body's height."""

    name: str
    joints: tuple[str, ...]
    parents: tuple[int, ...]
    bones: tuple[tuple[int, int, str], ...]
    trunk: tuple[int, int] | None
    head: tuple[int, int] | None
    left: int | None
    right: int | None
    height_factor: float = 1.0

    @property
    def segments(self) -> tuple[str, ...]:
        """One name per ellipsoid, in the trajectories' order: the bones, then trunk and head."""
        names = tuple(f"{self.joints[p]}-{self.joints[c]}" for p, c, _ in self.bones)
        return names + (("trunk",) if self.trunk else ()) + (("head",) if self.head else ())


_SMPL_JOINTS = (
    "pelvis",
    "left_hip",
    "right_hip",
    "spine1",
    "left_knee",
    "right_knee",
    "spine2",
    "left_ankle",
    "right_ankle",
    "spine3",
    "left_foot",
    "right_foot",
    "neck",
    "left_collar",
    "right_collar",
    "head",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
)
# HumanML3D's kinematic chains: [0, 2, 5, 8, 11], [0, 1, 4, 7, 10], [0, 3, 6, 9, 12, 15], [9, 14, 17, 19, 21], [9, 13,
# 16, 18, 20]
_SMPL_PARENTS = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19)
SMPL22 = Skeleton(
    "smpl22",
    _SMPL_JOINTS,
    _SMPL_PARENTS,
    bones=(
        (0, 1, "hip"),
        (0, 2, "hip"),
        (1, 4, "thigh"),
        (2, 5, "thigh"),
        (4, 7, "shank"),
        (5, 8, "shank"),
        (7, 10, "foot"),
        (8, 11, "foot"),
        (9, 13, "collar"),
        (9, 14, "collar"),
        (13, 16, "shoulder"),
        (14, 17, "shoulder"),
        (16, 18, "upper_arm"),
        (17, 19, "upper_arm"),
        (18, 20, "forearm"),
        (19, 21, "forearm"),
    ),
    trunk=(0, 12),
    head=(12, 15),
    left=1,
    right=2,
    height_factor=1.08,
)  # the head joint sits below the crown
SKELETONS = {"smpl22": SMPL22}  # SKELETON_NAMES in defaults

_KINDS = (
    ("head", "head"),
    ("neck", "neck"),
    ("collar", "collar"),
    ("clavicle", "collar"),
    ("shoulder", "shoulder"),
    ("forearm", "forearm"),
    ("lowerarm", "forearm"),
    ("elbow", "forearm"),
    ("upperarm", "upper_arm"),
    ("arm", "upper_arm"),
    ("hand", "hand"),
    ("wrist", "hand"),
    ("finger", "hand"),
    ("thumb", "hand"),
    ("upleg", "thigh"),
    ("thigh", "thigh"),
    ("hip", "hip"),
    ("knee", "shank"),
    ("shin", "shank"),
    ("leg", "shank"),
    ("ankle", "foot"),
    ("foot", "foot"),
    ("toe", "foot"),
    ("spine", "spine"),
    ("chest", "spine"),
    ("back", "spine"),
    ("abdomen", "spine"),
    ("pelvis", "spine"),
    ("root", "spine"),
)


def _kind(joint: str) -> str:
    """A bone's kind from the name of the joint it starts at, as BVH names segments (``LeftForeArm``
    -> forearm, ``LeftUpLeg`` -> thigh; unknown names: other)."""
    low = joint.lower().replace("_", "").replace(".", "").replace(" ", "")
    return next((kind for key, kind in _KINDS if key in low), "other")


def _side(name: str) -> str | None:
    """``left`` / ``right`` from a joint name (``LeftUpLeg``, ``l_hip``, ``thigh.R``); None if neither."""
    low = name.lower()
    for side in ("left", "right"):
        if (
            side in low
            or low.startswith((f"{side[0]}_", f"{side[0]}."))
            or low.endswith((f"_{side[0]}", f".{side[0]}"))
        ):
            return side
    return None


def skeleton_from_parents(names: list[str], parents: list[int], name: str = "bvh") -> Skeleton:
    """A skeleton from any hierarchy (a BVH file's joints and end sites): one bone per parent link,
    its radius chosen from the child's name; no separate volumes (the spine and head bones are the
    trunk and head); the facing from the first left / right hip-like pair."""
    if len(names) != len(parents) or not names:
        raise SynthError("a skeleton needs one parent index per joint")
    bones = tuple((p, c, _kind(names[p])) for c, p in enumerate(parents) if p >= 0)
    hips = [
        i for key in ("upleg", "thigh", "hip") for i, n in enumerate(names) if key in n.lower() and "_to_" not in n
    ]  # not write_bvh's zero-offset branch joints
    left = next((i for i in hips if _side(names[i]) == "left"), None)
    right = next((i for i in hips if _side(names[i]) == "right"), None)
    return Skeleton(name, tuple(names), tuple(parents), bones, None, None, left, right, 1.0)


def check_joints(joints: np.ndarray, skeleton: Skeleton, where: str) -> np.ndarray:
    """``joints`` as float64 ``[T, J, 3]`` for the skeleton; ``MotionError`` naming ``where`` otherwise."""
    arr = np.asarray(joints)
    if arr.ndim != 3 or arr.shape[1:] != (len(skeleton.joints), 3):
        raise MotionError(
            f"{where}: joints must be [T, {len(skeleton.joints)}, 3] for skeleton {skeleton.name}, "
            f"got {list(arr.shape)}"
        )
    if arr.shape[0] < 2:
        raise MotionError(f"{where}: a motion needs at least 2 frames, got {arr.shape[0]}")
    if not np.issubdtype(arr.dtype, np.number):
        raise MotionError(f"{where}: joints must be numbers, got dtype {arr.dtype}")
    if not np.isfinite(arr).all():
        frame = int(np.argwhere(~np.isfinite(arr))[0, 0])
        raise MotionError(f"{where}: NaN or infinite joint positions (first at frame {frame})")
    return arr.astype(np.float64)


def to_world(joints: np.ndarray, up: str = "y", units_m: float = 1.0) -> np.ndarray:
    """Source joints ``[T, J, 3]`` to a right-handed z-up frame in metres. ``up``: the source's up
    axis (``y``: HumanML3D, BVH; ``z``: already z-up); y-up ``(x, y, z)`` becomes ``(x, -z, y)``."""
    j = np.asarray(joints, dtype=np.float64) * units_m
    if up == "z":
        return j.copy()
    if up == "y":
        return np.stack([j[..., 0], -j[..., 2], j[..., 1]], axis=-1)
    raise SynthError(f"up must be 'y' or 'z', got {up!r}")


def facing_angle(world: np.ndarray, skeleton: Skeleton, frame: int = 0) -> float:
    """The body's facing (rad, 0 = +x) in a z-up frame at ``frame``: perpendicular to the right-to-left
    hip vector (the person's left is 90 degrees counter-clockwise of its facing); 0 without hips."""
    if skeleton.left is None or skeleton.right is None:
        return 0.0
    across = world[frame, skeleton.left, :2] - world[frame, skeleton.right, :2]
    if np.hypot(*across) < 1e-6:
        return 0.0
    return float(np.arctan2(-across[0], across[1]))  # the left vector rotated by -90 degrees


@dataclass(frozen=True)
class Placement:
    """Where a motion is put: its root starts at ``range_m`` / ``azimuth_deg``, facing ``heading``
    (rad, 0 = +x; pi/2 faces away from the radar)."""

    range_m: float
    azimuth_deg: float
    heading: float


def sample_placement(rng: np.random.Generator, rotation: float | None = None, room: Room = DEFAULT_ROOM) -> Placement:
    """As ``plan_clip`` draws a subject (within ``room``'s start bounds; by default 1.5-8 m, +-60
    degrees), facing the radar +-0.3 rad, or facing the radar turned by ``rotation`` (rad) for rotated
    copies of one motion."""
    r0, az0 = room.draw_start(rng)
    x, y = r0 * np.sin(np.radians(az0)), r0 * np.cos(np.radians(az0))
    toward = float(np.arctan2(-y, -x))
    turn = float(rng.uniform(-0.3, 0.3)) if rotation is None else rotation
    return Placement(r0, az0, toward + turn)


def place_motion(world: np.ndarray, skeleton: Skeleton, placement: Placement) -> np.ndarray:
    """Joints ``[T, J, 3]`` (z-up, metres) rotated about the vertical so that the body faces
    ``placement.heading`` at the first frame, moved so the root starts at the placement, and lifted
    so that the lowest joint over the whole motion touches the floor (z = 0)."""
    root = world[0, 0, :2]
    turn = placement.heading - facing_angle(world, skeleton)
    c, s = np.cos(turn), np.sin(turn)
    xy = world[..., :2] - root
    rotated = np.stack([c * xy[..., 0] - s * xy[..., 1], s * xy[..., 0] + c * xy[..., 1]], axis=-1)
    start = placement.range_m * np.array(
        [np.sin(np.radians(placement.azimuth_deg)), np.cos(np.radians(placement.azimuth_deg))]
    )
    out = np.concatenate([rotated + start, world[..., 2:] - world[..., 2].min()], axis=-1)
    return out


def _gaussian_smooth(x: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian filter along axis 0 (``sigma`` in samples), edges reflected."""
    if sigma <= 0:
        return x
    half = int(np.ceil(3 * sigma))
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma) ** 2)
    kernel /= kernel.sum()
    padded = (
        np.concatenate([x[half:0:-1], x, x[-2 : -half - 2 : -1]])
        if half < len(x)
        else np.pad(x, [(half, half)] + [(0, 0)] * (x.ndim - 1), mode="edge")
    )
    flat = padded.reshape(len(padded), -1)
    out = np.stack([np.convolve(flat[:, k], kernel, mode="valid") for k in range(flat.shape[1])], axis=-1)
    return out.reshape((len(x),) + x.shape[1:])


def resample(
    joints: np.ndarray, fps: float, duration_s: float, rate: float = POSE_RATE_HZ, smoothing_s: float = 0.05
) -> np.ndarray:
    """Joints at ``fps`` linearly interpolated to ``rate`` Hz over ``duration_s`` (held at the last
    frame beyond it), then Gaussian-smoothed with sigma ``smoothing_s`` seconds (0: none)."""
    times = np.arange(int(np.ceil(duration_s * rate)) + 2) / rate
    pos = np.clip(times * fps, 0, joints.shape[0] - 1.000001)
    i = pos.astype(np.int64)
    f = (pos - i)[:, None, None]
    out = joints[i] * (1 - f) + joints[i + 1] * f
    return _gaussian_smooth(out, smoothing_s * rate)


def _ellipsoids(j: np.ndarray, a: int, b: int, radius: float, at_end: bool = False):
    """Centres ``[S, 3]``, unit axes ``[S, 3]`` and (radius, half length) of one bone's ellipsoid;
    ``at_end``: centred on joint ``b`` (the head volume), else on the bone's midpoint."""
    vec = j[:, b] - j[:, a]
    length = np.linalg.norm(vec, axis=-1)
    axes = np.where(length[:, None] > 1e-6, vec / np.maximum(length, 1e-9)[:, None], np.array([0.0, 0.0, 1.0]))
    half = float(np.median(length)) if at_end else 0.5 * float(np.median(length))
    centre = j[:, b] if at_end else 0.5 * (j[:, a] + j[:, b])
    return centre, axes, (radius, max(half, radius))


def body_height(world: np.ndarray, skeleton: Skeleton) -> float:
    """The body's height (m): the 95th percentile over frames of the joints' vertical span, scaled by
    the skeleton's ``height_factor``."""
    span = world[..., 2].max(axis=1) - world[..., 2].min(axis=1)
    return float(np.percentile(span, 95)) * skeleton.height_factor


def skeleton_trajectories(
    world: np.ndarray,
    fps: float,
    skeleton: Skeleton,
    num_frames: int,
    frame_rate: float,
    rate: float = POSE_RATE_HZ,
    smoothing_s: float = 0.05,
) -> Trajectories:
    """Ellipsoid trajectories of placed joints ``[T, J, 3]`` (world frame, floor at z = 0) for a clip of
    ``num_frames`` radar frames at ``frame_rate``: one per bone, then the trunk and head volumes."""
    scale = body_height(world, skeleton) / REFERENCE_HEIGHT_M
    j = resample(world, fps, num_frames / frame_rate, rate, smoothing_s)  # [S, J, 3]
    lengths = np.median(
        np.linalg.norm(
            world[:, [b for _, b, _ in skeleton.bones]] - world[:, [a for a, _, _ in skeleton.bones]], axis=-1
        ),
        axis=0,
    )
    parts = [
        _ellipsoids(j, a, b, RADIUS[kind] * scale)  # bones under 1 cm (zero-offset joints) hold no body
        for (a, b, kind), length in zip(skeleton.bones, lengths, strict=True)
        if length >= MIN_BONE_M
    ]
    torso = None
    if skeleton.trunk:
        torso = len(parts)
        parts.append(_ellipsoids(j, *skeleton.trunk, RADIUS["trunk"] * scale))
    if skeleton.head:
        parts.append(_ellipsoids(j, *skeleton.head, RADIUS["head"] * scale, at_end=True))
    centres = np.stack([c for c, _, _ in parts], axis=1)  # [S, B, 3]
    axes = np.stack([a for _, a, _ in parts], axis=1)
    sizes = np.array([s for _, _, s in parts])  # [B, 2]
    centres[..., 2] -= RADAR_HEIGHT_M
    if torso is None:  # the torso range is read at the ellipsoid nearest the root
        torso = int(np.argmin(np.linalg.norm(centres[0] - (j[0, 0] - [0, 0, RADAR_HEIGHT_M]), axis=-1)))
    return Trajectories(centres, axes, sizes, rate, torso_index=torso)


def body_joints(plan: ClipPlan, frame_rate: float, fps: float = 20.0) -> np.ndarray:
    """The parametric body of a planned clip as SMPL-22 joints ``[T, 22, 3]`` at ``fps`` in the world
    frame (z up, floor at z = 0, metres): what a motion-capture export of radar-synth's own motion
    holds, for tests and fixtures. Joints are the body segments' end points."""
    body = BodyShape(plan.height)
    times = np.arange(int(np.floor(plan.num_frames / frame_rate * fps)) + 1) / fps
    c, ax, sizes = forward_kinematics(grounded_pose(plan, times, frame_rate, body), body)  # [T, 16, 3]

    def ends(name):
        k = BODY_SEGMENTS.index(name)
        return c[:, k] - ax[:, k] * sizes[k, 1], c[:, k] + ax[:, k] * sizes[k, 1]

    pelvis, neck = ends("torso")
    out = np.zeros((len(times), 22, 3))
    out[:, 0], out[:, 12], out[:, 15] = pelvis, neck, c[:, BODY_SEGMENTS.index("head")]
    for k, f in ((3, 0.25), (6, 0.5), (9, 0.75)):
        out[:, k] = pelvis + f * (neck - pelvis)
    for side, s in (("l", 0), ("r", 1)):
        out[:, 1 + s] = ends(f"hip_{side}")[1]
        out[:, 4 + s] = ends(f"thigh_{side}")[1]
        out[:, 7 + s] = ends(f"shank_{side}")[1]
        out[:, 10 + s] = ends(f"foot_{side}")[1]
        out[:, 13 + s] = c[:, BODY_SEGMENTS.index(f"shoulder_{side}")]
        out[:, 16 + s] = ends(f"shoulder_{side}")[1]
        out[:, 18 + s] = ends(f"upper_arm_{side}")[1]
        out[:, 20 + s] = ends(f"forearm_{side}")[1]
    return out
