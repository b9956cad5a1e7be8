"""The faults a new user met at the edges (data commands, the Python API, error messages), each a
regression test that fails without its fix."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from seqclip_fixtures import make_dataset
from typer.testing import CliRunner

from radar_text_data import write_clip
from seqclip import SeqClip, SeqClipConfig
from seqclip.cli import app

TOML = {"clip_length": 32, "warmup_steps": 1, "log_every": 1, "eval_test": False, "epochs": 1, "batch_size": 4,
        "similarity": "clip"}


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def one_line(result) -> str:
    """The error output as one string; fails when it holds a traceback or more than one error line."""
    assert "Traceback" not in result.output, result.output
    lines = [x for x in result.output.splitlines() if x.startswith("error:")]
    assert len(lines) == 1, result.output
    return lines[0]


def toml(tmp_path, **extra):
    body = {**TOML, **extra}
    (tmp_path / "run.toml").write_text("[train]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in body.items()))
    return ["--config", tmp_path / "run.toml"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("m") / "model"
    SeqClip(SeqClipConfig(similarity="clip", clip_length=48)).save_pretrained(path)
    return path


# 1. from_pretrained returns an eval-mode model; the README example runs as written
def test_from_pretrained_returns_a_model_in_eval_mode_that_embeds_deterministically(saved):
    model = SeqClip.from_pretrained(saved)
    assert not model.training and not any(m.training for m in model.modules())
    with torch.no_grad():
        a, b = (model.encode_text(["a person walks toward the radar"]) for _ in range(2))
    assert torch.equal(a, b)


def test_the_app_readme_python_example_runs_as_written(tmp_path, monkeypatch):
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})


# 2. no data command overwrites a dataset
def test_data_synth_refuses_an_existing_dataset_and_overwrite_moves_it_aside(tmp_path):
    out = tmp_path / "synth"
    assert run("data", "synth", "--out", out, "--clips", 4, "--workers", 1, "--max-frames", 100).exit_code == 0
    rows = (out / "manifest.jsonl").read_text().splitlines()
    (out / "manifest.jsonl").write_text("\n".join([*(json.dumps({**json.loads(r), "mine": 1}) for r in rows), ""]))
    kept = (out / "manifest.jsonl").read_bytes()
    again = run("data", "synth", "--out", out, "--clips", 2, "--workers", 1, "--max-frames", 100)
    assert again.exit_code == 2 and "--overwrite" in one_line(again) and str(out) in one_line(again)
    assert (out / "manifest.jsonl").read_bytes() == kept
    fresh = run("data", "synth", "--out", out, "--clips", 2, "--workers", 1, "--max-frames", 100, "--overwrite")
    assert fresh.exit_code == 0, fresh.output
    old = [p for p in tmp_path.iterdir() if p.name.startswith("synth.old-")]
    assert len(old) == 1 and (old[0] / "manifest.jsonl").read_bytes() == kept
    assert len((out / "manifest.jsonl").read_text().splitlines()) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["synth", old[0].name])  # nothing half-written


def test_data_convert_and_data_shard_refuse_an_existing_output(tmp_path):
    data = make_dataset(tmp_path / "d")
    shards = tmp_path / "shards"
    assert run("data", "shard", data, "--out", shards, "--shard-size", 4).exit_code == 0
    index = (shards / "index.json").read_bytes()
    again = run("data", "shard", data, "--out", shards)
    assert again.exit_code == 2 and "--overwrite" in one_line(again) and (shards / "index.json").read_bytes() == index
    assert run("data", "shard", data, "--out", shards, "--overwrite").exit_code == 0
    src = tmp_path / "src"
    src.mkdir()
    for i in range(4):
        np.savez(src / f"r{i}.npz", range_time=np.ones((256, 32)), doppler_time=np.ones((128, 32)),
                 azimuth_time=np.ones((128, 32)))
    (tmp_path / "caps.json").write_text(json.dumps({f"r{i}": [f"caption {i}"] for i in range(4)}))
    convert = run("data", "convert", src, "--captions", tmp_path / "caps.json", "--out", data)
    assert convert.exit_code == 2 and "--overwrite" in one_line(convert)
    assert len((data / "manifest.jsonl").read_text().splitlines()) == 16


# 4. one line, no traceback
def test_a_nan_clip_in_a_loader_worker_stops_training_with_one_line_naming_the_file(tmp_path):
    data = make_dataset(tmp_path / "d")
    bad = {k: np.ones((b, 48), np.float16) for k, b in (("range_time", 256), ("doppler_time", 128),
                                                        ("azimuth_time", 128))}
    bad["doppler_time"][5, 5] = np.nan
    write_clip(data / "clips" / "c003.npz", bad)
    out = tmp_path / "run"
    result = run("train", *toml(tmp_path), "--data", data, "--out", out, "--workers", 1)
    line = one_line(result)
    assert result.exit_code == 2 and "c003.npz" in line and "NaN" in line and "--skip-bad" in line
    assert "[" not in line or "self.dataset" not in line  # no worker traceback text
    # 5. a start that died before its first checkpoint leaves nothing, and the same command runs again
    assert not out.exists()
    write_clip(data / "clips" / "c003.npz", {k: np.ones_like(v) for k, v in bad.items()})
    retry = run("train", *toml(tmp_path), "--data", data, "--out", out, "--workers", 1)
    assert retry.exit_code == 0, retry.output


def test_a_run_directory_left_by_a_killed_start_can_be_retried_with_the_same_command(tmp_path):
    data = make_dataset(tmp_path / "d")
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.toml").write_text('[train]\nepochs = 1\n')
    (out / "metrics.jsonl").write_text("")
    (out / "tensorboard").mkdir()
    resume = run("train", *toml(tmp_path), "--data", data, "--out", out, "--resume", "latest")
    assert resume.exit_code == 2 and "without --resume" in one_line(resume)
    retry = run("train", *toml(tmp_path), "--data", data, "--out", out)
    assert retry.exit_code == 0, retry.output
    assert (out / "checkpoints" / "latest").is_file()
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "config.toml").write_text("something = 'of the user'\n")
    refused = run("train", *toml(tmp_path), "--data", data, "--out", foreign)
    assert refused.exit_code == 2 and (foreign / "config.toml").read_text() == "something = 'of the user'\n"


def test_eval_out_is_checked_for_writability_before_any_work(tmp_path, saved):
    data = make_dataset(tmp_path / "d")
    (tmp_path / "file").write_text("x")
    for out, expected in ((Path("/sys/seqclip/m.json"), "cannot write in /sys"),
                          (tmp_path / "file" / "m.json", "is a file, not a directory"),
                          (tmp_path, "is a directory")):
        for task in ("retrieval", "zeroshot"):
            result = run("eval", "--checkpoint", saved, "--data", data, "--task", task, "--out", out)
            assert result.exit_code == 2 and expected in one_line(result), (task, result.output)
            assert "R@1" not in result.output and "top-1" not in result.output  # before the evaluation


def test_corrupt_model_files_are_named_in_one_line(tmp_path, saved):
    import shutil

    data = make_dataset(tmp_path / "d")
    for name, content, expected in (("model.safetensors", b"\x00garbage", "model.safetensors: unreadable"),
                                    ("config.json", b'{"preset": "tiny"\n"x": 1}', "config.json: not valid JSON")):
        copy = tmp_path / name.split(".")[0]
        shutil.copytree(saved, copy)
        (copy / name).write_bytes(content)
        result = run("eval", "--checkpoint", copy, "--data", data)
        line = one_line(result)
        assert result.exit_code == 2 and expected in line and str(copy) in line, line


def test_data_convert_of_a_missing_source_folder_says_so(tmp_path):
    (tmp_path / "caps.json").write_text(json.dumps({"rec00": ["a caption"]}))
    result = run("data", "convert", tmp_path / "nowhere", "--captions", tmp_path / "caps.json", "--out", tmp_path / "o")
    assert result.exit_code == 2 and "source folder not found" in one_line(result) and "lacks" not in result.output


# 5. data convert: split fractions from the command line
def test_data_convert_takes_the_split_fractions(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for i in range(10):
        np.savez(src / f"r{i}.npz", range_time=np.ones((256, 32)), doppler_time=np.ones((128, 32)),
                 azimuth_time=np.ones((128, 32)))
    (tmp_path / "caps.json").write_text(json.dumps({f"r{i}": [f"caption {i}"] for i in range(10)}))
    base = ["data", "convert", src, "--captions", tmp_path / "caps.json"]
    ok = run(*base, "--out", tmp_path / "o", "--val-fraction", 0.3, "--test-fraction", 0.2)
    assert ok.exit_code == 0, ok.output
    splits = [json.loads(x)["split"] for x in (tmp_path / "o" / "manifest.jsonl").read_text().splitlines()]
    assert (splits.count("train"), splits.count("val"), splits.count("test")) == (5, 3, 2)
    bad = run(*base, "--out", tmp_path / "p", "--val-fraction", 0.5, "--test-fraction", 0.5)
    assert bad.exit_code == 2 and "--val-fraction" in one_line(bad) and not (tmp_path / "p").exists()


# 6. every numeric option range-checked before torch is imported, naming the flag as typed
@pytest.mark.parametrize("args, flag", [
    (["train", "--lr", "-1"], "--lr"), (["train", "--seq-weight", "-0.5"], "--seq-weight"),
    (["train", "--grad-clip", "-1"], "--grad-clip"), (["train", "--max-steps", "-1"], "--max-steps"),
    (["train", "--workers", "-1"], "--workers"), (["train", "--preset", "huge"], "--preset"),
    (["train", "--keep-last", "-2"], "--keep-last"), (["train", "--epochs", "0"], "--epochs"),
    (["data", "synth", "--out", "x", "--max-frames", "50"], "--max-frames"),
    (["data", "synth", "--out", "x", "--clips", "0"], "--clips"),
    (["data", "synth", "--out", "x", "--twins", "1.5"], "--twins"),
    (["eval", "--checkpoint", ".", "--data", ".", "--batch-size", "0"], "--batch-size"),
    (["eval", "--checkpoint", ".", "--data", ".", "--clip-length", "20"], "--clip-length"),
    (["eval", "--checkpoint", ".", "--data", ".", "--split", "dev"], "--split"),
])
def test_out_of_range_options_are_refused_at_once_naming_the_flag(args, flag):
    code = ("import sys, time; from typer.testing import CliRunner; from seqclip.cli import app\n"
            f"r = CliRunner().invoke(app, {args!r})\n"
            "print(r.exit_code); print(r.output); sys.exit(1 if 'torch' in sys.modules else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")
    assert proc.returncode == 0, "torch was imported: " + proc.stdout + proc.stderr  # the time: bench/cli_latency.py
    assert proc.stdout.splitlines()[0] == "2" and flag in proc.stdout, proc.stdout


def test_the_toml_file_names_its_key_not_a_flag(tmp_path):
    (tmp_path / "run.toml").write_text("[train]\nmax_steps = -1\n")
    result = run("train", "--config", tmp_path / "run.toml")
    line = one_line(result)
    assert result.exit_code == 2 and "run.toml: max_steps: must be >= 0, got -1" in line and "--max-steps" not in line


def test_help_lists_the_choices_of_preset_and_split():
    train = run("train", "--help").output
    assert "tiny | small | base" in train
    assert "<train|val|test>" in run("eval", "--help").output


# 7. strict JSON metrics, Ctrl-C, the hard-negatives message, help text, keep_last
def test_metrics_jsonl_is_strict_json_when_a_value_is_undefined(tmp_path):
    from seqclip.logger import MetricsLogger

    logger = MetricsLogger(tmp_path)
    logger.log(1, {"val_loss_total": float("nan"), "lr": 0.1, "x": float("inf")})
    logger.close()

    def refuse(constant):
        raise ValueError(f"not strict JSON: {constant}")

    row = json.loads((tmp_path / "metrics.jsonl").read_text(), parse_constant=refuse)
    assert row == {"step": 1, "val_loss_total": None, "lr": 0.1, "x": None}


def test_ctrl_c_prints_the_command_that_resumes(tmp_path, monkeypatch):
    data = make_dataset(tmp_path / "d")
    out = tmp_path / "run"
    import seqclip.train as train_module

    original = train_module.train_one_epoch

    def interrupted(r, on_step):
        if r.state.epoch == 1:
            raise KeyboardInterrupt
        original(r, on_step)

    monkeypatch.setattr(train_module, "train_one_epoch", interrupted)
    result = run("train", *toml(tmp_path, epochs=2), "--data", data, "--out", out, "--overwrite")
    assert result.exit_code == 130 and "--resume latest" in result.output and str(out) in result.output
    assert "--overwrite" not in result.output.split("--resume")[0].splitlines()[-1]
    monkeypatch.setattr(train_module, "train_one_epoch", lambda r, on_step: (_ for _ in ()).throw(KeyboardInterrupt))
    early = run("train", *toml(tmp_path), "--data", data, "--out", tmp_path / "early2")
    assert early.exit_code == 130 and "before the first checkpoint" in early.output
    assert not (tmp_path / "early2").exists()


def test_twins_names_the_splits_that_hold_twins(tmp_path, saved):
    data = make_dataset(tmp_path / "d")
    rows = [json.loads(x) for x in (data / "manifest.jsonl").read_text().splitlines()]
    rows[0]["twin_of"], rows[1]["twin_of"] = rows[1]["id"], rows[0]["id"]  # both train
    (data / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = run("eval", "--checkpoint", saved, "--data", data, "--task", "twins")
    line = one_line(result)
    assert result.exit_code == 2 and "in split 'test'" in line and "in train" in line and "--split" in line
    assert run("eval", "--checkpoint", saved, "--data", data, "--task", "twins", "--split",
               "train").exit_code == 0


def _commands(group, prefix=()):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _commands(command, (*prefix, name))
        else:
            yield (*prefix, name), command


def test_every_help_text_renders_every_character_of_its_source():
    import typer.main

    def words(text):  # the help formatter wraps lines, also after a hyphen
        return re.sub(r"-\s+", "-", " ".join(text.split()))

    for path, command in _commands(typer.main.get_command(app)):
        shown = words(run(*path, "--help").output)
        for param in command.params:
            if getattr(param, "help", None):
                assert words(param.help) in shown, (path, param.name, param.help)
        assert words(command.help.split("\n\n")[0]) in shown, path


def test_keep_last_is_a_train_option_and_bounds_the_checkpoints(tmp_path):
    data = make_dataset(tmp_path / "d")
    out = tmp_path / "run"
    result = run("train", *toml(tmp_path, epochs=3, checkpoint_every=1), "--data", data, "--out", out,
                 "--keep-last", 1)
    assert result.exit_code == 0, result.output
    assert [p.name for p in (out / "checkpoints").glob("step_*")] == ["step_0000009"]
