"""Where one training step waits for the host: every tensor-to-Python conversion (``.item()``,
``float(t)``, ``bool(t)``, an ``if`` on a tensor — ``aten._local_scalar_dense``, which on CUDA blocks
until the device catches up) inside ``optimizer_step``, counted by a dispatch mode and named by the
innermost lines of the workspace (or of torch / timm / transformers) that asked for it.

    uv run python bench/step_syncs.py                 # CPU; on a CUDA machine it runs on the card

A step with none of them can run ahead of the device and be captured as a CUDA graph (issue 30).
The first step runs unobserved (one-off set-up); the second is counted.
"""

from __future__ import annotations

import collections
import os
import sys
import tempfile
import traceback
from pathlib import Path

import torch
from torch.utils._python_dispatch import TorchDispatchMode

# bench/ holds scripts named like the packages: import the packages, not the scripts
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE] + [_HERE]
from benchlib import print_table  # noqa: E402
from rich.console import Console  # noqa: E402

from radar_text_data.testing import tiny_dataset  # noqa: E402
from seqclip.config import TrainConfig  # noqa: E402
from seqclip.distributed import DistContext  # noqa: E402
from seqclip.training.loop import optimizer_step  # noqa: E402
from seqclip.training.setup import setup  # noqa: E402

OURS = ("seqclip", "radar_encoder", "clip_losses", "seq_similarity", "radar_text_data", "torch/optim", "timm",
        "transformers")


class HostSyncs(TorchDispatchMode):
    """Counts ``aten._local_scalar_dense`` calls by the three innermost frames of interest."""

    def __init__(self) -> None:
        super().__init__()
        self.where: collections.Counter[str] = collections.Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func is torch.ops.aten._local_scalar_dense.default:
            frames = [f"{_short(f.filename)}:{f.lineno} {f.name}" for f in traceback.extract_stack()[:-1]
                      if any(k in f.filename for k in OURS) and "_python_dispatch" not in f.filename]
            self.where[" <- ".join(reversed(frames[-3:]))] += 1
        return func(*args, **(kwargs or {}))


def _short(path: str) -> str:
    return path.split("site-packages/")[-1].split("/src/")[-1]


def main() -> None:
    device = "cuda" if torch.cuda.is_available() else "cpu"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data = tiny_dataset(Path(tmp) / "d", n=16, frames=64, splits=["train"] * 12 + ["val"] * 2 + ["test"] * 2)
        for similarity in ("pooled", "temporal"):
            cfg = TrainConfig(data=str(data), out=f"{tmp}/run-{similarity}", batch_size=4, clip_length=64,
                              similarity=similarity, workers=0, eval_test=False, device=device,
                              precision="bf16" if device == "cuda" else "fp32")
            r = setup(cfg, Console(quiet=True), DistContext.single())
            batch = next(iter(r.train_data.batches(0, 0)))
            optimizer_step(r, [batch])
            with HostSyncs() as syncs:
                optimizer_step(r, [batch])
            r.logger.close()
            rows += [[similarity, n, where] for where, n in syncs.where.most_common()]
            rows.append([similarity, sum(syncs.where.values()), "(all)"])
    print(f"device: {device}; torch {torch.__version__}; tiny preset, batch 4, 64 frames, order negatives")
    print_table("host syncs in one optimizer step", ["similarity", "count", "where (innermost first)"], rows)


if __name__ == "__main__":
    main()
