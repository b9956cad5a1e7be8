"""Benchmark results: CSV rows stamped with date, version, commit and machine, appended run after run,
and a plot of each file's current figures; every results file in docs/benchmarks is whole and shown on its page."""

import csv
import importlib.util
import json
import statistics
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _bench(name: str):
    """The module of bench/NAME.py (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_runs_append_under_their_stamp_and_the_plot_shows_each_configurations_latest(tmp_path):
    results = _bench("results")
    first = {"date": "2026-01-01", "version": "0.1.0", "commit": "abc1234", "machine": "2-core test"}
    results.record("demo", [{"configuration": "a", "metric": "R@1", "value": 10.0, "lo": 8, "hi": 12}], first, tmp_path)
    rows = [
        {"configuration": "a", "metric": "R@1", "value": 20.0, "lo": 18, "hi": 22, "unit": "%"},
        {"configuration": "b", "metric": "order", "value": 70.0},
    ]
    results.record("demo", rows, root=tmp_path)
    read = results.read("demo", tmp_path)
    assert [r["value"] for r in read] == ["10.0", "20.0", "70.0"] and read[0]["commit"] == "abc1234"
    assert all(read[1][k] and read[1][k] == read[2][k] for k in results.STAMP)  # one stamp for one run
    assert [r["value"] for r in results.latest(read)] == ["20.0", "70.0"]
    assert results.plot("demo", tmp_path).stat().st_size > 1000
    with pytest.raises(ValueError, match="unknown result fields"):
        results.record("demo", [{"configuration": "a", "metric": "m", "value": 1, "seed": 3}], first, tmp_path)


def test_a_row_rounds_its_value_and_interval_and_records_as_written(tmp_path):
    results = _bench("results")
    row = results.row("a", "R@1", 12.3456, (10.004, 14.996), "% balanced")
    assert row == {"configuration": "a", "metric": "R@1", "value": 12.35, "lo": 10.0, "hi": 15.0, "unit": "% balanced"}
    assert "lo" not in results.row("a", "wall time", 3.0, unit="min")
    results.record("demo", [row], {"date": "d", "version": "v", "commit": "c", "machine": "m"}, tmp_path)
    read = results.read("demo", tmp_path)[0]
    assert (read["value"], read["lo"], read["hi"], read["unit"]) == ("12.35", "10.0", "15.0", "% balanced")


def test_the_commit_is_marked_changed_by_code_edits_not_by_results_files(tmp_path):
    """A run after another run's results (its CSV rows and plot) is still stamped with the plain commit."""
    import shutil
    import subprocess

    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    results = _bench("results")

    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path, check=True, capture_output=True
        )

    (tmp_path / "docs" / "benchmarks").mkdir(parents=True)
    files = {"docs/benchmarks/demo.csv": "a\n", "docs/benchmarks/demo.png": "p", "bench/x.py": "x = 1\n"}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "first")
    head = results._commit(tmp_path)
    assert head and "+" not in head and head != "unknown"
    (tmp_path / "docs/benchmarks/demo.csv").write_text("a\nb\n")
    (tmp_path / "docs/benchmarks/demo.png").write_text("q")
    (tmp_path / "notes.txt").write_text("untracked")
    assert results._commit(tmp_path) == head
    assert results._commit(tmp_path / "docs") == head  # from a folder of the checkout too
    (tmp_path / "bench/x.py").write_text("x = 2\n")
    assert results._commit(tmp_path) == head + "+changes"
    assert results._commit(tmp_path / "docs") == head + "+changes"


def test_the_machine_names_the_cpus_native_bf16(monkeypatch):
    """The stamp's machine names native bf16 where the CPU has it: the CPU default precision follows it."""
    import seqclip.hardware

    results = _bench("results")
    monkeypatch.setattr(seqclip.hardware, "native_bf16", lambda: "avx512_bf16")
    assert results._machine().split(", ")[1] == "avx512_bf16"
    monkeypatch.setattr(seqclip.hardware, "native_bf16", lambda: None)
    assert "bf16" not in results._machine()


# every benchmark's page: docs/benchmarks/<name>.md, and search's section of the search guide
PAGES = {p.stem: p for p in (ROOT / "docs" / "benchmarks").glob("*.md") if p.stem != "index"} | {
    "search": ROOT / "docs" / "search.md"
}


def test_every_results_file_is_whole_and_shown_on_its_page():
    results = _bench("results")
    files = sorted((ROOT / "docs" / "benchmarks").glob("*.csv"))
    assert {f.stem for f in files} == set(PAGES)  # every page has its results file, every file its page
    for f in files:
        with open(f, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            assert tuple(reader.fieldnames) == results.FIELDS, f.name
            rows = list(reader)
        assert rows and all(all(r[k] for k in (*results.STAMP, "configuration", "metric", "value")) for r in rows)
        assert all(float(r["lo"] or r["value"]) <= float(r["value"]) <= float(r["hi"] or r["value"]) for r in rows)
        page = PAGES[f.stem]
        link = "" if page.parent == f.parent else "benchmarks/"
        text = page.read_text(encoding="utf-8")
        assert f"({link}{f.stem}.png)" in text and f"({link}{f.stem}.csv)" in text, page.name
        assert (f.parent / f"{f.stem}.png").is_file()


def test_the_few_shot_probes_take_the_l2_weight_val_scores_best(monkeypatch):
    """bench/real_data.py: for each k, the L2 weight with the best mean val balanced accuracy over the
    draws (ties: the larger)."""
    import torch

    real_data = _bench("real_data")
    g = torch.Generator().manual_seed(0)
    centres = 3.0 * torch.randn(5, 8, generator=g)  # [classes, d]

    def split(n: int):
        y = torch.arange(5).repeat_interleave(n)
        return centres[y] + torch.randn(len(y), 8, generator=g), y, tuple(f"r{int(c)}" for c in y)

    splits = {"train": split(40), "val": split(20), "test": split(20)}
    monkeypatch.setattr(real_data, "_embeddings", lambda run, radhar, name, preset="tiny", seed=0: splits[name])
    monkeypatch.setattr(real_data, "PROBE_L2", (1e-4, 1e-2, 1.0))
    out = real_data._few_shot(None, Path("unused"))
    assert set(out) == {str(k) for k in real_data.SHOTS}
    for shot in out.values():
        val = {float(k): v for k, v in shot["val_balanced"].items()}
        assert set(val) == {1e-4, 1e-2, 1.0}
        assert shot["l2"] == max(val, key=lambda l2: (val[l2], l2))
        assert len(shot["draws"]) == real_data.DRAWS and shot["interval"][0] <= shot["mean"] <= shot["interval"][1]
    assert out["20"]["mean"] > 90  # separable classes: 20 windows a class are enough
    models = [{name: splits[name][:2] for name in splits}]
    assert real_data._few_shot_probes(models * 2) == out  # a model together with itself: the model
    other = {name: (x, y) for name, (x, y, _) in splits.items()} | {"val": (splits["val"][0], splits["val"][1].flip(0))}
    with pytest.raises(ValueError, match="the models' windows differ"):
        real_data._few_shot_probes([*models, other])


def test_the_seed_figures_carry_a_t_interval_over_seeds():
    real_data = _bench("real_data")
    results = {
        "sensor": {
            "zero_shot": {"test": {"balanced": 40.0}},
            "seeds": {"zero_shot": [{"test": {"balanced": 35.0}}, {"test": {"balanced": 26.0}}]},
        }
    }
    figures, mean, (lo, hi) = real_data._seed_figures(results, "sensor")
    assert figures == [40.0, 35.0, 26.0] and mean == pytest.approx(101 / 3)
    half = 4.302653 * statistics.stdev(figures) / 3**0.5  # t(0.975) with 2 degrees of freedom
    assert (lo, hi) == pytest.approx((mean - half, mean + half), rel=1e-5)
    results["sensor"]["fine_tuned"] = {"test": {"balanced": 95.0}}
    results["sensor"]["seeds"]["fine_tuned"] = [{"test": {"balanced": 93.0}}, {"test": {"balanced": 94.0}}]
    figures, mean, _ = real_data._seed_figures(results, "sensor", "fine_tuned")
    assert figures == [95.0, 93.0, 94.0] and mean == pytest.approx(94.0)


def test_a_variant_trained_over_several_calls_has_the_wall_time_of_all_its_folds(tmp_path):
    bench = _bench("open_vocab_benchmark")
    runs = {1: {"minutes": 30.0}, 2: {"minutes": 31.5}, 3: {"minutes": 29.0}}
    assert bench.wall_minutes(runs, tmp_path) is None  # the pool's simulation time was not kept
    (tmp_path / bench.SIMULATION_MINUTES).write_text("4.5\n")
    assert bench.wall_minutes(runs, tmp_path) == pytest.approx(95.0)
    assert bench.wall_minutes({**runs, 1: {"train_minutes": 29.0}}, tmp_path) is None  # a fold's time not kept


def test_few_shot_draws_take_k_windows_of_each_class_the_same_for_a_draw():
    torch = pytest.importorskip("torch")
    real_data = _bench("real_data")
    labels = torch.tensor([0, 1, 2] * 10 + [2] * 5)
    for draw in range(3):
        picked = real_data._drawn(labels, 4, draw)
        assert len(set(picked.tolist())) == 12
        assert torch.bincount(labels[picked]).tolist() == [4, 4, 4]
        assert torch.equal(picked, real_data._drawn(labels, 4, draw))
    assert not torch.equal(real_data._drawn(labels, 4, 0), real_data._drawn(labels, 4, 1))


def test_the_few_shot_fine_tuning_data_hold_the_probes_windows_a_cut_val_and_the_whole_test(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    from radar_text_data import clip_label, convert_radhar, read_manifest
    from radar_text_data.testing import radhar_folder

    real_data = _bench("real_data")
    names = list(real_data.RADHAR_TO_SIM)
    files = {f"Train/{n}": [f"{n}{i}" for i in range(3)] for n in names} | {f"Test/{n}": [f"{n}t"] for n in names}
    radhar = convert_radhar(radhar_folder(tmp_path / "src", files, frames=120), tmp_path / "radhar")
    monkeypatch.setattr(real_data, "FEW_SHOT_VAL", 1)
    data = real_data._few_shot_data(radhar, tmp_path, 2, draw=1)
    assert real_data._few_shot_data(radhar, tmp_path, 2, draw=1) == data  # kept, not drawn again
    whole, cut = read_manifest(radhar), read_manifest(data)
    by_split = {s: [r for r in cut if r.split == s] for s in ("train", "val", "test")}
    assert sorted(clip_label(r) for r in by_split["train"]) == sorted(names * 2)
    assert sorted(clip_label(r) for r in by_split["val"]) == sorted({clip_label(r) for r in whole if r.split == "val"})
    assert [r.id for r in by_split["test"]] == [r.id for r in whole if r.split == "test"]
    train = [r for r in whole if r.split == "train"]
    labels = torch.tensor([names.index(clip_label(r)) for r in train])
    assert {r.id for r in by_split["train"]} == {train[i].id for i in real_data._drawn(labels, 2, 1).tolist()}


def _recording(monkeypatch):
    """bench/real_data.py with its CSV writer and plot captured: the module, and the rows it records."""
    real_data = _bench("real_data")
    import results as bench_results  # bench/results.py, on the path real_data set

    written: list[dict] = []
    monkeypatch.setattr(bench_results, "record", lambda name, rows, when: written.extend(rows))
    monkeypatch.setattr(bench_results, "plot", lambda name: "real-data.png")
    return real_data, written


def test_the_untrained_encoders_few_shot_rows_are_written_once_each(monkeypatch):
    real_data, written = _recording(monkeypatch)
    shot = {"5": {"mean": 70.0, "interval": [65.0, 75.0]}}
    recipe = {
        "zero_shot": None,
        "linear_probe": None,
        "fine_tuned": None,
        "few_shot": {"trained": shot, "untrained": shot},
        "few_shot_fine_tuned": {"trained": shot, "untrained": shot},
    }
    measured = {"sensor": {"few-shot, fine-tuned"}, "dense": {"few-shot", "few-shot, fine-tuned"}}
    real_data._record({"sensor": recipe, "dense": recipe}, measured, {})
    untrained = sorted(x["metric"] for x in written if x["configuration"] == "untrained encoder")
    assert untrained == ["few-shot fine-tuned, 5 a class", "few-shot, 5 a class"]
    assert sorted(x["metric"] for x in written if x["configuration"] == real_data.SHOWN["dense"]) == untrained


def test_the_real_data_benchmark_keeps_one_angle_an_out_and_names_it(tmp_path, monkeypatch):
    real_data = _bench("real_data")
    assert real_data._configuration("sensor", "azimuth") == real_data.SHOWN["sensor"]
    assert real_data._configuration("untrained encoder", "elevation") == "untrained encoder, elevation view"
    assert real_data._sensor("sensor", "azimuth") == real_data.SENSOR
    assert real_data._sensor("dense", "elevation") is None
    removed = real_data._sensor("sensor, clutter removed", "elevation")
    assert removed.angle == "elevation" and removed.chain.clutter_removal
    assert real_data._sensor("sensor", "elevation").angle == "elevation"
    fresh = tmp_path / "new"
    fresh.mkdir()
    real_data._check_setup(fresh, "elevation", "small")
    real_data._check_setup(fresh, "elevation", "small")  # the same again: goes on
    assert json.loads((fresh / "setup.json").read_text()) == {"angle": "elevation", "preset": "small"}
    with pytest.raises(SystemExit, match="--angle azimuth: .* holds the angle elevation; give another --out"):
        real_data._check_setup(fresh, "azimuth", "small")
    with pytest.raises(SystemExit, match="--preset tiny: .* holds the preset small"):
        real_data._check_setup(fresh, "elevation", "tiny")
    older = tmp_path / "older"
    (older / "radhar").mkdir(parents=True)  # converted before the note was kept: azimuth's, tiny
    with pytest.raises(SystemExit, match="holds the angle azimuth"):
        real_data._check_setup(older, "elevation", "tiny")
    assert (
        real_data._configuration("sensor", "elevation", "small")
        == "simulation, IWR1443 domain, elevation view, small encoder"
    )
    real_data, written = _recording(monkeypatch)
    shot = {"5": {"mean": 70.0, "interval": [65.0, 75.0]}}
    part = {"test": {"balanced": 90.0, "balanced_interval": [88.0, 92.0]}}
    recipe = {
        "zero_shot": part,
        "linear_probe": part,
        "fine_tuned": part,
        "few_shot": {"trained": shot, "untrained": shot},
    }
    real_data._record({"sensor": recipe}, {"sensor": {"zero-shot", "few-shot"}}, {}, "elevation")
    assert {x["configuration"] for x in written} == {
        "simulation, IWR1443 domain, elevation view",
        "untrained encoder, elevation view",
    }


def test_the_real_data_ensemble_takes_whole_sets_and_val_chooses_fewer_models_on_a_tie(tmp_path):
    ensemble = _bench("real_data_ensemble")
    out = tmp_path / "elevation"
    for suffix in ensemble.SEEDS:
        (out / f"model-sensor-finetuned{suffix}" / "best").mkdir(parents=True)
    (out / "model-radhar-only" / "best").mkdir(parents=True)  # one seed of three: not a set
    (out / "setup.json").write_text(json.dumps({"angle": "elevation", "preset": "small"}))
    sets = ensemble.model_sets(out)
    assert list(sets) == ["fine-tuned from simulation, elevation view, small encoder"]
    assert [p.name for p in next(iter(sets.values()))] == [
        "model-sensor-finetuned",
        "model-sensor-finetuned-seed1",
        "model-sensor-finetuned-seed2",
    ]
    (out / "model-sensor-seed1" / "best").mkdir(parents=True)  # trained on simulation: seed 1 alone
    assert ensemble.simulation_models(out) == [out / "model-sensor-seed1"]
    assert ensemble.model_sets(out, ensemble.ZERO_SHOT_SETS) == {}  # not a whole set
    for suffix in ("", "-seed2"):
        (out / f"model-sensor{suffix}" / "best").mkdir(parents=True)
    zero_shot = ensemble.model_sets(out, ensemble.ZERO_SHOT_SETS)
    assert list(zero_shot) == ["simulation, IWR1443 domain, elevation view, small encoder"]
    assert [p.name for p in zero_shot["simulation, IWR1443 domain, elevation view, small encoder"]] == [
        "model-sensor",
        "model-sensor-seed1",
        "model-sensor-seed2",
    ]
    assert list(ensemble.model_sets(out)) == ["fine-tuned from simulation, elevation view, small encoder"]
    val = {"a": 90.0, "b": 93.0, "a + b": 93.0, "c": 91.0, "a + b + c": 94.0}
    assert [u for _, u in ensemble.ranked(val)] == [("a", "b", "c"), ("b",), ("a", "b"), ("c",), ("a",)]
