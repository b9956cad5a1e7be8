"""The one exception family of radar-synth (standard library only): ``SynthError`` is raised for an
argument, motion file or engine that cannot be used as given. Any other exception from the package
is a bug."""

from __future__ import annotations

__all__ = ["SynthError"]


class SynthError(ValueError):
    """An argument, motion file or engine radar-synth cannot use as given; the message names it."""
