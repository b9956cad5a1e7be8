"""Atomic file writes with the user's umask: the one writer every seqclip package uses, and its
directory counterpart (``staged_directory``: a whole output assembled beside its target and
renamed into place; an existing one is refused, or moved aside, never deleted)."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_write", "current_umask", "move_aside", "check_new_output", "staged_directory",
           "OutputExistsError"]


class OutputExistsError(FileExistsError):
    """The output directory already holds something, and overwriting was not asked for."""


def current_umask() -> int:
    """The process umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path`` and rename it into place, so readers see the
    old file or the whole new one; the file gets the mode a plain ``open`` would (0666 & ~umask)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def move_aside(path: str | os.PathLike) -> Path:
    """Rename ``path`` to ``PATH.old-<date>-<time>`` (``-1``, ``-2``, ... if taken); returns the new name."""
    path = Path(path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    moved, suffix = path.with_name(f"{path.name}.old-{stamp}"), 1
    while moved.exists():
        moved, suffix = path.with_name(f"{path.name}.old-{stamp}-{suffix}"), suffix + 1
    os.replace(path, moved)
    return moved


def check_new_output(target: str | os.PathLike, overwrite: bool = False) -> None:
    """Refuse a ``target`` that is a file, or (unless ``overwrite``) a directory that is not empty."""
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise OutputExistsError(f"{target} is a file, not a directory")
    if not overwrite and target.is_dir() and any(target.iterdir()):
        raise OutputExistsError(f"{target} already exists and is not empty")


@contextmanager
def staged_directory(target: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Yield a new directory beside ``target`` to write the whole output into; when the block ends
    without an error it is renamed to ``target`` (an existing non-empty ``target`` is first moved
    aside with ``move_aside``, which needs ``overwrite``; an empty one is replaced), otherwise it is
    removed and ``target`` is untouched. The new directory gets the umask's mode."""
    target = Path(target)
    check_new_output(target, overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial"))
    os.chmod(tmp, 0o777 & ~current_umask())
    try:
        yield tmp
        check_new_output(target, overwrite)  # something may have appeared there meanwhile
        if target.is_dir() and any(target.iterdir()):
            move_aside(target)
        elif target.is_dir():
            target.rmdir()
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
