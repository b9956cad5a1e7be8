"""Files the app writes: atomic, with the user's umask (``tempfile`` alone makes 0600 / 0700)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from radar_views import atomic_write, current_umask

__all__ = ["write_text_atomic", "make_temp_dir"]


def write_text_atomic(path: Path, text: str) -> None:
    """``radar_views.atomic_write`` of UTF-8 text (missing parent directories are created)."""
    atomic_write(path, text.encode("utf-8"))


def make_temp_dir(parent: Path, prefix: str) -> Path:
    """A new temporary directory in ``parent`` with the umask's mode (to be renamed into place)."""
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=parent, prefix=prefix))
    os.chmod(tmp, 0o777 & ~current_umask())
    return tmp
