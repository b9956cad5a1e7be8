import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file
from seqclip_fixtures import make_dataset
from typer.testing import CliRunner

from seqclip.cli import app
from seqclip.train import TrainConfig, TrainingError, train

FAST = dict(epochs=2, batch_size=4, clip_length=32, warmup_steps=2, log_every=1, eval_test=False)


def test_cli_user_errors_are_one_line_exit_2(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["train", "--data", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "data directory" in result.output and "Traceback" not in result.output
    make_dataset(tmp_path / "d")
    result = runner.invoke(app, ["train", "--data", str(tmp_path / "d"), "--preset", "huge", "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and "unknown preset" in result.output
    (tmp_path / "run.toml").write_text("[train]\nepochz = 3\n")
    result = runner.invoke(app, ["train", "--config", str(tmp_path / "run.toml")])
    assert result.exit_code == 2 and "unknown key" in result.output and "epochz" in result.output
    result = runner.invoke(app, ["train", "--loss", "triplet", "--data", str(tmp_path / "d")])
    assert result.exit_code == 2 and "loss must be one of" in result.output
    bad = make_dataset(tmp_path / "bad")
    (bad / "clips" / "c001.npz").unlink()
    result = runner.invoke(app, ["data", "check", str(bad)])
    assert result.exit_code == 1 and "c001.npz" in result.output


def test_nan_loss_stops_naming_the_step_and_keeps_the_last_checkpoint(tmp_path, monkeypatch):
    data = make_dataset(tmp_path / "d")
    from seqclip.model import SeqClip

    calls = {"n": 0}
    original = SeqClip.forward

    def flaky(self, batch):
        out = original(self, batch)
        calls["n"] += 1
        if calls["n"] == 3:
            out["loss_total"] = out["loss_total"] * float("nan")
        return out

    monkeypatch.setattr(SeqClip, "forward", flaky)
    cfg = TrainConfig(data=str(data), out=str(tmp_path / "run"), checkpoint_every=1, **FAST)
    with pytest.raises(TrainingError, match=r"loss became nan at step 3 .*step_0000002"):
        train(cfg)
    assert (tmp_path / "run" / "checkpoints" / "step_0000002" / "trainer_state.pt").is_file()


def test_max_steps_mid_epoch_logs_the_last_steps(tmp_path):
    import json

    data = make_dataset(tmp_path / "d")  # 12 train clips -> 3 steps per epoch of 4
    cfg = TrainConfig(data=str(data), out=str(tmp_path / "run"), **{**FAST, "log_every": 4, "max_steps": 2})
    summary = train(cfg)
    assert summary["steps"] == 2
    lines = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    logged = [x["step"] for x in lines if "lr" in x]  # training log lines (not validation)
    assert logged == [2]


def _final_weights(run):
    latest = (run / "checkpoints" / "latest").read_text().strip()
    return load_file(str(run / "checkpoints" / latest / "model" / "model.safetensors")), latest


def test_sigkill_mid_epoch_then_resume_matches_an_uninterrupted_run(tmp_path):
    data = make_dataset(tmp_path / "d", n=20)  # 16 train clips -> 4 steps per epoch
    args = ["--data", str(data), "--epochs", "2", "--batch-size", "4", "--seed", "1"]
    (tmp_path / "run.toml").write_text("[train]\nclip_length = 32\ncheckpoint_every = 1\nkeep_last = 20\n"
                                       "warmup_steps = 2\neval_test = false\n")
    cmd = [sys.executable, "-m", "seqclip", "train", "--config", str(tmp_path / "run.toml"), *args]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    subprocess.run([*cmd, "--out", str(tmp_path / "a")], check=True, env=env, capture_output=True)
    proc = subprocess.Popen([*cmd, "--out", str(tmp_path / "b")], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    target = tmp_path / "b" / "checkpoints" / "step_0000003"  # epoch 0, mid-epoch
    deadline = time.time() + 300
    while not target.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    killed_at = (tmp_path / "b" / "checkpoints" / "latest").read_text().strip()
    assert killed_at < "step_0000008", "the run finished before it could be killed"
    subprocess.run([*cmd, "--out", str(tmp_path / "b"), "--resume", "latest"], check=True, env=env, capture_output=True)
    wa, name_a = _final_weights(tmp_path / "a")
    wb, name_b = _final_weights(tmp_path / "b")
    assert name_a == name_b == "step_0000008"
    for k in wa:
        assert torch.equal(wa[k], wb[k]), k
