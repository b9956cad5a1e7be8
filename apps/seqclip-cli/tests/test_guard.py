"""training/guard.py: a NaN loss found at the next log step stops the run exactly where a check in
every step stopped it; the loop's own part of a step asks the host for nothing."""

import pytest
import torch
from rich.console import Console
from safetensors.torch import load_file
from seqclip_fixtures import make_dataset

from seqclip.config import TrainConfig
from seqclip.distributed import DistContext
from seqclip.errors import TrainingError
from seqclip.model.seqclip import SeqClip
from seqclip.training.loop import device_step, train
from seqclip.training.setup import setup
from seqclip.training.syncs import HostSyncs

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


def test_the_guard_reads_the_device_only_when_checked(tmp_path):
    data = make_dataset(tmp_path / "d")
    cfg = TrainConfig(data=str(data), out=str(tmp_path / "run"), workers=0, **{**FAST, "similarity": "temporal"})
    r = setup(cfg, Console(quiet=True), DistContext.single())
    batch = r.model.prepare(next(iter(r.train_data.batches(0, 0))))
    device_step(r, [batch])
    with HostSyncs() as syncs:
        out = device_step(r, [batch])
    assert syncs.total == 0 and all(v.dim() == 0 for v in out.values())  # test_step_syncs: every recipe
    with HostSyncs() as syncs:  # the detector sees the app's reads: the guard's one, at a log step
        r.guard.check(r)
    r.logger.close()
    assert syncs.total == 1 and f"training/guard.py:{_line_of_read()} check" in next(iter(syncs.where))


def _line_of_read() -> int:
    """The line of ``NonFiniteGuard.check`` that reads the flag."""
    import inspect

    from seqclip.training.guard import NonFiniteGuard

    lines, first = inspect.getsourcelines(NonFiniteGuard.check)
    return first + next(i for i, line in enumerate(lines) if "int(self.first_bad)" in line)
