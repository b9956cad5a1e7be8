"""training/guard.py: a NaN loss found at the next log step stops the run exactly where a check in
every step stopped it; the loop's own part of a step asks the host for nothing."""

import traceback

import pytest
import torch
from rich.console import Console
from safetensors.torch import load_file
from seqclip_fixtures import make_dataset
from torch.utils._python_dispatch import TorchDispatchMode

from seqclip.config import TrainConfig
from seqclip.distributed import DistContext
from seqclip.errors import TrainingError
from seqclip.model.seqclip import SeqClip
from seqclip.training.loop import optimizer_step, train
from seqclip.training.setup import setup

FAST = dict(epochs=2, batch_size=4, clip_length=32, warmup_steps=2, eval_test=False, similarity="pooled")


def _nan_at(step: int):
    original = SeqClip.forward

    def forward(self, batch, return_features=False):
        out = original(self, batch, return_features)
        self._calls = getattr(self, "_calls", 0) + 1
        if self.training and self._calls == step:
            out["loss_total"] = out["loss_total"] * float("nan")
        return out

    return forward


def test_a_nan_between_log_steps_stops_as_if_found_at_once(tmp_path, monkeypatch):
    data = make_dataset(tmp_path / "d", n=28, splits=["train"] * 24 + ["val"] * 2 + ["test"] * 2)  # 6 steps an epoch
    monkeypatch.setattr(SeqClip, "forward", _nan_at(2))
    with pytest.raises(TrainingError, match=r"loss became nan at step 2 \(epoch 0\).*step_0000001"):
        train(TrainConfig(data=str(data), out=str(tmp_path / "late"), log_every=5, checkpoint_every=100, **FAST))
    monkeypatch.undo()
    train(TrainConfig(data=str(data), out=str(tmp_path / "one"), log_every=1, max_steps=1, **FAST))
    late = tmp_path / "late" / "checkpoints" / "step_0000001"
    one = tmp_path / "one" / "checkpoints" / "step_0000001"
    a, b = load_file(str(late / "model" / "model.safetensors")), load_file(str(one / "model" / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)  # the weights of step 1, untouched since
    sa, sb = (torch.load(p / "trainer_state.pt", weights_only=True) for p in (late, one))
    assert sa["state"]["global_step"] == sb["state"]["global_step"] == 1
    assert sa["state"]["batch_in_epoch"] == sb["state"]["batch_in_epoch"] == 1
    assert sa["scheduler"]["last_epoch"] == sb["scheduler"]["last_epoch"] == 1
    for pa, pb in zip(sa["optimizer"]["state"].values(), sb["optimizer"]["state"].values(), strict=True):
        assert all(torch.equal(pa[k], pb[k]) for k in pa)  # moments and step counts: the skipped steps left none


class _HostReads(TorchDispatchMode):
    """The tensor reads into Python (``aten._local_scalar_dense``) asked for by the app's own code:
    those whose innermost frame outside torch's dispatch machinery is a line of the app."""

    def __init__(self) -> None:
        super().__init__()
        self.app: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func is torch.ops.aten._local_scalar_dense.default:
            frames = [f for f in traceback.extract_stack()[:-1]  # torch's own machinery left out, its optimizers kept
                      if "site-packages/torch/" not in f.filename or "torch/optim/" in f.filename]
            if frames and "/seqclip/" in frames[-1].filename:
                self.app.append(f"{frames[-1].filename}:{frames[-1].lineno}")
        return func(*args, **(kwargs or {}))


def test_the_loops_part_of_a_step_reads_nothing_from_the_device(tmp_path):
    data = make_dataset(tmp_path / "d")
    cfg = TrainConfig(data=str(data), out=str(tmp_path / "run"), workers=0, **{**FAST, "similarity": "temporal"})
    r = setup(cfg, Console(quiet=True), DistContext.single())
    batch = next(iter(r.train_data.batches(0, 0)))
    optimizer_step(r, [batch])
    with _HostReads() as reads:
        out = optimizer_step(r, [batch])
    assert reads.app == [] and all(v.dim() == 0 for v in out.values())  # the rest: bench/step_syncs.py lists them
    with _HostReads() as reads:  # the detector sees the app's reads: the guard's one, at a log step
        r.guard.check(r)
    r.logger.close()
    assert len(reads.app) == 1 and reads.app[0].endswith(("training/guard.py:" + str(_line_of_read()),))


def _line_of_read() -> int:
    """The line of ``NonFiniteGuard.check`` that reads the flag."""
    import inspect

    from seqclip.training.guard import NonFiniteGuard

    lines, first = inspect.getsourcelines(NonFiniteGuard.check)
    return first + next(i for i, line in enumerate(lines) if "int(self.first_bad)" in line)
