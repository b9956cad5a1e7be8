"""Clip files: a deterministic ``.npz`` (the three views as float16, plus any extra arrays), the
loader that validates what it reads, and the fast header check used before training."""

from __future__ import annotations

import ast
import io
import os
import re
import threading
import zipfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from radar_views import VIEW_NAMES, atomic_write

from .contract import CLIP_DTYPE, FRAME_MULTIPLE, VIEW_BINS
from .errors import DataError
from .records import ClipRecord

__all__ = [
    "BadClipError",
    "encode_clip",
    "write_clip",
    "decode_clip",
    "load_clip",
    "clip_header_problem",
    "check_headers",
    "clip_arrays",
    "clip_path",
    "view_problem",
]


class BadClipError(DataError):
    """A clip that cannot be used (missing, corrupt, wrong shape, NaN); the message names the file."""


def clip_arrays(views: Mapping[str, np.ndarray], **extra: np.ndarray) -> dict[str, np.ndarray]:
    """What a clip file holds: the views cast to the stored dtype, and ``extra`` arrays as they are."""
    return {**{k: np.asarray(views[k]).astype(CLIP_DTYPE) for k in VIEW_NAMES}, **extra}


def encode_clip(arrays: Mapping[str, np.ndarray]) -> bytes:
    """``.npz`` bytes that depend only on the arrays (sorted members, fixed zip timestamps)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            data = io.BytesIO()
            np.lib.format.write_array(data, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            zf.writestr(info, data.getvalue())
    return buf.getvalue()


def write_clip(path: str | os.PathLike, arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``encode_clip(arrays)`` to ``path`` atomically."""
    atomic_write(Path(path), encode_clip(arrays))


def decode_clip(data: bytes | str | os.PathLike, where: str) -> dict[str, np.ndarray]:
    """The three views of a clip (``.npz`` bytes or a path) as float32 ``[bins, T]``, validated:
    every view present, the contract's bins, one T >= the frame multiple, finite. Errors name ``where``."""
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    try:
        with np.load(source, allow_pickle=False) as z:
            arrays = {k: np.asarray(z[k], dtype=np.float32) for k in VIEW_NAMES}
    except KeyError as err:
        raise BadClipError(f"{where}: missing array {err}") from None
    except Exception as err:  # noqa: BLE001 - any unreadable file is a bad clip
        raise BadClipError(f"{where}: unreadable ({type(err).__name__}: {err})") from None
    problem = view_problem(arrays)
    if problem:
        raise BadClipError(f"{where}: {problem}")
    return arrays


def view_problem(views: Mapping[str, np.ndarray]) -> str | None:
    """Why the three views cannot form a clip (a view missing, not ``[bins, T]`` with the contract's
    bins, not finite, views of unequal ``T``, fewer than the frame multiple); None if fine."""
    missing = [k for k in VIEW_NAMES if k not in views]
    if missing:
        return f"missing view(s) {missing}"
    for name in VIEW_NAMES:
        a = np.asarray(views[name])
        if a.ndim != 2 or a.shape[0] != VIEW_BINS[name]:
            return f"{name} must be [{VIEW_BINS[name]}, T], got {list(a.shape)}"
        if not np.isfinite(a).all():
            return f"{name} holds NaN or Inf"
    frames = sorted({np.shape(views[k])[-1] for k in VIEW_NAMES})
    if len(frames) != 1:
        return f"views disagree on the number of frames {frames}"
    if frames[0] < FRAME_MULTIPLE:
        return f"fewer than {FRAME_MULTIPLE} frames"
    return None


def clip_path(root: str | os.PathLike, record: ClipRecord) -> Path:
    """The clip file a record names; ``BadClipError`` when it is missing."""
    path = Path(root) / record.file
    if not path.is_file():
        raise BadClipError(f"{path}: clip file missing (manifest id {record.id!r})")
    return path


def load_clip(root: str | os.PathLike, record: ClipRecord) -> dict[str, np.ndarray]:
    """The views of the clip file a record names (see ``decode_clip``)."""
    path = clip_path(root, record)
    return decode_clip(path, str(path))


def clip_header_problem(root: str | os.PathLike, record: ClipRecord) -> str | None:
    """Why a record's clip cannot be used, judged from the zip directory and ``.npy`` headers
    without decompressing the data (present, every view, ``[bins, T]``, one T >= 16, float); None if fine."""
    path = Path(root) / record.file
    if not path.is_file():
        return f"{path}: clip file missing (manifest id {record.id!r})"
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            missing = [k for k in VIEW_NAMES if f"{k}.npy" not in names]
            if missing:
                return f"{path}: missing array(s) {missing}"
            headers = {k: _npy_header(zf, f"{k}.npy") for k in VIEW_NAMES}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        return f"{path}: unreadable ({type(err).__name__}: {err})"
    for name, (shape, dtype) in headers.items():
        if len(shape) != 2 or shape[0] != VIEW_BINS[name]:
            return f"{path}: {name} must be [{VIEW_BINS[name]}, T], got {list(shape)}"
        if dtype.kind != "f":
            return f"{path}: {name} has dtype {dtype}, expected a float type"
    frames = sorted({shape[1] for shape, _ in headers.values()})
    if len(frames) != 1:
        return f"{path}: views disagree on the number of frames {frames}"
    if frames[0] < FRAME_MULTIPLE:
        return f"{path}: fewer than {FRAME_MULTIPLE} frames"
    return None


_HEADER = re.compile(
    r"""\{\s*'descr':\s*'(?P<descr>[^']+)',\s*'fortran_order':\s*(?:True|False),\s*"""
    r"""'shape':\s*\((?P<shape>[\d,\s]*)\),?\s*\}\s*$"""
)
_AST_LOCK = threading.Lock()


def _npy_header(zf: zipfile.ZipFile, member: str) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype from an ``.npy`` header. numpy's reader calls ``ast.literal_eval``, which is
    not thread-safe before CPython 3.11.8 (``SystemError: AST constructor recursion depth mismatch``)
    and these headers are read in threads: the layout numpy writes is parsed here, anything else
    goes to numpy's reader one thread at a time."""
    with zf.open(member) as f:  # reads (and for deflated members, inflates) only the first bytes
        version = np.lib.format.read_magic(f)
        head = f.read(2 if version[0] == 1 else 4)
        text = f.read(int.from_bytes(head, "little")).decode("utf-8" if version[0] >= 3 else "latin1")
    match = _HEADER.match(text)
    if match is not None:
        return tuple(int(n) for n in match["shape"].replace(",", " ").split()), np.dtype(match["descr"])
    try:
        with _AST_LOCK:
            header = ast.literal_eval(text)
        return tuple(int(n) for n in header["shape"]), np.lib.format.descr_to_dtype(header["descr"])
    except (SyntaxError, TypeError, KeyError, ValueError) as err:
        raise DataError(f"{member}: not an .npy header ({type(err).__name__}): {text[:80]!r}") from None


def check_headers(
    root: str | os.PathLike, records: Sequence[ClipRecord], workers: int = 2
) -> list[tuple[ClipRecord, str]]:
    """``(record, problem)`` for every record whose clip fails ``clip_header_problem``, in order;
    ``workers`` threads (file opening and inflating release the GIL)."""
    with ThreadPoolExecutor(max(1, workers)) as pool:
        found = pool.map(lambda r: clip_header_problem(root, r), records, chunksize=64)
        return [(r, p) for r, p in zip(records, found, strict=True) if p is not None]
