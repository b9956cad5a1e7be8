"""What ``seqclip embed`` reads: a dataset (directory or shards, one split or all), or a plain folder of
``.npz`` view files (no labels, no captions), each as rows with random access to their views."""

from __future__ import annotations

from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from radar_text_data.contract import SPLITS

from ..errors import UserError

__all__ = ["Row", "ClipRows", "open_clip_rows", "read_sentences"]


@dataclass(frozen=True)
class Row:
    """One clip's metadata: ``id``, ``split`` ("" for a folder), activity ``labels``, ``captions``."""

    id: str
    split: str
    labels: tuple[str, ...]
    captions: tuple[str, ...]


class ClipRows:
    """Rows and their views: ``rows[i]``, ``views(i)`` (float32 ``[bins, T]`` per view, uncropped);
    ``angle``: what their third view holds (``ClipRecord.angle``), None when unknown (a folder)."""

    def __init__(self, rows: list[Row], loaders: list, angle: str | None = None) -> None:
        self.rows, self._loaders, self.angle = rows, loaders, angle

    def __len__(self) -> int:
        return len(self.rows)

    def views(self, i: int) -> dict[str, np.ndarray]:
        return self._loaders[i]()

    def check(
        self, advance: Callable[[int], None] = lambda n: None, workers: int = 2
    ) -> tuple[list[int], list[tuple[int, str]]]:
        """Every clip read once, before any model work (``workers`` threads): each one's frame count
        (0 for a bad one) and ``(index, problem naming the file)`` for each that cannot be read."""
        from radar_text_data.clips import BadClipError

        def frames(i: int) -> tuple[int, str | None]:
            try:
                return int(next(iter(self.views(i).values())).shape[-1]), None
            except (BadClipError, OSError) as err:
                return 0, str(err)

        counts, problems = [], []
        with ThreadPoolExecutor(max(1, workers)) as pool:
            for i, (n, problem) in enumerate(pool.map(frames, range(len(self)))):
                counts.append(n)
                if problem is not None:
                    problems.append((i, problem))
                advance(1)
        return counts, problems

    def without(self, left_out: Collection[int]) -> ClipRows:
        """These rows but those at ``left_out``."""
        drop = set(left_out)
        keep = [i for i in range(len(self)) if i not in drop]
        return ClipRows([self.rows[i] for i in keep], [self._loaders[i] for i in keep], self.angle)


def open_clip_rows(spec: str, split: str = "all") -> ClipRows:
    """A dataset directory / shard spec (``split``: one of the splits or ``all``), or a folder whose
    ``.npz`` files (searched recursively, sorted) each hold the three views (id: the path inside it)."""
    path = Path(spec)
    if path.is_dir() and not (path / "manifest.jsonl").is_file() and not any(path.glob("*.tar")):
        return _folder(path)
    from radar_text_data import views_angle
    from radar_text_data.errors import DataError
    from radar_text_data.source import open_split, resolve_data

    try:
        location = resolve_data(spec)
    except (FileNotFoundError, DataError) as err:
        raise UserError(f"DATA: {err}") from None
    rows, loaders, records = [], [], []
    for name in SPLITS if split == "all" else (split,):
        try:
            source = open_split(location, name)
        except (FileNotFoundError, DataError):
            continue
        for i, record in enumerate(source.records):
            rows.append(Row(record.id, record.split, record.activities, tuple(record.captions)))
            loaders.append(lambda s=source, i=i: s.load(i))
        records += source.records
    if not rows:
        raise UserError(f"DATA: {spec} holds no clips{'' if split == 'all' else f' in split {split!r}'}")
    try:
        angle = views_angle(records, f"DATA: {spec}")
    except DataError as err:
        raise UserError(str(err)) from None
    return ClipRows(rows, loaders, angle)


def _folder(root: Path) -> ClipRows:
    from radar_text_data.clips import decode_clip

    files = sorted(root.rglob("*.npz"))
    if not files:
        raise UserError(f"DATA: {root} is an empty folder (no .npz view files, no manifest.jsonl, no shards)")
    rows = [Row(str(f.relative_to(root).with_suffix("")), "", (), ()) for f in files]
    return ClipRows(rows, [lambda f=f: decode_clip(f, str(f)) for f in files])


def read_sentences(path: str | Path, flag: str = "--texts") -> list[str]:
    """The non-empty lines of a text file (one sentence a line); errors name ``flag``."""
    from radar_text_data.errors import DataError
    from radar_text_data.textfile import read_text

    try:
        lines = [line.strip() for line in read_text(path).splitlines()]
    except (FileNotFoundError, UnicodeDecodeError, DataError) as err:
        raise UserError(f"{flag}: {err}") from None
    if not any(lines):
        raise UserError(f"{flag}: {path} holds no sentence")
    return [line for line in lines if line]
