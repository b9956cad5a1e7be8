"""What else makes CPU training faster? The CPU default recipe (tiny, temporal similarity, batch 32,
fp32, ``--text-trainable-layers 0``, the training split held in memory) trained with one setting
changed at a time: compute threads, inter-op threads, the DataLoader and its workers competing with
compute on a small machine, attention through
PyTorch's fused SDPA kernel or timm's eager path, fused or for-each AdamW, flushing denormals,
``--compile``, and the sequence loss's share (the same run with ``--similarity pooled``). Each variant runs in its own
process (thread settings are fixed once per process), the
variants in rounds so that drift of the machine touches them alike; the table gives the median steady
samples/s over rounds (the first two logged steps of each run left out) and the ratio to the
default.

    uv run python bench/cpu_knobs.py [--rounds 3] [--steps 16] [--only NAME ...]

The dataset is the throughput benchmark's (``bench_out/train_throughput/synth-CLIPS``), generated
once. Parity of the settings that change numerics is tested in ``apps/seqclip-cli/tests``; this
script measures speed only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

_HERE = os.path.dirname(os.path.abspath(__file__))

VARIANTS = {  # name -> what changes (read by _one)
    "default": {},
    "the DataLoader, 1 worker (--no-data-on-device)": {"data_on_device": False},
    "loader workers 0 (load in the training process)": {"data_on_device": False, "workers": 0},
    "compute threads 1": {"threads": 1},
    "inter-op threads 1": {"interop": 1},
    "eager attention (TIMM_FUSED_ATTN=0)": {"env": {"TIMM_FUSED_ATTN": "0"}},
    "AdamW for-each (not fused)": {"adamw_fused": False},
    "denormals flushed": {"flush_denormal": True},
    "--compile": {"compile": True},
    "no sequence loss (--similarity pooled)": {"similarity": "pooled"},
}
BATCH = 32


def _one(name: str, data: str, steps: int) -> float:
    """Steady samples/s of one variant; runs in a process of its own."""
    change = VARIANTS[name]
    os.environ.update(change.get("env", {}))
    import torch

    if "threads" in change:
        torch.set_num_threads(change["threads"])
    if "interop" in change:
        torch.set_num_interop_threads(change["interop"])
    if change.get("flush_denormal"):
        torch.set_flush_denormal(True)
    if change.get("adamw_fused") is False:
        adamw = torch.optim.AdamW

        class ForEachAdamW(adamw):  # the same optimizer with the multi-tensor (for-each) kernels
            def __init__(self, *args, **kwargs):
                kwargs["fused"] = False
                super().__init__(*args, foreach=True, **kwargs)

            # the training guard hands a fused optimizer its skip flag; the for-each kernels take none
            found_inf = property(lambda self: None, lambda self, value: None)

        torch.optim.AdamW = ForEachAdamW
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE] + [_HERE]
    from rich.console import Console
    from train_throughput import _logged_rates

    from seqclip.config import TrainConfig
    from seqclip.training.loop import train

    with tempfile.TemporaryDirectory() as out:
        cfg = TrainConfig(
            data=data,
            out=out,
            preset="tiny",
            similarity=change.get("similarity", "temporal"),
            batch_size=BATCH,
            epochs=1,
            max_steps=steps,
            log_every=1,
            eval_test=False,
            precision="fp32",
            device="cpu",
            checkpoint_every=10**9,
            text_trainable_layers=0,
            compile=change.get("compile", False),
            workers=change.get("workers"),
            data_on_device=change.get("data_on_device"),
        )
        train(cfg, Console(quiet=True))
        return _logged_rates(Path(out))[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=16)
    ap.add_argument("--only", nargs="*", default=None, help="variant names (default: all)")
    ap.add_argument("--variant", help=argparse.SUPPRESS)  # internal: run one variant, print its rate
    ap.add_argument("--data", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.variant:
        print(json.dumps({"rate": _one(args.variant, args.data, args.steps)}))
        return
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE] + [_HERE]
    from benchlib import print_table
    from results import plot, record, stamp
    from train_throughput import _dataset

    when = stamp()  # the code that runs

    names = args.only or list(VARIANTS)
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise SystemExit(f"--only: unknown variant(s) {unknown}; known: {list(VARIANTS)}")
    data = _dataset(int(BATCH * args.steps / 0.8) + 8)
    rates: dict[str, list[float]] = {n: [] for n in names}
    for r in range(args.rounds):
        for n in names:
            proc = subprocess.run(
                [sys.executable, __file__, f"--variant={n}", "--data", str(data), "--steps", str(args.steps)],
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0:
                raise SystemExit(f"variant {n!r} failed:\n{proc.stderr[-3000:]}")
            rates[n].append(json.loads(proc.stdout.strip().splitlines()[-1])["rate"])
            print(f"round {r + 1}/{args.rounds}: {n}: {rates[n][-1]:.1f} samples/s", flush=True)
    base = statistics.median(rates["default"]) if "default" in rates else None
    rows = [
        [
            n,
            f"{statistics.median(v):.1f}",
            f"{min(v):.1f}–{max(v):.1f}",
            f"{statistics.median(v) / base:.2f}×" if base else "",
        ]
        for n, v in rates.items()
    ]
    import torch

    print_table(
        f"CPU training settings, one at a time (tiny, temporal, batch {BATCH}, fp32, text layers 0; "
        f"{torch.get_num_threads()} threads by default; {args.rounds} rounds of {args.steps} steps)",
        ["variant", "steady samples/s (median)", "range", "vs default"],
        rows,
    )
    metric = f"steady samples/s (median of {args.rounds} rounds, range)"
    record(
        "training-speed",
        [
            {
                "configuration": n,
                "metric": metric,
                "value": round(statistics.median(v), 1),
                "lo": min(v),
                "hi": max(v),
                "unit": "samples/s",
            }
            for n, v in rates.items()
        ],
        when,
    )
    print(f"results appended to docs/benchmarks/training-speed.csv; plot: {plot('training-speed')}")


if __name__ == "__main__":
    main()
