"""Does Sequence CLIP learn temporal order? Train a list of configurations on one generated dataset
and score each on the test split: retrieval, twin accuracy, text-order accuracy, zero-shot.

    uv run python bench/order_benchmark.py --scale cpu [--out bench_out/order] [--only NAME ...]
    uv run python bench/order_benchmark.py --scale cpu --group hard-negatives   # K of --seq-hard-negatives

The dataset is generated once (fixed seed) into ``OUT/data``: a large test split (30 % of the clips)
so that it holds >= 400 clips and >= 100 order-swapped twin pairs. Every configuration trains with
the same seed; results go to ``OUT/results.json`` (a configuration already there is not retrained,
so an interrupted run continues) and the Markdown table is printed. Every score comes with its 95 %
bootstrap interval over clips. The "chosen" row is picked on the validation split, never the test.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

# bench/radar_synth.py shares its name with the package: import the package, not the script
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

SCALES = {  # dataset and training size per preset
    "smoke": {"clips": 60, "max_frames": 128, "twins": 0.5, "preset": "tiny", "epochs": 1, "batch_size": 8},
    "cpu": {"clips": 1400, "max_frames": 256, "twins": 0.5, "preset": "tiny", "epochs": 8, "batch_size": 32},
    "gpu": {"clips": 6000, "max_frames": 496, "twins": 0.35, "preset": "small", "epochs": 30, "batch_size": 128},
}
SPLITS = (0.6, 0.1, 0.3)
CONFIGS = {  # name -> TrainConfig fields; the increments the order question needs, then combinations
    "pooled only": {"similarity": "pooled", "order_negatives": False, "twin_batches": False},
    "+ combined": {"similarity": "combined", "order_negatives": False, "twin_batches": False},
    "+ temporal only": {"similarity": "temporal", "order_negatives": False, "twin_batches": False},
    "+ combined + order negatives": {"similarity": "combined", "order_negatives": True, "twin_batches": False},
    "+ combined + twins in training": {"similarity": "combined", "order_negatives": False, "twin_batches": True},
    "+ temporal + order negatives": {"similarity": "temporal", "order_negatives": True, "twin_batches": False},
    "+ temporal + order negatives + twins": {"similarity": "temporal", "order_negatives": True, "twin_batches": True},
    "+ temporal + order negatives + twins + activity positives": {
        "similarity": "temporal",
        "order_negatives": True,
        "twin_batches": True,
        "positives": "same_activities",
    },
}

HARD_NEGATIVES = {  # --group hard-negatives: the default recipe with the sequence loss on K hard negatives per row
    f"default recipe, K={k}": {"seq_hard_negatives": k} for k in (0, 4, 8, 16)
}
GROUPS = {"order": CONFIGS, "hard-negatives": HARD_NEGATIVES}


def dataset(out: Path, scale: dict, seed: int = 2026) -> Path:
    from radar_synth import generate_dataset

    root = out / "data"
    if not (root / "manifest.jsonl").is_file():
        generate_dataset(
            root,
            scale["clips"],
            seed=seed,
            workers=os.cpu_count() or 1,
            twins=scale["twins"],
            max_frames=scale["max_frames"],
            split_fractions=SPLITS,
        )
    return root


def evaluate(model, data: Path, split: str, clip_length: int) -> dict:
    """Retrieval (pooled score), twin and order accuracy for the pooled score and every sequence
    similarity the model has, zero-shot top-1; each with its interval."""
    from seqclip.data import RadarTextDataset
    from seqclip.evaluation.tasks import (
        EvalOptions,
        eval_order,
        eval_retrieval,
        eval_twins,
        eval_zeroshot,
    )

    ds = RadarTextDataset(data, split, clip_length, train=False)
    scores = ["pooled"]
    if model.seq_similarity is not None:
        scores += [*model.seq_similarity.components, "total"]
    retrieval = eval_retrieval(model, ds)
    out = {
        "clips": len(ds),
        "retrieval": {
            d: {k: retrieval[d][k] for k in ("R@1", "R@5", "interval")} for d in ("text_to_radar", "radar_to_text")
        },
    }
    for name, task in (("twins", eval_twins), ("order", eval_order)):
        out[name] = {
            s: {
                k: v
                for k, v in task(model, ds, EvalOptions(similarity=s)).items()
                if k in ("accuracy", "interval", "comparisons", "clips")
            }
            for s in scores
        }
    zs = eval_zeroshot(model, ds)
    out["zeroshot"] = {"top1": zs["top1"], "interval": zs["top1_interval"], "clips": zs["clips"]}
    return out


def train_one(name: str, fields: dict, data: Path, out: Path, scale: dict) -> dict:
    from rich.console import Console

    from seqclip import SeqClip
    from seqclip.config import TrainConfig
    from seqclip.training.loop import train

    run = out / "runs" / name.replace(" ", "_").replace("+", "p")
    cfg = TrainConfig(
        data=str(data),
        out=str(run),
        preset=scale["preset"],
        epochs=scale["epochs"],
        batch_size=scale["batch_size"],
        eval_test=False,
        overwrite=True,
        seed=0,
        **fields,
    )
    t0 = time.time()
    train(cfg, Console(quiet=True))
    minutes = (time.time() - t0) / 60
    model = SeqClip.from_pretrained(run / "best").eval()
    return {
        "config": fields,
        "train_minutes": minutes,
        "val": evaluate(model, data, "val", cfg.clip_length),
        "test": evaluate(model, data, "test", cfg.clip_length),
    }


def _cell(value: float, interval) -> str:
    return f"{value:.1f} [{interval[0]:.1f}, {interval[1]:.1f}]"


def table(results: dict) -> str:
    head = [
        "configuration",
        "t→r R@1",
        "t→r R@5",
        "r→t R@1",
        "r→t R@5",
        "twins (pooled)",
        "twins (best seq.)",
        "order (pooled)",
        "order (best seq.)",
        "zero-shot top-1",
        "train min",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, res in results.items():
        t = res["test"]
        r = t["retrieval"]
        cells = [name] + [
            _cell(r[d][k], r[d]["interval"][k]) for d in ("text_to_radar", "radar_to_text") for k in ("R@1", "R@5")
        ]
        for task in ("twins", "order"):
            pooled = t[task]["pooled"]
            seq = {s: v for s, v in t[task].items() if s != "pooled"}
            cells.append(_cell(pooled["accuracy"], pooled["interval"]))
            if seq:
                best = max(seq, key=lambda s: res["val"][task][s]["accuracy"])  # chosen on validation
                cells.append(f"{best}: {_cell(seq[best]['accuracy'], seq[best]['interval'])}")
            else:
                cells.append("-")
        cells.append(_cell(t["zeroshot"]["top1"], t["zeroshot"]["interval"]))
        cells.append(f"{res['train_minutes']:.1f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="cpu")
    parser.add_argument("--out", type=Path, default=Path("bench_out/order"))
    parser.add_argument("--only", nargs="*", default=None, help="configuration names to run (default: all)")
    parser.add_argument(
        "--group",
        choices=sorted(GROUPS),
        default="order",
        help="order: the order increments; hard-negatives: --seq-hard-negatives K (0 = all pairs)",
    )
    args = parser.parse_args()
    sys.path.append(_HERE)  # last: this folder's scripts named after the packages must not shadow them
    from results import stamp

    when = stamp()  # the code that runs
    scale, t0 = SCALES[args.scale], time.time()
    args.out.mkdir(parents=True, exist_ok=True)
    data = dataset(args.out, scale)
    data_minutes = (time.time() - t0) / 60
    path = args.out / "results.json"
    results = json.loads(path.read_text()) if path.is_file() else {}
    configs = GROUPS[args.group]
    measured: set[str] = set()  # what this call trained (the CSV gets these; results.json keeps all)
    for name, fields in configs.items():
        if (args.only and name not in args.only) or name in results:
            continue
        measured.add(name)
        results[name] = train_one(name, fields, data, args.out, scale)
        path.write_text(json.dumps(results, indent=1) + "\n")
        print(f"{name}: done in {results[name]['train_minutes']:.1f} min", flush=True)
    results = {n: results[n] for n in configs if n in results}  # this group's rows
    chosen = max(
        results,
        key=lambda n: (
            max(v["accuracy"] for v in results[n]["val"]["order"].values())
            + max(v["accuracy"] for v in results[n]["val"]["twins"].values())
        ),
    )
    any_test = next(iter(results.values()))["test"]
    print(
        f"\nscale {args.scale}: {scale}; splits {SPLITS}; test {any_test['clips']} clips, "
        f"{any_test['twins']['pooled']['clips'] // 2} twin pairs, {any_test['order']['pooled']['clips']} multi-segment "
        f"clips; data {data_minutes:.1f} min, total {(time.time() - t0) / 60:.1f} min this call; "
        f"{os.cpu_count()} CPUs"
    )
    print(f"chosen on validation (twin + order accuracy, best score): {chosen}\n")
    print(table(results))
    if measured:
        record_results({n: r for n, r in results.items() if n in measured}, when)


def record_results(results: dict, when: dict) -> None:
    """Test text->radar R@1 and the temporal twin and order accuracies with their intervals of ``results``
    (what this call trained), appended to docs/benchmarks/order.csv (and plotted)."""
    from results import plot, record, row

    rows = []
    for name, res in results.items():
        t = res["test"]
        r = t["retrieval"]["text_to_radar"]
        found = [("text→radar R@1", r["R@1"], r["interval"]["R@1"])]
        found += [
            (f"{task} (temporal)", t[task]["temporal"]["accuracy"], t[task]["temporal"]["interval"])
            for task in ("twins", "order")
            if "temporal" in t[task]
        ]
        for metric, value, interval in found:
            rows.append(row(name, metric, value, interval))
    record("order", rows, when)
    print(f"results appended to docs/benchmarks/order.csv; plot: {plot('order')}")


if __name__ == "__main__":
    main()
