"""WebDataset shards: ``{split}-{000000..}.tar`` files whose samples are ``<key>.npz`` (the clip,
views float16) and ``<key>.json`` (its record), with ``index.json`` (splits, shard names, sample
counts). Keys are the sample's position in its split (``000000042``), so a sample has a stable
integer wherever it is read. Writing is deterministic (fixed tar metadata) and atomic per file."""

from __future__ import annotations

import json
import os
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from radar_views import VIEW_NAMES, atomic_write, current_umask, staged_directory

from .contract import DEFAULT_SHARD_SIZE, INDEX, SPLITS
from .errors import DataError
from .manifest import read_manifest, record_json
from .records import ClipRecord, RecordError

__all__ = [
    "shard_directory",
    "ShardWriter",
    "ShardInfo",
    "RawSample",
    "read_index",
    "expand_urls",
    "iter_shard",
    "shard_name",
    "ShardError",
    "INDEX_FORMAT",
    "require_webdataset",
]

INDEX_FORMAT = "radar-text-data/shards-v1"
KEY_DIGITS = 9


def require_webdataset():
    """The ``webdataset`` module, or an ImportError that says how to install it."""
    try:
        import webdataset
    except ImportError:
        raise ImportError("shards need the webdataset library: pip install 'radar-text-data[webdataset]'") from None
    return webdataset


def shard_name(split: str, index: int) -> str:
    return f"{split}-{index:06d}.tar"


@dataclass(frozen=True)
class ShardInfo:
    """One shard: its URL (a path, or anything webdataset opens, e.g. ``pipe:``) and, when an index
    says so, how many samples it holds."""

    url: str
    samples: int | None = None


@dataclass(frozen=True)
class RawSample:
    """A sample as read from a shard, not yet decoded: its position in the split, its record, the
    ``.npz`` bytes and where it came from (``url:key``, for error messages)."""

    position: int
    record: ClipRecord
    npz: bytes
    where: str


class ShardWriter:
    """Write records and their clip bytes into per-split shards of ``shard_size`` samples under
    ``out``; ``close()`` finishes the open shards and writes ``index.json``. Records of one split
    must come in id order (the manifest's order), so the shards of a dataset are always the same."""

    def __init__(self, out: str | os.PathLike, shard_size: int = DEFAULT_SHARD_SIZE) -> None:
        if shard_size < 1:
            raise DataError(f"shard_size must be >= 1, got {shard_size}")
        self.wds = require_webdataset()
        self.out, self.shard_size = Path(out), shard_size
        self.out.mkdir(parents=True, exist_ok=True)
        self.shards: dict[str, list[dict]] = {}
        self.open: dict[str, tuple] = {}  # split -> (writer, file, temp path, final path)
        self.last_id: dict[str, str] = {}

    def add(self, record: ClipRecord, npz: bytes) -> None:
        split = record.split
        if split in self.last_id and record.id <= self.last_id[split]:
            raise DataError(
                f"records of split {split!r} must come in id order: {record.id!r} after {self.last_id[split]!r}"
            )
        self.last_id[split] = record.id
        shards = self.shards.setdefault(split, [])
        if not shards or shards[-1]["samples"] == self.shard_size:
            self._finish(split)
            shards.append({"name": shard_name(split, len(shards)), "samples": 0})
            self._start(split, shards[-1]["name"])
        position = sum(s["samples"] for s in shards)
        writer = self.open[split][0]
        writer.write({"__key__": f"{position:0{KEY_DIGITS}d}", "npz": npz, "json": record_json(record).encode("utf-8")})
        shards[-1]["samples"] += 1

    def _start(self, split: str, name: str) -> None:
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".partial", dir=self.out)
        f = os.fdopen(fd, "wb")
        writer = self.wds.TarWriter(f, encoder=False, mtime=0, user="", group="", mode=0o644)
        self.open[split] = (writer, f, tmp, self.out / name)

    def _finish(self, split: str) -> None:
        if split not in self.open:
            return
        writer, f, tmp, final = self.open.pop(split)
        writer.close()
        f.flush()
        os.fsync(f.fileno())
        f.close()
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, final)

    def close(self) -> Path:
        """Finish every shard and write the index; returns its path."""
        for split in list(self.open):
            self._finish(split)
        splits = {
            s: {"samples": sum(x["samples"] for x in self.shards[s]), "shards": self.shards[s]}
            for s in SPLITS
            if s in self.shards
        }
        index = {"format": INDEX_FORMAT, "shard_size": self.shard_size, "splits": splits}
        atomic_write(self.out / INDEX, (json.dumps(index, indent=1, sort_keys=True) + "\n").encode("utf-8"))
        return self.out / INDEX

    def abort(self) -> None:
        """Drop the unfinished shards' temporary files (finished shards stay; no index is written)."""
        for writer, f, tmp, _ in self.open.values():
            writer.close()
            f.close()
            Path(tmp).unlink(missing_ok=True)
        self.open.clear()

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def read_index(root: str | os.PathLike) -> dict[str, list[ShardInfo]]:
    """The shards of each split listed in ``root/index.json`` (URLs are paths under ``root``)."""
    path = Path(root) / INDEX
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"no {INDEX} in {root}") from None
    except json.JSONDecodeError as err:
        raise DataError(f"{path}: not valid JSON ({err.msg})") from None
    if not isinstance(index, dict) or index.get("format") != INDEX_FORMAT:
        raise DataError(
            f"{path}: field 'format': expected {INDEX_FORMAT!r}, got {index.get('format')!r}"
            if isinstance(index, dict)
            else f"{path}: expected a JSON object"
        )
    out = {}
    for split, entry in (index.get("splits") or {}).items():
        try:
            out[split] = [ShardInfo(str(Path(root) / s["name"]), int(s["samples"])) for s in entry["shards"]]
        except (KeyError, TypeError, ValueError):
            raise DataError(f"{path}: field 'splits.{split}': expected {{shards: [{{name, samples}}]}}") from None
    return out


def expand_urls(pattern: str) -> list[str]:
    """A brace pattern as open_clip takes it (``"data/train-{000000..000009}.tar"``; several
    patterns joined by ``::``) expanded to a list of URLs."""
    import braceexpand

    return [url for part in pattern.split("::") for url in braceexpand.braceexpand(part)]


class ShardError(DataError):
    """A shard that cannot be read (missing, truncated, not a tar file); the message names it."""


def iter_shard(url: str, split: str | None = None) -> Iterator[RawSample]:
    """The samples of one shard in stored order (those of ``split`` only, when given); a sample
    without a ``.json`` or ``.npz`` member, or with a bad record, raises naming the shard and key;
    an unreadable shard raises ``ShardError``."""
    wds = require_webdataset()
    try:
        for sample in wds.tarfile_samples([{"url": url}]):
            raw = _raw_sample(url, sample)
            if split is None or raw.record.split == split:
                yield raw
    except (tarfile.TarError, OSError) as err:
        detail = err.args[0] if err.args else ""
        raise ShardError(f"{url}: unreadable shard ({type(err).__name__}: {detail})") from None


def _raw_sample(url: str, sample: dict) -> RawSample:
    key, where = sample["__key__"], f"{url}:{sample['__key__']}"
    missing = [m for m in ("json", "npz") if m not in sample]
    if missing:
        raise RecordError(f"{where}: sample lacks member(s) {missing}")
    return RawSample(sample_position(key), sample_record(sample["json"], where), sample["npz"], where)


def sample_record(data: bytes, where: str) -> ClipRecord:
    """The record of a sample's ``.json`` member; errors name ``where`` (``shard:key``)."""
    try:
        row = json.loads(data)
    except json.JSONDecodeError as err:
        raise RecordError(f"{where}.json: not valid JSON ({err.msg})") from None
    return ClipRecord.from_dict(row, f"{where}.json")


def sample_position(key: str) -> int:
    """The sample's position in its split: the key this package writes, else a stable hash of it."""
    return int(key) if key.isdigit() else zlib.crc32(key.encode("utf-8"))


def shard_directory(
    root: str | os.PathLike,
    out: str | os.PathLike,
    shard_size: int = DEFAULT_SHARD_SIZE,
    progress: Callable[[int], None] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a directory dataset as shards under ``out`` (``{split}-{000000..}.tar`` + ``index.json``, and the
    dataset's ``classes.json`` / ``unseen.txt`` when it has them);
    each clip is re-encoded with its views as float16 (the bytes radar-synth writes for the same
    clip), so the same dataset always gives the same shards. ``progress(n)`` is called per clip.
    The shards are assembled beside ``out`` and renamed into place (``radar_views.staged_directory``):
    an existing non-empty ``out`` is refused unless ``overwrite`` (then moved aside, not deleted)."""
    import io
    import shutil

    import numpy as np

    from .classes import CLASSES, UNSEEN
    from .clips import clip_arrays, clip_path, decode_clip, encode_clip

    root = Path(root)
    if Path(out).resolve() == root.resolve():
        raise DataError(f"{out}: write shards to a new directory, not into the dataset itself")
    records = read_manifest(root)
    with staged_directory(out, overwrite) as staged, ShardWriter(staged, shard_size) as writer:
        for record in records:
            path = clip_path(root, record)
            data = path.read_bytes()  # read and inflated once: the validated views, then only the extras
            views = decode_clip(data, str(path))  # float32 holding the stored values: float16 round-trips exactly
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                extras = {k: np.asarray(z[k]) for k in z.files if k not in VIEW_NAMES}
            writer.add(record, encode_clip(clip_arrays(views, **extras)))
            if progress is not None:
                progress(1)
        for name in (CLASSES, UNSEEN):  # the class list travels with the clips
            if (root / name).is_file():
                shutil.copyfile(root / name, staged / name)
    return Path(out) / INDEX
