"""Atomic file writes with the user's umask: the one writer every seqclip package uses, its
directory counterpart (``staged_directory``: a whole output assembled beside its target and
renamed into place; an existing one is refused, or moved aside, never deleted), and the one
writer-per-output lock (``output_lock``)."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = [
    "atomic_write",
    "current_umask",
    "move_aside",
    "check_new_output",
    "staged_directory",
    "replace_directory",
    "OutputExistsError",
    "OutputLockedError",
    "output_lock",
    "lock_path",
]


class OutputExistsError(FileExistsError):
    """The output directory already holds something, and overwriting was not asked for."""


class OutputLockedError(OSError):
    """Another live process holds the output's lock; the message names its pid and command."""


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


def replace_directory(
    source: str | os.PathLike, target: str | os.PathLike, overwrite: bool = False, discard: bool = False
) -> None:
    """Rename the finished directory ``source`` to ``target`` (on the same file system): an existing
    non-empty ``target`` is moved aside first (``move_aside``; needs ``overwrite``), an empty one
    replaced; checked again here, since something may have appeared there meanwhile. ``discard``: an
    existing ``target`` is the writer's own earlier version (a model saved again): it is swapped out
    and removed instead of kept, and ``target`` is never missing for longer than two renames."""
    target = Path(target)
    if discard and target.is_dir():
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
        os.replace(source, target)
        shutil.rmtree(old, ignore_errors=True)
        return
    check_new_output(target, overwrite)
    if target.is_dir() and any(target.iterdir()):
        move_aside(target)
    elif target.is_dir():
        target.rmdir()
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)


@contextmanager
def staged_directory(target: str | os.PathLike, overwrite: bool = False, discard: bool = False) -> Iterator[Path]:
    """Yield a new directory beside ``target`` to write the whole output into; when the block ends
    without an error it is renamed to ``target`` (an existing non-empty ``target`` is first moved
    aside with ``move_aside``, which needs ``overwrite``; an empty one is replaced; with ``discard``
    it is removed: see ``replace_directory``), otherwise it is removed and ``target`` is untouched.
    The new directory gets the umask's mode."""
    target = Path(target)
    if not discard:
        check_new_output(target, overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial"))
    os.chmod(tmp, 0o777 & ~current_umask())
    try:
        yield tmp
        replace_directory(tmp, target, overwrite, discard)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def lock_path(target: str | os.PathLike) -> Path:
    """The lock file of an output: ``.NAME.lock`` beside it (the output may not exist yet)."""
    target = Path(target)
    return target.parent / f".{target.name}.lock"


def _holder(path: Path) -> str:
    """Who holds a lock, as its file records it (``pid 123: seqclip train ...``)."""
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        return f"pid {info['pid']}: {info['command']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "a process that has not yet said who it is"


def _command_line() -> str:
    """This process's command as typed (``seqclip train ...``; ``python -m seqclip`` shows as ``seqclip``)."""
    program = Path(sys.argv[0])
    name = program.parent.name if program.name == "__main__.py" else program.name
    return " ".join([name, *sys.argv[1:]])


@contextmanager
def output_lock(target: str | os.PathLike, command: str | None = None, wait: bool = False) -> Iterator[Path]:
    """Hold an exclusive advisory lock (``lockf``) on ``target`` while the block runs, so that two
    commands never write one output: a second one raises ``OutputLockedError`` at once, naming the
    holder's pid and ``command`` (default: this process's command line); with ``wait`` it waits
    for the lock instead (a shared cache that the first comer fills). The lock file (``lock_path``)
    is removed on release; one left by a process that died holds no lock (the kernel released it)
    and is taken over. Missing parent directories are created, and removed again on release when
    nothing else was written there."""
    import fcntl

    path = lock_path(target)
    made = [d for d in (path.parent, *path.parent.parents) if not d.exists()]  # deepest first
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666 & ~current_umask())
        try:  # a POSIX record lock: a forked child (a DataLoader worker) does not inherit it
            fcntl.lockf(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (BlockingIOError, PermissionError):
            os.close(fd)
            raise OutputLockedError(
                f"{target} is being written by another command ({_holder(path)}); wait for it "
                f"to finish or choose another output"
            ) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:  # released and removed by its holder between our open and our lock
            same = False
        if same:
            break
        os.close(fd)
    try:
        words = command if command is not None else _command_line()
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "command": words}).encode("utf-8"))
        yield path
    finally:
        path.unlink(missing_ok=True)  # before unlocking: a waiter that opened this file retries on the new one
        os.close(fd)
        for d in made:  # directories made for the lock alone: a refused or failed command leaves none
            try:
                d.rmdir()
            except OSError:  # not empty: the output (or another file) lives there
                break
