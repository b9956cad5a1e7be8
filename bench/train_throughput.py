"""Benchmark the real training loop: ``seqclip train`` (its loader, captions, order negatives,
optimizer step and clipping) on a radar-synth dataset, reporting the samples/s that
``metrics.jsonl`` logs, where the step's time goes, FLOPs and MFU, and the loader's own samples/s.

    uv run python bench/train_throughput.py                    # CPU: tiny, batch 32
    BENCH_PRESETS=tiny,base BENCH_BATCHES=32,128,256 BENCH_COMPILE=0,1 uv run python bench/train_throughput.py

Per configuration, two runs of ``BENCH_STEPS`` optimizer steps (default 8) in one epoch:
- the plain run gives ``logged`` (the last ``samples_per_s`` in metrics.jsonl: the epoch so far,
  first steps included, as users see it) and ``steady`` (the same log without its first two steps);
- a second run with ``seqclip.timing.PhaseTimer`` (CUDA synchronised at each phase boundary) gives
  milliseconds per step in loading (waiting for the next batch), text, radar, similarity (sequence
  similarity + losses), backward and optimizer (clipping + AdamW + schedule).
FLOPs per sample are counted with ``torch.utils.flop_counter`` on one training step; MFU divides
the steady FLOP rate by the matrix-multiply rate measured on the same device at the row's precision
(``matmul_rate``), and on a known card also by its dense bf16 peak. The runs use the device's default
precision (``seqclip.config.default_precision``: bf16 autocast on CUDA and on a CPU with native bf16,
else fp32); ``BENCH_PRECISIONS=fp32,bf16`` runs each.
``BENCH_DATA_ON_DEVICE=0,1`` runs each configuration with the DataLoader path (0) and with
``--data-on-device`` (1); ``auto`` (the default) leaves the option out. ``BENCH_TEXT_LAYERS=all,2,0``
runs each with ``--text-trainable-layers N``; ``default`` (the default) leaves the option out. The
table gives both as the run resolved them.
``BENCH_CLIPS`` (default: 8 batches of the largest batch size, in the train split) sets the
dataset size; it is generated once into ``bench_out/``. ``BENCH_TEXT_MODEL`` replaces the text
encoder (a local directory, e.g. MiniLM's architecture with random weights on machines without the
weights package: throughput does not depend on the weights).
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

# bench/ holds scripts named like the packages: import the packages, not the scripts
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE] + [_HERE]
from benchlib import print_table  # noqa: E402
from data_loading import loader_rate  # noqa: E402
from rich.console import Console  # noqa: E402

from radar_synth import generate_dataset  # noqa: E402
from seqclip.config import TrainConfig, default_precision  # noqa: E402
from seqclip.distributed import DistContext  # noqa: E402
from seqclip.timing import PHASES, PhaseTimer  # noqa: E402
from seqclip.training.loop import optimizer_step, train  # noqa: E402
from seqclip.training.setup import AUTOCAST_DTYPES, setup  # noqa: E402
from seqclip.training.stream import default_workers  # noqa: E402

PEAK_BF16 = {"H100": 989e12, "H200": 989e12, "A100": 312e12}  # dense bf16 FLOP/s
FRAMES = 256


def _env_list(name: str, default: str) -> list[str]:
    return [x for x in os.environ.get(name, default).split(",") if x]


def _text_layers(name: str) -> int | str | None:
    """``BENCH_TEXT_LAYERS``'s entry as ``TrainConfig.text_trainable_layers``: default (None), all, N."""
    return None if name == "default" else name if name == "all" else int(name)


def _dataset(clips: int) -> Path:
    root = Path(os.environ.get("BENCH_OUT", "bench_out")) / "train_throughput" / f"synth-{clips}"
    if not (root / "manifest.jsonl").is_file():
        generate_dataset(root, clips, seed=0, workers=min(8, os.cpu_count() or 1), max_frames=FRAMES)
    return root


def _logged_rates(run: Path) -> tuple[float, float]:
    """The last logged samples/s, and the rate over the log without its first two steps."""
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    rows = [r for r in rows if "samples_per_s" in r]
    last = rows[-1]["samples_per_s"]
    if len(rows) < 4:
        return last, last
    seen = [r["step"] for r in rows]  # samples ∝ steps within one epoch (equal batches)
    times = [s / r["samples_per_s"] for s, r in zip(seen, rows, strict=True)]
    per_step = last * times[-1] / seen[-1]  # samples per step
    return last, per_step * (seen[-1] - seen[1]) / (times[-1] - times[1])


def _flops_per_sample(cfg: TrainConfig) -> float:
    with tempfile.TemporaryDirectory() as out:
        # counted eagerly: compiled graphs run fused kernels the counter does not see (the FLOPs are the same)
        r = setup(replace(cfg, out=out, compile=False), Console(quiet=True), DistContext.single())
        batch = next(iter(r.train_data.batches(0, 0)))
        with FlopCounterMode(display=False) as counter:
            optimizer_step(r, [batch])
        r.logger.close()
    return counter.get_total_flops() / cfg.batch_size


def matmul_rate(device: torch.device, dtype: torch.dtype, n: int = 4096, repeats: int = 20) -> float:
    """FLOP/s of ``n x n`` matrix products in ``dtype`` on ``device`` (the denominator of MFU)."""
    import time

    n = n if device.type == "cuda" else 1024
    a, b = (torch.randn(n, n, device=device, dtype=dtype) for _ in range(2))
    for _ in range(3):
        a @ b
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(repeats):
        a @ b
    if device.type == "cuda":
        torch.cuda.synchronize()
    return 2 * n**3 * repeats / (time.perf_counter() - t0)


def measure(cfg: TrainConfig, steps: int) -> dict:
    import tomllib

    with tempfile.TemporaryDirectory() as out:
        train(replace(cfg, out=f"{out}/plain"), Console(quiet=True))
        logged, steady = _logged_rates(Path(out) / "plain")
        used = tomllib.loads((Path(out) / "plain" / "config.toml").read_text())["train"]  # the options as resolved
        with PhaseTimer() as timer:
            train(replace(cfg, out=f"{out}/timed"), Console(quiet=True))
    ms = {p: 1e3 * timer.seconds[p] / steps for p in PHASES}
    return {
        "logged": logged,
        "steady": steady,
        "ms": ms,
        "on_device": used["data_on_device"],
        "text_layers": used["text_trainable_layers"],
    }


def main() -> None:
    cuda = torch.cuda.is_available() and os.environ.get("BENCH_DEVICE", "auto") != "cpu"
    name = torch.cuda.get_device_name() if cuda else f"CPU, {torch.get_num_threads()} threads"
    peak = next((v for k, v in PEAK_BF16.items() if k in name), None)
    precisions = _env_list("BENCH_PRECISIONS", default_precision("cuda" if cuda else "cpu"))
    measured = {p: matmul_rate(torch.device("cuda" if cuda else "cpu"), AUTOCAST_DTYPES[p]) for p in precisions}
    batches = [int(b) for b in _env_list("BENCH_BATCHES", "32,128,256" if cuda else "32")]
    steps = int(os.environ.get("BENCH_STEPS", "8"))
    clips = int(os.environ.get("BENCH_CLIPS", str(math.ceil(max(batches) * steps / 0.8) + 8)))
    data = _dataset(clips)
    print(
        f"device: {name}; torch {torch.__version__}; autocast {', '.join(precisions)}; {clips} clips "
        f"of <= {FRAMES} frames, clip length {FRAMES}; {steps} steps per run; measured matmul rate "
        + ", ".join(f"{measured[p] / 1e12:.2f} TFLOP/s ({p})" for p in precisions)
    )
    with tempfile.TemporaryDirectory() as out:  # warm-up: the first run in a process pays one-off costs
        train(
            TrainConfig(
                data=str(data),
                out=out,
                max_steps=2,
                eval_test=False,
                device="cuda" if cuda else "cpu",
                batch_size=min(batches),
                text_model=os.environ.get("BENCH_TEXT_MODEL", TrainConfig.text_model),
            ),
            Console(quiet=True),
        )
    rows = []
    for preset in _env_list("BENCH_PRESETS", "tiny"):
        for sim in _env_list("BENCH_SIMILARITIES", "pooled,temporal,combined"):
            for batch in batches:
                for comp, on_device, layers, precision in (
                    (c, d, t, p)
                    for c in _env_list("BENCH_COMPILE", "0")
                    for d in _env_list("BENCH_DATA_ON_DEVICE", "auto")
                    for t in _env_list("BENCH_TEXT_LAYERS", "default")
                    for p in precisions
                ):
                    cfg = TrainConfig(
                        data=str(data),
                        preset=preset,
                        similarity=sim,
                        batch_size=batch,
                        epochs=1,
                        max_steps=steps,
                        log_every=1,
                        eval_test=False,
                        clip_length=FRAMES,
                        precision=precision,
                        device="cuda" if cuda else "cpu",
                        compile=comp == "1",
                        checkpoint_every=10**9,
                        out="unused",
                        data_on_device=None if on_device == "auto" else on_device == "1",
                        text_trainable_layers=_text_layers(layers),
                        text_model=os.environ.get("BENCH_TEXT_MODEL", TrainConfig.text_model),
                    )
                    m = measure(cfg, steps)
                    rate = _flops_per_sample(cfg) * m["steady"]  # FLOP/s
                    rows.append(
                        [
                            preset,
                            sim,
                            batch,
                            str(m["text_layers"]) + (" (default)" if layers == "default" else ""),
                            precision,
                            "yes" if comp == "1" else "no",
                            ("on device" if m["on_device"] else "loader")
                            + (" (default)" if on_device == "auto" else ""),
                            f"{m['logged']:.1f}",
                            f"{m['steady']:.1f}",
                            *(f"{m['ms'][p]:.0f}" for p in PHASES),
                            f"{rate / 1e12:.3f}",
                            f"{100 * rate / measured[precision]:.1f}%",
                            f"{100 * rate / peak:.1f}%" if peak else "",
                        ]
                    )
    print_table(
        "seqclip train: samples/s and ms per step by phase",
        [
            "preset",
            "similarity",
            "batch",
            "text layers",
            "precision",
            "compile",
            "data",
            "logged samples/s",
            "steady samples/s",
            *(f"{p} ms" for p in PHASES),
            "TFLOP/s",
            "MFU (measured matmul)",
            "MFU (card peak)",
        ],
        rows,
    )
    workers = default_workers()
    print(
        f"\nthe loader alone (directory format, {workers} workers, batch 32): "
        f"{loader_rate('directory', data, workers):.0f} samples/s"
    )


if __name__ == "__main__":
    main()
