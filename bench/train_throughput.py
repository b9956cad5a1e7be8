"""Benchmark a SeqClip training step: samples/s and peak memory per preset and similarity type.

    uv run python bench/train_throughput.py          # CPU: tiny (and small with BENCH_PRESETS)
    BENCH_PRESETS=tiny,small,base uv run python bench/train_throughput.py   # on a GPU: bf16 autocast + MFU

Batch 32 of 256-frame clips (the quick start's setting) with random views and fixed captions.
On CUDA, FLOPs per step are counted with torch.utils.flop_counter and divided by the step time
and the device's dense bf16 peak to give model FLOP utilisation (MFU).
"""

from __future__ import annotations

import os
import sys

import torch
from torch.utils.flop_counter import FlopCounterMode

# bench/ holds scripts named like the packages: import the packages, not the scripts
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE] + [_HERE]
from benchlib import device_from_env, measure, print_table  # noqa: E402

from seqclip import SeqClip, SeqClipConfig  # noqa: E402

PEAK_BF16 = {"H100": 989e12, "H200": 989e12, "A100": 312e12}  # dense bf16 FLOP/s
CAPTIONS = ["A person walks toward the radar, then sits down.", "Someone waves with the left hand three times.",
            "The subject falls forward.", "An adult claps five times before jumping once."]


def _text_encoder():
    """``BENCH_TEXT_ARCH=DIR`` (a config.json + tokenizer): MiniLM's architecture with random weights, for
    machines without the weights package (throughput does not depend on the weights)."""
    arch = os.environ.get("BENCH_TEXT_ARCH")
    if not arch:
        return None
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    return AutoModel.from_config(AutoConfig.from_pretrained(arch)), AutoTokenizer.from_pretrained(arch)


def main():
    device = device_from_env()
    cuda = device.type == "cuda"
    name = torch.cuda.get_device_name(device) if cuda else f"CPU, {torch.get_num_threads()} threads"
    presets = os.environ.get("BENCH_PRESETS", "tiny").split(",")
    sims = os.environ.get("BENCH_SIMILARITIES", "clip,global,local,attention,temporal,combined").split(",")
    batch, frames = int(os.environ.get("BENCH_BATCH", "32")), 256
    peak = next((v for k, v in PEAK_BF16.items() if k in name), None)
    print(f"device: {name}; torch {torch.__version__}; batch {batch} x {frames} frames; "
          f"{'bf16 autocast' if cuda else 'fp32'}")
    rows = []
    for preset in presets:
        for sim in sims:
            torch.manual_seed(0)
            cfg = SeqClipConfig(preset=preset, similarity=sim)
            model = SeqClip(cfg, _text=_text_encoder()).to(device).train()
            opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
            g = torch.Generator(device=device).manual_seed(0)
            b = {"range_time": torch.randn(batch, 256, frames, device=device, generator=g),
                 "doppler_time": torch.randn(batch, 128, frames, device=device, generator=g),
                 "azimuth_time": torch.randn(batch, 128, frames, device=device, generator=g),
                 "mask": torch.ones(batch, frames, dtype=torch.bool, device=device),
                 "captions": [CAPTIONS[i % 4] for i in range(batch)], "sample_ids": torch.arange(batch, device=device)}

            def step(model=model, opt=opt, b=b):
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda):
                    loss = model(b)["loss_total"]
                loss.backward()
                opt.step()
                opt.zero_grad(set_to_none=True)

            sec, mib = measure(step, device, repeats=3)
            mfu = ""
            if cuda and peak:
                with FlopCounterMode(display=False) as counter:
                    step()
                mfu = f"{100 * counter.get_total_flops() / sec / peak:.1f}%"
            rows.append([preset, sim, batch / sec, mib, mfu])
            del model, opt
    print_table("SeqClip training step", ["preset", "sequence similarity", "samples/s", "peak MiB", "MFU"], rows)


if __name__ == "__main__":
    main()
