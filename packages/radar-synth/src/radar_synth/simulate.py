"""``simulate_corpus``: motion-capture clips (``mocap`` readers) simulated to radar views and written
in the radar-text-data format, as a directory or WebDataset shards.

Each clip is placed as ``plan_clip`` places a subject (a seeded draw of distance, azimuth and facing;
``rotations`` copies turned about the vertical), resampled to the pose rate, and rendered on the
same fast or exact path as the parametric motions. Deterministic: a clip depends only on the seed
and its id, so 1 and 2 workers write the same bytes. Atomic and resumable: clips are written one
by one into ``.OUT.simulate-partial`` beside ``out`` (``partial``); an interrupted run started again
with the same options continues there, and only the finished dataset is moved to ``out``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from radar_text_data import MAX_FRAMES, ClipRecord, clip_arrays, encode_clip
from radar_text_data.contract import FRAME_MULTIPLE
from radar_views import RadarConfig, atomic_write, check_angle, check_new_output

from .clip import render_trajectories
from .defaults import FORMATS, SPLIT_FRACTIONS
from .engine import parallel_map
from .errors import SynthError
from .mocap import MotionItem, load_motion
from .motion import DEFAULT_ROOM, Room
from .partial import (
    DATASET,
    finished,
    open_partial,
    partial_dir,
    publish,
    read_record,
    write_record,
)
from .sensor import SensorSpec, check_sensor, render_sensor_trajectories
from .skeleton import (
    MotionError,
    Placement,
    Skeleton,
    body_height,
    place_motion,
    sample_placement,
    skeleton_trajectories,
    to_world,
)
from .synth import SynthConfig

__all__ = ["SimulateOptions", "SimulateSummary", "simulate_corpus", "check_items", "partial_dir", "MIN_CLIP_FRAMES"]

MIN_CLIP_FRAMES = FRAME_MULTIPLE  # a motion shorter than this many radar frames cannot be a clip
WINDOW_MARGIN_S = 0.1  # poses beyond a window's end: rounding to pose frames (>= 10 fps) still fills it
HEIGHT_RANGE_M = (0.5, 2.5)  # a body outside this height has the wrong units (or is not a person)


@dataclass(frozen=True)
class SimulateOptions:
    """How a corpus is simulated: ``rotations`` copies of each motion turned about the vertical,
    clips capped at ``max_frames`` radar frames, the source's ``up`` axis and ``units_m`` (metres per
    unit), Gaussian ``smoothing_s`` after resampling, noise, path, and the seeded split of sources
    without splits of their own."""

    seed: int = 0
    rotations: int = 1
    max_frames: int = MAX_FRAMES
    up: str = "y"
    units_m: float = 1.0
    smoothing_s: float = 0.05
    snr_db: float = 0.0
    path: str = "fast"
    split_fractions: tuple[float, float, float] = SPLIT_FRACTIONS
    radar: dict = field(default_factory=lambda: RadarConfig().to_dict())
    window_frames: int | None = None  # longer motions become clips of this many frames ...
    stride_frames: int | None = None  # ... starting every stride frames (None: the window, no overlap)
    sensor: str | None = None  # a point-cloud sensor's domain (radar_synth.sensor), rendered on ``radar``'s views
    angle: str = "azimuth"  # what the views' third rows hold with a sensor (radar_views.ANGLES)

    def __post_init__(self) -> None:
        if self.window_frames is not None and not MIN_CLIP_FRAMES <= self.window_frames <= self.max_frames:
            raise SynthError(
                f"window_frames must lie in [{MIN_CLIP_FRAMES}, max_frames {self.max_frames}], got {self.window_frames}"
            )
        if self.stride_frames is not None and (self.window_frames is None or self.stride_frames < 1):
            raise SynthError(f"stride_frames needs window_frames and must be >= 1, got {self.stride_frames}")
        if self.rotations < 1:
            raise SynthError(f"rotations must be >= 1, got {self.rotations}")
        if not MIN_CLIP_FRAMES <= self.max_frames <= MAX_FRAMES:
            raise SynthError(f"max_frames must lie in [{MIN_CLIP_FRAMES}, {MAX_FRAMES}], got {self.max_frames}")
        if not self.units_m > 0:
            raise SynthError(f"units_m must be > 0, got {self.units_m}")
        if not self.smoothing_s >= 0:
            raise SynthError(f"smoothing_s must be >= 0, got {self.smoothing_s}")
        if self.up not in ("y", "z"):
            raise SynthError(f"up must be 'y' or 'z', got {self.up!r}")
        if self.sensor is not None:
            check_sensor(self.sensor)
        try:
            check_angle(self.angle)
        except ValueError as e:
            raise SynthError(str(e)) from None
        if self.angle != "azimuth" and self.sensor is None:
            raise SynthError(f"angle {self.angle!r} needs a sensor (the dense views hold azimuth)")

    @property
    def sensor_spec(self) -> SensorSpec | None:
        """The sensor's domain, its views' third rows holding ``angle`` (None: the dense views)."""
        return None if self.sensor is None else SensorSpec.named(self.sensor, self.angle)


@dataclass
class SimulateSummary:
    out: Path
    clips: int  # written
    resumed: int  # already written by an interrupted run
    skipped: list[tuple[str, str]]  # (file, problem) of motions left out (skip_bad)
    cropped: int  # clips longer than max_frames, cut to it


def _clip_seed(seed: int, clip_id: str) -> list[int]:
    return [seed, int.from_bytes(hashlib.sha256(clip_id.encode()).digest()[:8], "little")]


def _frames(duration_s: float, cfg: RadarConfig, max_frames: int) -> tuple[int, bool]:
    frames = int(np.floor(duration_s * cfg.frame_rate_hz + 1e-9))
    return min(frames, max_frames), frames > max_frames


def _world(item: MotionItem, opts: SimulateOptions) -> tuple[np.ndarray, Skeleton, float]:
    """The item's joints in the z-up world frame (metres), its skeleton and fps; ``MotionError``
    when the body's height says the units are wrong."""
    joints, skeleton, fps = load_motion(item)
    world = to_world(joints, opts.up, opts.units_m)
    height = body_height(world, skeleton)
    if not HEIGHT_RANGE_M[0] <= height <= HEIGHT_RANGE_M[1]:
        raise MotionError(
            f"{item.file}: the body is {height:.2f} m tall in metres; wrong up axis or units "
            f"(units_m={opts.units_m}, up={opts.up!r})?"
        )
    return world, skeleton, fps


def check_items(
    items: Sequence[MotionItem], opts: SimulateOptions, durations: dict[int, float] | None = None
) -> list[tuple[MotionItem, str]]:
    """``(item, problem)`` for every item that cannot be simulated (unreadable, wrong shape, NaN,
    span outside the motion, shorter than ``MIN_CLIP_FRAMES`` radar frames, implausible height);
    ``durations``, when given, gets each good item's length in seconds under ``id(item)``."""
    cfg, problems = RadarConfig.from_dict(opts.radar), []
    for item in items:
        try:
            world, _, fps = _world(item, opts)
            if durations is not None:
                durations[id(item)] = (len(world) - 1) / fps
            frames, _ = _frames((len(world) - 1) / fps, cfg, opts.max_frames)
            if frames < MIN_CLIP_FRAMES:
                raise MotionError(
                    f"{item.file}: the motion{'' if item.end_s is None else ' span'} lasts "
                    f"{(len(world) - 1) / fps:.2f} s, shorter than the shortest clip "
                    f"({MIN_CLIP_FRAMES} frames at {cfg.frame_rate_hz:g} Hz)"
                )
        except MotionError as err:
            problems.append((item, str(err)))
    return problems


def _placed(
    world: np.ndarray,
    skeleton: Skeleton,
    rng: np.random.Generator,
    rotation: float | None,
    frames: int,
    fps: float,
    frame_rate: float,
    room: Room = DEFAULT_ROOM,
) -> tuple[np.ndarray, Placement]:
    """The motion placed by a seeded draw in ``room``; redrawn (up to 20 times) while its root would
    leave the room's floor (by default 1-10 m and +-65 degrees of the radar) during the clip."""
    last = min(len(world) - 1, int(np.ceil(frames / frame_rate * fps)))
    for _ in range(20):
        placement = sample_placement(rng, rotation, room)
        placed = place_motion(world, skeleton, placement)
        root = placed[: last + 1, 0, :2]
        if room.holds(root[:, 0], root[:, 1]):
            break
    return placed, placement


def _task(args) -> list[dict]:
    """Simulate every rotated copy of one item into ``work`` (skipping copies already there)."""
    item, ids, split, opts, work, rel_file = args
    done = [read_record(work, cid) for cid in ids]
    if all(row is not None for row in done):  # finished by an interrupted run
        return [row for row in done if row is not None]
    cfg = RadarConfig.from_dict(opts.radar)
    world, skeleton, fps = _world(item, opts)
    frames, cropped = _frames((len(world) - 1) / fps, cfg, opts.window_frames or opts.max_frames)
    cropped = cropped and item.window is None  # a window's span is cut to exactly window_frames
    spec = opts.sensor_spec
    room = spec.room if spec is not None else DEFAULT_ROOM
    out = []
    for k, (cid, row) in enumerate(zip(ids, done, strict=True)):
        if row is not None:
            out.append(row)
            continue
        rng = np.random.default_rng(_clip_seed(opts.seed, cid))
        rotation = None if opts.rotations == 1 else 2 * np.pi * k / opts.rotations
        placed, placement = _placed(world, skeleton, rng, rotation, frames, fps, cfg.frame_rate_hz, room)
        traj = skeleton_trajectories(placed, fps, skeleton, frames, cfg.frame_rate_hz, smoothing_s=opts.smoothing_s)
        if spec is None:
            rendered = render_trajectories(traj, frames, rng, cfg, SynthConfig(snr_db=opts.snr_db), opts.path)
            arrays = clip_arrays(rendered.views.as_dict(), torso_range_m=rendered.torso_range_m)
        else:
            views = render_sensor_trajectories(traj, frames, rng, spec, cfg, SynthConfig(snr_db=opts.snr_db))
            arrays = clip_arrays(views.as_dict())
        atomic_write(Path(work) / DATASET / "clips" / f"{cid}.npz", encode_clip(arrays))
        row = _record(
            item, cid, split, frames, cfg, placement, rotation, rel_file, body_height(world, skeleton), cropped
        )
        if spec is not None:
            row["sensor"] = spec.name
            if spec.angle != "azimuth":
                row["angle"] = spec.angle
        write_record(work, row)
        out.append(row)
    return out


def _record(
    item: MotionItem,
    cid: str,
    split: str,
    frames: int,
    cfg: RadarConfig,
    placement: Placement,
    rotation: float | None,
    rel_file: str,
    height: float,
    cropped: bool,
) -> dict:
    rate = cfg.frame_rate_hz
    spans = [
        {"start_frame": int(round(s * rate)), "end_frame": min(frames, int(round(e * rate))), "captions": list(c)}
        for s, e, c in item.text_spans
        if int(round(s * rate)) < frames
    ]
    return {
        "id": cid,
        "split": split,
        "file": f"clips/{cid}.npz",
        "captions": list(item.captions),
        "segments": [],
        "frame_rate_hz": rate,
        "num_frames": frames,
        "radar": cfg.to_dict(),
        "subject": {
            "height_m": round(height, 3),
            "start_range_m": round(placement.range_m, 3),
            "start_azimuth_deg": round(placement.azimuth_deg, 2),
        },
        "source": {
            "format": item.source,
            "file": rel_file,
            "motion": item.id,
            "start_s": item.start_s,
            "end_s": item.end_s,
            "mirrored": item.mirrored,
            "cropped": cropped,
            "window": item.window,
            "rotation_deg": None if rotation is None else round(float(np.degrees(rotation)), 3),
        },
        "text_spans": spans,
    }


def _splits(items: Sequence[MotionItem], opts: SimulateOptions) -> list[str]:
    """Each item's split: its own, else a seeded split of the motion files (all clips of one file,
    and all their rotated copies, share it)."""
    from radar_text_data.convert import split_by_fraction

    files = sorted({i.file for i in items if i.split is None})
    drawn = (
        split_by_fraction(
            files,
            opts.split_fractions[1],
            opts.split_fractions[2],
            opts.seed,
            "motion files without a split of their own",
        )
        if files
        else {}
    )
    return [i.split or drawn[i.file] for i in items]


def _work_dir(out: Path, items: Sequence[MotionItem], opts: SimulateOptions) -> Path:
    """The partial directory of this run; one left by a run with other options or motions is refused."""
    stamp = json.dumps({"options": asdict(opts), "items": [asdict(i) for i in items]}, sort_keys=True, default=str)
    return open_partial(out, "simulate", stamp, "motions")


def simulate_corpus(
    items: Sequence[MotionItem],
    out: str | os.PathLike,
    opts: SimulateOptions | None = None,
    root: str | os.PathLike | None = None,
    workers: int = 1,
    skip_bad: bool = False,
    format: str = "directory",
    shard_size: int | None = None,
    overwrite: bool = False,
    progress: bool = True,
    read_problems: Sequence[tuple[str, str]] = (),
    engine: str = "local",
    ray_address: str = "auto",
) -> SimulateSummary:
    """Simulate ``items`` into ``out`` (a dataset directory, or shards with ``format="wds"``).
    Every item is checked first: a bad one raises ``MotionError`` naming its file before anything is
    written, unless ``skip_bad`` (left out and counted, with the reader's ``read_problems``).
    ``root``: the corpus folder, for the source paths recorded in each record. ``engine`` / ``ray_address``:
    where the motions are simulated (``radar_synth.engine``; the same bytes either way)."""
    opts, out = opts or SimulateOptions(), Path(out)
    if format not in FORMATS:
        raise SynthError(f"format must be one of {FORMATS}, got {format!r}")
    check_new_output(out, overwrite)
    durations: dict[int, float] = {}
    problems = check_items(items, opts, durations)
    if problems and not skip_bad:
        raise MotionError(
            problems[0][1]
            + (f" (and {len(problems) - 1} more problem(s); --skip-bad leaves them out)" if len(problems) > 1 else "")
        )
    bad = {id(i) for i, _ in problems}
    good = [w for i in items if id(i) not in bad for w in _windows(i, durations[id(i)], opts)]
    if not good:
        raise MotionError("no motion could be simulated" + (f": {problems[0][1]}" if problems else ""))
    splits = _splits(good, opts)  # a corpus too small for the splits is refused before anything is written
    work = _work_dir(out, good, opts)
    resumed = finished(work)
    tasks = [
        (
            item,
            _copy_ids(item, opts),
            split,
            opts,
            str(work),
            os.path.relpath(item.file, root) if root else Path(item.file).name,
        )
        for item, split in zip(good, splits, strict=True)
    ]
    bar = tqdm(total=sum(len(t[1]) for t in tasks), desc="simulating motions", unit="clip", disable=not progress)
    records = []
    for rows in parallel_map(_task, tasks, workers, engine, ray_address):
        records += [ClipRecord.from_dict(row, f"clip {row['id']}") for row in rows]
        bar.update(len(rows))
    bar.close()
    publish(work, out, records, format, shard_size, overwrite)
    return SimulateSummary(
        out,
        len(records),
        resumed,
        [*read_problems, *((i.file, p) for i, p in problems)],
        sum(1 for r in records if r.extras["source"]["cropped"]),
    )


def _windows(item: MotionItem, duration_s: float, opts: SimulateOptions) -> list[MotionItem]:
    """``item`` itself, or when it lasts longer than ``window_frames`` radar frames, its windows of that
    many frames every ``stride_frames`` (ids ``<id>_w000``, ...; the motion's captions, and the
    captioned spans that overlap each window shifted into it; a tail shorter than a window is left out)."""
    rate = RadarConfig.from_dict(opts.radar).frame_rate_hz
    window = opts.window_frames
    if window is None or int(np.floor(duration_s * rate + 1e-9)) <= window:
        return [item]
    stride = opts.stride_frames or window
    length = window / rate
    last = duration_s - length - WINDOW_MARGIN_S  # each span holds a margin of poses: cut to exactly window frames
    out = []
    for k, first in enumerate(range(0, int(np.floor(last * rate + 1e-9)) + 1, stride)):
        start = first / rate
        spans = tuple(
            (max(s - start, 0.0), min(e - start, length), c)
            for s, e, c in item.text_spans
            if s < start + length and e > start
        )
        out.append(
            replace(
                item,
                id=f"{item.id}_w{k:03d}",
                start_s=item.start_s + start,
                end_s=item.start_s + start + length + WINDOW_MARGIN_S,
                text_spans=spans,
                window=k,
            )
        )
    return out or [item]


def _copy_ids(item: MotionItem, opts: SimulateOptions) -> list[str]:
    return [item.id] if opts.rotations == 1 else [f"{item.id}_rot{k}" for k in range(opts.rotations)]
