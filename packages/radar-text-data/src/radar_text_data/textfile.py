"""The one reader of a user's text files (captions, labels, classes, templates, manifests, split and
description files): UTF-8, with a byte-order mark stripped wherever an editor put one. Standard
library only."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import DataError

__all__ = ["read_text", "BOM", "TextFileError"]

BOM = "\ufeff"


class TextFileError(DataError):
    """A text file that is not UTF-8; the message names it."""


def read_text(path: str | os.PathLike) -> str:
    """The file's text, a leading byte-order mark removed (``utf-8-sig``); a missing file raises
    ``FileNotFoundError`` and a file that is not UTF-8 ``TextFileError``, each naming the file."""
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise FileNotFoundError(f"file not found: {path}") from None
    except UnicodeDecodeError as err:
        raise TextFileError(f"{path}: not UTF-8 text ({err})") from None
