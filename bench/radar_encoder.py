"""Benchmark radar-encoder presets: parameters, FLOPs per sample, forward+backward throughput.

    uv run python bench/radar_encoder.py            # CPU here; CUDA when present (bf16 autocast)
    BENCH_PRESETS=tiny,small uv run python bench/radar_encoder.py
    BENCH_PRECISION=bf16 uv run python bench/radar_encoder.py   # bf16 autocast on the CPU too

Batch 32 of full-length clips (3 views x 496 frames). FLOPs are counted with
torch.utils.flop_counter for one forward pass of one sample (x3 for forward+backward).
"""

from __future__ import annotations

import os
import sys

import torch
from torch.utils.flop_counter import FlopCounterMode

# this script shares its name with the package: import the package, not the script
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE] + [_HERE]
from benchlib import device_from_env, measure, print_table  # noqa: E402

from radar_encoder import RadarEncoder, RadarEncoderConfig  # noqa: E402

BATCH = int(os.environ.get("BENCH_BATCH", "32"))


def inputs(b, device):
    return [torch.randn(b, h, 496, device=device) for h in (256, 128, 128)]


def main():
    device = device_from_env()
    presets = os.environ.get("BENCH_PRESETS", "tiny,small,base").split(",")
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    amp = os.environ.get("BENCH_PRECISION", "bf16" if device.type == "cuda" else "fp32") == "bf16"
    print(f"device: {name}; torch {torch.__version__}; batch {BATCH}; {'bf16 autocast' if amp else 'fp32'}")
    rows = []
    for preset in presets:
        torch.manual_seed(0)
        enc = RadarEncoder(RadarEncoderConfig.preset(preset)).to(device).train()
        params = sum(p.numel() for p in enc.parameters())
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            enc(*inputs(1, "cpu" if device.type == "cpu" else device), return_sequence=False)
        gflops = counter.get_total_flops() / 1e9
        x = inputs(BATCH, device)

        def step(enc=enc, x=x):
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                out = enc(*x, return_sequence=False)
            out.float().square().mean().backward()

        sec, mib = measure(step, device, repeats=3)
        rows.append([preset, f"{params / 1e6:.2f} M", f"{gflops:.2f}", BATCH / sec, mib])
    print_table(
        "radar-encoder presets, forward+backward",
        ["preset", "parameters", "GFLOPs / sample (fwd)", "samples/s", "peak MiB"],
        rows,
    )


if __name__ == "__main__":
    main()
