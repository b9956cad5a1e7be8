"""Which recipe should a CPU train by default? Each candidate trains for the same wall-time budget on
the order benchmark's CPU-scale dataset and is scored on the **validation** split (retrieval, twins,
order, each with its 95 % interval); the fastest recipe not below the baseline (the first recipe, or
``--baseline NAME``) on any of them is the candidate for the CPU default. The test split is not read.

    uv run python bench/cpu_recipes.py [--minutes 12] [--out bench_out/cpu_recipes] [--only NAME ...]
    uv run python bench/cpu_recipes.py --minutes 8 --only "--precision fp32" "--precision bf16" \
        --baseline "--precision fp32" [--seed 1 --data bench_out/cpu_recipes/data --out bench_out/cpu_recipes_seed1]

A recipe's epochs are set so that its whole schedule (warm-up and cosine decay) fits the budget: a
short probe run measures its steady samples/s on this machine first (after its text cache is filled),
then ``epochs = budget x rate / training clips``. The wall time reported is the real one, the text
cache's filling and every epoch's validation included. Results go to ``OUT/results.json`` (a recipe
already there is not retrained); the Markdown table is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE] + [_HERE]
from benchlib import print_table  # noqa: E402
from order_benchmark import SCALES, dataset, evaluate  # noqa: E402

RECIPES = {  # name -> TrainConfig fields over the defaults
    "default (every text layer trains)": {},
    "--text-trainable-layers 2": {"text_trainable_layers": 2},
    "--text-trainable-layers 1": {"text_trainable_layers": 1},
    "--text-trainable-layers 0": {"text_trainable_layers": 0},
    # the precision, on a CPU with native bf16 (compare with --baseline "--precision fp32")
    "--precision fp32": {"text_trainable_layers": 0, "precision": "fp32"},
    "--precision bf16": {"text_trainable_layers": 0, "precision": "bf16"},
}
PROBE_STEPS = 8
FIGURES = (
    ("t→r R@1", "retrieval", "text_to_radar"),
    ("r→t R@1", "retrieval", "radar_to_text"),
    ("twins (temporal)", "twins", "temporal"),
    ("order (temporal)", "order", "temporal"),
)


def _rate(cfg) -> float:
    """Steady samples/s of ``cfg`` on this machine: a probe run, its first two logged steps left out."""
    from rich.console import Console

    from seqclip.training.loop import train

    with tempfile.TemporaryDirectory() as out:
        train(
            replace(
                cfg, out=out, epochs=1, max_steps=PROBE_STEPS, log_every=1, eval_test=False, checkpoint_every=10**9
            ),
            Console(quiet=True),
        )
        rows = [json.loads(x) for x in (Path(out) / "metrics.jsonl").read_text().splitlines()]
    rows = [r for r in rows if "samples_per_s" in r]
    steps = [r["step"] for r in rows]
    times = [s / r["samples_per_s"] for s, r in zip(steps, rows, strict=True)]  # samples / rate, in step units
    return rows[-1]["samples_per_s"] * (times[-1] / steps[-1]) * (steps[-1] - steps[1]) / (times[-1] - times[1])


def run(name: str, fields: dict, data: Path, out: Path, minutes: float, scale: dict, seed: int = 0) -> dict:
    from rich.console import Console

    from radar_text_data import read_manifest
    from seqclip.config import TrainConfig
    from seqclip.model.seqclip import SeqClip
    from seqclip.training.loop import train

    base = TrainConfig(
        data=str(data),
        preset=scale["preset"],
        batch_size=scale["batch_size"],
        device="cpu",
        out=str(out / "runs" / name.replace(" ", "_")),
        eval_test=False,
        seed=seed,
        **fields,
    )
    rate = _rate(base)
    clips = sum(r.split == "train" for r in read_manifest(data))
    epochs = max(1, round(minutes * 60 * rate / clips))
    start = time.perf_counter()
    train(replace(base, epochs=epochs, overwrite=True), Console(quiet=True))
    wall = time.perf_counter() - start
    model = SeqClip.from_pretrained(Path(base.out) / "best").eval()
    return {"rate": rate, "epochs": epochs, "minutes": wall / 60, "val": evaluate(model, data, "val", base.clip_length)}


def _cell(figure: dict) -> str:
    low, high = figure["interval"]
    return f"{figure['value']:.1f} [{low:.1f}, {high:.1f}]"


def figures(result: dict) -> dict[str, dict]:
    """The validation figures of a result, each ``{"value", "interval"}``."""
    val, out = result["val"], {}
    for label, task, key in FIGURES:
        if task == "retrieval":
            m = val["retrieval"][key]
            out[label] = {"value": m["R@1"], "interval": m["interval"]["R@1"]}
        else:
            m = val[task][key]
            out[label] = {"value": m["accuracy"], "interval": m["interval"]}
    return out


def table(results: dict, baseline: str) -> None:
    default = figures(results[baseline]) if baseline in results else None
    rows = []
    for name in RECIPES:
        if name not in results:
            continue
        r, f = results[name], figures(results[name])
        below = [k for k in f if default is not None and f[k]["value"] < default[k]["value"]]
        rows.append(
            [
                name,
                f"{r['rate']:.1f}",
                str(r["epochs"]),
                f"{r['minutes']:.1f}",
                *(_cell(f[k]) for k in f),
                "yes" if not below else f"no ({', '.join(below)})",
            ]
        )
    print_table(
        "CPU recipes at an equal wall-time budget: validation figures (95 % intervals)",
        ["recipe", "steady samples/s", "epochs", "wall min", *(k for k, _, _ in FIGURES), f"not below {baseline}"],
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=12.0, help="wall-time budget per recipe")
    parser.add_argument("--out", type=Path, default=Path("bench_out/cpu_recipes"))
    parser.add_argument("--only", nargs="*", default=None, help="recipe names to run")
    parser.add_argument(
        "--seed", type=int, default=0, help="the training seed (the same dataset; give each seed its own --out)"
    )
    parser.add_argument("--data", type=Path, default=None, help="the dataset (default: generated into OUT/data)")
    parser.add_argument(
        "--baseline", choices=list(RECIPES), default=next(iter(RECIPES)), help="the recipe compared with"
    )
    args = parser.parse_args()
    scale = SCALES["cpu"]
    data = args.data or dataset(args.out, scale)
    store = args.out / "results.json"
    results = json.loads(store.read_text()) if store.is_file() else {}
    for name, fields in RECIPES.items():
        if (args.only and name not in args.only) or name in results:
            continue
        results[name] = run(name, fields, data, args.out, args.minutes, scale, args.seed)
        store.write_text(json.dumps(results, indent=1))
    print(
        f"dataset: {data} (order benchmark, CPU scale); budget {args.minutes:g} min a recipe; seed {args.seed}; "
        f"{os.cpu_count()} CPUs"
    )
    table(results, args.baseline)


if __name__ == "__main__":
    main()
