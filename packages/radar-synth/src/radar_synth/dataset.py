"""``generate_dataset``: simulated, captioned clips written in the radar-text-data format, as a
directory (``manifest.jsonl`` + ``clips/<id>.npz``) or as WebDataset shards.

Each record (see ``radar_text_data.ClipRecord``) carries the clip's ``segments``, ``frame_rate_hz``,
``num_frames`` and ``radar`` configuration, a ``subject`` (height and start position); clips of 2 or
3 activities carry ``captions_reversed`` (each caption rendered with the activities in reverse
order and the same wording otherwise); order-swapped twin pairs carry ``twin_of`` (the id
of the twin clip with the same segments in swapped order, in the same split). Clip files hold the
three views (float16) and ``torso_range_m`` [T] (float32). The dataset's ``classes.json`` holds
the simulator's classes, their phrases (``defaults.class_phrases``) and descriptions of what the
body does (``descriptions.class_descriptions``), for zero-shot evaluation.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Sequence
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from radar_text_data import MAX_FRAMES, ClipRecord, clip_arrays, encode_clip
from radar_text_data.classes import CLASSES, UNSEEN, classes_json
from radar_views import RadarConfig, atomic_write, check_new_output

from .captions import caption_pairs, check_families
from .clip import render_clip
from .defaults import (
    DEFAULT_MULTI_SEGMENT,
    DEFAULT_TWINS,
    FORMATS,
    MIN_FRAMES,
    SPLIT_FRACTIONS,
    WORDING_FAMILIES,
    class_phrases,
)
from .descriptions import class_descriptions, description_prompts
from .engine import parallel_map
from .errors import SynthError
from .motion import ACTIVITIES, DEFAULT_ROOM, ClipPlan, Room, Segment, min_segment_frames, plan_clip
from .partial import DATASET, open_partial, publish, read_record, write_record
from .sensor import SensorSpec, render_sensor_clip, resolve_sensor
from .synth import SynthConfig

__all__ = [
    "generate_dataset",
    "class_file",
    "clip_id",
    "TWIN_ACTIVITIES",
    "parallel_map",
]  # the defaults: radar_synth.defaults

# standing -> standing, in place: any two of these can swap order
TWIN_ACTIVITIES = (
    "wave",
    "clap",
    "jump",
    "squat",
    "bend_pick_up",
    "kick",
    "punch",
    "jog_in_place",
    "turn_around",
    "stand",
    "jumping_jacks",
    "arm_circles",
    "bow",
    "lunge",
    "throw",
    "push",
    "drink",
    "reach_up",
    "hop_on_one_leg",
    "march_in_place",
    "side_bend",
    "torso_twist",
)
HARD_NEGATIVE_ACTIVITIES = TWIN_ACTIVITIES  # the name before 0.6


def clip_id(index: int) -> str:
    return f"clip_{index:06d}"


def _twin_pair(
    rng: np.random.Generator,
    frame_rate: float,
    max_frames: int = MAX_FRAMES,
    unseen: frozenset[str] = frozenset(),
    room: Room = DEFAULT_ROOM,
) -> tuple[ClipPlan, ClipPlan]:
    """Two in-place activities A, B; the twin has B, A with the same parameters and durations."""
    names = rng.choice([a for a in TWIN_ACTIVITIES if a not in unseen], size=2, replace=False)
    plan = plan_clip(rng, frame_rate, room=room)  # body, position and heading
    lengths = [rng.uniform(*ACTIVITIES[str(n)].duration_s) * frame_rate for n in names]
    scale = min(1.0, max_frames / sum(lengths))
    counts = [max(min_segment_frames(frame_rate), int(length * scale)) for length in lengths]
    longest = int(np.argmax(counts))
    counts[longest] -= max(0, sum(counts) - max_frames)  # the floor may overshoot: the longer one gives way
    segs, frame = [], 0
    for name, frames in zip(names, counts, strict=True):
        act = ACTIVITIES[str(name)]
        segs.append(Segment(act.name, frame, frame + frames, act.sample_params(rng)))
        frame += frames
    first = replace(plan, segments=segs, num_frames=frame)
    b0, b1 = segs[1], segs[0]
    n0 = b0.end_frame - b0.start_frame
    swapped = [Segment(b0.activity, 0, n0, b0.params), Segment(b1.activity, n0, frame, b1.params)]
    return first, replace(plan, segments=swapped, num_frames=frame)


def _spec_stamp(spec: SensorSpec) -> dict:
    """What identifies a sensor given as a ``SensorSpec`` in a partial run's stamp."""
    return {
        "name": spec.name,
        "profile": spec.profile.to_dict(),
        "chain": asdict(spec.chain),
        "room": asdict(spec.room),
        "elevation_beam_deg": spec.elevation_beam_deg,
        **({"angle": spec.angle} if spec.angle != "azimuth" else {}),
    }


def _task(args) -> dict:
    """Render clip ``index`` into the partial directory ``work`` (its ``.npz``, then its record) and
    return its record row; a clip an interrupted run finished is read back instead."""
    index, kind, seed, work, cfg_dict, synth_kw, path, max_frames, multi_segment, split, unseen, families, sensor = args
    done = read_record(work, clip_id(index))
    if done is not None:
        return done
    cfg = RadarConfig.from_dict(cfg_dict)
    rng = np.random.default_rng([seed, index])  # per clip: independent of the worker count
    room = sensor.room if sensor is not None else DEFAULT_ROOM
    if kind == "single":
        segments = int(rng.choice([2, 3])) if rng.random() < multi_segment else 1
        plan = plan_clip(rng, cfg.frame_rate_hz, max_frames=max_frames, segments=segments, unseen=unseen, room=room)
        twin_id = None
    else:  # twins: the pair shares one planning stream, member ``kind`` in {0, 1}
        pair_rng = np.random.default_rng([seed, index - int(kind), 7])
        plans = _twin_pair(pair_rng, cfg.frame_rate_hz, max_frames, unseen, room)
        plan, twin_id = plans[int(kind)], clip_id(index + 1 - 2 * int(kind))
    if sensor is None:
        rendered = render_clip(plan, rng, cfg, SynthConfig(**synth_kw), path=path)
        arrays = clip_arrays(rendered.views.as_dict(), torso_range_m=rendered.torso_range_m)
    else:  # the sensor's point clouds on the grid's views
        arrays = clip_arrays(render_sensor_clip(plan, rng, sensor, cfg, SynthConfig(**synth_kw)).as_dict())
    cid = clip_id(index)
    npz = encode_clip(arrays)
    atomic_write(Path(work) / DATASET / "clips" / f"{cid}.npz", npz)
    pairs = caption_pairs(plan.segments, rng, families=families)
    row = {
        "id": cid,
        "split": split,
        "file": f"clips/{cid}.npz",
        "captions": [c for c, _ in pairs],
        "segments": [asdict(s) for s in plan.segments],
        "frame_rate_hz": cfg.frame_rate_hz,
        "num_frames": plan.num_frames,
        "radar": cfg.to_dict(),
        "subject": {
            "height_m": round(plan.height, 3),
            "start_range_m": round(plan.start_range, 3),
            "start_azimuth_deg": round(plan.start_azimuth_deg, 2),
        },
    }
    if sensor is not None:
        row["sensor"] = sensor.name
        if sensor.angle != "azimuth":
            row["angle"] = sensor.angle
    if len(plan.segments) > 1:
        row["captions_reversed"] = [r for _, r in pairs]
    if twin_id is not None:
        row["twin_of"] = twin_id
    write_record(work, row)
    return row


def _splits(num_clips: int, twin_pairs: int, seed: int, fractions: tuple[float, ...] = SPLIT_FRACTIONS) -> list[str]:
    """Disjoint train / val / test by a seeded permutation of units (a single clip, or a twin pair,
    which stays inside one split), filled in order up to the fractions (80 / 10 / 10 %) of the clips."""
    singles = num_clips - 2 * twin_pairs
    units = [[i] for i in range(singles)] + [[singles + 2 * k, singles + 2 * k + 1] for k in range(twin_pairs)]
    order = np.random.default_rng([seed, 99]).permutation(len(units))
    bounds = np.cumsum([round(f * num_clips) for f in fractions[:2]])
    labels, filled = [""] * num_clips, 0
    for u in order:
        split = "train" if filled < bounds[0] else "val" if filled < bounds[1] else "test"
        for i in units[u]:
            labels[i] = split
        filled += len(units[u])
    return labels


def generate_dataset(
    out_dir: str | os.PathLike,
    num_clips: int,
    seed: int = 0,
    workers: int = 1,
    twins: float = DEFAULT_TWINS,
    multi_segment: float = DEFAULT_MULTI_SEGMENT,
    cfg: RadarConfig | None = None,
    snr_db: float = 0.0,
    path: str = "fast",
    max_frames: int = MAX_FRAMES,
    progress: bool = True,
    split_fractions: tuple[float, float, float] = SPLIT_FRACTIONS,
    format: str = "directory",
    shard_size: int | None = None,
    overwrite: bool = False,
    unseen: Collection[str] = (),
    held_out_wording: Sequence[str] = (),
    engine: str = "local",
    ray_address: str = "auto",
    sensor: str | SensorSpec | None = None,
) -> Path:
    """Simulate ``num_clips`` captioned clips into ``out_dir`` (see the module doc for the records).

    ``format``: ``directory`` (``manifest.jsonl`` + ``clips/``) or ``wds`` (WebDataset shards of
    ``shard_size`` samples per split plus ``index.json``; needs ``radar-synth[webdataset]``; the shards
    equal those ``radar_text_data.ShardWriter`` makes from the directory format of the same seed).
    Deterministic: the same seed gives byte-identical files whatever ``workers`` is. A share
    ``twins`` of the clips (rounded down to whole pairs) are order-swapped twin pairs, each pair
    inside one split; of the other clips, a share ``multi_segment`` hold 2 or 3 activities (half
    each) and the rest one. ``max_frames`` caps clip length; ``split_fractions`` are the
    train / val / test shares (summing to 1).

    Nothing is lost: an existing, non-empty ``out_dir`` is refused (``radar_views.OutputExistsError``)
    unless ``overwrite``, which moves it aside to ``OUT.old-<date>-<time>`` once the new dataset is
    complete. Finished clips are kept in ``.OUT.synth-partial`` beside ``out_dir`` (``partial``) and
    the dataset is published only when complete: an interrupted run leaves no half-written dataset,
    and the same call again continues where it stopped (other options are refused there).

    ``unseen``: activities that no train or val clip contains (the test split keeps them), for
    zero-shot evaluation of activities never seen in training; recorded in ``unseen.txt``.

    ``held_out_wording``: caption wording families (``WORDING_FAMILIES``) used only in the val and
    test captions, which use no other; train captions use the remaining families. Without it every
    split is worded in all four. The views do not depend on it (captions are drawn after them).

    ``sensor``: a point-cloud sensor of ``radar_views.SENSOR_CHAINS`` (e.g. ``iwr1443-radhar``), or any
    ``SensorSpec``: each clip is simulated on that sensor's profile and frame rate, through its firmware's
    point-cloud chain, and rendered on ``cfg``'s views (``radar_synth.sensor``), as a real recording of it
    is converted.

    ``engine``: ``local`` (a pool of ``workers`` processes) or ``ray`` (Ray tasks on ``ray_address``:
    ``auto``, ``local`` or a cluster's address; ``radar_synth.engine``): the same bytes either way.
    """
    _check_args(num_clips, max_frames, split_fractions, twins, multi_segment, format)
    unseen = _check_unseen(unseen)
    wording = _wording(held_out_wording)
    cfg = cfg or RadarConfig()
    spec = resolve_sensor(sensor) if sensor is not None else None
    pairs = int(twins * num_clips) // 2
    kinds = ["single"] * (num_clips - 2 * pairs) + [i % 2 for i in range(2 * pairs)]
    splits = _splits(num_clips, pairs, seed, tuple(split_fractions))
    out = Path(out_dir)
    check_new_output(out, overwrite)
    stamp = json.dumps(
        {
            "clips": num_clips,
            "seed": seed,
            "twins": twins,
            "multi_segment": multi_segment,
            "radar": cfg.to_dict(),
            "snr_db": snr_db,
            "path": path,
            "max_frames": max_frames,
            "split_fractions": list(split_fractions),
            "unseen": sorted(unseen),
            "held_out_wording": sorted(held_out_wording),
            **({"sensor": sensor if isinstance(sensor, str) else _spec_stamp(spec)} if spec else {}),
        },
        sort_keys=True,
    )
    work = open_partial(out, "synth", stamp)
    tasks = [
        (
            i,
            kind,
            seed,
            str(work),
            cfg.to_dict(),
            {"snr_db": snr_db},
            path,
            max_frames,
            multi_segment,
            splits[i],
            frozenset() if splits[i] == "test" else unseen,
            wording[splits[i]],
            spec,
        )
        for i, kind in enumerate(kinds)
    ]
    records = []
    bar = tqdm(total=num_clips, desc="simulating clips", unit="clip", disable=not progress)
    for row in parallel_map(_task, tasks, workers, engine, ray_address):  # in clip order: records in id order
        records.append(ClipRecord.from_dict(row, f"clip {row['id']}"))
        bar.update()
    bar.close()
    (work / DATASET / CLASSES).write_text(classes_json(class_file()), encoding="utf-8")
    if unseen:
        (work / DATASET / UNSEEN).write_text("".join(f"{a}\n" for a in sorted(unseen)), encoding="utf-8")
    publish(work, out, records, format, shard_size, overwrite)
    return out


def class_file() -> dict[str, dict]:
    """``classes.json`` of a simulated dataset: each activity's phrase and its descriptions as prompts."""
    described = class_descriptions()
    return {
        a: {"phrase": phrase, "descriptions": description_prompts(described[a])}
        for a, phrase in class_phrases().items()
    }


def _wording(held_out: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """The wording families of each split's captions."""
    if not held_out:
        return dict.fromkeys(("train", "val", "test"), WORDING_FAMILIES)
    held = check_families(held_out)
    if len(held) == len(WORDING_FAMILIES):
        raise SynthError("held_out_wording: leave at least one wording family for train")
    seen = tuple(f for f in WORDING_FAMILIES if f not in held)
    return {"train": seen, "val": held, "test": held}


def _check_unseen(unseen: Collection[str]) -> frozenset[str]:
    unknown = sorted(set(unseen) - set(ACTIVITIES))
    if unknown:
        raise SynthError(f"unseen: unknown activities {unknown}; choose from {sorted(ACTIVITIES)}")
    if "stand" in unseen:
        raise SynthError("unseen: stand cannot be unseen (it fills clips that would be too short)")
    if len(set(TWIN_ACTIVITIES) - set(unseen)) < 2:
        raise SynthError("unseen: leave at least two in-place activities seen (twin pairs are made of them)")
    return frozenset(unseen)


def _check_args(
    num_clips: int, max_frames: int, split_fractions, twins: float, multi_segment: float, format: str
) -> None:
    if num_clips < 1:
        raise SynthError(f"num_clips must be >= 1, got {num_clips}")
    if not MIN_FRAMES <= max_frames <= MAX_FRAMES:
        raise SynthError(f"max_frames must lie in [{MIN_FRAMES}, {MAX_FRAMES}], got {max_frames}")
    if len(split_fractions) != 3 or abs(sum(split_fractions) - 1) > 1e-9 or min(split_fractions) < 0:
        raise SynthError(f"split_fractions must be three shares summing to 1, got {split_fractions}")
    for name, share in (("twins", twins), ("multi_segment", multi_segment)):
        if not 0.0 <= share <= 1.0:
            raise SynthError(f"{name} must be a share in [0, 1], got {share}")
    if format not in FORMATS:
        raise SynthError(f"format must be one of {FORMATS}, got {format!r}")
