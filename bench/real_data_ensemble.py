"""Which of the RadHAR models that ``bench/real_data.py`` trained, taken together, recognise RadHAR
best? Every union of their three-seed sets is scored on RadHAR's val split; the best on val is
scored once on test.

    uv run python bench/real_data_ensemble.py OUT [OUT ...] [--json PATH] [--zero-shot | --few-shot]

Each OUT is an output folder of ``bench/real_data.py ... --seeds 3`` (its ``setup.json`` names the
angle and the preset; a folder without one holds azimuth views and tiny models). Its sets: the
``sensor`` recipe fine-tuned on RadHAR (seeds 0, 1, 2) and the same training on RadHAR alone; a set
is taken when all its models are there. A union's read-out is the mean of its models' class
probabilities (each model's pooled classifier of the class-name prompts, its own logit scale, on the
windows of its own angle). Val's choice is the union with the best val balanced accuracy (a tie goes
to fewer sets); its test balanced accuracy has a 95 % interval from a bootstrap over RadHAR's test
recordings. The table lists the best unions on val; results go to ``--json`` (default
``OUT/ensemble.json`` of the first OUT), and val's choice's test figure is appended to
``docs/benchmarks/real-data.csv``.

``--zero-shot``: the same with the sets trained on simulation only (the ``sensor`` recipe, seeds 0, 1,
2) and no RadHAR label but val's for the choice; results go to ``OUT/zero_shot_together.json``.

``--few-shot``: instead, the few-shot probes of ``real_data.py`` (k = 1, 5, 20 train windows a class,
5 draws, the L2 weight chosen on val) over every simulation-trained model of the OUTs together (the
``sensor`` recipe, seeds 0, 1, 2: a probe on each model's features, the mean of their class
probabilities), against as many untrained encoders together (each OUT's preset, random weights of
seeds 0, 1, 2, on its conversion); test balanced accuracy, mean over the draws with its interval.
Results go to ``OUT/few_shot_together.json`` and the CSV.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from pathlib import Path

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE] + [_HERE]
import real_data  # noqa: E402
from benchlib import print_table  # noqa: E402

SEEDS = ("", "-seed1", "-seed2")  # the model folders' suffixes of seeds 0, 1, 2
SETS = {"fine-tuned from simulation": "model-sensor-finetuned", "RadHAR alone": "model-radhar-only"}  # -> folder stem
SIMULATION_STEM = "model-sensor"  # the folders of the ``sensor`` recipe's models, trained on simulation only
ZERO_SHOT_SETS = {"sensor": SIMULATION_STEM}
# --zero-shot or not -> the sets, the target, the CSV metric, the default results file, the CSV's name for a union
MODES = {
    False: (SETS, 97, "supervised", "ensemble.json", "models together"),
    True: (ZERO_SHOT_SETS, 60, "zero-shot", "zero_shot_together.json", "simulation-trained models together"),
}
SHOWN_UNIONS = 10  # unions listed by val balanced accuracy


def _setup(out: Path) -> tuple[str, str]:
    """The angle and preset of one ``real_data.py`` folder (without a note: azimuth, tiny)."""
    setup = json.loads((out / "setup.json").read_text()) if (out / "setup.json").is_file() else {}
    return setup.get("angle", "azimuth"), setup.get("preset", "tiny")


def simulation_models(out: Path) -> list[Path]:
    """The ``sensor`` recipe's models of one ``real_data.py`` folder (trained on simulation only)."""
    runs = [out / f"{SIMULATION_STEM}{suffix}" for suffix in SEEDS]
    return [run for run in runs if (run / "best").is_dir()]


def model_sets(out: Path, stems: dict[str, str] = SETS) -> dict[str, list[Path]]:
    """The three-seed model sets of one ``real_data.py`` folder, named by configuration (``stems``:
    each set's configuration -> its folders' stem)."""
    angle, preset = _setup(out)
    found = {}
    for part, stem in stems.items():
        runs = [out / f"{stem}{suffix}" for suffix in SEEDS]
        if all((run / "best").is_dir() for run in runs):
            found[real_data._configuration(part, angle, preset)] = runs
    return found


def ranked(val: dict[str, float]) -> list[tuple[float, tuple[str, ...]]]:
    """Unions of sets by their val balanced accuracy ``val[union]`` (keys: names joined by " + "),
    best first; a tie goes to fewer sets, then to the earlier names."""
    unions = [(score, tuple(name.split(" + "))) for name, score in val.items()]
    return sorted(unions, key=lambda u: (-u[0], len(u[1]), u[1]))


def _few_shot_together(outs: list[Path], path: Path) -> None:
    """``--few-shot``: the simulation-trained models of ``outs`` together against as many untrained
    encoders together, each side through ``real_data._few_shot_probes``."""
    from results import plot, record, row

    trained, untrained = [], []
    for out in outs:
        _, preset = _setup(out)
        for seed, run in enumerate(simulation_models(out)):
            real_data._log(f"embedding RadHAR with {run} and an untrained {preset} encoder (seed {seed})")
            trained.append(real_data._split_embeddings(run, out / "radhar", preset))
            untrained.append(real_data._split_embeddings(None, out / "radhar", preset, seed))
    if not trained:
        sys.exit(f"{', '.join(map(str, outs))}: no model trained on simulation (model-sensor*/best)")
    names = {
        f"{len(trained)} simulation-trained models together": real_data._few_shot_probes(trained),
        f"{len(untrained)} untrained encoders together": real_data._few_shot_probes(untrained),
    }
    rows = [
        [
            name,
            *(
                f"{r[str(k)]['mean']:.1f} [{r[str(k)]['interval'][0]:.1f}, {r[str(k)]['interval'][1]:.1f}]"
                for k in real_data.SHOTS
            ),
        ]
        for name, r in names.items()
    ]
    print_table(
        f"RadHAR few-shot: probes on k train windows a class, {real_data.DRAWS} draws (test balanced accuracy, %, "
        "mean over draws [95 % interval]; L2 weight chosen on val)",
        ["features", *(f"k = {k}" for k in real_data.SHOTS)],
        rows,
    )
    path.write_text(json.dumps(names, indent=2) + "\n")
    print(f"wrote {path}")
    shots = [
        row(name, "few-shot, 5 a class", r["5"]["mean"], r["5"]["interval"], "% balanced") for name, r in names.items()
    ]
    record("real-data", shots)
    print(f"results appended to docs/benchmarks/real-data.csv; plot: {plot('real-data')}")


def main() -> None:
    import torch

    from seqclip.model import SeqClip

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outs", nargs="+", type=Path, help="output folders of bench/real_data.py --seeds 3")
    ap.add_argument(
        "--json",
        type=Path,
        help="where the results go (default, in the first OUT: ensemble.json, zero_shot_together.json with "
        "--zero-shot, few_shot_together.json with --few-shot)",
    )
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--zero-shot", action="store_true", help="unions of the sets trained on simulation only")
    mode.add_argument("--few-shot", action="store_true", help="few-shot probes over the simulation-trained models")
    args = ap.parse_args()
    for out in args.outs:
        if not (out / "radhar" / "manifest.jsonl").is_file():
            sys.exit(f"{out}: not an output folder of bench/real_data.py (no radhar/manifest.jsonl)")
    if args.few_shot:
        _few_shot_together(args.outs, args.json or args.outs[0] / "few_shot_together.json")
        return
    stems, target, part, default_json, together = MODES[args.zero_shot]
    sets: dict[str, tuple[list[Path], Path]] = {}
    for out in args.outs:
        sets |= {name: (runs, out / "radhar") for name, runs in model_sets(out, stems).items()}
    if not sets:
        sys.exit(f"{', '.join(map(str, args.outs))}: no three-seed model set (run real_data.py with --seeds 3)")
    models = {name: [SeqClip.load_model(run, torch.device("cpu")) for run in runs] for name, (runs, _) in sets.items()}

    def probabilities_of(name: str, split: str):
        """The mean class probabilities ``[N, C]`` of set ``name`` on ``split`` (class-name prompts), the
        labels and recordings."""
        runs, radhar = sets[name]
        return real_data._mean_probabilities(runs, models[name], radhar, split, "names")

    probabilities: dict = {}
    truth = None
    for name, (_, radhar) in sets.items():
        real_data._log(f"val: {name}")
        probabilities[name], labels, _ = probabilities_of(name, "val")
        if truth is not None and not torch.equal(labels, truth):
            sys.exit(f"{radhar}: its val windows are not the other folders' (another RadHAR conversion)")
        truth = labels
    assert truth is not None
    val = {}
    for size in range(1, len(sets) + 1):
        for union in itertools.combinations(sets, size):
            mean = torch.stack([probabilities[n] for n in union]).mean(0)  # [N, C]
            val[" + ".join(union)] = real_data._balanced(mean.argmax(1), truth)
    order = ranked(val)
    chosen = order[0][1]
    test = []
    for name in chosen:
        real_data._log(f"test: {name}")
        test.append(probabilities_of(name, "test"))
    if any(not torch.equal(t[1], test[0][1]) or t[2] != test[0][2] for t in test):
        sys.exit("the folders' test windows differ (another RadHAR conversion)")
    predicted = torch.stack([t[0] for t in test]).mean(0).argmax(1)  # [N]
    scored = real_data._recording_interval(predicted, test[0][1], test[0][2])
    rows = [[" + ".join(union), f"{3 * len(union)}", f"{score:.1f}", ""] for score, union in order[:SHOWN_UNIONS]]
    lo, hi = scored["interval"]
    rows[0][3] = f"{scored['balanced']:.1f} [{lo:.1f}, {hi:.1f}]"
    print_table(
        f"RadHAR: models together, the best of {len(order)} unions on val (balanced accuracy, %; val "
        f"{len(truth)} windows; test {len(predicted)} windows, interval over {scored['recordings']} recordings; "
        f"target {target})",
        ["models", "count", "val", "test (val's choice only)"],
        rows,
    )
    result = {
        "sets": {name: [str(run) for run in runs] for name, (runs, _) in sets.items()},
        "val_balanced": val,
        "chosen": list(chosen),
        "test": scored,
    }
    path = args.json or args.outs[0] / default_json
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")
    from results import plot, record, row

    named = f"{together}, val's choice of {len(order)} unions ({3 * len(chosen)} models)"
    figure = row(named, f"{part}, over recordings", scored["balanced"], scored["interval"], "% balanced")
    record("real-data", [figure])
    print(f"results appended to docs/benchmarks/real-data.csv; plot: {plot('real-data')}")


if __name__ == "__main__":
    main()
