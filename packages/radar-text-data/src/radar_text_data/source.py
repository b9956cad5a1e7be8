"""Where a dataset is (``resolve_data``: a directory, a shard directory with ``index.json``, or a
brace pattern / URL list of shards) and random access to one split of it (``open_split``), for
validation, evaluation and checks. Training on shards streams instead (``stream``)."""

from __future__ import annotations

import os
import re
import tarfile
from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .cache import DecodedCache
from .clips import clip_path, decode_clip, load_clip
from .contract import INDEX, MANIFEST, SPLITS
from .errors import DataError
from .manifest import read_manifest, scan_manifest
from .records import ClipRecord, RecordError
from .shards import (
    ShardError,
    ShardInfo,
    expand_urls,
    iter_shard,
    read_index,
    sample_position,
    sample_record,
)

__all__ = [
    "DataLocation",
    "resolve_data",
    "ClipSource",
    "DirectorySource",
    "ShardSource",
    "open_split",
    "present_splits",
]


@dataclass(frozen=True)
class DataLocation:
    """A resolved ``--data``: a ``directory`` (``root``) or ``shards`` (``splits``: the shards of each
    split from an index; ``pattern``: shards whose records say their split, counts unknown)."""

    kind: str
    spec: str
    root: Path | None = None
    splits: dict[str, list[ShardInfo]] = field(default_factory=dict)
    pattern: list[ShardInfo] = field(default_factory=list)

    def shards(self, split: str) -> list[ShardInfo]:
        """The shards that hold ``split`` (with a pattern: all of them, filtered when read)."""
        if self.kind != "shards":
            raise DataError(f"{self.spec} is a directory dataset, not shards")
        return self.splits.get(split, []) if self.splits else self.pattern

    @property
    def indexed(self) -> bool:
        return bool(self.splits)


def resolve_data(spec: str | os.PathLike) -> DataLocation:
    """A directory with ``manifest.jsonl``, a directory with ``index.json`` (shards), or a shard
    pattern (``"shards/train-{000000..000099}.tar"``, ``pipe:...``, ``a.tar::b.tar``)."""
    text = str(spec)
    path = Path(text)
    if path.is_dir():
        if (path / MANIFEST).is_file():
            return DataLocation("directory", text, root=path)
        if (path / INDEX).is_file():
            return DataLocation("shards", text, root=path, splits=read_index(path))
        raise FileNotFoundError(
            f"{path}: neither a dataset directory ({MANIFEST}) nor a shard directory ({INDEX}); "
            f"make one with `seqclip data synth` or `seqclip data shard`"
        )
    urls = expand_urls(text)
    local = [u for u in urls if "://" not in u and not u.startswith("pipe:")]
    missing = [u for u in local if not Path(u).is_file()]
    if not urls or missing or not all(u.endswith(".tar") or not Path(u).suffix for u in local):
        why = (
            f"{len(missing)} of {len(urls)} shards do not exist (first: {missing[0]})"
            if missing
            else "expected a directory or a pattern of .tar shards"
        )
        raise FileNotFoundError(f"{text}: {why}")
    return DataLocation("shards", text, pattern=[ShardInfo(u) for u in urls])


class ClipSource(ABC):
    """Random access to the records and clips of one split."""

    records: list[ClipRecord]

    def __len__(self) -> int:
        return len(self.records)

    @abstractmethod
    def load(self, i: int) -> dict[str, np.ndarray]:
        """The views of clip ``i`` as float32 ``[bins, T]`` (``BadClipError`` naming the file)."""

    @abstractmethod
    def where(self, i: int) -> str:
        """Where clip ``i`` is stored, for messages."""

    def positions(self) -> list[int]:
        """A stable integer per clip (its position in the split)."""
        return list(range(len(self.records)))


class DirectorySource(ClipSource):
    """One split of a dataset directory; with ``cache`` (a directory), clips are decoded once into a
    ``DecodedCache`` and memory-mapped from then on (float16 views, not float32)."""

    def __init__(
        self, root: Path, split: str | None, exclude: Collection[str] = (), cache: str | os.PathLike | None = None
    ) -> None:
        self.root = root
        drop = set(exclude)
        self.records = [r for r in read_manifest(root) if (split is None or r.split == split) and r.id not in drop]
        self.cache = DecodedCache(cache) if cache is not None else None

    def load(self, i: int) -> dict[str, np.ndarray]:
        if self.cache is None:
            return load_clip(self.root, self.records[i])
        path = clip_path(self.root, self.records[i])
        return self.cache.views(path, lambda: decode_clip(path, str(path)))

    def where(self, i: int) -> str:
        return str(self.root / self.records[i].file)


class ShardSource(ClipSource):
    """One split of shards: local ``.tar`` files are indexed in place (member offsets, records read,
    clips read on demand); other URLs are read once and their clip bytes held in memory."""

    def __init__(self, shards: Sequence[ShardInfo], split: str, exclude: Collection[str] = ()) -> None:
        drop = set(exclude)
        self.records, self._where, self._pos, self._clip = [], [], [], []
        for shard in shards:
            entries = _scan_tar(shard.url, split) if Path(shard.url).is_file() else _read_remote(shard.url, split)
            for position, record, where, clip in entries:
                if record.id not in drop:
                    self.records.append(record)
                    self._pos.append(position)
                    self._where.append(where)
                    self._clip.append(clip)

    def load(self, i: int) -> dict[str, np.ndarray]:
        clip = self._clip[i]
        if isinstance(clip, tuple):  # (path, offset, size) of the .npz member
            with open(clip[0], "rb") as f:
                f.seek(clip[1])
                clip = f.read(clip[2])
        return decode_clip(clip, self._where[i])

    def where(self, i: int) -> str:
        return self._where[i]

    def positions(self) -> list[int]:
        return list(self._pos)


_KEY_EXT = re.compile(r"^((?:.*/|)[^.]+)[.]([^/]*)$")  # webdataset's key / extension split


def _scan_tar(path: str, split: str) -> list[tuple]:
    """(position, record, where, (path, offset, size)) of each sample of ``split`` in a local shard:
    only the headers and the small ``.json`` members are read."""
    found: dict[str, dict] = {}
    try:
        with tarfile.open(path) as tf:
            for m in tf:
                parts = _KEY_EXT.match(m.name) if m.isfile() else None
                if parts is not None:
                    key, ext = parts.groups()
                    if ext == "json":
                        member = tf.extractfile(m)
                        assert member is not None  # a regular file (checked above)
                        found.setdefault(key, {})["json"] = member.read()
                    elif ext == "npz":
                        found.setdefault(key, {})["npz"] = (path, m.offset_data, m.size)
    except tarfile.TarError as err:
        raise ShardError(f"{path}: unreadable shard ({type(err).__name__}: {err})") from None
    out = []
    for key, entry in found.items():
        where = f"{path}:{key}"
        if "json" not in entry or "npz" not in entry:
            raise RecordError(f"{where}: sample lacks member(s) {[x for x in ('json', 'npz') if x not in entry]}")
        record = sample_record(entry["json"], where)
        if record.split == split:
            out.append((sample_position(key), record, where, entry["npz"]))
    return out


def _read_remote(url: str, split: str) -> list[tuple]:
    return [(s.position, s.record, s.where, s.npz) for s in iter_shard(url, split)]


def present_splits(location: DataLocation) -> set[str]:
    """The splits that hold at least one clip, known without reading a clip: from the manifest (its
    readable records) or the shard index; every split for a shard pattern without an index."""
    if location.kind == "directory":
        assert location.root is not None  # a directory dataset has its root
        try:
            records, _ = scan_manifest(location.root)
        except FileNotFoundError:
            return set()
        return {r.split for _, r in records}
    if not location.indexed:
        return set(SPLITS)
    return {s for s in SPLITS if location.shards(s)}


def open_split(
    location: DataLocation, split: str, exclude: Collection[str] = (), cache: str | os.PathLike | None = None
) -> ClipSource:
    """Random access to ``split`` of a resolved dataset (``exclude``: clip ids left out; ``cache``: a
    ``DecodedCache`` directory, for dataset directories)."""
    if location.kind == "directory":
        assert location.root is not None  # a directory dataset has its root
        return DirectorySource(location.root, split, exclude, cache)
    return ShardSource(location.shards(split), split, exclude)
