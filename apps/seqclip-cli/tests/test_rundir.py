"""rundir.py: a new run never writes into an old one, a failed or killed start leaves nothing behind, checkpoints
rotate."""

import json
import os
import stat

import numpy as np
from seqclip_fixtures import FAST_ARGS, make_dataset, one_line, run, toml, toml_base, train_cli
from typer.testing import CliRunner

from radar_text_data import write_clip
from seqclip.cli import app


def test_a_second_run_into_a_run_directory_refuses_and_overwrite_moves_the_old_one_aside(tmp_path, data):
    run = tmp_path / "run"
    args = [*toml_base(tmp_path), "--data", str(data), *FAST_ARGS, "--out", str(run)]
    assert train_cli(*args, "--max-steps", "1").exit_code == 0
    before = {p: (run / p).read_bytes() for p in ("metrics.jsonl", "config.toml", "checkpoints/latest")}
    again = train_cli(*args)
    assert again.exit_code == 2 and "--resume latest" in again.output and "--overwrite" in again.output
    assert {p: (run / p).read_bytes() for p in before} == before  # nothing of the old run was touched
    fresh = train_cli(*args, "--overwrite")
    assert fresh.exit_code == 0, fresh.output
    moved = [p for p in tmp_path.iterdir() if p.name.startswith("run.old-")]
    assert len(moved) == 1 and {p: (moved[0] / p).read_bytes() for p in before} == before
    steps = [json.loads(x)["step"] for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(steps) and steps[0] == 1  # one run, not two merged


def test_a_failed_start_leaves_no_directory_and_never_rewrites_a_run(tmp_path, data):
    missing = train_cli("--data", str(tmp_path / "nope"), "--out", str(tmp_path / "new"))
    assert missing.exit_code == 2 and not (tmp_path / "new").exists()
    run = tmp_path / "run"
    assert (
        train_cli(
            *toml_base(tmp_path), "--data", str(data), *FAST_ARGS, "--out", str(run), "--max-steps", "1"
        ).exit_code
        == 0
    )
    config = (run / "config.toml").read_bytes()
    bad = train_cli(*toml_base(tmp_path), "--data", str(tmp_path / "nope"), "--out", str(run), "--resume", "latest")
    assert bad.exit_code == 2 and (run / "config.toml").read_bytes() == config
    assert CliRunner().invoke(app, ["plot", str(run)]).exit_code == 0


def test_files_and_directories_follow_the_umask(tmp_path, data):
    old = os.umask(0o022)
    try:
        run = tmp_path / "run"
        assert train_cli(*toml_base(tmp_path), "--data", str(data), *FAST_ARGS, "--out", str(run)).exit_code == 0
        write_clip(tmp_path / "clip.npz", {"range_time": np.zeros((256, 16), np.float16)})
    finally:
        os.umask(old)
    paths = [tmp_path / "clip.npz", *run.rglob("*")]
    modes = {p.relative_to(tmp_path).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in paths}
    assert {m for p, m in modes.items() if (tmp_path / p).is_file()} == {0o644}, modes
    assert {m for p, m in modes.items() if (tmp_path / p).is_dir()} == {0o755}, modes


def test_a_run_directory_left_by_a_killed_start_can_be_retried_with_the_same_command(tmp_path):
    data = make_dataset(tmp_path / "d")
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.toml").write_text("[train]\nepochs = 1\n")
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


def test_keep_last_is_a_train_option_and_bounds_the_checkpoints(tmp_path):
    data = make_dataset(tmp_path / "d")
    out = tmp_path / "run"
    result = run("train", *toml(tmp_path, epochs=3, checkpoint_every=1), "--data", data, "--out", out, "--keep-last", 1)
    assert result.exit_code == 0, result.output
    assert [p.name for p in (out / "checkpoints").glob("step_*")] == ["step_0000009"]
