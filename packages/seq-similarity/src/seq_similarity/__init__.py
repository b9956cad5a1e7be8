"""Sequence-level similarities for CLIP-style training between two sequence modalities.

``SequenceSimilarity`` gives truly pairwise, mask-aware ``[Br, Bt]`` logits (global, local,
attention, temporal soft-DTW, combined); ``soft_dtw`` is the batched differentiable
soft-DTW it is built on.
"""

from importlib.metadata import version

from .similarity import (
           DEFAULT_CHUNK_ELEMENTS,
           DEFAULT_WEIGHTS,
           SIMILARITY_TYPES,
           SequenceSimilarity,
           chunk_elements,
)
from .soft_dtw import SoftDTWFunction, soft_dtw

__all__ = ["SequenceSimilarity", "soft_dtw", "SoftDTWFunction", "SIMILARITY_TYPES", "DEFAULT_WEIGHTS", "chunk_elements",
           "DEFAULT_CHUNK_ELEMENTS"]
__version__ = version("seq-similarity")
