"""``RadarViews`` and the streaming entry points ``iter_views`` / ``compute_views``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np

from .config import RadarConfig
from .errors import RadarViewsError
from .normalize import NORMALIZATIONS, normalize_view
from .processing import AZIMUTH_METHODS, frame_powers

__all__ = ["RadarViews", "VIEW_NAMES", "iter_views", "compute_views", "chunk_frames"]

VIEW_NAMES: Final = ("range_time", "doppler_time", "azimuth_time")


@dataclass
class RadarViews:
    """The three views of a clip, float32 with time (one column per frame) on the last axis."""

    range_time: np.ndarray  # [range bins (256), T]
    doppler_time: np.ndarray  # [Doppler bins (128), T], row 64 = 0 m/s
    azimuth_time: np.ndarray  # [azimuth bins (128), T], row k <-> sin(theta) = (k - 64) / 64

    @property
    def num_frames(self) -> int:
        return int(self.range_time.shape[-1])

    def as_dict(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in VIEW_NAMES}

    @classmethod
    def from_mapping(cls, data: Mapping[str, np.ndarray]) -> RadarViews:
        missing = [n for n in VIEW_NAMES if n not in data]
        if missing:
            raise RadarViewsError(f"views are missing {missing}; expected keys {list(VIEW_NAMES)}")
        return cls(*(np.asarray(data[n]) for n in VIEW_NAMES))

    @classmethod
    def concat(cls, blocks: Iterable[RadarViews]) -> RadarViews:
        blocks = list(blocks)
        if not blocks:
            raise RadarViewsError("no frames: nothing to concatenate")
        return cls(*(np.concatenate([getattr(b, n) for b in blocks], axis=-1) for n in VIEW_NAMES))

    def normalized(self, mode: str = "db", dynamic_range_db: float = 50.0) -> RadarViews:
        """Each view normalised over the whole clip (see ``normalize_view``)."""
        return RadarViews(*(normalize_view(getattr(self, n), mode, dynamic_range_db) for n in VIEW_NAMES))


def chunk_frames(cube, frames: int = 32) -> Iterator[np.ndarray]:
    """Consecutive frame blocks of a cube (an array or a lazily read ``DCA1000Capture``)."""
    if frames < 1:
        raise RadarViewsError(f"chunk size must be >= 1 frame, got {frames}")
    for start in range(0, len(cube), frames):
        yield np.asarray(cube[start : start + frames])


def _check_chunk(chunk: np.ndarray, cfg: RadarConfig, index: int) -> np.ndarray:
    chunk = np.asarray(chunk)
    if chunk.ndim != 5 or tuple(chunk.shape[1:]) != cfg.frame_shape:
        raise RadarViewsError(
            f"frame chunk {index}: expected shape [frames, {', '.join(map(str, cfg.frame_shape))}] "
            f"(frames, loops, tx, rx, samples), got {list(chunk.shape)}"
        )
    if not np.iscomplexobj(chunk):
        raise RadarViewsError(f"frame chunk {index}: the cube must be complex (I + jQ), got dtype {chunk.dtype}")
    return chunk.astype(np.complex64, copy=False)


def iter_views(
    frame_chunks: Iterable[np.ndarray],
    cfg: RadarConfig | None = None,
    clutter_removal: bool = True,
    azimuth: str = "bartlett",
    tdm_compensation: bool = True,
    workers: int = 1,
    input_domain: str = "adc",
) -> Iterator[RadarViews]:
    """Linear-power views of each chunk ``[f, loops, tx, rx, samples]``, as they arrive.

    Every step is local to a frame, so the concatenated blocks equal ``compute_views(...,
    normalize="none")`` on the whole cube; clip-level normalisation is applied afterwards
    (``RadarViews.concat(blocks).normalized(mode)``), on views, never on the cube.
    ``input_domain="range"``: chunks hold range profiles instead of ADC samples (see
    ``processing.range_doppler_spectrum``).
    """
    cfg = cfg or RadarConfig()
    if azimuth not in AZIMUTH_METHODS:
        raise RadarViewsError(f"azimuth must be one of {AZIMUTH_METHODS}, got {azimuth!r}")
    for i, chunk in enumerate(frame_chunks):
        chunk = _check_chunk(chunk, cfg, i)
        if chunk.shape[0] == 0:
            continue
        r, d, a = frame_powers(chunk, cfg, clutter_removal, azimuth, tdm_compensation, workers, input_domain)
        if not (np.isfinite(r).all() and np.isfinite(d).all()):  # NaN/Inf in a frame reach its sums
            raise RadarViewsError(f"frame chunk {i}: the cube holds NaN or Inf")
        yield RadarViews(r.T.copy(), d.T.copy(), a.T.copy())  # [bins, f] each


def compute_views(
    cube,
    cfg: RadarConfig | None = None,
    clutter_removal: bool = True,
    normalize: str = "db",
    azimuth: str = "bartlett",
    tdm_compensation: bool = True,
    dynamic_range_db: float = 50.0,
    chunk_size: int = 4,
    workers: int = 1,
) -> RadarViews:
    """Views of a whole cube ``[frames, loops, tx, rx, samples]``, processed ``chunk_size`` frames
    at a time (a ``DCA1000Capture`` is read chunk by chunk, never whole)."""
    if normalize not in NORMALIZATIONS:
        raise RadarViewsError(f"normalize must be one of {NORMALIZATIONS}, got {normalize!r}")
    if getattr(cube, "ndim", 5) != 5:
        raise RadarViewsError(f"cube must be [frames, loops, tx, rx, samples], got shape {list(np.shape(cube))}")
    blocks = iter_views(chunk_frames(cube, chunk_size), cfg, clutter_removal, azimuth, tdm_compensation, workers)
    return RadarViews.concat(blocks).normalized(normalize, dynamic_range_db)
