"""Motion-capture corpora as motions to simulate: the HumanML3D layout, a folder of BVH files, a
folder of joint arrays. A reader lists ``MotionItem``s (one per clip to simulate: a whole motion or
a captioned time span of it) without loading the joints; ``load_motion`` loads one item's joints.
``write_bvh`` writes joint positions as a BVH file (for fixtures and exports).

HumanML3D (https://github.com/EricGuo5513/HumanML3D) layout: ``new_joints/<id>.npy`` (float32
``[T, 22, 3]``, y up, metres, 20 fps), ``texts/<id>.txt`` (one description a line,
``caption#tokens#start#end`` in seconds, ``0.0#0.0`` the whole motion, other spans a sub-clip with its
own captions), ``train.txt`` / ``val.txt`` / ``test.txt`` (ids; an ``M`` prefix marks a mirrored copy).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from radar_text_data.textfile import read_text

from .defaults import MOTION_SOURCES
from .skeleton import SKELETONS, MotionError, Skeleton, check_joints, skeleton_from_parents

__all__ = [
    "MotionItem",
    "SOURCES",
    "read_humanml3d",
    "read_bvh_folder",
    "read_joints_folder",
    "load_motion",
    "write_bvh",
    "humanml3d_captions",
    "read_source",
]

SOURCES = MOTION_SOURCES
HUMANML3D_FPS = 20.0
SPLIT_FILES = {"train": "train.txt", "val": "val.txt", "test": "test.txt"}


@dataclass(frozen=True)
class MotionItem:
    """One clip to simulate: the joints in ``file`` (``[T, J, 3]`` .npy, or a .bvh), from ``start_s``
    to ``end_s`` seconds (``end_s`` None: to the end), its ``captions``, ``split`` (None: a seeded
    split is drawn), and the spans inside it that have captions of their own (``text_spans``, seconds)."""

    id: str
    file: str
    source: str
    captions: tuple[str, ...]
    split: str | None = None
    start_s: float = 0.0
    end_s: float | None = None
    fps: float | None = None  # None: read from the file (BVH)
    skeleton: str = "smpl22"
    mirrored: bool = False
    text_spans: tuple[tuple[float, float, tuple[str, ...]], ...] = ()
    window: int | None = None  # the k-th window of a longer motion (``SimulateOptions.window_frames``)


def humanml3d_captions(path: Path) -> dict[tuple[float, float], list[str]]:
    """``{(start_s, end_s): [caption, ...]}`` from a HumanML3D text file (``(0.0, 0.0)``: the whole
    motion); ``MotionError`` naming the file and line when it is missing, empty or malformed."""
    if not path.is_file():
        raise MotionError(f"{path}: text file missing")
    spans: dict[tuple[float, float], list[str]] = {}
    for lineno, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        parts = line.strip().split("#")
        if len(parts) < 4 or not parts[0].strip():
            raise MotionError(f"{path}:{lineno}: expected 'caption#tokens#start#end', got {line.strip()[:80]!r}")
        try:
            start, end = float(parts[-2]), float(parts[-1])
        except ValueError:
            raise MotionError(
                f"{path}:{lineno}: start and end must be seconds, got {parts[-2]!r}, {parts[-1]!r}"
            ) from None
        start, end = (0.0, 0.0) if math.isnan(start) or math.isnan(end) else (start, end)
        if start < 0 or end < 0 or (end != 0.0 and end <= start):
            raise MotionError(f"{path}:{lineno}: time span {start}-{end} s is not a span")
        spans.setdefault((start, end), []).append(parts[0].strip())
    if not spans:
        raise MotionError(f"{path}: text file is empty")
    return spans


def _split_ids(root: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for split, name in SPLIT_FILES.items():
        path = root / name
        if path.is_file():
            for line in read_text(path).split():
                out.setdefault(line.strip(), split)
    return out


def read_humanml3d(
    root: str | os.PathLike, mirrored: bool = True, problems: list[tuple[str, str]] | None = None
) -> list[MotionItem]:
    """The clips of a HumanML3D folder: each motion with whole-motion captions, and each captioned
    sub-span as a clip of its own; the splits from its split files (ids in none are left out, as
    HumanML3D's loaders do; without split files a seeded split is drawn). ``mirrored``: keep the
    ``M``-prefixed mirrored copies. A missing, empty or malformed text file raises ``MotionError``,
    or with a ``problems`` list is appended to it as ``(file, message)`` and its motion left out."""
    root = Path(root)
    joints_dir, texts_dir = root / "new_joints", root / "texts"
    for d in (joints_dir, texts_dir):
        if not d.is_dir():
            raise MotionError(f"{root}: not a HumanML3D folder (no {d.name}/)")
    splits = _split_ids(root)
    ids = sorted(p.stem for p in joints_dir.glob("*.npy"))
    if splits:
        ids = [i for i in ids if i in splits]
    if not mirrored:
        ids = [i for i in ids if not i.startswith("M")]
    items = []
    for mid in ids:
        try:
            spans = humanml3d_captions(texts_dir / f"{mid}.txt")
        except MotionError as err:
            if problems is None:
                raise
            problems.append((str(texts_dir / f"{mid}.txt"), str(err)))
            continue
        file, split, is_m = str(joints_dir / f"{mid}.npy"), splits.get(mid), mid.startswith("M")
        parts = sorted((span, caps) for span, caps in spans.items() if span != (0.0, 0.0))
        if (0.0, 0.0) in spans:
            items.append(
                MotionItem(
                    mid,
                    file,
                    "humanml3d",
                    tuple(spans[(0.0, 0.0)]),
                    split,
                    fps=HUMANML3D_FPS,
                    mirrored=is_m,
                    text_spans=tuple((s, e, tuple(c)) for (s, e), c in parts),
                )
            )
        for k, ((start, end), caps) in enumerate(parts):
            items.append(
                MotionItem(
                    f"{mid}_span{k}", file, "humanml3d", tuple(caps), split, start, end, HUMANML3D_FPS, mirrored=is_m
                )
            )
    return items


def _captioned(
    root: Path, suffix: str, captions_file: str | os.PathLike | None, source: str, **fields
) -> list[MotionItem]:
    from radar_text_data.convert import read_captions

    if not root.is_dir():
        raise MotionError(f"{root}: source folder not found")
    files = sorted(root.glob(f"*{suffix}"))
    if not files:
        raise MotionError(f"{root}: no {suffix} files")
    if captions_file is None:
        raise MotionError(
            f"{root}: --captions FILE is needed for {source} sources (JSON {{id: [caption, ...]}} or "
            'JSON lines {"id", "captions"}, as seqclip data convert reads)'
        )
    try:
        captions = read_captions(Path(captions_file))
    except (FileNotFoundError, ValueError) as err:
        raise MotionError(str(err)) from None
    items = []
    for path in files:
        caps = captions.get(path.stem)
        if not caps or not all(isinstance(c, str) and c.strip() for c in caps):
            raise MotionError(f"{captions_file}: no captions for {path.name} (id {path.stem!r})")
        items.append(MotionItem(path.stem, str(path), source, tuple(c.strip() for c in caps), **fields))
    return items


def read_bvh_folder(root: str | os.PathLike, captions_file: str | os.PathLike | None) -> list[MotionItem]:
    """One clip per ``.bvh`` file (its frame rate and hierarchy read from it), captions by file stem."""
    return _captioned(Path(root), ".bvh", captions_file, "bvh", skeleton="bvh")


def read_joints_folder(
    root: str | os.PathLike,
    captions_file: str | os.PathLike | None,
    skeleton: str = "smpl22",
    fps: float = HUMANML3D_FPS,
) -> list[MotionItem]:
    """One clip per ``.npy`` file of joints ``[T, J, 3]`` of a named skeleton at ``fps``, captions by stem."""
    if skeleton not in SKELETONS:
        raise MotionError(f"unknown skeleton {skeleton!r}; known: {sorted(SKELETONS)}")
    if not fps > 0:
        raise MotionError(f"fps must be > 0, got {fps}")
    return _captioned(Path(root), ".npy", captions_file, "joints", skeleton=skeleton, fps=fps)


def read_source(
    src: str | os.PathLike,
    source: str,
    captions_file: str | os.PathLike | None = None,
    skeleton: str = "smpl22",
    fps: float = HUMANML3D_FPS,
    mirrored: bool = True,
    problems: list[tuple[str, str]] | None = None,
) -> list[MotionItem]:
    """The clips of a corpus folder in one of ``SOURCES`` (see the readers; ``problems``: as
    ``read_humanml3d`` takes it)."""
    if source == "humanml3d":
        return read_humanml3d(src, mirrored, problems)
    if source == "bvh":
        return read_bvh_folder(src, captions_file)
    if source == "joints":
        return read_joints_folder(src, captions_file, skeleton, fps)
    raise MotionError(f"unknown source {source!r}; choose from {list(SOURCES)}")


def _bvh_problem(err: Exception) -> str:
    """What is wrong with a BVH file, in its own terms (numpy's row-length error names a numpy option)."""
    import re

    ragged = re.search(r"number of columns changed from (\d+) to (\d+) at row (\d+)", str(err))
    if ragged:
        want, got, row = ragged.groups()
        return f"motion frame {row} has {got} values, but the hierarchy's channels need {want} per frame"
    return f"{type(err).__name__}: {err}"


def _read_bvh(path: str) -> tuple[np.ndarray, Skeleton, float]:
    try:
        import pybvh
    except ImportError:
        raise MotionError("BVH sources need pybvh: pip install 'radar-synth[bvh]'") from None
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bvh = pybvh.read_bvh_file(path, world_up="+y")
            positions = bvh.node_positions()  # [F, N, 3], joints and end sites, world frame
    except (OSError, ValueError, IndexError, KeyError) as err:
        raise MotionError(f"{path}: unreadable BVH ({_bvh_problem(err)})") from None
    nodes = list(bvh.nodes)
    index = {id(n): i for i, n in enumerate(nodes)}
    parents = [-1 if n.parent is None else index[id(n.parent)] for n in nodes]
    return positions, skeleton_from_parents([n.name for n in nodes], parents), 1.0 / float(bvh.frame_time)


def load_motion(item: MotionItem) -> tuple[np.ndarray, Skeleton, float]:
    """The item's joints ``[T, J, 3]`` (source frame and units, cut to its span), skeleton and fps;
    ``MotionError`` naming the file for a wrong shape, NaN or infinite values, or a span outside the motion."""
    if item.source == "bvh":
        joints, skeleton, fps = _read_bvh(item.file)
    else:
        if item.skeleton not in SKELETONS:
            raise MotionError(f"{item.file}: unknown skeleton {item.skeleton!r}; known: {sorted(SKELETONS)}")
        skeleton, fps = SKELETONS[item.skeleton], float(item.fps or HUMANML3D_FPS)
        try:
            joints = np.load(item.file, allow_pickle=False)
        except (OSError, ValueError, EOFError) as err:
            raise MotionError(f"{item.file}: unreadable joints ({type(err).__name__}: {err})") from None
    joints = check_joints(joints, skeleton, item.file)
    duration = len(joints) / fps  # frame k covers [k, k + 1) / fps
    end = duration if item.end_s is None or item.end_s == 0.0 else item.end_s
    if item.start_s >= duration or end > duration + 1e-6:
        raise MotionError(f"{item.file}: time span {item.start_s}-{end} s lies outside the motion ({duration:.2f} s)")
    first, last = int(round(item.start_s * fps)), min(len(joints) - 1, int(round(end * fps)))
    return joints[first : last + 1], skeleton, fps


def write_bvh(
    path: str | os.PathLike, joints: np.ndarray, names: Sequence[str], parents: Sequence[int], fps: float
) -> None:
    """Joint positions ``[T, J, 3]`` (y up) as a BVH file whose forward kinematics gives them back:
    every joint with several children gets one zero-offset branch joint per child, and each joint's
    rotation turns its single child's rest offset (the first frame's bone) onto the bone of each frame
    (bone lengths must stay constant, as in a rigid skeleton). Rotation channels ``Zrotation
    Xrotation Yrotation``; leaves end in an End Site."""
    from .bvh_writer import bvh_text

    Path(path).write_text(
        bvh_text(np.asarray(joints, dtype=np.float64), list(names), list(parents), fps), encoding="utf-8"
    )
