"""Benchmark clip-losses: forward+backward time and peak memory at B = 256, 1024, 4096.

uv run python bench/clip_losses.py      # CPU here; CUDA when present (BENCH_DEVICE=cpu|cuda)
"""

from __future__ import annotations

import os
import sys

import torch
import torch.nn.functional as F

# this script shares its name with the package: import the package, not the script
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE] + [_HERE]
from benchlib import device_from_env, measure, print_table  # noqa: E402

from clip_losses import clip_loss, siglip_loss  # noqa: E402

D = 512


def main():
    device = device_from_env()
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"device: {name}; torch {torch.__version__}; d={D}, float32")
    rows = []
    for b in (256, 1024, 4096):
        g = torch.Generator(device=device).manual_seed(b)
        r = F.normalize(torch.randn(b, D, device=device, generator=g), dim=-1).requires_grad_()
        t = F.normalize(torch.randn(b, D, device=device, generator=g), dim=-1).requires_grad_()
        ids = torch.arange(b, device=device) // 2  # two captions per clip
        for label, fn in (
            ("clip", lambda r=r, t=t: clip_loss(r, t, 14.3).backward()),
            ("clip, sample_ids", lambda r=r, t=t, ids=ids: clip_loss(r, t, 14.3, sample_ids=ids).backward()),
            ("siglip", lambda r=r, t=t: siglip_loss(r, t, 10.0, -10.0).backward()),
        ):
            sec, mib = measure(fn, device, repeats=5)
            rows.append([label, b, sec * 1e3, mib])
    print_table("clip-losses forward+backward", ["loss", "B", "ms", "peak MiB"], rows)


if __name__ == "__main__":
    main()
