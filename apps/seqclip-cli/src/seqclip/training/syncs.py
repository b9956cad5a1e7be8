"""``HostSyncs``: a dispatch mode that records every operation which, on CUDA, makes the host wait for
the device — a tensor read into Python (``.item()``, ``float(t)``, ``if t:``), an output whose size
depends on values (``nonzero``, boolean indexing, ``masked_select``, ``unique``), a copy to the CPU —
by the innermost lines of the workspace (or of torch's optimizers, timm, transformers) that asked.
It sees them on the CPU too, so a CPU test can hold a step to "no host round-trip"."""

from __future__ import annotations

import collections
import traceback

import torch
from torch.utils._python_dispatch import TorchDispatchMode

__all__ = ["HostSyncs", "SYNCING_OPS"]

_aten = torch.ops.aten
SYNCING_OPS = {
    _aten._local_scalar_dense.default,
    _aten.nonzero.default,
    _aten.masked_select.default,
    _aten._unique2.default,
    _aten.unique_consecutive.default,
    _aten.unique_dim.default,
}
WATCHED = (
    "seqclip",
    "radar_encoder",
    "clip_losses",
    "seq_similarity",
    "radar_text_data",
    "radar_views",
    "torch/optim",
    "timm",
    "transformers",
)


class HostSyncs(TorchDispatchMode):
    """``with HostSyncs() as s: ...``; ``s.where`` counts each syncing call by its three innermost
    watched frames (``"file:line function <- ..."``); ``s.total`` is their sum."""

    def __init__(self) -> None:
        super().__init__()
        self.where: collections.Counter[str] = collections.Counter()

    @property
    def total(self) -> int:
        return sum(self.where.values())

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if _syncs(func, args, kwargs or {}):
            frames = [
                f"{_short(f.filename)}:{f.lineno} {f.name}"
                for f in traceback.extract_stack()[:-1]
                if any(w in f.filename for w in WATCHED)
                and "_python_dispatch" not in f.filename
                and not f.filename.endswith("training/syncs.py")
            ]
            self.where[" <- ".join(reversed(frames[-3:])) or f"(torch) {func}"] += 1
        return func(*args, **(kwargs or {}))


def _syncs(func, args, kwargs) -> bool:
    if func in SYNCING_OPS:
        return True
    if func is _aten.index.Tensor:  # boolean indices: their True count sizes the output
        return any(isinstance(i, torch.Tensor) and i.dtype == torch.bool for i in args[1])
    if func is _aten.repeat_interleave.Tensor:
        return kwargs.get("output_size") is None
    if func is _aten._to_copy.default:  # a device tensor copied to the host
        device = kwargs.get("device")
        return device is not None and torch.device(device).type == "cpu" and args[0].device.type != "cpu"
    return False


def _short(path: str) -> str:
    return path.split("site-packages/")[-1].split("/src/")[-1]
