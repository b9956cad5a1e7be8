"""``DecodedCache``: clips decoded once into float16 ``.npy`` files and then memory-mapped, so
that inflating ``.npz`` files leaves the training loop's hot path (each epoch reads only the
frames it crops, straight from the page cache)."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from radar_views import VIEW_NAMES, atomic_write

from .contract import CLIP_DTYPE, VIEW_BINS

__all__ = ["DecodedCache"]

_ROWS = np.cumsum([0, *VIEW_BINS.values()])  # row offsets of the views in one cached array


class DecodedCache:
    """Decoded clips under ``root``: one ``[sum of bins, T]`` float16 array per clip, named by the
    clip file's path, size and modification time, so an edited clip is decoded afresh. Written
    atomically; safe to share between loader workers and runs (a race only decodes twice)."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    def views(self, clip: Path, decode: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
        """The views of ``clip`` as read-only float16 memory maps ``[bins, T]``; ``decode()`` (which
        validates) runs only when the cache has no current copy."""
        stat = clip.stat()
        path = self.root / f"{_safe(clip)}-{stat.st_size}-{stat.st_mtime_ns}.npy"
        if not path.is_file():
            arrays = decode()
            stacked = np.concatenate([arrays[k] for k in VIEW_NAMES]).astype(CLIP_DTYPE)  # [512, T]
            buf = io.BytesIO()
            np.save(buf, stacked, allow_pickle=False)
            atomic_write(path, buf.getvalue())
        data = np.load(path, mmap_mode="r")  # [512, T]
        return {k: data[_ROWS[i] : _ROWS[i + 1]] for i, k in enumerate(VIEW_NAMES)}


def _safe(clip: Path) -> str:
    """A file name that identifies the clip's absolute path."""
    return str(clip.resolve()).strip("/").replace("/", "__")
