"""A tiny dataset for tests (``numpy.testing``'s idea): random views of the format's shapes
(``VIEW_BINS``), written through the package, no simulation. Every test of the workspace that needs
a dataset on disk builds it here; so are small files in public datasets' layouts
(``write_radhar_file``, ``radhar_folder``, ``mmfi_folder``, ``write_ti_csv``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from .clips import clip_arrays, write_clip
from .contract import VIEW_BINS
from .manifest import write_manifest
from .records import ClipRecord

__all__ = ["tiny_dataset", "write_radhar_file", "radhar_folder", "mmfi_folder", "write_ti_csv"]


def _segmented(i: int, frames: int) -> dict:
    """Clip ``i``'s captions naming it; 2 of 3 clips wave, then clap (with order-reversed captions)."""
    segments = [
        {"activity": "wave", "start_frame": 0, "end_frame": 10},
        {"activity": "clap", "start_frame": 10, "end_frame": frames},
    ][: 1 + (i % 3 > 0)]
    if len(segments) == 1:
        return {"captions": [f"clip {i} a waves", f"clip {i} b waves"], "segments": segments}
    return {
        "captions": [f"clip {i} a waves, then claps", f"clip {i} b waves, then claps"],
        "segments": segments,
        "captions_reversed": [f"clip {i} a claps, then waves", f"clip {i} b claps, then waves"],
    }


def tiny_dataset(
    root: str | Path,
    n: int = 12,
    frames: int | Sequence[int] = 32,
    seed: int = 0,
    splits: Sequence[str] | None = None,
    captions: Callable[[int], list[str]] | None = None,
) -> Path:
    """``n`` clips ``c000..`` of uniform random views (``frames`` frames, or clip ``i`` ``frames[i]``;
    seeded), in ``splits`` (default: all but 4 train, 2 val, 2 test). ``captions(i)``: clip ``i``'s
    captions, and no segments; default: captions naming the clip, 2 of 3 clips with two segments and
    order-reversed captions."""
    root = Path(root)
    rng = np.random.default_rng(seed)
    splits = list(splits or ["train"] * (n - 4) + ["val"] * 2 + ["test"] * 2)
    lengths = [frames] * n if isinstance(frames, int) else list(frames)
    records = []
    for i, length in enumerate(lengths):
        cid = f"c{i:03d}"
        views = {k: rng.random((bins, length)) for k, bins in VIEW_BINS.items()}  # [bins, T]
        write_clip(root / "clips" / f"{cid}.npz", clip_arrays(views))
        text = {"captions": captions(i), "segments": []} if captions else _segmented(i, length)
        records.append(
            ClipRecord.from_dict(
                {
                    "id": cid,
                    "split": splits[i],
                    "file": f"clips/{cid}.npz",
                    **text,
                    "frame_rate_hz": 50.0,
                    "num_frames": length,
                    "radar": None,
                }
            )
        )
    write_manifest(root, records)
    return root


def write_radhar_file(path: str | Path, frames: Sequence[np.ndarray], stamps: Sequence[float]) -> Path:
    """A RadHAR recording as its ``ti_mmwave`` dump: ``frames[i]`` is ``[n, 5]`` points in the driver's
    ROS axes (x forward, y left, z up, velocity, intensity dB), every point of frame ``i`` stamped
    ``stamps[i]`` (s); ``range``, ``doppler_bin`` and ``bearing`` derived as the driver derives them."""
    lines, seq = [], 0
    for pts, stamp in zip(frames, stamps, strict=True):
        secs = int(stamp)
        for pid, (x, y, z, v, db) in enumerate(np.asarray(pts, dtype=np.float64).reshape(-1, 5).tolist()):
            lines += [
                "header: ",
                f"  seq: {seq}",
                "  stamp: ",
                f"    secs: {secs}",
                f"    nsecs: {int(round((stamp - secs) * 1e9))}",
                '  frame_id: "ti_mmwave"',
                f"point_id: {pid}",
                f"x: {x!r}",
                f"y: {y!r}",
                f"z: {z!r}",
                f"range: {(x * x + y * y + z * z) ** 0.5!r}",
                f"velocity: {v!r}",
                f"doppler_bin: {int(round(v / 0.6147)) + 8}",
                f"bearing: {float(np.degrees(np.arctan2(y, x)))!r}",
                f"intensity: {db!r}",
                "---",
            ]
            seq += 1
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def radhar_folder(root: str | Path, files: dict[str, Sequence[str]], frames: int = 40, seed: int = 0) -> Path:
    """``root/Data/{Train,Test}/<activity>/<name>.txt``: ``files`` maps ``"Train/jack"`` to file names;
    each recording has ``frames`` frames at 30 per second of 3-6 random points 1-4 m ahead."""
    rng = np.random.default_rng(seed)
    for folder, names in files.items():
        for name in names:
            pts = [
                np.column_stack(
                    [
                        rng.uniform(1, 4, k),
                        rng.uniform(-1, 1, k),
                        rng.uniform(-0.5, 1, k),
                        0.6147 * rng.integers(-3, 4, k),
                        rng.uniform(10, 40, k),
                    ]
                )
                for k in rng.integers(3, 7, frames)
            ]
            write_radhar_file(
                Path(root) / "Data" / folder / f"{name}.txt", pts, (1561686032.0 + np.arange(frames) / 30).tolist()
            )
    return Path(root) / "Data"


def mmfi_folder(root: str | Path, sequences: Sequence[str], frames: int = 30, seed: int = 0) -> Path:
    """``root/Exx/Sxx/Axx/mmwave/frame001.bin ...`` for each ``"E01/S01/A01"`` of ``sequences``: raw
    float64 rows of (x, y, z, Doppler, intensity), 2-5 points 1-4 m ahead (y), every fifth frame empty."""
    rng = np.random.default_rng(seed)
    for seq in sequences:
        folder = Path(root) / seq / "mmwave"
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(1, frames + 1):
            k = 0 if i % 5 == 0 else int(rng.integers(2, 6))
            pts = np.column_stack(
                [
                    rng.uniform(-1, 1, k),
                    rng.uniform(1, 4, k),
                    rng.uniform(-0.5, 1, k),
                    rng.uniform(-2, 2, k),
                    rng.uniform(5, 30, k),
                ]
            )
            (folder / f"frame{i:03d}.bin").write_bytes(pts.astype(np.float64).tobytes())
    return Path(root)


def write_ti_csv(path: str | Path, frames: dict[int, np.ndarray], extra_column: bool = True) -> Path:
    """A TI Demo Visualizer CSV: ``frames`` maps a frame number to its ``[n, 5]`` points (X, Y, Z,
    Doppler, Intensity), with a ``# Obj`` column and (``extra_column``) a trailing ``SNR`` one."""
    lines = ["Frame #,# Obj,X,Y,Z,Doppler,Intensity" + (",SNR" if extra_column else "")]
    for number, pts in frames.items():
        for x, y, z, v, i in np.asarray(pts, dtype=np.float64).reshape(-1, 5).tolist():
            lines.append(f"{number},{len(pts)},{x!r},{y!r},{z!r},{v!r},{i!r}" + (",12.5" if extra_column else ""))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
