"""The one exception family of radar-text-data (standard library only): ``DataError`` is raised for
data or an argument that cannot be used as given (a malformed manifest, clip, index, labels or
captions file, a public dataset's file in the wrong layout, a share out of range). Each reader's own
error is a subclass. Any other exception from the package is a bug."""

from __future__ import annotations

__all__ = ["DataError"]


class DataError(ValueError):
    """Data or an argument radar-text-data cannot use as given; the message names the file or field."""
