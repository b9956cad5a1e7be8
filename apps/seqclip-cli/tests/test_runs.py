"""Run directories, evaluability, output placement, file modes, up-front data checks, config types,
the CLI's start-up and the recorded clip length (each a regression test of a reported fault)."""

import json
import os
import stat
import subprocess
import sys

import numpy as np
import pytest
from seqclip_fixtures import make_dataset
from typer.testing import CliRunner

from radar_text_data import write_clip
from seqclip.cli import app

FAST = ["--epochs", "1", "--batch-size", "4", "--similarity", "clip"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("data") / "d")


def _toml(tmp_path, **extra):
    body = {"clip_length": 32, "warmup_steps": 1, "log_every": 1, "eval_test": False, **extra}
    lines = [f"{k} = {json.dumps(v)}" for k, v in body.items()]
    (tmp_path / "run.toml").write_text("[train]\n" + "\n".join(lines) + "\n")
    return ["--config", str(tmp_path / "run.toml")]


def _train(*args):
    return CliRunner().invoke(app, ["train", *args])


def test_a_second_run_into_a_run_directory_refuses_and_overwrite_moves_the_old_one_aside(tmp_path, data):
    run = tmp_path / "run"
    args = [*_toml(tmp_path), "--data", str(data), *FAST, "--out", str(run)]
    assert _train(*args, "--max-steps", "1").exit_code == 0
    before = {p: (run / p).read_bytes() for p in ("metrics.jsonl", "config.toml", "checkpoints/latest")}
    again = _train(*args)
    assert again.exit_code == 2 and "--resume latest" in again.output and "--overwrite" in again.output
    assert {p: (run / p).read_bytes() for p in before} == before  # nothing of the old run was touched
    fresh = _train(*args, "--overwrite")
    assert fresh.exit_code == 0, fresh.output
    moved = [p for p in tmp_path.iterdir() if p.name.startswith("run.old-")]
    assert len(moved) == 1 and {p: (moved[0] / p).read_bytes() for p in before} == before
    steps = [json.loads(x)["step"] for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(steps) and steps[0] == 1  # one run, not two merged


def test_a_failed_start_leaves_no_directory_and_never_rewrites_a_run(tmp_path, data):
    missing = _train("--data", str(tmp_path / "nope"), "--out", str(tmp_path / "new"))
    assert missing.exit_code == 2 and not (tmp_path / "new").exists()
    run = tmp_path / "run"
    assert _train(*_toml(tmp_path), "--data", str(data), *FAST, "--out", str(run), "--max-steps", "1").exit_code == 0
    config = (run / "config.toml").read_bytes()
    bad = _train(*_toml(tmp_path), "--data", str(tmp_path / "nope"), "--out", str(run), "--resume", "latest")
    assert bad.exit_code == 2 and (run / "config.toml").read_bytes() == config
    assert CliRunner().invoke(app, ["plot", str(run)]).exit_code == 0


def test_a_run_stopped_before_validation_is_evaluable_and_prints_no_sentinel(tmp_path, data):
    run = tmp_path / "run"
    result = _train(*_toml(tmp_path, eval_test=True), "--data", str(data), *FAST, "--out", str(run), "--max-steps", "1")
    assert result.exit_code == 0, result.output
    assert "-1.0" not in result.output and "no validation ran" in result.output
    assert not (run / "best").exists() and "test retrieval of the latest weights" in result.output
    out = tmp_path / "m.json"
    ev = CliRunner().invoke(app, ["eval", "--checkpoint", str(run), "--data", str(data), "--out", str(out)])
    assert ev.exit_code == 0, ev.output
    assert "latest checkpoint step_0000001" in ev.output
    assert json.loads(out.read_text())["clip_length"] == 32  # the training clip length, from the checkpoint


def test_eval_outputs_land_where_asked_and_nothing_in_the_working_directory(tmp_path, data, monkeypatch):
    import torch

    from seqclip import SeqClip, SeqClipConfig

    rows = [json.loads(x) for x in (data / "manifest.jsonl").read_text().splitlines()]
    labelled = tmp_path / "labelled"
    labelled.mkdir()
    (labelled / "clips").symlink_to(data / "clips")
    for i, r in enumerate(rows):
        r["segments"] = [{"activity": ["walk", "wave"][i % 2], "start_frame": 0, "end_frame": 48, "params": {}}]
    (labelled / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    torch.manual_seed(0)
    SeqClip(SeqClipConfig(similarity="clip", clip_length=48)).save_pretrained(tmp_path / "model")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    base = ["eval", "--checkpoint", str(tmp_path / "model"), "--data", str(labelled)]
    out = tmp_path / "some" / "missing" / "dir" / "m.json"
    assert CliRunner().invoke(app, [*base, "--out", str(out)]).exit_code == 0 and out.is_file()
    zs = CliRunner().invoke(app, [*base, "--task", "zeroshot", "--out", str(tmp_path / "z" / "zs.json")])
    assert zs.exit_code == 0, zs.output
    assert (tmp_path / "z" / "zs.confusion.png").is_file()
    assert CliRunner().invoke(app, [*base, "--task", "zeroshot"]).exit_code == 0
    assert (tmp_path / "model" / "eval" / "zeroshot_test_confusion.png").is_file()
    assert list(cwd.iterdir()) == []


def test_files_and_directories_follow_the_umask(tmp_path, data):
    old = os.umask(0o022)
    try:
        run = tmp_path / "run"
        assert _train(*_toml(tmp_path), "--data", str(data), *FAST, "--out", str(run)).exit_code == 0
        write_clip(tmp_path / "clip.npz", {"range_time": np.zeros((256, 16), np.float16)})
    finally:
        os.umask(old)
    paths = [tmp_path / "clip.npz", *run.rglob("*")]
    modes = {p.relative_to(tmp_path).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in paths}
    assert {m for p, m in modes.items() if (tmp_path / p).is_file()} == {0o644}, modes
    assert {m for p, m in modes.items() if (tmp_path / p).is_dir()} == {0o755}, modes


def _corrupt(root, n_bad):
    for i in range(n_bad):
        (root / "clips" / f"c{i:03d}.npz").write_bytes(b"not a zip")


def test_bad_clips_are_found_before_the_first_step(tmp_path):
    data = make_dataset(tmp_path / "d", n=40, splits=["train"] * 32 + ["val"] * 4 + ["test"] * 4)
    _corrupt(data, 23)
    result = _train(*_toml(tmp_path), "--data", str(data), *FAST, "--out", str(tmp_path / "run"))
    assert result.exit_code == 2 and "23 of 40 clips" in result.output and "--skip-bad" in result.output
    assert "c000.npz" in result.output and "c019.npz" in result.output and "c020.npz" not in result.output
    assert "and 3 more" in result.output and not (tmp_path / "run").exists()
    skipped = _train(*_toml(tmp_path), "--data", str(data), *FAST, "--out", str(tmp_path / "run"), "--skip-bad")
    assert skipped.exit_code == 0, skipped.output
    assert "left out 23 bad clip(s)" in skipped.output


def test_a_toml_value_of_the_wrong_type_names_the_key_the_type_and_the_value(tmp_path):
    (tmp_path / "run.toml").write_text('[train]\nepochs = "ten"\n')
    result = _train("--config", str(tmp_path / "run.toml"))
    assert result.exit_code == 2 and "Traceback" not in result.output
    text = " ".join(result.output.split())
    assert "epochs: expected int, got 'ten' (str)" in text and "run.toml" in text
    (tmp_path / "run.toml").write_text('[train]\nsimilarity = "dtw"\n')
    text = " ".join(_train("--config", str(tmp_path / "run.toml")).output.split())
    assert "similarity: expected one of 'clip'" in text and "'dtw'" in text


def test_importing_the_cli_loads_no_heavy_library():
    code = ("import sys, seqclip.cli; heavy = [m for m in ('torch', 'timm', 'transformers', 'numpy') "
            "if m in sys.modules]; print(heavy); sys.exit(1 if heavy else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_user_errors_that_need_no_model_answer_without_importing_torch(tmp_path):
    code = ("import sys; from typer.testing import CliRunner; from seqclip.cli import app\n"
            f"for args in ({['train', '--data', str(tmp_path / 'missing')]!r}, "
            f"{['train', '--resume', 'latest', '--out', str(tmp_path / 'none')]!r}, "
            f"{['eval', '--checkpoint', str(tmp_path / 'none'), '--data', str(tmp_path)]!r}):\n"
            "    assert CliRunner().invoke(app, args).exit_code == 2, args\n"
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_train_option_shows_its_default():
    """Each option shows the default it has: TrainConfig's value as ``[default: X]`` (0.3.x showed
    ``[default: (20)]``), or, where that default is None, what it means in words."""
    import re

    import typer.main

    from seqclip.config import TrainConfig

    command = typer.main.get_command(app).commands["train"]
    defaults = TrainConfig()
    shown = re.sub(r"-\s+", "-", " ".join(CliRunner().invoke(app, ["train", "--help"]).output.split()))
    for p in command.params:
        if p.name in ("config", "resume", "overwrite", "help"):  # no default to show: off unless given
            continue
        value = getattr(defaults, p.name, None)
        if value is None and p.name != "nproc":
            assert "[default: " in p.help and not p.show_default, p.name  # described in words
            continue
        flag = p.opts[0]
        entry = re.search(re.escape(flag) + r"[ /].*?\[default: ([^\]]*)\]", shown)
        assert entry, p.name
        if value is not None:
            text = entry.group(1).split(";")[0]
            expected = str(value)
            if isinstance(value, bool):  # a flag pair shows the side that is on
                expected = (flag if value else p.secondary_opts[0] if p.secondary_opts else "False").lstrip("-")
            assert text in (expected, str(value)), (p.name, text, value)


def test_the_batch_size_defaults_to_the_device_and_is_recorded(tmp_path, data):
    import tomllib

    run = tmp_path / "run"
    result = _train(*_toml(tmp_path), "--data", str(data), "--epochs", "1", "--similarity", "clip", "--out", str(run),
                    "--max-steps", "1", "--device", "cpu")
    assert result.exit_code == 2 and "no optimizer step of 1 x 32 clips" in result.output  # 12 train clips < 32
    from seqclip.config import DEFAULT_BATCH, TrainConfig

    assert TrainConfig().batch_size is None and DEFAULT_BATCH == {"cpu": 32, "cuda": 128}
    ok = _train(*_toml(tmp_path), "--data", str(data), *FAST, "--out", str(run))
    assert ok.exit_code == 0 and tomllib.loads((run / "config.toml").read_text())["train"]["batch_size"] == 4
