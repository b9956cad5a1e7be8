"""Where one training step waits for the device: every operation ``seqclip.training.syncs.HostSyncs``
flags (a tensor read into Python, a value-sized output such as ``nonzero``, a copy to the host) inside
``device_step`` (the step after ``SeqClip.prepare``, the host's half), named by the innermost lines of
the workspace (or of torch / timm / transformers) that asked for it.

    uv run python bench/step_syncs.py                 # CPU; on a CUDA machine it runs on the card

A step with none of them can run ahead of the device and be captured as a CUDA graph.
The first step runs unobserved (one-off set-up); the second is counted.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import torch

# bench/ holds scripts named like the packages: import the packages, not the scripts
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE] + [_HERE]
from benchlib import print_table  # noqa: E402
from rich.console import Console  # noqa: E402

from radar_text_data.testing import tiny_dataset  # noqa: E402
from seqclip.config import TrainConfig  # noqa: E402
from seqclip.distributed import DistContext  # noqa: E402
from seqclip.training.loop import device_step, optimizer_step  # noqa: E402
from seqclip.training.setup import setup  # noqa: E402
from seqclip.training.syncs import HostSyncs  # noqa: E402


def main() -> None:
    device = "cuda" if torch.cuda.is_available() else "cpu"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data = tiny_dataset(Path(tmp) / "d", n=16, frames=64, splits=["train"] * 12 + ["val"] * 2 + ["test"] * 2)
        for similarity, hard in (("pooled", 0), ("temporal", 0), ("temporal", 2)):
            cfg = TrainConfig(
                data=str(data),
                out=f"{tmp}/run-{similarity}-{hard}",
                batch_size=4,
                clip_length=64,
                similarity=similarity,
                seq_hard_negatives=hard,
                workers=0,
                eval_test=False,
                device=device,
                precision="bf16" if device == "cuda" else "fp32",
                compile=False,
            )
            r = setup(cfg, Console(quiet=True), DistContext.single())
            batch = next(iter(r.train_data.batches(0, 0)))
            optimizer_step(r, [batch])  # one-off set-up unobserved
            prepared = r.model.prepare(batch)  # the host's half: tokens, copies (not counted)
            with HostSyncs() as syncs:
                device_step(r, [prepared])
            r.logger.close()
            name = f"{similarity}, K={hard}"
            rows += [[name, n, where] for where, n in syncs.where.most_common()]
            rows.append([name, syncs.total, "(all)"])
    print(f"device: {device}; torch {torch.__version__}; tiny preset, batch 4, 64 frames, order negatives")
    print_table("host syncs in one device_step", ["similarity", "count", "where (innermost first)"], rows)


if __name__ == "__main__":
    main()
