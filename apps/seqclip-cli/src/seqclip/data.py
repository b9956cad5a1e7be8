"""Datasets over the radar-synth format (manifest.jsonl + clips/<id>.npz) and the converter for
users' own data."""

from __future__ import annotations

import copy
import json
from collections.abc import Collection, Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from radar_synth import read_manifest
from radar_synth.dataset import MANIFEST, write_clip_npz
from radar_views import VIEW_NAMES, crop_or_pad

from .config import FRAME_MULTIPLE, MAX_FRAMES, POSITIVES
from .files import write_text_atomic

__all__ = ["RadarTextDataset", "EpochSampler", "collate", "load_clip", "convert_folder", "BadClipError",
           "VIEW_BINS", "activity_key", "twin_pairs"]

VIEW_BINS = {"range_time": 256, "doppler_time": 128, "azimuth_time": 128}


class BadClipError(ValueError):
    """A clip that cannot be used (missing, corrupt, wrong shape, NaN)."""


def load_clip(root: Path, row: dict) -> dict[str, np.ndarray]:
    """The three views of one manifest row as float32, validated; errors name the file."""
    path = root / row.get("file", "")
    if not path.is_file():
        raise BadClipError(f"{path}: clip file missing (manifest id {row.get('id')!r})")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: np.asarray(z[k], dtype=np.float32) for k in VIEW_NAMES}
    except KeyError as err:
        raise BadClipError(f"{path}: missing array {err}") from None
    except Exception as err:  # noqa: BLE001 - any unreadable file is a bad clip
        raise BadClipError(f"{path}: unreadable ({type(err).__name__}: {err})") from None
    frames = {a.shape[-1] for a in arrays.values()}
    for name, a in arrays.items():
        if a.ndim != 2 or a.shape[0] != VIEW_BINS[name]:
            raise BadClipError(f"{path}: {name} must be [{VIEW_BINS[name]}, T], got {list(a.shape)}")
        if not np.isfinite(a).all():
            raise BadClipError(f"{path}: {name} holds NaN or Inf")
    if len(frames) != 1:
        raise BadClipError(f"{path}: views disagree on the number of frames {sorted(frames)}")
    if frames.pop() < FRAME_MULTIPLE:
        raise BadClipError(f"{path}: fewer than {FRAME_MULTIPLE} frames")
    return arrays


class RadarTextDataset(Dataset):
    """One split of a dataset directory. Items are crops padded to ``length`` frames with a mask and
    one caption; crop start and caption are drawn from ``(seed, epoch, index)`` so a resumed run sees
    exactly the same samples. ``train=False``: crop from frame 0 and caption 0. ``exclude``: clip ids
    left out (bad clips found up front with ``--skip-bad``). ``positives``: ``clip`` (captions of one
    clip are positives of each other) or ``activities`` (so are captions of clips with the same
    activity sequence). ``order_negatives``: items of multi-segment clips carry the order-reversed
    wording of their caption (``captions_reversed`` in the manifest) as ``negative_caption``."""

    def __init__(self, root: str | Path, split: str, length: int = MAX_FRAMES, train: bool = True, seed: int = 0,
                 skip_bad: bool = False, exclude: Collection[str] = (), positives: str = "clip",
                 order_negatives: bool = False) -> None:
        self.root = Path(root)
        if not (self.root / MANIFEST).is_file():
            raise FileNotFoundError(f"data directory {self.root} has no {MANIFEST} (run `seqclip data synth`)")
        excluded = set(exclude)
        self.rows = [r for r in read_manifest(self.root) if r.get("split") == split and r.get("id") not in excluded]
        if not self.rows:
            raise ValueError(f"{self.root / MANIFEST}: no usable clips in split {split!r}")
        if length % FRAME_MULTIPLE or not FRAME_MULTIPLE <= length <= MAX_FRAMES:
            raise ValueError(f"clip length must be a multiple of {FRAME_MULTIPLE} in [{FRAME_MULTIPLE}, {MAX_FRAMES}], "
                             f"got {length}")
        if positives not in POSITIVES:
            raise ValueError(f"positives must be one of {POSITIVES}, got {positives!r}")
        self.split, self.length, self.train, self.seed, self.skip_bad = split, length, train, seed, skip_bad
        self.positives, self.order_negatives = positives, order_negatives
        keys = [activity_key(r) for r in self.rows]
        known = {k: i for i, k in enumerate(sorted({k for k in keys if k}))}
        # one id per activity sequence; clips without segments get their own (negative) id
        self.sequence_ids = [known[k] if k else -1 - i for i, k in enumerate(keys)]
        self.reversed_ids = [known.get(k[::-1], -1 - len(keys) - i) if k else -1 - len(keys) - i
                             for i, k in enumerate(keys)]
        self.epoch = 0
        self.skipped = 0

    def __len__(self) -> int:
        return len(self.rows)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def subset(self, indices: Sequence[int]) -> RadarTextDataset:
        """The same dataset restricted to ``indices`` (item indices refer to the subset)."""
        sub = copy.copy(self)
        sub.rows = [self.rows[i] for i in indices]
        return sub

    def __getitem__(self, index: int) -> dict | None:
        row = self.rows[index]
        try:
            arrays = load_clip(self.root, row)
            if not row.get("captions"):
                raise BadClipError(f"{self.root / row['file']}: no captions in the manifest")
        except BadClipError:
            if self.skip_bad:
                return None
            raise
        rng = np.random.default_rng([self.seed, self.epoch, index])
        total = arrays["range_time"].shape[-1]
        keep = min(total, self.length) // FRAME_MULTIPLE * FRAME_MULTIPLE
        start = int(rng.integers(0, total - keep + 1)) if self.train else 0
        views, mask = crop_or_pad(arrays, length=self.length, multiple=FRAME_MULTIPLE, start=start)
        pick = int(rng.integers(len(row["captions"]))) if self.train else 0
        item = {**{k: torch.from_numpy(v) for k, v in views.as_dict().items()}, "mask": torch.from_numpy(mask),
                "caption": row["captions"][pick], "index": index, "sequence_id": self.sequence_ids[index],
                "sample_id": self.sequence_ids[index] if self.positives == "activities" else index}
        reverse = row.get("captions_reversed") or []
        if self.order_negatives and pick < len(reverse) and reverse[pick]:
            item["negative_caption"], item["negative_sequence_id"] = reverse[pick], self.reversed_ids[index]
        return item


def activity_key(row: dict) -> tuple[str, ...]:
    """The clip's activity sequence (empty when the manifest has no segments)."""
    return tuple(str(s.get("activity")) for s in row.get("segments") or [])


def collate(items: Sequence[dict | None]) -> dict:
    """Stack items; ``None`` (skipped bad clips) are dropped and counted in ``skipped``."""
    good = [it for it in items if it is not None]
    batch = {"skipped": len(items) - len(good)}
    if not good:
        return batch
    for k in (*VIEW_NAMES, "mask"):
        batch[k] = torch.stack([it[k] for it in good])
    batch["captions"] = [it["caption"] for it in good]
    batch["sample_ids"] = torch.tensor([it.get("sample_id", it["index"]) for it in good])
    batch["sequence_ids"] = torch.tensor([it.get("sequence_id", -1 - it["index"]) for it in good])
    negatives = [it for it in good if "negative_caption" in it]
    if negatives:  # extra negative texts of the radar->text direction, never positives or queries
        batch["negative_captions"] = [it["negative_caption"] for it in negatives]
        batch["negative_sequence_ids"] = torch.tensor([it["negative_sequence_id"] for it in negatives])
    return batch


class EpochSampler(Sampler[int]):
    """A seeded permutation per epoch that can start part-way (resume at a batch position).

    ``twins`` (pairs of indices) with ``batch``: both members of a pair sit next to each other and
    inside one batch of ``batch`` consecutive positions (a single clip is pulled forward to fill a
    gap a pair does not fit in); the epoch's set of samples is unchanged."""

    def __init__(self, size: int, seed: int, shuffle: bool = True, twins: Sequence[tuple[int, int]] = (),
                 batch: int = 1) -> None:
        self.size, self.seed, self.shuffle, self.batch = size, seed, shuffle, batch
        self.twins = [tuple(p) for p in twins]
        self.epoch, self.start = 0, 0

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        self.epoch, self.start = epoch, start

    def order(self) -> list[int]:
        paired = {i for p in self.twins for i in p}
        units = [(i,) for i in range(self.size) if i not in paired] + self.twins
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
            units = [units[u] for u in torch.randperm(len(units), generator=g).tolist()]
        if not self.twins:
            return [i for u in units for i in u]
        return _pack(units, self.batch)

    def __iter__(self):
        return iter(self.order()[self.start:])

    def __len__(self) -> int:
        return max(0, self.size - self.start)


def _pack(units: list[tuple[int, ...]], batch: int) -> list[int]:
    """Flatten units in order; when a pair would straddle a batch boundary, the next single clip is
    pulled forward to fill the gap (a pair straddles only when no single is left after it)."""
    units, out, i = list(units), [], 0
    while i < len(units):
        if len(units[i]) > batch - len(out) % batch:
            j = next((k for k in range(i + 1, len(units)) if len(units[k]) == 1), None)
            if j is not None:
                units.insert(i, units.pop(j))
        out.extend(units[i])
        i += 1
    return out


def twin_pairs(rows: Sequence[dict]) -> list[tuple[int, int]]:
    """Index pairs of order-swapped twins (``hard_negative_of``) both present in ``rows``."""
    where = {r.get("id"): i for i, r in enumerate(rows)}
    return sorted({tuple(sorted((i, where[r["hard_negative_of"]]))) for i, r in enumerate(rows)
                   if r.get("hard_negative_of") in where})


def convert_folder(src: str | Path, captions_file: str | Path, out: str | Path, val_fraction: float = 0.1,
                   test_fraction: float = 0.1, seed: int = 0) -> Path:
    """Convert a folder of per-clip ``<id>.npz`` (with range_time, doppler_time, azimuth_time) or
    ``<id>/{range_time,doppler_time,azimuth_time}.npy`` plus a captions file (JSON object
    ``{id: [caption, ...]}`` or JSON lines ``{"id": ..., "captions": [...]}``) to the seqclip format."""
    src, out = Path(src), Path(out)
    captions = _read_captions(Path(captions_file))
    rows = []
    ids = sorted(captions)
    order = np.random.default_rng(seed).permutation(len(ids))
    n_test, n_val = int(round(test_fraction * len(ids))), int(round(val_fraction * len(ids)))
    split = {}
    for rank, i in enumerate(order):
        split[ids[i]] = "test" if rank < n_test else "val" if rank < n_test + n_val else "train"
    for cid in ids:
        if (src / f"{cid}.npz").is_file():
            with np.load(src / f"{cid}.npz") as z:
                arrays = {k: np.asarray(z[k]) for k in VIEW_NAMES if k in z}
        else:
            arrays = {k: np.load(src / cid / f"{k}.npy") for k in VIEW_NAMES if (src / cid / f"{k}.npy").is_file()}
        missing = [k for k in VIEW_NAMES if k not in arrays]
        if missing:
            raise FileNotFoundError(f"{src}: clip {cid!r} lacks {missing} (expected {cid}.npz or {cid}/<view>.npy)")
        frames = arrays["range_time"].shape[-1]
        write_clip_npz(out / "clips" / f"{cid}.npz", {k: v.astype(np.float16) for k, v in arrays.items()})
        rows.append({"id": cid, "split": split[cid], "file": f"clips/{cid}.npz", "captions": captions[cid],
                     "segments": [], "frame_rate_hz": None, "num_frames": int(frames), "radar": None})
    write_text_atomic(out / MANIFEST, "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))
    return out


def _read_captions(path: Path) -> dict[str, list[str]]:
    if not path.is_file():
        raise FileNotFoundError(f"captions file not found: {path}")
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
        if isinstance(data, dict):
            return {str(k): [v] if isinstance(v, str) else list(v) for k, v in data.items()}
    except json.JSONDecodeError:
        pass
    out = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                obj = json.loads(line)
                out[str(obj["id"])] = list(obj["captions"])
            except (json.JSONDecodeError, KeyError, TypeError):
                raise ValueError(f"{path}:{lineno}: expected {{\"id\": ..., \"captions\": [...]}}") from None
    return out
