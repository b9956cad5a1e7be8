"""The one exception family of radar-views (standard library only): ``RadarViewsError`` is raised
for an input that cannot be processed as given (a configuration value out of range, a cube or capture
of the wrong shape or size, an unknown name). Any other exception from the package is a bug."""

from __future__ import annotations

__all__ = ["RadarViewsError"]


class RadarViewsError(ValueError):
    """An input radar-views cannot process as given; the message names the value, field or file."""
