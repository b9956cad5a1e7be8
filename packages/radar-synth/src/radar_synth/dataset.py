"""The dataset format every part of seqclip reads, and ``generate_dataset``.

Layout::

    DIR/manifest.jsonl      one JSON object per clip (sorted by id)
    DIR/clips/<id>.npz      range_time [256, T], doppler_time [128, T], azimuth_time [128, T] (float16),
                            torso_range_m [T] (float32)

Manifest fields: ``id``, ``split`` (train | val | test), ``file`` (relative path), ``captions``
(list of str), ``segments`` ([{activity, start_frame, end_frame, params}]), ``frame_rate_hz``,
``num_frames``, ``radar`` (the ``RadarConfig`` fields); for clips of 2 or 3 activities
``captions_reversed`` (each caption rendered with the activities in reverse order and the same
wording otherwise); for order-swapped twin pairs ``hard_negative_of`` (the id of the twin clip
with the same segments in swapped order, in the same split).
"""

from __future__ import annotations

import io
import json
import multiprocessing as mp
import os
import zipfile
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from radar_views import RadarConfig, atomic_write

from .captions import caption_pairs
from .clip import render_clip
from .motion import ACTIVITIES, ClipPlan, Segment, plan_clip
from .synth import SynthConfig

__all__ = ["generate_dataset", "write_clip_npz", "read_manifest", "clip_id", "SPLIT_FRACTIONS",
           "MANIFEST", "HARD_NEGATIVE_ACTIVITIES", "DEFAULT_TWINS", "DEFAULT_MULTI_SEGMENT"]

MANIFEST = "manifest.jsonl"
DEFAULT_TWINS = 0.1  # share of clips in order-swapped twin pairs
DEFAULT_MULTI_SEGMENT = 0.6  # share of the other clips that hold 2 or 3 activities
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)  # train, val, test
# standing -> standing, in place: any two of these can swap order
HARD_NEGATIVE_ACTIVITIES = ("wave", "clap", "jump", "squat", "bend_pick_up", "kick", "punch", "jog_in_place",
                            "turn_around", "stand")


def clip_id(index: int) -> str:
    return f"clip_{index:06d}"


def write_clip_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write an ``.npz`` byte-for-byte reproducibly (fixed zip timestamps), atomically."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            data = io.BytesIO()
            np.lib.format.write_array(data, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            zf.writestr(info, data.getvalue())
    atomic_write(path, buf.getvalue())


def read_manifest(root: str | os.PathLike) -> list[dict]:
    """Parse ``manifest.jsonl``; errors name the file and line."""
    path = Path(root) / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"no {MANIFEST} in {root}")
    rows = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}:{lineno}: not valid JSON ({err.msg})") from None
    return rows


def _hard_negative_pair(rng: np.random.Generator, frame_rate: float,
                        max_frames: int = 496) -> tuple[ClipPlan, ClipPlan]:
    """Two in-place activities A, B; the twin has B, A with the same parameters and durations."""
    names = rng.choice(HARD_NEGATIVE_ACTIVITIES, size=2, replace=False)
    plan = plan_clip(rng, frame_rate)  # body, position and heading
    lengths = [rng.uniform(*ACTIVITIES[str(n)].duration_s) * frame_rate for n in names]
    scale = min(1.0, max_frames / sum(lengths))
    segs, frame = [], 0
    for name, length in zip(names, lengths, strict=True):
        act = ACTIVITIES[str(name)]
        frames = int(length * scale)
        segs.append(Segment(act.name, frame, frame + frames, act.sample_params(rng)))
        frame += frames
    first = replace(plan, segments=segs, num_frames=frame)
    b0, b1 = segs[1], segs[0]
    n0 = b0.end_frame - b0.start_frame
    swapped = [Segment(b0.activity, 0, n0, b0.params), Segment(b1.activity, n0, frame, b1.params)]
    return first, replace(plan, segments=swapped, num_frames=frame)


def _task(args):
    index, kind, seed, out_dir, cfg_dict, synth_kw, path, max_frames, multi_segment = args
    cfg = RadarConfig.from_dict(cfg_dict)
    rng = np.random.default_rng([seed, index])  # per clip: independent of the worker count
    if kind == "single":
        segments = int(rng.choice([2, 3])) if rng.random() < multi_segment else 1
        plan, twin_id = plan_clip(rng, cfg.frame_rate_hz, max_frames=max_frames, segments=segments), None
    else:  # twins: the pair shares one planning stream, member ``kind`` in {0, 1}
        pair_rng = np.random.default_rng([seed, index - int(kind), 7])
        plans = _hard_negative_pair(pair_rng, cfg.frame_rate_hz, max_frames)
        plan, twin_id = plans[int(kind)], clip_id(index + 1 - 2 * int(kind))
    rendered = render_clip(plan, rng, cfg, SynthConfig(**synth_kw), path=path)
    cid = clip_id(index)
    arrays = {k: v.astype(np.float16) for k, v in rendered.views.as_dict().items()}
    arrays["torso_range_m"] = rendered.torso_range_m
    write_clip_npz(Path(out_dir) / "clips" / f"{cid}.npz", arrays)
    pairs = caption_pairs(plan.segments, rng)
    row = {
        "id": cid, "file": f"clips/{cid}.npz", "captions": [c for c, _ in pairs],
        "segments": [asdict(s) for s in plan.segments], "frame_rate_hz": cfg.frame_rate_hz,
        "num_frames": plan.num_frames, "radar": cfg.to_dict(),
        "subject": {"height_m": round(plan.height, 3), "start_range_m": round(plan.start_range, 3),
                    "start_azimuth_deg": round(plan.start_azimuth_deg, 2)},
    }
    if len(plan.segments) > 1:
        row["captions_reversed"] = [r for _, r in pairs]
    if twin_id is not None:
        row["hard_negative_of"] = twin_id
    return row


def _splits(num_clips: int, twin_pairs: int, seed: int, fractions: tuple[float, float, float] = SPLIT_FRACTIONS
            ) -> list[str]:
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


def generate_dataset(out_dir: str | os.PathLike, num_clips: int, seed: int = 0, workers: int = 1,
                     twins: float = DEFAULT_TWINS, multi_segment: float = DEFAULT_MULTI_SEGMENT,
                     cfg: RadarConfig | None = None, snr_db: float = 0.0, path: str = "fast",
                     max_frames: int = 496, progress: bool = True,
                     split_fractions: tuple[float, float, float] = SPLIT_FRACTIONS) -> Path:
    """Simulate ``num_clips`` captioned clips into ``out_dir`` (see the module doc for the format).

    Deterministic: the same seed gives byte-identical files whatever ``workers`` is. A share
    ``twins`` of the clips (rounded down to whole pairs) are order-swapped twin pairs, each pair
    inside one split; of the other clips, a share ``multi_segment`` hold 2 or 3 activities (half
    each) and the rest one. ``max_frames`` (100-496) caps clip length; ``split_fractions`` are the
    train / val / test shares (summing to 1).
    """
    if num_clips < 1:
        raise ValueError(f"num_clips must be >= 1, got {num_clips}")
    if not 100 <= max_frames <= 496:
        raise ValueError(f"max_frames must lie in [100, 496], got {max_frames}")
    if len(split_fractions) != 3 or abs(sum(split_fractions) - 1) > 1e-9 or min(split_fractions) < 0:
        raise ValueError(f"split_fractions must be three shares summing to 1, got {split_fractions}")
    for name, share in (("twins", twins), ("multi_segment", multi_segment)):
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"{name} must be a share in [0, 1], got {share}")
    cfg = cfg or RadarConfig()
    out = Path(out_dir)
    (out / "clips").mkdir(parents=True, exist_ok=True)
    pairs = int(twins * num_clips) // 2
    singles = num_clips - 2 * pairs
    kinds = ["single"] * singles + [i % 2 for i in range(2 * pairs)]
    synth_kw = {"snr_db": snr_db}
    tasks = [(i, kind, seed, str(out), cfg.to_dict(), synth_kw, path, max_frames, multi_segment)
             for i, kind in enumerate(kinds)]
    splits = _splits(num_clips, pairs, seed, tuple(split_fractions))
    rows = []
    bar = tqdm(total=num_clips, desc="simulating clips", unit="clip", disable=not progress)
    if workers <= 1:
        for t in tasks:
            rows.append(_task(t))
            bar.update()
    else:
        saved = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
        os.environ.update({k: "1" for k in saved})  # one core per worker
        try:
            with mp.get_context("spawn").Pool(workers) as pool:
                for row in pool.imap(_task, tasks, chunksize=1):
                    rows.append(row)
                    bar.update()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    bar.close()
    for row, split in zip(rows, splits, strict=True):
        row["split"] = split
    text = "".join(json.dumps(r, sort_keys=True) + "\n" for r in sorted(rows, key=lambda r: r["id"]))
    atomic_write(out / MANIFEST, text.encode("utf-8"))
    return out
