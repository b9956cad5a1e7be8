"""training/optim.py: parameter groups and the learning-rate schedule."""

import pytest

from seqclip.training.optim import param_groups, warmup_cosine


def test_every_trainable_parameter_is_in_the_optimizer_exactly_once(model):
    groups = param_groups(model, 1e-3, 0.05, 0.1)
    ids = [id(p) for g in groups for p in g["params"]]
    trainable = [id(p) for p in model.parameters() if p.requires_grad]
    assert sorted(ids) == sorted(trainable) and len(ids) == len(set(ids))
    names = {id(p): n for n, p in model.named_parameters()}
    no_decay = {names[id(p)] for g in groups if g["weight_decay"] == 0 for p in g["params"]}
    assert "logit_scale.log_scale" in no_decay and "radar_encoder.eot.eot_token" in no_decay
    assert "radar_encoder.eot.pos_embed" in no_decay and "radar_encoder.eot.norm.weight" in no_decay
    assert all(g["lr"] == pytest.approx(1e-4) for g in groups if g["name"].startswith("text"))
    f = warmup_cosine(10, 100)
    assert f(0) == pytest.approx(0.1) and f(9) == pytest.approx(1.0) and f(100) == pytest.approx(0.0)
