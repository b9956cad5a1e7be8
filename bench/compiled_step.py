"""The whole-step compilation (``seqclip train --compile``): the time to compile, the
compiled step against eager (losses and gradients of one batch), and milliseconds per optimizer step
either way, on the machine's device (CUDA: bf16 autocast and CUDA graphs; CPU: inductor's C++ backend).

    uv run python bench/compiled_step.py                     # CPU: tiny preset, batch 8
    BENCH_PRESET=small BENCH_BATCH=256 python3 bench/compiled_step.py   # on a GPU

Dropout is switched off (eager and inductor draw different random numbers); the rest of the step is
the training loop's own ``device_step`` on batches ``SeqClip.prepare`` made with static shapes.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import torch

# bench/ holds scripts named like the packages: import the packages, not the scripts
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE] + [_HERE]
from benchlib import print_table, sync  # noqa: E402
from rich.console import Console  # noqa: E402

from radar_text_data.testing import tiny_dataset  # noqa: E402
from seqclip.config import TrainConfig, default_precision  # noqa: E402
from seqclip.distributed import DistContext  # noqa: E402
from seqclip.training.loop import device_step  # noqa: E402
from seqclip.training.setup import setup  # noqa: E402

FRAMES = 256


def _losses_and_grads(call, model, batch, autocast) -> tuple[dict, dict]:
    model.zero_grad(set_to_none=True)
    with autocast():
        out = call(batch)
    out["loss_total"].backward()
    return (
        {k: v.detach().float() for k, v in out.items() if v.dim() == 0},
        {n: p.grad.float() for n, p in model.named_parameters() if p.grad is not None},
    )


def _rel(a: dict, b: dict) -> float:
    """The worst tensor's relative difference, tensors whose gradient is float noise around an exact zero
    left out (attention key biases: softmax ignores a constant per query) — below 1e-6 of the whole's norm."""
    total = float(torch.sqrt(sum(v.float().square().sum() for v in b.values())))
    return max(float((a[k] - b[k]).norm() / b[k].norm()) for k in b if float(b[k].norm()) > 1e-6 * total)


def _ms_per_step(r, batches: list[dict], steps: int) -> float:
    """Steady milliseconds a step: every batch that will be timed runs once first (a compiled step
    compiles each new shape then, not on the clock)."""
    for b in batches[: min(steps, len(batches))]:
        device_step(r, [b])
    sync(r.device)
    t0 = time.perf_counter()
    for i in range(steps):
        device_step(r, [batches[i % len(batches)]])
    sync(r.device)
    return 1e3 * (time.perf_counter() - t0) / steps


def main() -> None:
    cuda = torch.cuda.is_available()
    preset, batch = os.environ.get("BENCH_PRESET", "tiny"), int(os.environ.get("BENCH_BATCH", "8"))
    steps = int(os.environ.get("BENCH_STEPS", "10" if cuda else "3"))
    text = os.environ.get("BENCH_TEXT_MODEL", TrainConfig.text_model)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data = tiny_dataset(
            Path(tmp) / "d", n=4 * batch + 2, frames=FRAMES, splits=["train"] * (4 * batch) + ["val"] * 2
        )
        for similarity in os.environ.get("BENCH_SIMILARITIES", "pooled,temporal").split(","):
            cfg = TrainConfig(
                data=str(data),
                out=f"{tmp}/run-{similarity}",
                preset=preset,
                batch_size=batch,
                clip_length=FRAMES,
                similarity=similarity,
                workers=0,
                eval_test=False,
                device="cuda" if cuda else "cpu",
                text_model=text,
                compile=True,
            )
            t0 = time.perf_counter()
            r = setup(cfg, Console(quiet=True), DistContext.single())
            for m in r.model.modules():
                if isinstance(m, torch.nn.Dropout):
                    m.p = 0.0
            batches = [r.model.prepare(b) for b in r.train_data.batches(0, 0)]
            first = _losses_and_grads(r.train_model, r.model, batches[0], r.autocast)  # compiles
            sync(r.device)
            compile_s = time.perf_counter() - t0
            eager = _losses_and_grads(r.model, r.model, batches[0], r.autocast)
            loss_diff, grad_diff = _rel(first[0], eager[0]), _rel(first[1], eager[1])
            compiled_ms = _ms_per_step(r, batches, steps)
            graphs, r.train_model, r.cuda_graphs = r.cuda_graphs, r.model, False
            eager_ms = _ms_per_step(r, batches, steps)
            r.logger.close()
            rows.append(
                [
                    similarity,
                    f"{compile_s:.1f}",
                    f"{loss_diff:.1e}",
                    f"{grad_diff:.1e}",
                    f"{eager_ms:.0f}",
                    f"{compiled_ms:.0f}",
                    f"{eager_ms / compiled_ms:.2f}x",
                    "yes" if graphs else "no",
                ]
            )
    name = torch.cuda.get_device_name() if cuda else f"CPU, {torch.get_num_threads()} threads"
    print(
        f"device: {name}; torch {torch.__version__}; {preset} preset, batch {batch}, {FRAMES} frames, "
        f"{default_precision('cuda' if cuda else 'cpu')}; {steps} steps timed; text model {text}"
    )
    print(
        "* tensors whose gradient is below 1e-6 of the whole's norm (exact zeros up to float noise, such as "
        "attention key biases) left out"
    )
    print_table(
        "compiled step against eager",
        [
            "similarity",
            "set-up + first compiled step s",
            "loss rel. diff",
            "grad rel. diff (worst tensor)*",
            "eager ms/step",
            "compiled ms/step",
            "speed-up",
            "CUDA graphs",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
