"""training/compiled.py and ``SeqClip.static_shapes``: padded shapes leave the losses as they were, and
the compiled step (inductor on the CPU) matches eager in losses and gradients."""

import time
from dataclasses import replace

import pytest
import torch
from rich.console import Console
from seqclip_fixtures import order_dataset, tiny_text_model

from radar_encoder import PRESETS
from seqclip.config import TrainConfig
from seqclip.distributed import DistContext
from seqclip.training.compiled import graph_count
from seqclip.training.setup import setup


def _no_dropout(model) -> None:
    """Dropout draws differ between eager and inductor: parity is checked without them."""
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0


def _losses_and_grads(model_call, model, batch) -> tuple[dict, dict]:
    model.zero_grad(set_to_none=True)
    out = model_call(batch)
    out["loss_total"].backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    return {k: v.detach() for k, v in out.items() if v.dim() == 0}, grads


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("compiled")
    return order_dataset(root / "d"), tiny_text_model(root / "text")


def _run(data, tmp_path, similarity="temporal", **fields):
    fields = {"text_trainable_layers": "all", **fields}  # the text tower as CUDA trains it by default
    cfg = TrainConfig(
        data=str(data[0]),
        text_model=data[1],
        out=str(tmp_path / "run"),
        workers=0,
        batch_size=4,
        warmup_steps=1,
        eval_test=False,
        similarity=similarity,
        clip_length=64,
        seq_hard_negatives=2,
        **fields,
    )
    r = setup(cfg, Console(quiet=True), DistContext.single())
    _no_dropout(r.model)
    return r


def test_static_shapes_leave_the_losses_and_gradients_unchanged(data, tmp_path):
    r = _run(data, tmp_path, compile=False)
    raw = next(iter(r.train_data.batches(0, 0)))
    plain = _losses_and_grads(r.model, r.model, r.model.prepare(raw))
    r.model.static_shapes(16, 4)
    static = r.model.prepare(raw)
    assert static["text"]["input_ids"].shape == (8, 16)  # 4 captions + 4 negative rows (some padding), 16 tokens
    assert 0 < int(static["reversed_valid"].sum()) <= 4
    padded = _losses_and_grads(r.model, r.model, static)
    for a, b in zip(plain, padded, strict=True):
        assert a.keys() == b.keys()
        for k in a:  # a gradient sums over every token: padding reorders the sum, so the slack scales with the tensor
            torch.testing.assert_close(b[k], a[k], rtol=1e-5, atol=1e-6 + 1e-5 * float(a[k].abs().max()), msg=k)
    r.logger.close()


def test_the_compiled_step_matches_eager(data, tmp_path, monkeypatch):
    # the tiny preset with one block a transformer: the same code path, a third less to compile
    monkeypatch.setitem(PRESETS, "tiny-one-block", replace(PRESETS["tiny"], vit_depth=1, eot_depth=1))
    r = _run(data, tmp_path, compile=True, preset="tiny-one-block")
    assert r.train_model is not r.model and not r.cuda_graphs  # CUDA graphs on CUDA only
    assert list(r.model.state_dict()) == list(r.train_model._orig_mod.state_dict())  # checkpoint names unchanged
    batches = r.train_data.batches(0, 0)
    for _ in range(2):  # a second batch: the same graph or one more bucket
        batch = r.model.prepare(next(batches))
        eager = _losses_and_grads(r.model, r.model, batch)
        t0 = time.perf_counter()
        compiled = _losses_and_grads(r.train_model, r.model, batch)
        print(f"compiled step: {time.perf_counter() - t0:.1f} s")
        for a, b in zip(eager, compiled, strict=True):
            assert a.keys() == b.keys()
            for k in a:
                torch.testing.assert_close(b[k], a[k], rtol=1e-4, atol=1e-5, msg=k)
    r.logger.close()
    assert graph_count(66) == 10  # caption-length buckets 16..66, each with and without a frame mask


@pytest.mark.parametrize("similarity", ["pooled", "combined"])
def test_the_whole_forward_is_one_graph(data, tmp_path, similarity):
    r = _run(data, tmp_path, compile=False, similarity=similarity)
    r.model.static_shapes(16, 4)
    batch = r.model.prepare(next(iter(r.train_data.batches(0, 0))))
    explained = torch._dynamo.explain(r.model)(batch)  # text and radar towers, similarities, losses
    r.logger.close()
    assert (explained.graph_count, explained.graph_break_count) == (1, 0), explained.break_reasons
