"""A training step never makes the host wait for the device: ``device_step`` (the step after
``SeqClip.prepare``) under ``training.syncs.HostSyncs`` flags no tensor read, value-sized output or
copy to the host, for every recipe the loop runs."""

import pytest
import torch
from rich.console import Console
from seqclip_fixtures import order_dataset, tiny_text_model

from seqclip.config import TrainConfig
from seqclip.distributed import DistContext
from seqclip.training.loop import device_step
from seqclip.training.setup import setup
from seqclip.training.syncs import HostSyncs

RECIPES = {  # name: TrainConfig fields (+ static shapes)
    "pooled, full clips": dict(similarity="pooled", clip_length=32),
    "temporal, padded clips, order negatives": dict(similarity="temporal", clip_length=64),
    "combined, hard negatives, static shapes": dict(similarity="combined", seq_hard_negatives=2, clip_length=32),
    "siglip, padded clips, two micro-batches": dict(
        similarity="temporal", loss="siglip", accum_steps=2, clip_length=64
    ),
    "temporal, the text tower's top layer on its cache": dict(
        similarity="temporal", clip_length=32, text_trainable_layers=1
    ),
}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("syncs")
    return order_dataset(root / "d"), tiny_text_model(root / "text")


@pytest.mark.parametrize("name", list(RECIPES))
def test_a_step_has_no_host_round_trip(data, tmp_path, name):
    fields = RECIPES[name]
    fields = {"text_trainable_layers": "all", **fields}  # the text tower as CUDA trains it by default
    cfg = TrainConfig(
        data=str(data[0]),
        text_model=data[1],
        out=str(tmp_path / "run"),
        workers=0,
        batch_size=4,
        warmup_steps=1,
        eval_test=False,
        compile=False,
        **fields,
    )
    r = setup(cfg, Console(quiet=True), DistContext.single())
    if "static" in name:
        r.model.static_shapes(16, cfg.batch_size)
    batches = r.train_data.batches(0, 0)
    group = [r.model.prepare(next(batches)) for _ in range(cfg.accum_steps)]
    assert ("mask" in group[0]) == ("padded" in name)  # full clips run attention without a mask
    assert any("reversed_sequence_ids" in b for b in group)  # order negatives in the step
    device_step(r, group)  # one-off set-up (optimizer state) unobserved
    with HostSyncs() as syncs:
        out = device_step(r, group)
    r.logger.close()
    assert syncs.total == 0, dict(syncs.where)
    assert all(v.dim() == 0 and torch.isfinite(v) for v in out.values())


def test_the_detector_sees_reads_value_sized_outputs_and_host_copies():
    x = torch.tensor([0.0, 1.0, 2.0])
    with HostSyncs() as syncs:
        float(x.sum())
        x.nonzero()
        x[x > 0]
        torch.repeat_interleave(torch.tensor([1, 2]))
        torch._assert_async((x >= 0).all(), "fine")  # a device-side assert is not a round-trip
        x.repeat_interleave(2)
    assert syncs.total == 4, dict(syncs.where)
