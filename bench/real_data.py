"""Does a model trained only on simulation recognise real radar? RadHAR (a TI IWR1443 recording
boxing, jumping jacks, jumping, squats and walking as point clouds at 30 frames/s) against models
trained on simulated clips only, and a linear probe on their frozen embeddings.

    uv run python bench/real_data.py PATH/TO/RadHAR/Data [--out bench_out/real_data] [--clips 1200] [--epochs 20]
        [--recipes sensor dense] [--ablations] [--seeds 3] [--angle elevation] [--preset small]
        [--no-few-shot-fine-tuning]

PATH is the user's copy of RadHAR's ``Data`` folder (github.com/nesl/RadHAR, BSD-3-Clause); nothing
is downloaded. The steps, each kept in OUT and not redone when its output is there:

1. RadHAR converted (``seqclip data convert --from radhar``): 96-frame windows (1.92 s at 50
   frames/s; the paper's 60 frames at 30) every 16 frames, its official Train / Test split, val =
   10 % of each activity's Train files (by file).
2. One simulated training set of ``--clips`` single-activity clips per recipe:
   - ``dense``: the simulator's own views (IWR1843 spectra), what the quick start trains on;
   - ``sensor``: the IWR1443's domain (``seqclip data synth --sensor iwr1443-radhar``): its profile
     and 30 frames/s, its firmware's point-cloud chain with static clutter left in, subjects where
     RadHAR's stand (``radar_synth.SENSOR_ROOMS``), rendered as RadHAR's recordings are.
3. Each trains the CPU default recipe for ``--epochs`` epochs at clip length 96 (single-activity
   clips: ``best/`` is the epoch of best validation class accuracy).
4. (a) Zero-shot: RadHAR's five classes from names (``boxing``, ``jumping jacks``, ... in the
   zero-shot templates) or descriptions (the simulator's descriptions of punch, jumping_jacks,
   jump, squat and walk); the prompt source is chosen on RadHAR's val split, the test split scored
   once: top-1 and balanced accuracy with 95 % bootstrap intervals, and the confusion matrix.
   (b) Supervised, on RadHAR's Train windows (val carved out): a linear probe (multinomial logistic
   regression on the frozen pooled embeddings, its L2 weight chosen on val from ``PROBE_L2``), and
   fine-tuning (``seqclip train --init`` on RadHAR's train split for ``--finetune-epochs``, the best
   epoch by val class accuracy), read out by its prompts as in (a) and by a linear probe on its
   features, val choosing between them; beside them the same training from scratch on
   RadHAR alone (recipe ``radhar only``). The test split is scored once per model.
   Zero-shot, linear probe and fine-tuned figures are also given with intervals from a bootstrap
   over test recordings (windows of one recording overlap, so resampling windows understates the
   spread).
   (c) Few-shot: a linear probe on k train windows per class (k = 1, 5, 20; five seeded draws, the L2
   weight chosen on val for each k and encoder) over the simulation-trained encoder, against the same
   probe over the same encoder untrained (random weights): test balanced accuracy, mean over draws with a 95 % interval.
   And fine-tuning on k = 5 windows a class (the same draws; 30 epochs at batch 8, the epoch chosen on 25
   val windows a class), read out by the class prompts, from the simulation-trained model and from an
   untrained radar encoder (left out with ``--no-few-shot-fine-tuning``).
5. ``--ablations``: the ``sensor`` recipe with one setting changed at a time (subjects anywhere at
   1.5-8 m; static clutter removed; 50 frames/s; the IWR1843's profile through the same chain),
   each trained and scored as in 4 (a) and by the linear probe; with ``dense`` (none of the sensor's
   settings) and the prompt sources' validation figures, the ablation table says what in the
   simulation moves zero-shot.
6. ``--seeds N``: each of ``--recipes`` simulated and trained again with seeds 1 to N - 1 (seed 0 is
   the run above), each scored zero-shot as in 4 (a), fine-tuned on RadHAR with the same seed and read
   out by its prompts, and ``radhar only`` trained with each seed; for each, the N seeds' mean with a
   t-interval over the seeds, and the N models together (the mean of their class probabilities, the
   prompt source chosen on val).
7. ``--angle elevation``: every step above with the views' third rows holding each point's elevation in
   place of its azimuth, RadHAR's windows and the simulated clips alike (``data convert --angle``,
   ``data synth --angle``; the sensor recipes only, as the dense views hold azimuth); the CSV's
   configurations say "elevation view". ``--preset small``: every model with the small radar encoder
   (the CSV says "small encoder"). One OUT holds one angle and one preset.
Results go to ``OUT/results.json`` and are appended to ``docs/benchmarks/real-data.csv``; the tables
are printed (chance: 20 %).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from functools import cache
from pathlib import Path

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE] + [_HERE]
from benchlib import print_table  # noqa: E402

RECIPES = {"dense": None, "sensor": "iwr1443-radhar"}  # recipe -> data synth --sensor
SENSOR = "iwr1443-radhar"
# the sensor recipe with one setting changed: recipe -> (what changes, how)
ABLATIONS = {
    "sensor, simulator's room": "subjects at 1.5-8 m and +-60 deg (the simulator's default), not RadHAR's 1.2-2.2 m",
    "sensor, clutter removed": "static clutter removed by the chain",
    "sensor at 50 frames/s": "frames every 20 ms instead of 33.3 ms",
    "IWR1843 profile, sensor chain": "the simulator's IWR1843 profile (128 loops, 2 TX) at 30 frames/s",
}
REAL_ONLY = "radhar only"  # trained on RadHAR's train split alone, from scratch
SHOWN = {
    "dense": "simulation, dense views",
    "sensor": "simulation, IWR1443 domain",
    REAL_ONLY: "RadHAR train split only",
    "sensor, simulator's room": "IWR1443 domain, subjects 1.5-8 m away",
    "sensor, clutter removed": "IWR1443 domain, clutter removed",
    "sensor at 50 frames/s": "IWR1443 domain at 50 frames/s",
    "IWR1843 profile, sensor chain": "IWR1843 profile through the IWR1443 chain",
}
RADHAR_TO_SIM = {"boxing": "punch", "jack": "jumping_jacks", "jump": "jump", "squats": "squat", "walk": "walk"}
WINDOW = 96
# seeds' part -> (their ensemble's key, the name _record knows the part by)
SEED_PARTS = {"zero_shot": ("ensemble", "seeds"), "fine_tuned": ("fine_tuned_ensemble", "fine-tuned seeds")}
PROBE_L2 = tuple(10.0**e for e in range(-7, 2))  # the probes' L2 weights, 1e-7 ... 10, chosen on val
SHOTS, DRAWS = (1, 5, 20), 5
# few-shot fine-tuning: windows a class, epochs, batch, warm-up steps, val windows a class that choose the epoch
FEW_SHOT_TUNED, FEW_SHOT_EPOCHS, FEW_SHOT_BATCH, FEW_SHOT_WARMUP, FEW_SHOT_VAL = (5,), 30, 8, 10, 25


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _radhar(src: Path, out: Path, angle: str = "azimuth") -> Path:
    from radar_text_data import convert_radhar

    target = out / "radhar"
    if not (target / "manifest.jsonl").is_file():
        _log(f"converting RadHAR from {src}")
        convert_radhar(src, target, angle=angle)
    return target


def _check_setup(out: Path, angle: str, preset: str) -> None:
    """Exit with one line unless ``out`` holds nothing yet or the views of ``angle`` and models of
    ``preset`` (one with RadHAR's converted windows but no note: azimuth, tiny); then note them."""
    note = out / "setup.json"
    setup = {"angle": angle, "preset": preset}
    if note.is_file():
        held = json.loads(note.read_text())
    else:
        held = {"angle": "azimuth", "preset": "tiny"} if (out / "radhar").exists() else setup
    for field, value in setup.items():
        if held[field] != value:
            sys.exit(f"--{field} {value}: {out} holds the {field} {held[field]}; give another --out")
    note.write_text(json.dumps(setup) + "\n")


def _configuration(recipe: str, angle: str, preset: str = "tiny") -> str:
    """How the CSV names a recipe's (or ``untrained encoder``'s) figures measured on views of ``angle``
    with the ``preset`` radar encoder."""
    shown = SHOWN.get(recipe, recipe)
    shown = shown if angle == "azimuth" else f"{shown}, {angle} view"
    return shown if preset == "tiny" else f"{shown}, {preset} encoder"


def _sensor(recipe: str, angle: str = "azimuth"):
    """What ``generate_dataset(sensor=...)`` gets for ``recipe``: None (dense views), a registered
    sensor's name, or the sensor with one setting changed (a ``SensorSpec``); with ``angle`` other than
    azimuth, the sensor rendering it."""
    from dataclasses import replace

    from radar_synth import DEFAULT_ROOM
    from radar_synth.sensor import SensorSpec
    from radar_views import sensor_profile

    if recipe in RECIPES:
        name = RECIPES[recipe]
        return name if angle == "azimuth" or name is None else SensorSpec.named(name, angle)
    spec = SensorSpec.named(SENSOR, angle)
    if recipe == "sensor, simulator's room":
        return replace(spec, name=recipe, room=DEFAULT_ROOM)
    if recipe == "sensor, clutter removed":
        return replace(spec, name=recipe, chain=replace(spec.chain, clutter_removal=True))
    if recipe == "sensor at 50 frames/s":
        return replace(spec, name=recipe, profile=replace(spec.profile, frame_period_s=0.02))
    return replace(
        spec, name=recipe, profile=replace(sensor_profile("iwr1843"), frame_period_s=spec.profile.frame_period_s)
    )


def _slug(recipe: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in recipe)


def _seeded(name: str, seed: int) -> str:
    """A run's or data set's directory name for ``seed`` (seed 0 keeps the plain name)."""
    return name if seed == 0 else f"{name}-seed{seed}"


def _simulated(
    out: Path, recipe: str, clips: int, name: str | None = None, seed: int = 0, angle: str = "azimuth"
) -> Path:
    """The simulated training set of ``recipe`` (``name``: the recipe's name when ``recipe`` is its slug)
    drawn with ``seed``, its views' third rows holding ``angle``."""
    from radar_synth import generate_dataset

    target = out / _seeded(f"sim-{recipe}", seed)
    if not (target / "manifest.jsonl").is_file():
        _log(f"simulating {clips} clips ({recipe}, seed {seed})")
        generate_dataset(
            target,
            clips,
            seed=seed,
            workers=os.cpu_count() or 1,
            twins=0.0,
            multi_segment=0.0,
            sensor=_sensor(name or recipe, angle),
        )
    return target


def _trained(
    out: Path,
    recipe: str,
    data: Path,
    epochs: int,
    init: Path | None = None,
    seed: int = 0,
    preset: str = "tiny",
    **fields,
) -> Path:
    """``seqclip train``'s CPU default recipe with the ``preset`` radar encoder on ``data`` into
    ``OUT/model-RECIPE`` (``fields``: TrainConfig fields over it), unless a finished run is there."""
    from rich.console import Console

    from seqclip.config import TrainConfig
    from seqclip.training.loop import train

    run = out / _seeded(f"model-{recipe}", seed)
    if not (run / "bench_wall_s.txt").is_file():  # written when the training ended
        _log(f"training on {data.name} for {epochs} epochs")
        start = time.perf_counter()
        train(
            TrainConfig(
                data=str(data),
                out=str(run),
                epochs=epochs,
                clip_length=WINDOW,
                eval_test=False,
                overwrite=True,
                init=str(init) if init else None,
                seed=seed,
                preset=preset,
                **fields,
            ),
            Console(quiet=True),
        )
        (run / "bench_wall_s.txt").write_text(f"{time.perf_counter() - start:.0f}\n")
    return run


def _wall(run: Path) -> float | None:
    path = run / "bench_wall_s.txt"
    return float(path.read_text()) if path.is_file() else None


def _classes(source: str):
    from radar_synth.dataset import class_file
    from radar_text_data import ClassPrompts
    from radar_text_data.radhar import RADHAR_CLASSES

    sim = class_file()
    if source == "names":
        return tuple(ClassPrompts(n, phrase=RADHAR_CLASSES[n]) for n in RADHAR_TO_SIM)
    return tuple(
        ClassPrompts(n, phrase=RADHAR_CLASSES[n], descriptions=tuple(sim[s]["descriptions"]))
        for n, s in RADHAR_TO_SIM.items()
    )


def _zero_shot(run: Path, radhar: Path) -> dict:
    from seqclip.evaluation.options import EvalOptions
    from seqclip.evaluation.tasks import evaluate_checkpoint

    def score(split: str, source: str) -> dict:
        options = EvalOptions(classes=_classes(source), prompts=source, unseen=("none",))
        return evaluate_checkpoint(run, str(radhar), "zeroshot", split, options, clip_length=WINDOW)[0]

    val = {s: score("val", s) for s in ("names", "descriptions")}
    chosen = max(val, key=lambda s: (val[s]["balanced"], s == "names"))
    test = score("test", chosen)
    return {
        "val": {s: {k: v[k] for k in ("top1", "balanced", "clips")} for s, v in val.items()},
        "prompts": chosen,
        "test": {
            k: test[k]
            for k in (
                "top1",
                "top1_interval",
                "balanced",
                "balanced_interval",
                "clips",
                "confusion",
                "classes",
                "per_class",
            )
        },
    }


@cache  # the probe and the few-shot probes read the same splits
def _embeddings(run: Path | None, radhar: Path, split: str, preset: str = "tiny", seed: int = 0):
    """Pooled embeddings of a split's windows, their class indices and the recordings they were cut
    from; ``run`` None: the ``preset`` architecture with random weights drawn with ``seed``."""
    import torch

    from radar_text_data import clip_label
    from seqclip import SeqClipConfig
    from seqclip.data import RadarTextDataset
    from seqclip.evaluation.scorer import Scorer
    from seqclip.model import SeqClip

    if run is None:
        torch.manual_seed(seed)
        model = SeqClip(SeqClipConfig(clip_length=WINDOW, preset=preset)).eval()
    else:
        model = SeqClip.load_model(run, torch.device("cpu"))
    dataset = RadarTextDataset(str(radhar), split, WINDOW, train=False)
    clips = Scorer(model, "pooled").embed_clips(dataset)
    records = [dataset.record_at(p) for p in clips.positions]
    names = list(RADHAR_TO_SIM)
    labels = torch.tensor([names.index(clip_label(r)) for r in records])
    return clips.radar.pooled.float(), labels, tuple(r.extras["source"]["clip"] for r in records)


def _probe(train_x, train_y, l2: float):
    """Multinomial logistic regression (weights and bias) fitted by L-BFGS with an L2 weight ``l2``."""
    import torch

    w = torch.zeros(train_x.shape[1], int(train_y.max()) + 1, requires_grad=True)
    b = torch.zeros(w.shape[1], requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=500, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(train_x @ w + b, train_y) + l2 * (w**2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return lambda x: (x @ w + b).detach()


def _standardised(train_x):
    """Features standardised by the train windows' mean and standard deviation: a function of ``x``."""
    mean, std = train_x.mean(0), train_x.std(0) + 1e-6
    return lambda x: (x - mean) / std


def _probe_logits(run: Path, radhar: Path, l2: float):
    """The test windows' logits ``[N, classes]`` from a probe fitted on the train windows with L2
    weight ``l2`` (features standardised on train), their classes and recordings."""
    train_x, train_y, _ = _embeddings(run, radhar, "train")
    norm = _standardised(train_x)
    test_x, test_y, recordings = _embeddings(run, radhar, "test")
    return _probe(norm(train_x), train_y, l2)(norm(test_x)), test_y, recordings


def _linear_probe(run: Path, radhar: Path) -> dict:

    from seqclip.evaluation.zero_shot import zero_shot_report

    train_x, train_y, _ = _embeddings(run, radhar, "train")
    val_x, val_y, _ = _embeddings(run, radhar, "val")
    norm = _standardised(train_x)
    val_bal = {}
    for l2 in PROBE_L2:
        val_bal[l2] = _balanced(_probe(norm(train_x), train_y, l2)(norm(val_x)).argmax(1), val_y)
    chosen = max(PROBE_L2, key=lambda l2: (val_bal[l2], l2))
    if chosen in (PROBE_L2[0], PROBE_L2[-1]):
        _log(f"the probe's L2 chosen on val, {chosen:g}, is at the edge of the grid")
    logits, test_y, recordings = _probe_logits(run, radhar, chosen)
    report = zero_shot_report(logits, test_y, list(RADHAR_TO_SIM))
    return {
        "grid": list(PROBE_L2),
        "val_balanced": {str(k): v for k, v in val_bal.items()},
        "l2": chosen,
        "train_windows": len(train_y),
        "test": {k: report[k] for k in ("top1", "top1_interval", "balanced", "balanced_interval", "confusion")},
        "by_recording": _recording_interval(logits.argmax(1), test_y, recordings),
    }


def _balanced(predicted, truth) -> float:
    import torch

    return float(torch.stack([(predicted[truth == c] == c).float().mean() for c in truth.unique()]).mean() * 100)


def _model_dir(out: Path, recipe: str) -> Path:
    """Where ``main`` trains ``recipe``'s model (``_trained``)."""
    return out / f"model-{_slug(recipe)}"


def _recording_interval(predicted, truth, recordings) -> dict:
    """Balanced accuracy of test predictions with a 95 % interval from a bootstrap over RadHAR's
    recordings (a recording's windows overlap and move together, so resampling windows understates
    the spread)."""
    import numpy as np
    import torch

    from seqclip.evaluation.stats import bootstrap_statistic

    recording = np.array(recordings)
    groups = [np.flatnonzero(recording == rec) for rec in np.unique(recording)]

    def balanced(picked) -> float:
        rows = torch.from_numpy(np.concatenate([groups[i] for i in picked]))
        return _balanced(predicted[rows], truth[rows])

    return {
        "balanced": balanced(range(len(groups))),
        "interval": list(bootstrap_statistic(len(groups), balanced)),
        "recordings": len(groups),
    }


def _by_recording(run: Path, radhar: Path, source: str) -> dict:
    """Zero-shot test balanced accuracy of ``run`` with its interval over recordings
    (``_recording_interval``), re-scored with the pooled classifier of ``source`` prompts as
    ``_zero_shot`` scores."""
    import torch

    from seqclip.evaluation.scorer import Scorer
    from seqclip.evaluation.zero_shot import build_zero_shot_classifier
    from seqclip.model import SeqClip

    x, truth, recordings = _embeddings(run, radhar, "test")
    scorer = Scorer(SeqClip.load_model(run, torch.device("cpu")), "pooled")
    predicted = (x @ build_zero_shot_classifier(scorer, _classes(source), source=source).weights.T).argmax(1)  # [N]
    return _recording_interval(predicted, truth, recordings)


def _mean_probabilities(runs: list[Path], models: list, radhar: Path, split: str, source: str):
    """The mean class probabilities ``[N, C]`` on ``split`` of the models at ``runs`` (loaded:
    ``models``), each by its pooled classifier of ``source`` prompts and its own logit scale, with the
    windows' classes and recordings; models whose windows differ (another conversion) stop the bench."""
    import torch

    from seqclip.evaluation.scorer import Scorer
    from seqclip.evaluation.zero_shot import build_zero_shot_classifier

    per_model, labels = [], None
    for run, model in zip(runs, models, strict=True):
        x, truth, recordings = _embeddings(run, radhar, split)  # [N, d]
        w = build_zero_shot_classifier(Scorer(model, "pooled"), _classes(source), source=source).weights  # [C, d]
        per_model.append((model.logit_scale().detach().float() * (x @ w.T)).softmax(1))  # [N, C]
        if labels is not None and (not torch.equal(truth, labels[0]) or recordings != labels[1]):
            sys.exit(f"{run}: its {split} windows are not the other models' (another RadHAR conversion)")
        labels = (truth, recordings)
    assert labels is not None, "no model"
    return torch.stack(per_model).mean(0), *labels


def _seed_ensemble(runs: list[Path], radhar: Path) -> dict:
    """The class prompts' read-out by the mean class probabilities of ``runs`` (one recipe trained with
    different seeds; each model's pooled classifier, its own logit scale), the prompt source chosen on
    val by the ensemble's balanced accuracy, the test split scored once."""
    import torch

    from seqclip.evaluation.zero_shot import zero_shot_report
    from seqclip.model import SeqClip

    models = [SeqClip.load_model(run, torch.device("cpu")) for run in runs]

    def probabilities(split: str, source: str):
        return _mean_probabilities(runs, models, radhar, split, source)

    val = {}
    for source in ("names", "descriptions"):
        p, truth, _ = probabilities("val", source)
        val[source] = _balanced(p.argmax(1), truth)
    chosen = max(val, key=lambda s: (val[s], s == "names"))
    p, truth, recordings = probabilities("test", chosen)
    report = zero_shot_report(p.log(), truth, list(RADHAR_TO_SIM))
    return {
        "val_balanced": val,
        "prompts": chosen,
        "test": {k: report[k] for k in ("top1", "top1_interval", "balanced", "balanced_interval", "confusion")},
        "by_recording": _recording_interval(p.argmax(1), truth, recordings),
    }


def _seed_scores(runs: list[Path], radhar: Path) -> tuple[list[dict], dict]:
    """Each of ``runs[1:]`` scored as in ``_zero_shot`` (with its interval over recordings; ``runs[0]``,
    seed 0, is scored with the recipe), and all of them together (``_seed_ensemble``)."""
    scores = [_zero_shot(run, radhar) for run in runs[1:]]
    for run, z in zip(runs[1:], scores, strict=True):
        z["by_recording"] = _by_recording(run, radhar, z["prompts"])
    return scores, _seed_ensemble(runs, radhar)


def _seed_figures(results: dict, recipe: str, part: str = "zero_shot") -> tuple[list[float], float, list[float]]:
    """``recipe``'s test balanced accuracy of each seed, their mean and a 95 % t-interval over the
    seeds; ``part``: ``zero_shot`` (for ``radhar only``: trained on RadHAR) or ``fine_tuned``
    (read out by its prompts)."""
    import numpy as np
    from scipy import stats

    figures = [results[recipe][part]["test"]["balanced"]] + [
        z["test"]["balanced"] for z in results[recipe]["seeds"][part]
    ]
    mean = float(np.mean(figures))
    half = float(stats.t.ppf(0.975, len(figures) - 1) * np.std(figures, ddof=1) / np.sqrt(len(figures)))
    return figures, mean, [mean - half, mean + half]


def _drawn(labels, k: int, draw: int):
    """The indices of ``k`` windows of each class of ``labels`` (``[N]``), drawn with seed ``draw``."""
    import torch

    g = torch.Generator().manual_seed(draw)
    return torch.cat(
        [
            torch.nonzero(labels == c).flatten()[torch.randperm(int((labels == c).sum()), generator=g)[:k]]
            for c in labels.unique()
        ]
    )


def _few_shot(run: Path | None, radhar: Path, preset: str = "tiny") -> dict:
    """Test balanced accuracy of a probe on k train windows per class over ``run``'s features
    (``_few_shot_probes``)."""
    return _few_shot_probes([_split_embeddings(run, radhar, preset)])


def _split_embeddings(run: Path | None, radhar: Path, preset: str = "tiny", seed: int = 0) -> dict:
    """``_embeddings`` of RadHAR's train, val and test splits: split -> (features, classes)."""
    return {split: _embeddings(run, radhar, split, preset, seed)[:2] for split in ("train", "val", "test")}


def _few_shot_probes(models: list[dict]) -> dict:
    """Test balanced accuracy of probes on k train windows per class (``SHOTS``), ``DRAWS`` draws: one
    probe on each of ``models``' features (``_split_embeddings``; the same windows, features standardised
    on them), read out by the mean of their class probabilities; for each k the L2 weight with the best
    mean val balanced accuracy over the draws (``PROBE_L2``)."""
    import numpy as np
    import torch

    (_, train_y), (_, val_y), (_, test_y) = (models[0][split] for split in ("train", "val", "test"))
    for m in models[1:]:
        if not all(torch.equal(m[split][1], models[0][split][1]) for split in m):
            raise ValueError("the models' windows differ (another RadHAR conversion)")

    def probabilities(probes, split: str):
        per_model = [
            probe((m[split][0] - mean) / std).softmax(1) for m, (probe, mean, std) in zip(models, probes, strict=True)
        ]
        return torch.stack(per_model).mean(0)  # [N, C]

    out = {}
    for k in SHOTS:
        val: dict[float, list[float]] = {l2: [] for l2 in PROBE_L2}
        probes: dict[float, list] = {l2: [] for l2 in PROBE_L2}  # per draw: per model (probe, mean, std)
        for draw in range(DRAWS):
            pick = _drawn(train_y, k, draw)
            for l2 in PROBE_L2:
                fitted = []
                for m in models:
                    x = m["train"][0][pick]
                    mean, std = x.mean(0), x.std(0, unbiased=False) + 1e-6
                    fitted.append((_probe((x - mean) / std, train_y[pick], l2), mean, std))
                probes[l2].append(fitted)
                val[l2].append(_balanced(probabilities(fitted, "val").argmax(1), val_y))
        chosen = max(PROBE_L2, key=lambda l2: (float(np.mean(val[l2])), l2))
        scores = [_balanced(probabilities(fitted, "test").argmax(1), test_y) for fitted in probes[chosen]]
        half = 1.96 * float(np.std(scores, ddof=1)) / np.sqrt(len(scores))
        out[str(k)] = {
            "mean": float(np.mean(scores)),
            "interval": [float(np.mean(scores)) - half, float(np.mean(scores)) + half],
            "draws": scores,
            "l2": chosen,
            "val_balanced": {str(l2): float(np.mean(v)) for l2, v in val.items()},
        }
    return out


def _few_shot_data(radhar: Path, out: Path, k: int, draw: int) -> Path:
    """RadHAR with ``k`` train windows a class (the windows ``_few_shot``'s draw ``draw`` takes), val cut
    to ``FEW_SHOT_VAL`` windows a class (drawn with seed 0) and the whole test split."""
    import torch

    from radar_text_data import clip_label, read_manifest, write_manifest
    from seqclip.data import RadarTextDataset

    target = out / f"radhar-k{k}-draw{draw}"
    if (target / "manifest.jsonl").is_file():
        return target
    names = list(RADHAR_TO_SIM)
    kept = []
    for split, count, seed in (("train", k, draw), ("val", FEW_SHOT_VAL, 0)):
        dataset = RadarTextDataset(str(radhar), split, WINDOW, train=False)
        part = [dataset.record_at(i) for i in range(len(dataset))]  # in the order _embeddings reads them
        labels = torch.tensor([names.index(clip_label(r)) for r in part])
        kept += [part[i] for i in _drawn(labels, count, seed).tolist()]
    target.mkdir(parents=True, exist_ok=True)
    (target / "clips").symlink_to((radhar / "clips").resolve(), target_is_directory=True)
    (target / "classes.json").write_text((radhar / "classes.json").read_text())
    write_manifest(target, kept + [r for r in read_manifest(radhar) if r.split == "test"])
    return target


def _few_shot_fine_tuned(out: Path, recipe: str | None, radhar: Path, preset: str = "tiny") -> dict:
    """Test balanced accuracy of ``recipe``'s model (None: the untrained encoder) fine-tuned on k train
    windows a class (``FEW_SHOT_TUNED``; the draws of ``_few_shot``) for ``FEW_SHOT_EPOCHS``, the epoch
    chosen on ``FEW_SHOT_VAL`` val windows a class, read out by its class prompts (chosen on val);
    mean over ``DRAWS`` draws with a 95 % interval."""
    import numpy as np

    init = _model_dir(out, recipe) if recipe else None
    fields = {"batch_size": FEW_SHOT_BATCH, "warmup_steps": FEW_SHOT_WARMUP}
    out_ = {}
    for k in FEW_SHOT_TUNED:
        scores = []
        for draw in range(DRAWS):
            data = _few_shot_data(radhar, out, k, draw)
            name = f"{recipe or 'untrained'}-k{k}-draw{draw}"
            run = _trained(out, name, data, FEW_SHOT_EPOCHS, init=init, seed=draw, preset=preset, **fields)
            scores.append(_zero_shot(run, radhar)["test"]["balanced"])
        half = 1.96 * float(np.std(scores, ddof=1)) / np.sqrt(len(scores))
        mean = float(np.mean(scores))
        out_[str(k)] = {"mean": mean, "interval": [mean - half, mean + half], "draws": scores}
    return out_


def _cell(value: float, interval) -> str:
    return f"{value:.1f} [{interval[0]:.1f}, {interval[1]:.1f}]"


def _over_recordings(part: dict | None) -> str:
    """A result's balanced accuracy with its interval over recordings, as a table cell ("" if none)."""
    rec = (part or {}).get("by_recording")
    return _cell(rec["balanced"], rec["interval"]) if rec else ""


def _ablation_table(results: dict) -> None:
    """What in the simulation moves zero-shot: the sensor recipe, each setting changed alone, and dense."""
    shown = [r for r in ("sensor", *ABLATIONS, "dense") if r in results]
    if len(shown) < 3:
        return
    what = {
        "sensor": "all of the IWR1443's settings",
        "dense": "none (dense IWR1843 spectra, 50 frames/s)",
        **ABLATIONS,
    }
    rows = []
    for recipe in shown:
        z, p = results[recipe]["zero_shot"], results[recipe]["linear_probe"]["test"]
        rows.append(
            [
                recipe,
                what[recipe],
                _cell(z["test"]["balanced"], z["test"]["balanced_interval"]),
                f"{z['val']['names']['balanced']:.1f}",
                f"{z['val']['descriptions']['balanced']:.1f}",
                _cell(p["balanced"], p["balanced_interval"]),
            ]
        )
    print_table(
        "Ablation: RadHAR balanced accuracy % by what the simulation had (chance 20 %)",
        ["recipe", "simulated with", "zero-shot test", "val, name prompts", "val, description prompts", "linear probe"],
        rows,
    )


def _record(
    results: dict, measured: dict[str, set[str]], when: dict, angle: str = "azimuth", preset: str = "tiny"
) -> None:
    """The balanced accuracies with their intervals of what this call ``measured`` (recipe -> parts:
    ``zero-shot``, ``linear probe``, ``fine-tuned``, ``fine-tuned, probe``, ``few-shot``, ``few-shot,
    fine-tuned``, ``seeds``, ``fine-tuned seeds``) on views of ``angle`` with the ``preset`` encoder, appended to
    docs/benchmarks/real-data.csv (and plotted)."""
    from results import plot, record
    from results import row as result_row

    def row(configuration: str, metric: str, value: float, interval) -> dict:
        return result_row(configuration, metric, value, interval, "% balanced")

    rows = []
    for recipe, done in measured.items():
        r, named = results[recipe], _configuration(recipe, angle, preset)
        parts = {
            "zero-shot": r["zero_shot"],
            "linear probe": r["linear_probe"],
            "fine-tuned": r["fine_tuned"],
            "fine-tuned, probe": r.get("fine_tuned_probe"),
        }
        for metric, part in parts.items():
            if part and metric in done:
                # trained on RadHAR itself: its "zero-shot" is its own accuracy
                shown = "trained on RadHAR" if recipe == REAL_ONLY and metric == "zero-shot" else metric
                rows.append(row(named, shown, part["test"]["balanced"], part["test"]["balanced_interval"]))
        for part, (ensemble, measured_as) in SEED_PARTS.items():
            if measured_as not in done:
                continue
            _, mean, interval = _seed_figures(results, recipe, part)
            count = r["seeds"]["count"]
            what = "trained on RadHAR" if recipe == REAL_ONLY else part.replace("_", "-")
            rows.append(row(named, f"{what}, mean of {count} seeds", mean, interval))
            e = r["seeds"][ensemble]["test"]
            rows.append(row(named, f"{what}, {count} seeds together", e["balanced"], e["balanced_interval"]))
        for who, name in (("trained", named), ("untrained", _configuration("untrained encoder", angle, preset))):
            for part, key, metric in (
                ("few-shot", "few_shot", "few-shot, 5 a class"),
                ("few-shot, fine-tuned", "few_shot_fine_tuned", "few-shot fine-tuned, 5 a class"),
            ):  # the untrained encoder's rows once, whichever recipe measured them
                if part in done and not any(x["configuration"] == name and x["metric"] == metric for x in rows):
                    k = r[key][who]["5"]
                    rows.append(row(name, metric, k["mean"], k["interval"]))
    record("real-data", rows, when)
    print(f"results appended to docs/benchmarks/real-data.csv; plot: {plot('real-data')}")


def main() -> None:
    from radar_views import ANGLES

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("radhar", type=Path, help="RadHAR's Data folder (Train/ and Test/)")
    ap.add_argument("--out", type=Path, default=Path("bench_out/real_data"))
    ap.add_argument("--clips", type=int, default=1200, help="simulated clips per recipe")
    ap.add_argument("--epochs", type=int, default=20, help="epochs on the simulated clips")
    ap.add_argument("--finetune-epochs", type=int, default=3, help="epochs on RadHAR's train windows")
    ap.add_argument("--recipes", nargs="*", default=list(RECIPES), choices=[*RECIPES, *ABLATIONS])
    ap.add_argument("--ablations", action="store_true", help="also the sensor recipe with one setting changed")
    ap.add_argument(
        "--seeds", type=int, default=1, help="simulate and train each of --recipes with this many seeds (zero-shot)"
    )
    ap.add_argument("--angle", default="azimuth", choices=ANGLES, help="what the views' third rows hold")
    ap.add_argument("--preset", default="tiny", choices=("tiny", "small"), help="the radar encoder of every model")
    ap.add_argument(
        "--no-few-shot-fine-tuning",
        action="store_true",
        help="leave out few-shot fine-tuning (10 trainings: 30-50 minutes on two cores)",
    )
    args = ap.parse_args()
    if args.angle != "azimuth" and "dense" in args.recipes:
        ap.error(f"--angle {args.angle}: the dense recipe's views hold azimuth; give --recipes sensor")
    if args.ablations:
        args.recipes = [*args.recipes, *(a for a in ABLATIONS if a not in args.recipes)]
    args.out.mkdir(parents=True, exist_ok=True)
    _check_setup(args.out, args.angle, args.preset)
    from results import stamp

    when = stamp()  # the code that runs, before anything can change it
    results_path = args.out / "results.json"
    results = json.loads(results_path.read_text()) if results_path.is_file() else {}
    radhar = _radhar(args.radhar, args.out, args.angle)
    measured: dict[str, set[str]] = {}  # recipe -> the parts this call computed (the CSV gets these)
    for recipe in [*args.recipes, REAL_ONLY]:
        if recipe in results:
            continue
        measured[recipe] = {"zero-shot", "linear probe", "fine-tuned", "fine-tuned, probe"}
        if recipe == REAL_ONLY:
            run = _trained(args.out, _slug(REAL_ONLY), radhar, args.finetune_epochs, preset=args.preset)
            tuned = None
        elif recipe in ABLATIONS:  # zero-shot and the probe only
            run = _trained(
                args.out,
                _slug(recipe),
                _simulated(args.out, _slug(recipe), args.clips, recipe, angle=args.angle),
                args.epochs,
                preset=args.preset,
            )
            tuned = None
        else:
            run = _trained(
                args.out,
                recipe,
                _simulated(args.out, recipe, args.clips, angle=args.angle),
                args.epochs,
                preset=args.preset,
            )
            tuned = _trained(
                args.out, f"{recipe}-finetuned", radhar, args.finetune_epochs, init=run, preset=args.preset
            )
        _log(f"scoring {recipe}")
        results[recipe] = {
            "zero_shot": _zero_shot(run, radhar),
            "linear_probe": _linear_probe(run, radhar),
            "fine_tuned": _zero_shot(tuned, radhar) if tuned else None,
            "fine_tuned_probe": _linear_probe(tuned, radhar) if tuned else None,
            "clips": 0 if recipe == REAL_ONLY else args.clips,
            "epochs": args.finetune_epochs if recipe == REAL_ONLY else args.epochs,
            "finetune_epochs": args.finetune_epochs,
            "train_wall_s": _wall(run),
        }
        results_path.write_text(json.dumps(results, indent=1))
    for recipe, r in results.items():  # probes an earlier call fitted over another L2 grid: fitted again
        run, tuned = _model_dir(args.out, recipe), _model_dir(args.out, f"{recipe}-finetuned")
        if r["linear_probe"].get("grid") != list(PROBE_L2) and (run / "bench_wall_s.txt").is_file():
            _log(f"linear probe over the L2 grid ({recipe})")
            r["linear_probe"] = _linear_probe(run, radhar)
            r.pop("few_shot", None)
            measured.setdefault(recipe, set()).add("linear probe")
        stale = (r.get("fine_tuned_probe") or {}).get("grid") != list(PROBE_L2)
        if r["fine_tuned"] and stale and (tuned / "bench_wall_s.txt").is_file():
            _log(f"linear probe over the fine-tuned encoder ({recipe})")
            r["fine_tuned_probe"] = _linear_probe(tuned, radhar)
            measured.setdefault(recipe, set()).add("fine-tuned, probe")
        results_path.write_text(json.dumps(results, indent=1))
    seeded = [r for r in args.recipes if r in results and r in RECIPES] + [REAL_ONLY]
    for recipe in seeded if args.seeds > 1 else []:
        seeds = results[recipe].get("seeds", {})
        if seeds.get("count") != args.seeds:
            seeds = results[recipe]["seeds"] = {"count": args.seeds}
        runs = [_model_dir(args.out, recipe)]
        for seed in range(1, args.seeds):
            if recipe == REAL_ONLY:
                runs.append(
                    _trained(args.out, _slug(REAL_ONLY), radhar, args.finetune_epochs, seed=seed, preset=args.preset)
                )
            else:
                data = _simulated(args.out, recipe, args.clips, seed=seed, angle=args.angle)
                runs.append(_trained(args.out, recipe, data, args.epochs, seed=seed, preset=args.preset))
        if "zero_shot" not in seeds:
            _log(f"scoring {recipe}'s {args.seeds} seeds")
            seeds["zero_shot"], seeds["ensemble"] = _seed_scores(runs, radhar)
            measured.setdefault(recipe, set()).add(SEED_PARTS["zero_shot"][1])
            results_path.write_text(json.dumps(results, indent=1))
        if recipe != REAL_ONLY and "fine_tuned" not in seeds:
            tuned = [_model_dir(args.out, f"{recipe}-finetuned")] + [
                _trained(
                    args.out,
                    f"{recipe}-finetuned",
                    radhar,
                    args.finetune_epochs,
                    init=run,
                    seed=seed,
                    preset=args.preset,
                )
                for seed, run in enumerate(runs[1:], start=1)
            ]
            _log(f"scoring {recipe}'s {args.seeds} fine-tuned seeds")
            seeds["fine_tuned"], seeds["fine_tuned_ensemble"] = _seed_scores(tuned, radhar)
            measured.setdefault(recipe, set()).add(SEED_PARTS["fine_tuned"][1])
            results_path.write_text(json.dumps(results, indent=1))
    for recipe in [r for r in args.recipes if r in results and r in RECIPES]:
        if "few_shot" not in results[recipe]:
            measured.setdefault(recipe, set()).add("few-shot")
            _log(f"few-shot probes ({recipe})")
            results[recipe]["few_shot"] = {
                "trained": _few_shot(_model_dir(args.out, recipe), radhar),
                "untrained": _few_shot(None, radhar, args.preset),
            }
            results_path.write_text(json.dumps(results, indent=1))
    for recipe in [r for r in args.recipes if r in results and r in RECIPES and not args.no_few_shot_fine_tuning]:
        if "few_shot_fine_tuned" not in results[recipe]:
            measured.setdefault(recipe, set()).add("few-shot, fine-tuned")
            _log(f"few-shot fine-tuning ({recipe})")
            results[recipe]["few_shot_fine_tuned"] = {
                "trained": _few_shot_fine_tuned(args.out, recipe, radhar, args.preset),
                "untrained": _few_shot_fine_tuned(args.out, None, radhar, args.preset),
            }
            results_path.write_text(json.dumps(results, indent=1))
    for recipe, r in results.items():  # intervals over recordings that an earlier run did not give
        run, tuned = _model_dir(args.out, recipe), _model_dir(args.out, f"{recipe}-finetuned")
        if not (run / "bench_wall_s.txt").is_file():
            continue
        if "by_recording" not in r["zero_shot"]:
            _log(f"zero-shot interval over recordings ({recipe})")
            r["zero_shot"]["by_recording"] = _by_recording(run, radhar, r["zero_shot"]["prompts"])
        if "by_recording" not in r["linear_probe"]:
            _log(f"linear probe's interval over recordings ({recipe})")
            logits, truth, recordings = _probe_logits(run, radhar, r["linear_probe"]["l2"])
            r["linear_probe"]["by_recording"] = _recording_interval(logits.argmax(1), truth, recordings)
        if r["fine_tuned"] and "by_recording" not in r["fine_tuned"] and (tuned / "bench_wall_s.txt").is_file():
            _log(f"fine-tuned model's interval over recordings ({recipe})")
            r["fine_tuned"]["by_recording"] = _by_recording(tuned, radhar, r["fine_tuned"]["prompts"])
        results_path.write_text(json.dumps(results, indent=1))
    rows = [
        [
            recipe,
            r["zero_shot"]["by_recording"]["recordings"],
            _over_recordings(r["zero_shot"]),
            _over_recordings(r["linear_probe"]),
            _over_recordings(r["fine_tuned"]),
            _over_recordings(r.get("fine_tuned_probe")),
        ]
        for recipe, r in results.items()
        if "by_recording" in r["zero_shot"]
    ]
    if rows:
        print_table(
            "Balanced accuracy % with 95 % intervals resampling whole test recordings (re-scored)",
            ["recipe", "test recordings", "zero-shot", "linear probe", "fine-tuned", "fine-tuned, probe"],
            rows,
        )
    rows = []
    for recipe, r in results.items():
        z, p, f = r["zero_shot"]["test"], r["linear_probe"]["test"], (r["fine_tuned"] or {}).get("test")
        fp = r.get("fine_tuned_probe")
        rows.append(
            [
                recipe,
                r["clips"],
                r["epochs"],
                z["clips"],
                _cell(z["balanced"], z["balanced_interval"]),
                f"{_cell(p['balanced'], p['balanced_interval'])} (L2 {r['linear_probe']['l2']:g})",
                f"{_cell(f['balanced'], f['balanced_interval'])} ({r['finetune_epochs']} epochs)" if f else "",
                f"{_cell(fp['test']['balanced'], fp['test']['balanced_interval'])} (L2 {fp['l2']:g})" if fp else "",
                _cell(z["top1"], z["top1_interval"]),
            ]
        )
        if f and fp:  # the fine-tuned model's read-out, chosen on val: its prompts or a probe on its features
            prompts = r["fine_tuned"]["val"][r["fine_tuned"]["prompts"]]["balanced"]
            probe = fp["val_balanced"][str(fp["l2"])]
            chosen = "a probe" if probe > prompts else "prompts"
            _log(f"{recipe}: val balanced {prompts:.1f} with prompts, {probe:.1f} with a probe: read out by {chosen}")
    print_table(
        "RadHAR test windows, balanced accuracy % [95 % interval] (chance 20 %)",
        [
            "recipe",
            "sim clips",
            "epochs",
            "test windows",
            "zero-shot (sim only)",
            "linear probe",
            "fine-tuned on RadHAR",
            "fine-tuned, probe",
            "zero-shot top-1",
        ],
        rows,
    )
    rows = [
        [
            recipe,
            k,
            *(
                f"{_cell(shot['mean'], shot['interval'])} (L2 {shot['l2']:g})"
                if "l2" in shot
                else _cell(shot["mean"], shot["interval"])
                for shot in (r["few_shot"][who][str(k)] for who in ("trained", "untrained"))
            ),
        ]
        for recipe, r in results.items()
        if "few_shot" in r
        for k in SHOTS
    ]
    if rows:
        print_table(
            f"Few-shot linear probe, RadHAR test balanced accuracy % (mean of {DRAWS} draws [95 % interval])",
            ["recipe", "windows per class", "simulation-trained encoder", "untrained encoder"],
            rows,
        )
    rows = [
        [
            recipe,
            k,
            *(
                _cell(r["few_shot_fine_tuned"][who][str(k)]["mean"], r["few_shot_fine_tuned"][who][str(k)]["interval"])
                for who in ("trained", "untrained")
            ),
        ]
        for recipe, r in results.items()
        if "few_shot_fine_tuned" in r
        for k in FEW_SHOT_TUNED
    ]
    if rows:
        print_table(
            f"Few-shot fine-tuning ({FEW_SHOT_EPOCHS} epochs, read out by class prompts), RadHAR test balanced"
            f" accuracy % (mean of {DRAWS} draws [95 % interval])",
            ["recipe", "windows per class", "simulation-trained model", "untrained radar encoder"],
            rows,
        )
    rows = []
    for recipe, r in results.items():
        for part, (ensemble, _) in SEED_PARTS.items():
            if part not in r.get("seeds", {}):
                continue
            what = "trained on RadHAR" if recipe == REAL_ONLY else part.replace("_", "-")
            figures, mean, interval = _seed_figures(results, recipe, part)
            scores = [r[part], *r["seeds"][part]]
            for seed, (figure, z) in enumerate(zip(figures, scores, strict=True)):
                rows.append([recipe, what, f"seed {seed}", f"{figure:.1f}", _over_recordings(z), z["prompts"]])
            rows.append([recipe, what, f"mean of {len(figures)}", _cell(mean, interval) + " (t over seeds)", "", ""])
            e = r["seeds"][ensemble]
            together = f"{e['test']['balanced']:.1f}"
            rows.append([recipe, what, f"{len(figures)} together", together, _over_recordings(e), e["prompts"]])
    if rows:
        print_table(
            "Each seed, RadHAR test balanced accuracy % read out by class prompts (chance 20 %)",
            ["recipe", "model", "seed", "balanced", "over recordings", "prompts (chosen on val)"],
            rows,
        )
    _ablation_table(results)
    if measured:
        _record(results, measured, when, args.angle, args.preset)
    for recipe, r in results.items():
        z = r["zero_shot"]["test"]
        print_table(
            f"{recipe}: zero-shot confusion on RadHAR test (rows: truth)",
            ["truth", *z["classes"]],
            [[c, *row] for c, row in zip(z["classes"], z["confusion"], strict=True)],
        )


if __name__ == "__main__":
    main()
