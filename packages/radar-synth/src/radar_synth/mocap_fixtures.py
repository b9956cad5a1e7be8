"""Tiny motion-capture corpora made from radar-synth's own motions, in each layout the readers take
(HumanML3D, BVH, joint arrays): for tests and examples, so that no motion data from elsewhere is
needed. Joints are exported at 20 fps in HumanML3D's frame (y up, metres, the body facing +z at the
first frame), captions come from radar-synth's caption grammar."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .captions import caption_clip
from .motion import ClipPlan, plan_clip
from .skeleton import SMPL22, Placement, body_joints, place_motion

__all__ = ["fixture_motions", "from_world", "write_humanml3d_fixture", "write_bvh_fixture", "write_joints_fixture"]

FPS = 20.0


def from_world(world: np.ndarray) -> np.ndarray:
    """Z-up world joints to HumanML3D's y-up frame: the inverse of ``skeleton.to_world(up="y")``."""
    return np.stack([world[..., 0], world[..., 2], -world[..., 1]], axis=-1)


def fixture_motions(count: int, seed: int = 0, max_frames: int = 300) -> list[tuple[ClipPlan, np.ndarray, list[str]]]:
    """``count`` planned clips with their SMPL-22 joints ``[T, 22, 3]`` (HumanML3D frame, 20 fps, facing
    +z, root starting above the origin) and three captions each."""
    out = []
    for i in range(count):
        rng = np.random.default_rng([seed, i, 11])
        plan = plan_clip(rng, 50.0, min_frames=120, max_frames=max_frames)
        # root above the origin, facing -y in the world: +z in HumanML3D's frame
        world = place_motion(body_joints(plan, 50.0, FPS), SMPL22, Placement(0.0, 0.0, -np.pi / 2))
        out.append((plan, from_world(world).astype(np.float32), caption_clip(plan.segments, rng)))
    return out


def write_humanml3d_fixture(root: str | os.PathLike, count: int = 6, seed: int = 0) -> Path:
    """A HumanML3D-shaped folder: ``new_joints/``, ``texts/`` (whole-motion captions, and for clips of
    several activities each segment as a captioned span), ``train/val/test.txt`` (the last two motions
    in val and test), and a mirrored copy (``M`` prefix, x negated) of the first motion."""
    root = Path(root)
    (root / "new_joints").mkdir(parents=True, exist_ok=True)
    (root / "texts").mkdir(exist_ok=True)
    ids = []
    for i, (plan, joints, captions) in enumerate(fixture_motions(count, seed)):
        mid = f"{i:06d}"
        np.save(root / "new_joints" / f"{mid}.npy", joints)
        lines = [f"{c}#{'/'.join(c.lower().split())}#0.0#0.0" for c in captions]
        if len(plan.segments) > 1:
            for seg in plan.segments:
                start, end = seg.start_frame / 50.0, seg.end_frame / 50.0
                words = seg.activity.replace("_", " ")
                lines.append(f"a person does this: {words}#a/person#{start:.2f}#{end:.2f}")
        (root / "texts" / f"{mid}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        ids.append(mid)
    mirrored = np.load(root / "new_joints" / f"{ids[0]}.npy") * np.array([-1.0, 1.0, 1.0], dtype=np.float32)
    np.save(root / "new_joints" / f"M{ids[0]}.npy", mirrored)
    (root / "texts" / f"M{ids[0]}.txt").write_text(
        (root / "texts" / f"{ids[0]}.txt").read_text(encoding="utf-8"), encoding="utf-8"
    )
    splits = {"train": ids[:-2] + [f"M{ids[0]}"], "val": ids[-2:-1], "test": ids[-1:]}
    for split, members in splits.items():
        (root / f"{split}.txt").write_text("".join(f"{m}\n" for m in members), encoding="utf-8")
    return root


def _captions_file(root: Path, captions: dict[str, list[str]]) -> Path:
    path = root / "captions.json"
    path.write_text(json.dumps(captions, indent=1) + "\n", encoding="utf-8")
    return path


def write_bvh_fixture(root: str | os.PathLike, count: int = 4, seed: int = 0) -> Path:
    """``<id>.bvh`` files (the SMPL-22 hierarchy, centimetres, y up) and ``captions.json``."""
    from .mocap import write_bvh

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    captions = {}
    for i, (_, joints, caps) in enumerate(fixture_motions(count, seed)):
        write_bvh(root / f"motion{i:03d}.bvh", joints * 100.0, SMPL22.joints, SMPL22.parents, FPS)
        captions[f"motion{i:03d}"] = caps
    _captions_file(root, captions)
    return root


def write_joints_fixture(root: str | os.PathLike, count: int = 4, seed: int = 0) -> Path:
    """``<id>.npy`` SMPL-22 joint arrays (y up, metres, 20 fps) and ``captions.json``."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    captions = {}
    for i, (_, joints, caps) in enumerate(fixture_motions(count, seed)):
        np.save(root / f"take{i:03d}.npy", joints)
        captions[f"take{i:03d}"] = caps
    _captions_file(root, captions)
    return root
