"""``seqclip train --nproc N``: the same command line run again under torchrun (DDP on one machine)."""

from __future__ import annotations

import subprocess
import sys

__all__ = ["relaunch_under_torchrun"]


def relaunch_under_torchrun(nproc: int) -> int:
    """Run this command line again under torchrun with ``nproc`` processes (without --nproc)."""
    args, skip = [], False
    for a in sys.argv[1:]:
        if skip or a.startswith("--nproc="):
            skip = False
            continue
        skip = a == "--nproc"
        if not skip:
            args.append(a)
    cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}", "-m", "seqclip", *args]
    return subprocess.call(cmd)
