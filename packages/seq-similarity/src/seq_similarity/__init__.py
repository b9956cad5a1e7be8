"""Sequence-level similarities for CLIP-style training between two sequence modalities.

``SequenceSimilarity`` gives truly pairwise, mask-aware ``[Br, Bt]`` logits (global, local,
attention, temporal soft-DTW, combined); ``soft_dtw`` is the batched differentiable
soft-DTW it is built on. Names load on first use: ``seq_similarity.names`` (the similarity names,
for a command line that lists them) needs only the standard library.
"""

from __future__ import annotations

import importlib
import types
from importlib.metadata import version

from .names import DEFAULT_WEIGHTS, SIMILARITIES

_LAZY = {
    "SequenceSimilarity": "similarity",
    "chunk_elements": "similarity",
    "DEFAULT_CHUNK_ELEMENTS": "similarity",
    "soft_dtw": "soft_dtw",
    "SoftDTWFunction": "soft_dtw",
}

__all__ = ["SIMILARITIES", "DEFAULT_WEIGHTS", *_LAZY]
__version__ = version("seq-similarity")


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        _unshadow()
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _unshadow() -> None:
    """Importing the submodule ``soft_dtw`` binds it as this package's attribute ``soft_dtw``: put the
    function of that name back (as the eager ``from .soft_dtw import soft_dtw`` did)."""
    for name, module in _LAZY.items():
        bound = globals().get(name)
        if isinstance(bound, types.ModuleType) and bound.__name__ == f"{__name__}.{module}":
            globals()[name] = getattr(bound, name)


def __dir__() -> list[str]:
    return sorted(__all__)
