"""Paths the user gives and files the app writes: checked before any work; written atomically, with
the user's umask (``tempfile`` alone makes 0600 / 0700). Standard library only at import."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import UserError

__all__ = ["write_text_atomic", "check_writable", "check_data_spec", "is_pattern", "path_to_record", "recorded_path"]

PATTERN_MARKS = ("{", "::", "://", "pipe:")  # a shard pattern or URL, not a plain path


def write_text_atomic(path: Path, text: str) -> None:
    """``radar_views.atomic_write`` of UTF-8 text (missing parent directories are created)."""
    from radar_views import atomic_write

    atomic_write(path, text.encode("utf-8"))


def check_writable(path: Path | None, flag: str, directory: bool = False) -> None:
    """``path`` (a file to be written, or with ``directory`` a directory to be made or written into;
    None: nothing to check) can be created: not a directory (a file, with ``directory``), and the
    nearest existing ancestor of its parent is a directory this process can create files in (tried, so a
    read-only file system or a missing permission answers now, before any work)."""
    if path is None:
        return
    path = Path(path)
    if not directory and path.is_dir():
        raise UserError(f"{flag} {path} is a directory; give a file name")
    if directory and path.exists() and not path.is_dir():
        raise UserError(f"{flag} {path} is a file, not a directory")
    ancestor = path.parent  # where the file, or the directory's lock and staging directory, is made
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise UserError(f"{flag} {path}: {ancestor} is a file, not a directory")
    try:
        with tempfile.TemporaryFile(dir=ancestor):
            pass
    except OSError as err:
        raise UserError(f"{flag} {path}: cannot write in {ancestor} ({err.strerror or err})") from None


def check_data_spec(spec: str) -> None:
    """A ``--data`` that is a plain path must exist (shard patterns and URLs are checked when opened)."""
    if not is_pattern(spec) and not Path(spec).exists():
        raise UserError(f"data directory or shards not found: {spec}")


def is_pattern(spec: str) -> bool:
    """A shard pattern or URL (checked when opened), not a plain path."""
    return any(mark in spec for mark in PATTERN_MARKS)


def path_to_record(path: str | Path, base: str | Path) -> str:
    """How a file that lives in directory ``base`` records ``path``: relative to ``base``, both
    resolved now, so the two can move together; a shard pattern, a URL or a path that does not
    exist is recorded as given."""
    text = str(path)
    if is_pattern(text) or not Path(text).exists():
        return text
    return os.path.relpath(Path(text).resolve(), Path(base).resolve())


def recorded_path(stored: str, base: str | Path) -> str:
    """The path a record in directory ``base`` names (``path_to_record``'s inverse): a relative path
    is joined to ``base``; an absolute path, a pattern or a URL is returned as stored."""
    if is_pattern(stored) or Path(stored).is_absolute():
        return stored
    return os.path.normpath(Path(base) / stored)
