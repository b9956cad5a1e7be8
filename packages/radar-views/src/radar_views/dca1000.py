"""TI DCA1000 raw captures (``adc_data.bin``: int16 little-endian, two's complement).

Formats (per frame; chirps loop-major with TX slots inside):
- ``xwr18xx`` (xWR16xx/18xx/68xx, complex, 2 LVDS lanes): chirp -> rx -> sample, int16 groups
  ``I(n), I(n+1), Q(n), Q(n+1)``;
- ``xwr14xx`` (xWR12xx/14xx, complex, 4 lanes): chirp -> sample, per sample
  ``I_rx0..I_rx3, Q_rx0..Q_rx3``.
Some tools write Q before I; ``iq_swap=True`` reads/writes that order (an unhandled swap mirrors
the range spectrum: bin k -> N - k).
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

import numpy as np

from .config import RadarConfig
from .errors import RadarViewsError
from .files import atomic_write

__all__ = ["DCA1000_FORMATS", "DCA1000Capture", "read_dca1000", "write_dca1000"]

DCA1000_FORMATS = ("xwr18xx", "xwr14xx")


_KEEP = np.uint64(0xFFFF00000000FFFF)
_MID_LO = np.uint64(0x00000000FFFF0000)
_MID_HI = np.uint64(0x0000FFFF00000000)
_SHIFT = np.uint64(16)


def _check_format(fmt: str, cfg: RadarConfig) -> None:
    if fmt not in DCA1000_FORMATS:
        raise RadarViewsError(f"DCA1000 format must be one of {DCA1000_FORMATS}, got {fmt!r}")
    if fmt == "xwr14xx" and cfg.num_rx != 4:
        raise RadarViewsError(f"the 4-lane xwr14xx format carries exactly 4 receivers, config has {cfg.num_rx}")
    if fmt == "xwr18xx" and cfg.num_samples % 2:
        raise RadarViewsError(f"the 2-lane xwr18xx format needs an even num_samples, got {cfg.num_samples}")


def _decode(raw: np.ndarray, cfg: RadarConfig, fmt: str, iq_swap: bool) -> np.ndarray:
    """int16 frames ``[F, values_per_frame]`` -> complex64 ``[F, loops, tx, rx, samples]``."""
    f = raw.shape[0]
    loops, tx, rx, n = cfg.frame_shape
    if fmt == "xwr18xx":
        if sys.byteorder == "little" and not iq_swap and raw.shape[1] % 4 == 0:
            # each 8-byte group I(n) I(n+1) Q(n) Q(n+1) -> I(n) Q(n) I(n+1) Q(n+1) by swapping the
            # middle two int16 in a uint64: then the int16 stream is complex64's interleaving
            v = np.ascontiguousarray(raw).view(np.uint64)
            t = (v & _KEEP) | ((v & _MID_LO) << _SHIFT) | ((v & _MID_HI) >> _SHIFT)
            return t.view(np.int16).astype(np.float32).view(np.complex64).reshape(f, loops, tx, rx, n)
        g = raw.reshape(f, -1, 2, 2)  # [F, pairs, (I|Q), (n, n+1)]
        # transposed to [F, pairs, (n, n+1), (I|Q)], the int16 pairs are complex64's memory layout
        iq = g.transpose(0, 1, 3, 2)
        if iq_swap:
            iq = iq[..., ::-1]
        return iq.astype(np.float32, order="C").view(np.complex64).reshape(f, loops, tx, rx, n)
    g = raw.reshape(f, loops, tx, n, 2, rx)  # [F, L, TX, N, (I|Q), RX]
    iq = g.transpose(0, 1, 2, 5, 3, 4)  # [F, L, TX, RX, N, (I|Q)]
    if iq_swap:
        iq = iq[..., ::-1]
    return iq.astype(np.float32, order="C").view(np.complex64).reshape(f, loops, tx, rx, n)


def _encode(cube: np.ndarray, fmt: str, iq_swap: bool) -> np.ndarray:
    """complex ``[F, loops, tx, rx, samples]`` with integer parts -> int16 ``[F, values]``."""
    re, im = np.real(cube), np.imag(cube)
    first, second = (im, re) if iq_swap else (re, im)
    f = cube.shape[0]
    if fmt == "xwr18xx":
        a = first.reshape(f, -1, 2)
        b = second.reshape(f, -1, 2)
        g = np.stack([a, b], axis=2)  # [F, pairs, (I|Q), 2]
    else:
        a = first.transpose(0, 1, 2, 4, 3)  # [F, L, TX, N, RX]
        b = second.transpose(0, 1, 2, 4, 3)
        g = np.stack([a, b], axis=4)  # [F, L, TX, N, 2, RX]
    return np.ascontiguousarray(g.reshape(f, -1)).astype("<i2")


class DCA1000Capture:
    """A memory-mapped capture that reads like a complex64 array ``[frames, loops, tx, rx, samples]``:
    indexing decodes only the frames asked for, so it streams into ``compute_views``."""

    def __init__(self, path: Path, cfg: RadarConfig, fmt: str, iq_swap: bool, frames: int) -> None:
        self.path, self.cfg, self.format, self.iq_swap = path, cfg, fmt, iq_swap
        per_frame = int(np.prod(cfg.frame_shape)) * 2
        self._raw = np.memmap(path, dtype="<i2", mode="r", shape=(frames, per_frame)) if frames else None
        self.num_frames = frames

    shape = property(lambda self: (self.num_frames, *self.cfg.frame_shape))
    dtype = np.dtype(np.complex64)
    ndim = 5

    def __len__(self) -> int:
        return self.num_frames

    def __getitem__(self, index) -> np.ndarray:
        if self._raw is None:
            raise IndexError(f"{self.path} holds no complete frame")
        if isinstance(index, (int, np.integer)):
            return self[index : index + 1 if index != -1 else None][0]
        if not isinstance(index, slice):
            raise TypeError("a DCA1000Capture is indexed by frame number or frame slice")
        raw = np.asarray(self._raw[index])
        return _decode(raw, self.cfg, self.format, self.iq_swap)

    def __array__(self, dtype=None, copy=None):
        out = self[:]
        return out if dtype is None else out.astype(dtype)

    def __repr__(self) -> str:
        return f"DCA1000Capture({str(self.path)!r}, frames={self.num_frames}, format={self.format!r})"


def read_dca1000(
    path: str | os.PathLike, cfg: RadarConfig | None = None, fmt: str = "xwr18xx", iq_swap: bool = False
) -> DCA1000Capture:
    """Open a DCA1000 ``.bin`` capture, memory-mapped. A truncated last frame is dropped with a
    warning giving the leftover byte count; a file shorter than one frame is an error."""
    cfg = cfg or RadarConfig()
    _check_format(fmt, cfg)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"DCA1000 capture not found: {path}")
    frame_bytes = int(np.prod(cfg.frame_shape)) * 4  # complex int16: 4 bytes per sample
    size = path.stat().st_size
    frames, leftover = divmod(size, frame_bytes)
    if frames == 0:
        raise RadarViewsError(
            f"{path}: {size} bytes is less than one frame of {frame_bytes} bytes "
            f"(loops x tx x rx x samples x 4 = {' x '.join(map(str, cfg.frame_shape))} x 4); "
            f"check the RadarConfig against the capture's chirp configuration"
        )
    if leftover:
        warnings.warn(
            f"{path}: dropping a truncated last frame ({leftover} bytes left over after "
            f"{frames} frames of {frame_bytes} bytes)",
            stacklevel=2,
        )
    return DCA1000Capture(path, cfg, fmt, iq_swap, frames)


def write_dca1000(
    path: str | os.PathLike,
    cube: np.ndarray,
    cfg: RadarConfig | None = None,
    fmt: str = "xwr18xx",
    iq_swap: bool = False,
) -> Path:
    """Write a complex cube ``[frames, loops, tx, rx, samples]`` with integer I/Q in int16 range,
    atomically (temporary file + rename)."""
    cfg = cfg or RadarConfig()
    _check_format(fmt, cfg)
    cube = np.asarray(cube)
    if cube.ndim != 5 or tuple(cube.shape[1:]) != cfg.frame_shape:
        raise RadarViewsError(
            f"cube must have shape [frames, {', '.join(map(str, cfg.frame_shape))}], got {list(cube.shape)}"
        )
    parts = np.concatenate([np.real(cube).ravel(), np.imag(cube).ravel()]) if cube.size else np.zeros(0)
    if not np.isfinite(parts).all() or (parts != np.round(parts)).any():
        raise RadarViewsError("DCA1000 samples are int16: the cube's I and Q must be finite integers (round first)")
    if parts.size and (parts.min() < -32768 or parts.max() > 32767):
        raise RadarViewsError(f"I/Q values out of int16 range: [{parts.min()}, {parts.max()}]")
    path = Path(path)
    data = _encode(cube, fmt, iq_swap)
    return atomic_write(path, data.tobytes())
