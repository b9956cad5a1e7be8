"""training/loop.py: the loop: NaN stops, max-steps, exact resume after SIGKILL, gradient accumulation, order-aware
training."""

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from seqclip_fixtures import holds, make_dataset, order_dataset, tiny_text_model, train_cli

from seqclip.config import TrainConfig
from seqclip.errors import TrainingError
from seqclip.evaluation.results import TrainSummary
from seqclip.training.loop import train

FAST = dict(epochs=2, batch_size=4, clip_length=32, warmup_steps=2, log_every=1, eval_test=False)


def _sigkill_when(proc, path, timeout=300):
    """SIGKILL ``proc`` as soon as ``path`` exists (or when it ended or the timeout passed)."""
    deadline = time.time() + timeout
    while not path.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()


@contextmanager
def _alongside(cmd, env, timeout=600):
    """Run ``cmd`` (an uninterrupted reference run) in the background while the block runs, then wait
    for it and require success; killed if the block fails."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        yield proc
    except BaseException:
        proc.kill()
        proc.communicate()
        raise
    out, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, out[-3000:]


def _refused_while_held(cmd, out, holder, env):
    """While ``holder`` trains into ``out``, the same command with another seed and lr exits 2 at once
    naming it, and writes nothing there (``holder``'s final weights are then compared with a run alone)."""
    from radar_views import lock_path

    while not lock_path(out).exists():
        assert holder.poll() is None, "the first run ended before a second one could meet it"
        time.sleep(0.005)
    started = time.time()
    second = subprocess.run(
        [*cmd, "--out", str(out), "--seed", "7", "--lr", "0.002"], env=env, capture_output=True, text=True, timeout=60
    )
    message = " ".join(second.stderr.split())
    assert second.returncode == 2 and f"pid {holder.pid}" in message and "train" in message, message
    assert time.time() - started < 20 and holder.poll() is None


def _assert_same_final_weights(run_a, run_b, step):
    wa, name_a = _final_weights(run_a)
    wb, name_b = _final_weights(run_b)
    assert name_a == name_b == step
    for k in wa:
        assert torch.equal(wa[k], wb[k]), k


def _final_weights(run):
    latest = (run / "checkpoints" / "latest").read_text().strip()
    return load_file(str(run / "checkpoints" / latest / "model" / "model.safetensors")), latest


PAUSE = """
import os, sys, time
from seqclip.model.seqclip import SeqClip
calls, original = [0], SeqClip.features
def features(self, batch):
    calls[0] += 1
    if calls[0] == int(os.environ["PAUSE_AT_CALL"]):
        open(os.environ["PAUSE_MARKER"], "w").close()
        time.sleep(600)
    return original(self, batch)
SeqClip.features = features
from seqclip.cli import main
main()
"""


def test_nan_loss_stops_naming_the_step_and_keeps_the_last_checkpoint(tmp_path, monkeypatch):
    data = make_dataset(tmp_path / "d")
    from seqclip.model.seqclip import SeqClip

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
    data = make_dataset(tmp_path / "d")  # 12 train clips -> 3 steps per epoch of 4
    cfg = TrainConfig(
        data=str(data), out=str(tmp_path / "run"), **{**FAST, "log_every": 4, "max_steps": 2, "eval_test": True}
    )
    summary = train(cfg)
    assert summary["steps"] == 2
    holds(summary, TrainSummary)
    assert summary["test_model"] == "latest"  # the final test's result holds its type too
    lines = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    logged = [x["step"] for x in lines if "lr" in x]  # training log lines (not validation)
    assert logged == [2]


def test_sigkill_mid_epoch_then_resume_matches_an_uninterrupted_run(tmp_path):
    data = make_dataset(tmp_path / "d", n=20)  # 16 train clips -> 4 steps per epoch
    (tmp_path / "run.toml").write_text(
        f'[train]\ntext_model = "{tiny_text_model(tmp_path / "text")}"\n'
        "clip_length = 32\ncheckpoint_every = 1\nkeep_last = 20\n"
        "warmup_steps = 2\neval_test = false\n"
    )
    config = ["--config", str(tmp_path / "run.toml")]
    args = [*config, "--data", str(data), "--epochs", "2", "--batch-size", "4", "--seed", "1"]
    cmd = [sys.executable, "-m", "seqclip", "train", *args]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with _alongside([*cmd, "--out", str(tmp_path / "a")], env) as reference:  # the two start-ups overlap
        _refused_while_held(cmd, tmp_path / "a", reference, env)  # a second command on a's --out
        proc = subprocess.Popen(
            [*cmd, "--out", str(tmp_path / "b")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        target = tmp_path / "b" / "checkpoints" / "step_0000003"  # epoch 0, mid-epoch
        _sigkill_when(proc, target)
        assert proc.returncode == -signal.SIGKILL
        killed_at = (tmp_path / "b" / "checkpoints" / "latest").read_text().strip()
        assert killed_at < "step_0000008", "the run finished before it could be killed"
    resumed = train_cli(*args, "--out", str(tmp_path / "b"), "--resume", "latest")  # in this process
    assert resumed.exit_code == 0, resumed.output[-3000:]
    _assert_same_final_weights(tmp_path / "a", tmp_path / "b", "step_0000008")
    assert "seed = 1" in (tmp_path / "a" / "config.toml").read_text()  # the second command wrote nothing there


def test_accumulation_gives_the_gradients_and_weights_of_one_large_batch(tmp_path, monkeypatch):
    """accum_steps=3 on an epoch of 7 micro-batches of 4 (the 7th is dropped, as drop_last drops the
    last 4 clips of a batch-12 epoch) against batch 12 without accumulation: 2 optimizer steps each, in
    fp32 (bf16, the default on a CPU with native bf16, rounds differently at different batch sizes).
    Tolerances: each step's whole gradient within 1e-4 (relative L2), final weights within 0.1 x lr
    (AdamW divides near-zero gradients by their own size, which magnifies float-order differences).
    Counting the loss's own parameters once per micro-batch pass gave 37 % and 0.5 x lr. The key
    third of an attention's qkv bias has no gradient in exact arithmetic (softmax ignores a shift
    shared by every key), so AdamW turns its float noise into steps of up to lr either way: it is
    held to 4 x lr (two steps of up to lr in each run; it once differed by 0.12 x lr, a flaky failure)."""
    data = make_dataset(tmp_path / "d", n=32, splits=["train"] * 28 + ["val"] * 2 + ["test"] * 2)
    common = dict(
        data=str(data),
        epochs=1,
        clip_length=32,
        warmup_steps=1,
        log_every=1,
        eval_test=False,
        freeze_text=True,
        checkpoint_every=1000,
        seed=5,
        lr=1e-3,
        precision="fp32",
    )
    grads, step = [], torch.optim.AdamW.step

    def recording_step(self, *args, **kwargs):
        grads.append([p.grad.clone() for g in self.param_groups for p in g["params"] if p.grad is not None])
        return step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.AdamW, "step", recording_step)
    train(TrainConfig(out=str(tmp_path / "accum"), batch_size=4, accum_steps=3, **common))
    train(TrainConfig(out=str(tmp_path / "large"), batch_size=12, **common))
    assert len(grads) == 4
    for ga, gl in zip(grads[:2], grads[2:], strict=True):
        diff = sum(float(((a - b) ** 2).sum()) for a, b in zip(ga, gl, strict=True)) ** 0.5
        assert diff <= 1e-4 * sum(float((b**2).sum()) for b in gl) ** 0.5
    wa, name_a = _final_weights(tmp_path / "accum")
    wl, name_l = _final_weights(tmp_path / "large")
    assert name_a == name_l == "step_0000002"
    for k in wa:
        a, b = wa[k].clone(), wl[k].clone()
        if k.endswith("attn.qkv.bias"):  # [3 d]: q, k, v
            d = a.shape[0] // 3
            torch.testing.assert_close(a[d : 2 * d], b[d : 2 * d], atol=2 * 2 * common["lr"], rtol=0, msg=k)
            a[d : 2 * d] = b[d : 2 * d]
        torch.testing.assert_close(a, b, atol=0.1 * common["lr"], rtol=0, msg=k)


def test_sigkill_inside_an_accumulation_group_then_resume_is_bit_identical(tmp_path):
    data = make_dataset(tmp_path / "d", n=28)  # 24 train clips: 6 steps of 2 micro-batches of 2
    (tmp_path / "run.toml").write_text(
        f'[train]\ntext_model = "{tiny_text_model(tmp_path / "text")}"\n'
        "clip_length = 32\ncheckpoint_every = 1\nkeep_last = 20\n"
        "warmup_steps = 2\neval_test = false\nepochs = 1\naccum_steps = 2\nlog_every = 1\n"
    )
    args = ["--config", str(tmp_path / "run.toml"), "--data", str(data), "--batch-size", "2", "--seed", "1"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PAUSE_AT_CALL": "0", "PAUSE_MARKER": str(tmp_path / "paused")}
    run = [sys.executable, "-c", PAUSE, "train", *args]
    with _alongside([*run, "--out", str(tmp_path / "a")], env):  # the two start-ups overlap
        # 4 feature passes per step (2 cached + 2 with gradients): call 16 is step 4's second micro-batch,
        # after the first one's backward
        proc = subprocess.Popen(
            [*run, "--out", str(tmp_path / "b")],
            env={**env, "PAUSE_AT_CALL": "16"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _sigkill_when(proc, tmp_path / "paused")
        assert (tmp_path / "paused").exists()
        assert (tmp_path / "b" / "checkpoints" / "latest").read_text().strip() == "step_0000003"
    resumed = train_cli(*args, "--out", str(tmp_path / "b"), "--resume", "latest")  # in this process
    assert resumed.exit_code == 0, resumed.output[-3000:]
    _assert_same_final_weights(tmp_path / "a", tmp_path / "b", "step_0000006")
    lines = [json.loads(x) for x in (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines if "lr" in x] == [1, 2, 3, 4, 5, 6]  # nothing logged twice


def test_a_nan_stop_before_any_checkpoint_keeps_the_last_good_weights_evaluable(tmp_path, monkeypatch):
    from seqclip.model.seqclip import SeqClip

    data = make_dataset(tmp_path / "d")
    original = SeqClip.forward

    def nan_at_step_2(self, batch, return_features=False):
        out = original(self, batch, return_features)
        if self.training and getattr(self, "_calls", 0) == 1:
            out["loss_total"] = out["loss_total"] * float("nan")
        self._calls = getattr(self, "_calls", 0) + 1
        return out

    monkeypatch.setattr(SeqClip, "forward", nan_at_step_2)
    with pytest.raises(TrainingError, match=r"loss became nan at step 2 .*step_0000001"):
        train(TrainConfig(data=str(data), out=str(tmp_path / "run"), checkpoint_every=100, **FAST))
    model = SeqClip.load_model(tmp_path / "run", torch.device("cpu"))
    assert "latest checkpoint step_0000001" in model.load_note
    assert SeqClip.from_pretrained(tmp_path / "run").load_note == model.load_note  # a run, as eval takes it


def test_training_with_order_negatives_twin_batches_and_activity_positives(tmp_path):
    from seqclip.config import TrainConfig
    from seqclip.training.loop import train

    data = order_dataset(tmp_path / "d")
    summary = train(
        TrainConfig(
            data=str(data),
            out=str(tmp_path / "run"),
            epochs=1,
            batch_size=4,
            clip_length=32,
            warmup_steps=1,
            eval_test=False,
            order_negatives=True,
            twin_batches=True,
            positives="same_activities",
            accum_steps=2,
        )
    )
    assert summary["steps"] == 1
    rows = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert all(np.isfinite(r["loss_total"]) for r in rows if "loss_total" in r)
