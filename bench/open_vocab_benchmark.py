"""Open vocabulary: recognise activities never seen in training, described in wording never seen in
training. Three fixed folds each hold out a fifth of radar-synth's 30 activities; per fold the
default recipe, a locked-text variant and the default recipe on train captions that only name activities
train on the seen activities and are scored on the test split,
with class prompts from names, descriptions or both and under each calibration rule
(``--variants "every text layer"`` adds the default recipe with every text layer training, as on CUDA;
``"batch 128"`` the default recipe at CUDA's batch, ``"small preset"`` with the GPU scale's encoder, and
``"GPU recipe"`` all three together: the recipe of the GPU scale, on any device).

    uv run python bench/open_vocab_benchmark.py --scale cpu [--out bench_out/open_vocab] [--folds 1 2 3]
    uv run python bench/open_vocab_benchmark.py --scale gpu-data --variants "default recipe" --out OUT
    python bench/open_vocab_benchmark.py --scale gpu --out OUT --folds 1   # one fold a call on a GPU

One pool of clips is simulated once (``OUT/pool``, fixed seed) with the val and test captions worded
only in the held-out wording families (``HELD_OUT_WORDING``) and train captions in the others (the
descriptive family among them: captions saying what the body does, radar-synth 0.9). Each
fold's dataset (``OUT/fold<k>``) is the pool without the train and val clips that contain one of the
fold's unseen activities (the test split keeps every clip; ``unseen.txt`` records them) -- what
``seqclip data synth --unseen`` makes, from one simulation instead of three. ``OUT/in_family`` is the
pool with its test captions worded anew in the train families (same clips, same segments), for
retrieval with in-family wording against held-out wording. Results go to ``OUT/results-v2.json`` (a
fold and variant already there is not retrained, so an interrupted run continues); the Markdown
tables are printed. Every figure has its 95 % bootstrap interval over clips; the mean over folds has
a normal-approximation interval from the folds' intervals.

Choices are made on validation, never on test, and a fold's choice never sees its own unseen
classes: the prompt source and the inductive calibration rule of fold k are those with the best
mean figures over the other folds' models on *pseudo-unseen* validation clips (the pool's val clips
of fold j's unseen activities, which fold j's model never trained on and which are seen classes for
fold k; each rule fitted on fold j's own validation split, as a user would fit it): the source with
the highest unseen-only top-1, then the inductive rule with the highest harmonic mean. The default
at a scale uses every fold's pseudo-unseen clips. The recipe with the highest validation score
(validation text->radar R@1 + seen-class top-1 + pseudo-unseen harmonic mean) is the scale's default.
``stacking`` is fitted on the pool's val clips of the fold's own unseen activities: it needs clips
users do not have, and is reported only to show what they would buy.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

# bench/radar_synth.py shares its name with the package: import the package, not the script
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

SCALES = {  # pool and training size per preset
    "smoke": {"clips": 90, "max_frames": 112, "preset": "tiny", "epochs": 1, "batch_size": 8},
    "cpu": {"clips": 1100, "max_frames": 160, "preset": "tiny", "epochs": 8, "batch_size": 32},
    "gpu": {"clips": 2600, "max_frames": 256, "preset": "small", "epochs": 30, "batch_size": 128},  # >= 2,000 a fold
    # the GPU scale's data and epochs with the CPU's default preset and batch: what two cores reach in an hour
    "gpu-data": {"clips": 2600, "max_frames": 256, "preset": "tiny", "epochs": 30, "batch_size": 32},
}
SPLITS = (0.6, 0.1, 0.3)
SIMULATION_MINUTES = "simulation_minutes.txt"  # in the pool: how long it took to simulate
MULTI_SEGMENT = 0.3  # a larger share of one-activity clips than the default: zero-shot scores those
HELD_OUT_WORDING = ("report", "story")  # val and test wording; train: plain, progressive and descriptive
# each unseen activity (a fifth of 30) with the seen activity that is its nearest described neighbour
FOLDS = {
    1: {
        "jog_in_place": "march_in_place",
        "kick": "lunge",
        "clap": "wave",
        "walk_backward": "walk",
        "throw": "punch",
        "bow": "bend_pick_up",
    },
    2: {
        "jumping_jacks": "jump",
        "hop_on_one_leg": "jump",
        "lie_down": "fall",
        "arm_circles": "wave",
        "side_bend": "torso_twist",
        "push": "punch",
    },
    3: {
        "run": "walk",
        "sidestep": "walk",
        "reach_up": "wave",
        "drink": "clap",
        "torso_twist": "turn_around",
        "march_in_place": "jog_in_place",
    },
}
VARIANTS = {  # name -> TrainConfig fields over the defaults
    "default recipe": {},
    "locked text": {"freeze_text": True, "cache_text": True},  # the text tower frozen; projections and radar learn
    "named captions only": {},  # the default recipe without the descriptive family in its train captions
    "every text layer": {"text_trainable_layers": "all"},  # the CUDA default's text tower, on any device
    "batch 128": {"batch_size": 128},  # the CUDA default's batch, on any device
    "small preset": {"preset": "small"},  # the GPU scale's radar encoder, on any device
    "GPU recipe": {"preset": "small", "batch_size": 128, "text_trainable_layers": "all"},  # all three together
}
VARIANT_WORDING = {"named captions only": "named"}  # variant -> its train captions' wording (else the pool's)


def pool(out: Path, scale: dict, seed: int = 2027) -> Path:
    from radar_synth import generate_dataset

    root = out / "pool"
    if not (root / "manifest.jsonl").is_file():
        t0 = time.time()
        generate_dataset(
            root,
            scale["clips"],
            seed=seed,
            workers=os.cpu_count() or 1,
            max_frames=scale["max_frames"],
            split_fractions=SPLITS,
            multi_segment=MULTI_SEGMENT,
            held_out_wording=HELD_OUT_WORDING,
        )
        (root / SIMULATION_MINUTES).write_text(f"{(time.time() - t0) / 60:.2f}\n")
    return root


def derived(source: Path, target: Path, records: list, unseen: tuple[str, ...] = ()) -> Path:
    """A dataset of ``records`` that shares ``source``'s clip files (a symlink) and class file."""
    from radar_text_data import write_manifest

    if (target / "manifest.jsonl").is_file():
        return target
    target.mkdir(parents=True, exist_ok=True)
    if not (target / "clips").exists():
        (target / "clips").symlink_to((source / "clips").resolve(), target_is_directory=True)
    (target / "classes.json").write_text((source / "classes.json").read_text())
    if unseen:
        (target / "unseen.txt").write_text("".join(f"{a}\n" for a in sorted(unseen)))
    write_manifest(target, records)
    return target


def fold_dataset(source: Path, out: Path, fold: int) -> Path:
    from radar_text_data import read_manifest

    unseen = set(FOLDS[fold])
    keep = [r for r in read_manifest(source) if r.split == "test" or not set(r.activities) & unseen]
    return derived(source, out / f"fold{fold}", keep, tuple(unseen))


def reworded(source: Path, target: Path, splits: set[str], families: tuple[str, ...], salt: int) -> Path:
    """``source`` with the captions of ``splits`` worded anew in ``families`` (same clips and segments)."""
    import numpy as np

    from radar_synth import Segment, caption_pairs
    from radar_text_data import read_manifest

    records = []
    for index, r in enumerate(read_manifest(source)):
        if r.split in splits:
            segments = [Segment(s["activity"], s["start_frame"], s["end_frame"], s["params"]) for s in r.segments]
            pairs = caption_pairs(segments, np.random.default_rng([2027, index, salt]), families=families)
            r = replace(
                r,
                captions=tuple(c for c, _ in pairs),
                captions_reversed=tuple(b for _, b in pairs) if len(segments) > 1 else None,
            )
        records.append(r)
    return derived(
        source,
        target,
        records,
        tuple(sorted((source / "unseen.txt").read_text().split())) if (source / "unseen.txt").is_file() else (),
    )


def in_family(source: Path, out: Path) -> Path:
    """The pool with every test caption worded anew in the train families (same clips and segments)."""
    from radar_synth.defaults import WORDING_FAMILIES

    return reworded(
        source, out / "in_family", {"test"}, tuple(f for f in WORDING_FAMILIES if f not in HELD_OUT_WORDING), 3
    )


def variant_data(fold_data: Path, variant: str) -> Path:
    """The dataset a variant trains on: the fold's, or with its train captions worded anew in the naming
    train families only (no descriptive captions)."""
    if VARIANT_WORDING.get(variant) != "named":
        return fold_data
    from radar_synth.defaults import NAMED_FAMILIES

    named = tuple(f for f in NAMED_FAMILIES if f not in HELD_OUT_WORDING)
    return reworded(fold_data, fold_data.with_name(fold_data.name + "-named"), {"train"}, named, 5)


SOURCES = ("names", "descriptions", "both")  # seqclip.recognition.PROMPT_SOURCES
CANDIDATES = 30  # every radar-synth activity is a zero-shot candidate


def _clip_sets(scorer, data: Path, source: Path, clip_length: int) -> dict:
    """The embedded clips a model is scored on, with their labels (-1: not one activity): the test
    split's one-activity clips, the fold's whole val split, and the pool's one-activity val clips."""

    from seqclip.data import RadarTextDataset
    from seqclip.evaluation.tasks import clip_label

    out = {}
    for name, root, split, single in (
        ("test", data, "test", True),
        ("fold_val", data, "val", False),
        ("pool_val", source, "val", True),
    ):
        dataset = RadarTextDataset(root, split, clip_length, train=False)
        labels = [clip_label(r) for r in dataset.records]
        keep = [i for i, x in enumerate(labels) if x is not None or not single]
        out[name] = (scorer.embed_clips(dataset.subset(keep)), [labels[i] for i in keep])
    return out


def _truth(labels: list, names: list[str]):
    import torch

    return torch.tensor([names.index(x) if x in names else -1 for x in labels])


def zero_shot_figures(scorer, classes, clips: dict, unseen: tuple[str, ...]) -> dict:
    """Per prompt source: test unseen-only / seen-only top-1 and GZSL under every rule; validation
    seen-class top-1 (fold val) and the pseudo-unseen figures of the pool's val clips."""
    import torch

    from seqclip.evaluation.calibration import fit_calibration
    from seqclip.evaluation.zero_shot import (
        build_zero_shot_classifier,
        generalized_accuracy,
        generalized_intervals,
        restricted_top1,
    )
    from seqclip.recognition import CALIBRATIONS

    names = [c.name for c in classes]
    mask = torch.tensor([n in unseen for n in names])
    out = {}
    for source in SOURCES:
        clf = build_zero_shot_classifier(scorer, classes, None, source)
        scores = {k: clf.scores(v[0]) for k, v in clips.items()}  # [N, C] each
        truth = {k: _truth(v[1], names) for k, v in clips.items()}
        fits = {
            rule: fit_calibration(
                rule,
                scores["pool_val" if rule == "stacking" else "fold_val"],
                truth["pool_val" if rule == "stacking" else "fold_val"],
                mask,
            )
            for rule in CALIBRATIONS
        }
        test, pool = scores["test"], scores["pool_val"]
        calibrated = {r: f.apply(test) for r, f in fits.items()}  # [N, C] each
        out[source] = {
            "unseen_only": restricted_top1(test, truth["test"], mask),
            "seen_only": restricted_top1(test, truth["test"], ~mask),
            "rules": {
                r: {
                    **generalized_accuracy(calibrated[r], truth["test"], mask),
                    "intervals": generalized_intervals(calibrated[r], truth["test"], mask),
                    "gamma": f.gamma,
                    "note": f.note,
                }
                for r, f in fits.items()
            },
            "val_seen_top1": restricted_top1(scores["fold_val"], truth["fold_val"], ~mask)["top1"],
            "pseudo_unseen": {
                "unseen_only": restricted_top1(pool, truth["pool_val"], mask)["top1"],
                **{
                    r: generalized_accuracy(f.apply(pool), truth["pool_val"], mask)["harmonic_mean"]
                    for r, f in fits.items()
                    if r != "stacking"
                },
            },
        }
    return out


def _retrieval(model, data: Path, split: str, clip_length: int) -> dict:
    from seqclip.data import RadarTextDataset
    from seqclip.evaluation.tasks import eval_retrieval

    r = eval_retrieval(model, RadarTextDataset(data, split, clip_length, train=False))
    return {d: {"R@1": r[d]["R@1"], "interval": r[d]["interval"]["R@1"]} for d in ("text_to_radar", "radar_to_text")}


def _order(model, data: Path, clip_length: int) -> dict:
    """Own caption against its order-reversed wording, temporal score, on the test split."""
    from seqclip.data import RadarTextDataset
    from seqclip.evaluation.tasks import EvalOptions, eval_order

    r = eval_order(model, RadarTextDataset(data, "test", clip_length, train=False), EvalOptions(similarity="temporal"))
    return {"accuracy": r["accuracy"], "interval": r["interval"], "comparisons": r["comparisons"]}


def train_and_score(
    variant: str,
    fold: int,
    data: Path,
    source: Path,
    family_data: Path,
    out: Path,
    scale: dict,
    text_model: str | None = None,
) -> dict:
    from rich.console import Console

    from radar_text_data import read_classes
    from seqclip import SeqClip
    from seqclip.config import TrainConfig
    from seqclip.evaluation.scorer import Scorer
    from seqclip.training.loop import train

    run = out / "runs" / f"fold{fold}-{variant.replace(' ', '_')}"
    fields = {"preset": scale["preset"], "epochs": scale["epochs"], "batch_size": scale["batch_size"]}
    cfg = TrainConfig(
        data=str(data),
        out=str(run),
        eval_test=False,
        overwrite=True,
        seed=0,
        **{**fields, **VARIANTS[variant]},  # a variant's fields win over the scale's
        **({"text_model": text_model} if text_model else {}),
    )
    t0 = time.time()
    train(cfg, Console(quiet=True))
    minutes = (time.time() - t0) / 60
    model = SeqClip.from_pretrained(run / "best").eval()
    scorer = Scorer(model)
    clips = _clip_sets(scorer, data, source, cfg.clip_length)
    return {
        "train_minutes": minutes,
        "minutes": (time.time() - t0) / 60,  # training and scoring
        "test_clips": len(clips["test"][1]),
        "pool_val_clips": len(clips["pool_val"][1]),
        "zeroshot": zero_shot_figures(scorer, read_classes(data / "classes.json"), clips, tuple(FOLDS[fold])),
        "val_retrieval": _retrieval(model, data, "val", cfg.clip_length),
        "retrieval_held_out": _retrieval(model, data, "test", cfg.clip_length),
        "retrieval_in_family": _retrieval(model, family_data, "test", cfg.clip_length),
        "order": _order(model, data, cfg.clip_length),
    }


# ---------------------------------------------------------------------- choices on validation
def choose(runs: list[dict]) -> tuple[str, str]:
    """(prompt source, inductive rule) with the best mean pseudo-unseen validation figures of ``runs``:
    the source by unseen-only top-1, then the rule by harmonic mean (the defaults without a run)."""
    from seqclip.recognition import DEFAULT_CALIBRATION, INDUCTIVE, PREFERRED_PROMPTS

    if not runs:
        return PREFERRED_PROMPTS, DEFAULT_CALIBRATION

    def mean(source: str, key: str) -> float:
        return sum(r["zeroshot"][source]["pseudo_unseen"][key] or 0.0 for r in runs) / len(runs)

    source = max(SOURCES, key=lambda s: mean(s, "unseen_only"))
    return source, max(INDUCTIVE, key=lambda rule: mean(source, rule))


def runs_of(results: dict, variant: str) -> dict[int, dict]:
    return {int(k.split(" / fold")[1]): v for k, v in results.items() if k.startswith(variant + " / ")}


def variants(results: dict) -> list[str]:
    """The variants with at least one scored fold."""
    return [v for v in VARIANTS if runs_of(results, v)]


def fold_choice(results: dict, variant: str, fold: int) -> tuple[str, str]:
    """Fold ``fold``'s prompt source and rule, chosen on the other folds' pseudo-unseen validation clips."""
    return choose([r for f, r in runs_of(results, variant).items() if f != fold])


def comparable(results: dict) -> tuple[list[str], list[str]]:
    """The variants scored on the same folds as the one with the most (their validation scores are means
    over the same folds), and the others."""
    folds = {v: set(runs_of(results, v)) for v in variants(results)}
    most = max(folds.values(), key=len)
    return [v for v in folds if folds[v] == most], [v for v in folds if folds[v] != most]


def validation_score(results: dict, variant: str) -> float:
    """Mean over folds of validation t->r R@1 + seen-class top-1 + pseudo-unseen H (the scale's choice)."""
    runs = list(runs_of(results, variant).values())
    source, rule = choose(runs)
    return sum(
        r["val_retrieval"]["text_to_radar"]["R@1"]
        + r["zeroshot"][source]["val_seen_top1"]
        + (r["zeroshot"][source]["pseudo_unseen"][rule] or 0.0)
        for r in runs
    ) / max(1, len(runs))


# ---------------------------------------------------------------------- tables
def figures(run: dict, source: str, rule: str) -> dict[str, tuple[float | None, list | None, float | None]]:
    """(value, interval, chance) of every main-table column for one fold and variant."""
    z = run["zeroshot"][source]
    out = {
        "unseen-only top-1": (z["unseen_only"]["top1"], z["unseen_only"]["interval"], z["unseen_only"]["chance"]),
        "seen-class top-1": (z["seen_only"]["top1"], z["seen_only"]["interval"], z["seen_only"]["chance"]),
    }
    chance_all = 100 / CANDIDATES
    for kind, name in (("raw", "none"), ("inductive", rule)):
        g = z["rules"][name]
        for key, label in (("seen", "seen"), ("unseen", "unseen"), ("harmonic_mean", "H")):
            out[f"GZSL {label} ({kind})"] = (g[key], g["intervals"][key], chance_all)
    for wording in ("held_out", "in_family"):
        r = run[f"retrieval_{wording}"]["text_to_radar"]
        out[f"t→r R@1 ({wording.replace('_', '-')} wording)"] = (r["R@1"], r["interval"], None)
    out["order (temporal)"] = (run["order"]["accuracy"], run["order"]["interval"], 50.0)
    return out


def _cell(value, interval) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" + (f" [{interval[0]:.1f}, {interval[1]:.1f}]" if interval else "")


def mean_over_folds(cells: list[tuple]) -> tuple[float | None, list | None]:
    """Mean of the folds' figures, with a normal-approximation 95 % interval from their intervals."""
    known = [(v, i) for v, i, *_ in cells if v is not None and i is not None]
    if len(known) < len(cells) or not known:
        return None, None
    mean = sum(v for v, _ in known) / len(known)
    se = (sum(((i[1] - i[0]) / 3.92) ** 2 for _, i in known)) ** 0.5 / len(known)
    return mean, [max(0.0, mean - 1.96 * se), min(100.0, mean + 1.96 * se)]  # a percentage stays in [0, 100]


# scale -> column -> the target on the mean over folds
TARGETS = {
    "gpu": {"unseen-only top-1": 75.0, "GZSL H (inductive)": 55.0, "seen-class top-1": 70.0, "order (temporal)": 85.0},
    "cpu": {"unseen-only top-1": 35.0, "GZSL H (inductive)": 25.0},
    "gpu-data": {"unseen-only top-1": 60.0, "GZSL H (inductive)": 40.0, "order (temporal)": 80.0},
}
VAL_R1_TARGETS = {"gpu-data": 40.0}  # scale -> the target on the mean over folds of validation t->r R@1


def table(results: dict, scale: str) -> str:
    """Per variant and fold (each fold with the prompt source and rule chosen without it), the mean
    over folds, chance, the targets and whether the mean meets them."""
    per = {
        v: {f: figures(r, *fold_choice(results, v, f)) for f, r in sorted(runs_of(results, v).items())}
        for v in variants(results)
    }
    columns = list(next(f for rows in per.values() for f in rows.values()))
    lines = ["| variant | fold | " + " | ".join(columns) + " |", "|" + "---|" * (len(columns) + 2)]
    verdicts = {}
    for variant, rows in per.items():
        for fold, f in rows.items():
            lines.append(f"| {variant} | {fold} | " + " | ".join(_cell(*f[c][:2]) for c in columns) + " |")
        if len(rows) > 1:
            means = {c: mean_over_folds([f[c] for f in rows.values()]) for c in columns}
            lines.append(
                f"| **{variant}** | **mean** | " + " | ".join(f"**{_cell(*means[c])}**" for c in columns) + " |"
            )
            verdicts[variant] = {
                c: "-"
                if c not in TARGETS.get(scale, {}) or means[c][0] is None
                else "met"
                if means[c][0] >= TARGETS[scale][c]
                else "**missed**"
                for c in columns
            }
    any_row = next(f for rows in per.values() for f in rows.values())
    lines.append(
        "| chance | | " + " | ".join("-" if any_row[c][2] is None else f"{any_row[c][2]:.1f}" for c in columns) + " |"
    )
    lines.append(
        "| target (mean over folds) | | "
        + " | ".join(f"≥ {TARGETS[scale][c]:.0f}" if c in TARGETS.get(scale, {}) else "-" for c in columns)
        + " |"
    )
    for variant, v in verdicts.items():
        lines.append(f"| met by {variant}? | | " + " | ".join(v[c] for c in columns) + " |")
    return "\n".join(lines)


def rule_table(results: dict) -> str:
    """Mean over folds of GZSL seen / unseen / H under every rule (each fold's chosen prompt source)."""
    from seqclip.recognition import CALIBRATIONS, INDUCTIVE

    lines = ["| variant | rule | reads | seen | unseen | H |", "|---|---|---|---|---|---|"]
    for variant in variants(results):
        chosen = [r["zeroshot"][fold_choice(results, variant, f)[0]] for f, r in runs_of(results, variant).items()]
        for rule in CALIBRATIONS:
            cells = {
                k: mean_over_folds([(z["rules"][rule][k], z["rules"][rule]["intervals"][k]) for z in chosen])
                for k in ("seen", "unseen", "harmonic_mean")
            }
            kind = (
                "inductive"
                if rule in INDUCTIVE
                else "raw scores"
                if rule == "none"
                else "unseen val clips (not available to users)"
            )
            lines.append(f"| {variant} | {rule} | {kind} | " + " | ".join(_cell(*cells[k]) for k in cells) + " |")
    return "\n".join(lines)


def prompt_table(results: dict) -> str:
    """Mean over folds of unseen-only and seen-class top-1 and inductive H per prompt source."""
    lines = [
        "| variant | prompts | unseen-only top-1 | seen-class top-1 | GZSL H (inductive) | pseudo-unseen val top-1 |",
        "|---|---|---|---|---|---|",
    ]
    for variant in variants(results):
        runs = runs_of(results, variant)
        for source in SOURCES:
            f = [figures(r, source, fold_choice(results, variant, k)[1]) for k, r in runs.items()]
            val = sum(r["zeroshot"][source]["pseudo_unseen"]["unseen_only"] for r in runs.values()) / max(1, len(runs))
            lines.append(
                f"| {variant} | {source} | "
                + " | ".join(
                    _cell(*mean_over_folds([x[c] for x in f]))
                    for c in ("unseen-only top-1", "seen-class top-1", "GZSL H (inductive)")
                )
                + f" | {val:.1f} |"
            )
    return "\n".join(lines)


def report(results: dict, args, scale: dict, data_minutes: float, t0: float) -> None:
    first = next(iter(results.values()))
    print(
        f"\nscale {args.scale}: {scale}; pool {scale['clips']} clips, splits {SPLITS}, held-out wording "
        f"{', '.join(HELD_OUT_WORDING)}; test: {first['test_clips']} one-activity clips scored over 30 classes; "
        f"pseudo-unseen validation: {first['pool_val_clips']} one-activity pool val clips; simulation "
        f"{data_minutes:.1f} min, total {(time.time() - t0) / 60:.1f} min this call; {os.cpu_count()} CPUs"
    )
    for fold in sorted(FOLDS):
        print(f"fold {fold} unseen (seen neighbour): " + ", ".join(f"{u} ({n})" for u, n in FOLDS[fold].items()))
    for variant in variants(results):
        runs = runs_of(results, variant)
        chosen = {f: fold_choice(results, variant, f) for f in runs}
        print(
            f"{variant}: per fold (chosen on the other folds' pseudo-unseen validation clips): "
            + "; ".join(f"fold {f}: prompts {s}, calibration {r}" for f, (s, r) in chosen.items())
            + f"; at this scale: prompts {choose(list(runs.values()))[0]}, calibration {choose(list(runs.values()))[1]};"  # noqa: E501
            f" validation score {validation_score(results, variant):.1f}"
        )
    for variant in variants(results):
        val = [r["val_retrieval"]["text_to_radar"]["R@1"] for r in runs_of(results, variant).values()]
        target = VAL_R1_TARGETS.get(args.scale)
        verdict = (
            ""
            if target is None
            else f" (target ≥ {target:.0f}: {'met' if sum(val) / len(val) >= target else 'missed'})"
        )
        print(
            f"{variant}: validation t→r R@1 per fold {', '.join(f'{v:.1f}' for v in val)}; "
            f"mean {sum(val) / len(val):.1f}{verdict}"
        )
    compared, left = comparable(results)
    best = max(compared, key=lambda v: validation_score(results, v))
    print(
        f"recipe chosen on validation (t→r R@1 + seen-class top-1 + pseudo-unseen H): {best}"
        + (f" (not compared, scored on other folds: {', '.join(left)})" if left else "")
        + "\n"
    )
    print(table(results, args.scale) + "\n\n" + rule_table(results) + "\n\n" + prompt_table(results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="cpu")
    parser.add_argument("--out", type=Path, default=Path("bench_out/open_vocab"))
    parser.add_argument("--folds", type=int, nargs="*", default=sorted(FOLDS), choices=sorted(FOLDS))
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS)[:3], choices=list(VARIANTS))
    parser.add_argument("--text-model", default=None, help="text tower (a local copy on a machine without network)")
    args = parser.parse_args()
    scale, t0, when = SCALES[args.scale], time.time(), _results().stamp()
    args.out.mkdir(parents=True, exist_ok=True)
    source = pool(args.out, scale)
    family_data = in_family(source, args.out)
    data_minutes = (time.time() - t0) / 60
    path = args.out / "results-v2.json"
    results = json.loads(path.read_text()) if path.is_file() else {}
    measured: dict[str, int] = {}  # variant -> the folds this call trained (the CSV gets these variants)
    for fold in args.folds:
        data = fold_dataset(source, args.out, fold)
        for variant in args.variants:
            key = f"{variant} / fold{fold}"
            if key not in results:
                results[key] = train_and_score(
                    variant, fold, variant_data(data, variant), source, family_data, args.out, scale, args.text_model
                )
                tmp = path.with_suffix(".tmp")
                tmp.write_text(json.dumps(results, indent=1) + "\n")
                tmp.replace(path)
                print(f"{key}: trained in {results[key]['train_minutes']:.1f} min", flush=True)
                measured[variant] = measured.get(variant, 0) + 1
    report(results, args, scale, data_minutes, t0)
    record(results, args.scale, measured, (time.time() - t0) / 60, when, source)


@functools.cache
def _results():
    """bench/results.py, loaded once (this directory is off ``sys.path``: see the top of the file)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_results", os.path.join(_HERE, "results.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def wall_minutes(runs: dict, source: Path) -> float | None:
    """A variant's minutes over every fold: the pool's simulation and each fold's training and scoring;
    None where a part's time was not kept (a pool or a fold from an earlier version of this script)."""
    simulated = source / SIMULATION_MINUTES
    folds = [r.get("minutes") for r in runs.values()]
    if not simulated.is_file() or None in folds:
        return None
    return float(simulated.read_text()) + sum(folds)


def record(
    results: dict, scale: str, measured: dict[str, int], minutes: float, when: dict, source: Path | None = None
) -> None:
    """The mean over folds of the main figures of each variant this call trained (every fold scored),
    and its wall time, appended to docs/benchmarks/open-vocabulary.csv under the run's stamp.

    Args:
        measured: variant -> the number of folds this call trained.
        minutes: this call's minutes: the wall time where this call trained one variant, every fold,
            and ``source`` does not give it.
        source: the pool; its simulation's minutes and each fold's training and scoring make a
            variant's wall time.
    """
    if scale == "smoke":  # a check that the benchmark runs, not a result
        return
    rows = []
    for variant in sorted(measured):
        runs = runs_of(results, variant)
        if len(runs) < len(FOLDS):
            continue
        name = variant if scale == "cpu" else f"{variant} ({scale} scale)"
        per_fold = [figures(r, *fold_choice(results, variant, f)) for f, r in sorted(runs.items())]
        for column in ("unseen-only top-1", "seen-class top-1", "GZSL H (inductive)", "order (temporal)"):
            value, interval = mean_over_folds([f[column] for f in per_fold])
            if value is not None and interval is not None:
                rows.append(_results().row(name, column, value, interval))
        val = [r["val_retrieval"]["text_to_radar"] for r in runs.values()]
        value, interval = mean_over_folds([(v["R@1"], v["interval"]) for v in val])
        if value is not None and interval is not None:
            rows.append(_results().row(name, "validation t→r R@1", value, interval))
        wall = wall_minutes(runs, source) if source else None
        if wall is None and measured[variant] == len(FOLDS) and len(measured) == 1:
            wall = minutes
        if wall is None:
            print(f"{variant}: its folds ran over several calls and their times were not all kept: no wall time")
        else:
            rows.append({"configuration": name, "metric": "wall time", "value": round(wall, 1), "unit": "min"})
    if rows:
        print(f"appended to {_results().record('open-vocabulary', rows, when)}")
        print(f"wrote {_results().plot('open-vocabulary')}")


if __name__ == "__main__":
    main()
