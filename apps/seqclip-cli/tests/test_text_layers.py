"""--text-trainable-layers N: the frozen embeddings and lower layers computed once per caption and
cached, the top N layers run on the cache. Parity: cached and uncached layer outputs are equal; N = 0
trains as --freeze-text --cache-text (and as the CPU's default); N at least the layer count trains as
`all`. The cache keeps to its bound; only the top layers learn; bf16 on the CPU."""

import json

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from seqclip_fixtures import make_dataset, one_line, run, tiny_text_model, toml

from seqclip import SeqClip, SeqClipConfig
from seqclip.model.text import TextCache

CAPTIONS = [
    "a person walks",
    "someone waves twice, then claps",
    "an adult falls forward onto the floor",
    "a person jumps",
    "someone sits down slowly and stands up again",
    "a person walks",
]


@pytest.fixture(scope="module")
def text_model(tmp_path_factory):
    return tiny_text_model(tmp_path_factory.mktemp("text"))  # 2 layers


def _model(text_model: str, top: int) -> SeqClip:
    torch.manual_seed(0)
    return SeqClip(
        SeqClipConfig(
            text_model=text_model,
            freeze_text=True,
            unfreeze_text_layers=top,
            clip_length=32,
            encoder_overrides={"vit_depth": 1, "eot_depth": 1},
        )
    )


@pytest.fixture(scope="module")
def models(text_model):
    return {top: _model(text_model, top) for top in (0, 1)}  # built once: the property draws captions


@settings(max_examples=15, deadline=None)
@given(
    top=st.integers(0, 1),
    picks=st.lists(st.integers(0, len(CAPTIONS) - 1), min_size=1, max_size=8),
    bound=st.sampled_from([None, 1, 4096]),
)
def test_cached_and_uncached_layer_outputs_are_equal(models, top, picks, bound):
    model = models[top].train()  # training mode: the frozen part runs without dropout all the same
    texts = [CAPTIONS[i] for i in picks]
    with torch.no_grad():
        full, attn, special = model._encode_tokens(model.tokenize(texts))
        model.cache_text(max_bytes=bound)
        for _ in range(2):  # computed, then from the cache (or computed again after eviction)
            cached, cached_attn, cached_special = model._text_hidden(texts)
            assert torch.equal(cached_attn, attn) and torch.equal(cached_special & attn, special & attn)
            if top == 0:  # the whole encoder frozen: no dropout anywhere
                torch.testing.assert_close(cached * attn[..., None], full * attn[..., None], rtol=1e-5, atol=1e-5)
        model.eval()
        fresh = model._encode_tokens(model.tokenize(texts))[0]
        cached = model._text_hidden(texts)[0]
    torch.testing.assert_close(cached * attn[..., None], fresh * attn[..., None], rtol=1e-5, atol=1e-5)
    if bound is not None:
        assert model.text_cache.bytes <= bound


def test_the_cache_keeps_to_its_bound_and_counts_what_it_computes():
    cache = TextCache(max_bytes=3 * (4 * 4 * 2 + 4))  # three captions of 4 tokens of width 2 (float32 + bool)

    def encode(texts):
        n = len(texts)
        return torch.ones(n, 4, 2), torch.ones(n, 4, dtype=torch.bool), torch.zeros(n, 4, dtype=torch.bool)

    cache(["a", "b", "c"], encode)
    assert cache.computed == 3 and len(cache) == 3
    cache(["d"], encode)  # "a", the least recently used, is dropped
    assert len(cache) == 3 and "a" not in cache.entries and cache.bytes <= cache.max_bytes
    cache(["b", "a"], encode)
    assert cache.computed == 5  # "a" computed again


def test_frozen_layers_are_the_lower_ones_and_stay_in_eval_mode(text_model):
    model = _model(text_model, 1).train()
    layers = model.text_encoder.encoder.layer
    assert model.frozen_text_depth() == 1 and not layers[0].training and layers[1].training
    assert not any(p.requires_grad for p in model.text_encoder.embeddings.parameters())
    everything = _model(text_model, 5)  # more than the 2 layers it has: all of it trains, the embeddings too
    assert everything.frozen_text_depth() is None
    assert all(p.requires_grad for p in everything.text_encoder.parameters())


def _losses(tmp_path, name: str, *args) -> list[float]:
    data = make_dataset(tmp_path / "d") if not (tmp_path / "d").exists() else tmp_path / "d"
    result = run(
        "train",
        *toml(tmp_path, similarity="temporal", max_steps=3),
        "--data",
        data,
        "--out",
        tmp_path / name,
        "--text-model",
        tiny_text_model(tmp_path / "text"),
        *args,
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in (tmp_path / name / "metrics.jsonl").read_text().splitlines()]
    return [x["loss_total"] for x in lines if "loss_total" in x], result.output


def test_zero_trains_as_a_frozen_cached_tower_the_cpu_default_and_all_layers_as_all(tmp_path):
    zero, output = _losses(tmp_path, "zero", "--text-trainable-layers", "0")
    words = " ".join(output.split())
    assert "text: 0 of 2 layers train" in words and "training captions computed in" in words
    assert zero == _losses(tmp_path, "lit", "--freeze-text", "--cache-text")[0]
    assert zero == _losses(tmp_path, "plain")[0]  # the CPU's default
    every, _ = _losses(tmp_path, "every", "--text-trainable-layers", "2")  # as many as the model has
    assert every == _losses(tmp_path, "all", "--text-trainable-layers", "all")[0] and every != zero
    both = run("train", "--text-trainable-layers", "1", "--freeze-text")
    assert both.exit_code == 2 and "give one or the other" in one_line(both)
    bad = run("train", "--text-trainable-layers", "some")
    assert bad.exit_code == 2 and "'some' is not all or a whole number" in bad.output


def test_native_bf16_is_read_from_the_cpu_flags(tmp_path):
    from seqclip.hardware import native_bf16

    (tmp_path / "zen4").write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16 sha_ni\n")
    (tmp_path / "zen3").write_text("processor\t: 0\nflags\t\t: fpu avx2 sha_ni\n")
    (tmp_path / "spr").write_text("flags\t: avx512_bf16 amx_tile amx_bf16\n")
    assert native_bf16(str(tmp_path / "zen4")) == "avx512_bf16" and native_bf16(str(tmp_path / "zen3")) is None
    assert native_bf16(str(tmp_path / "spr")) == "amx_bf16" and native_bf16(str(tmp_path / "absent")) is None


def test_bf16_autocast_on_the_cpu_trains_within_bf16_tolerance_of_fp32(tmp_path):
    fp32, output = _losses(tmp_path, "fp32", "--precision", "fp32")
    assert "precision fp32: this CPU" in " ".join(output.split())
    bf16, _ = _losses(tmp_path, "bf16", "--precision", "bf16")
    assert bf16 != fp32  # it ran in bf16 (natively or emulated, as the CPU has it)
    assert bf16 == pytest.approx(fp32, rel=3e-2)


def test_the_default_precision_is_bf16_where_the_cpu_has_it_and_a_resumed_run_keeps_its_own(monkeypatch):
    from seqclip import config
    from seqclip.config import TrainConfig, default_precision

    for found, cpu, other in ((None, "fp32", "bf16"), ("avx512_bf16", "bf16", "fp32"), ("amx_bf16", "bf16", "fp32")):
        monkeypatch.setattr(config, "native_bf16", lambda found=found: found)
        assert default_precision("cpu") == cpu and default_precision("cuda") == "bf16"
        assert TrainConfig().precision_on("cpu").precision == cpu
        assert TrainConfig().precision_on("cpu", {}).precision == cpu  # a run that recorded none: the default
        assert TrainConfig(precision=other).precision_on("cpu").precision == other  # given: kept
        assert TrainConfig().precision_on("cpu", {"precision": other}).precision == other  # resumed: its own
        assert TrainConfig().precision_on("cpu", {"precision": "fp16"}).precision == cpu  # fp16: CUDA only
        assert TrainConfig().precision_on("cuda", {"precision": "fp16"}).precision == "fp16"


def test_only_the_top_layers_learn(tmp_path):
    from transformers import BertModel

    _losses(tmp_path, "top", "--text-trainable-layers", "1")
    trained = SeqClip.from_pretrained(next((tmp_path / "top" / "checkpoints").glob("step_*")) / "model")
    start = BertModel.from_pretrained(tiny_text_model(tmp_path / "text"))
    before, after = start.state_dict(), trained.text_encoder.state_dict()
    moved = {
        k.split(".")[0] + "." + k.split(".")[2] if k.startswith("encoder.") else k.split(".")[0]
        for k in before
        if k in after and not torch.equal(before[k], after[k])
    }
    assert moved == {"encoder.1"}  # the top layer learned; the embeddings and the layer below did not


def test_the_text_layers_follow_the_device_unless_given_or_recorded_by_the_run_resumed():
    from seqclip.config import TrainConfig

    assert TrainConfig().text_layers_on("cpu").text_trainable_layers == 0
    assert TrainConfig().text_layers_on("cuda").text_trainable_layers == "all"
    assert TrainConfig(text_trainable_layers=2).text_layers_on("cpu").text_trainable_layers == 2
    assert TrainConfig(freeze_text=True).text_layers_on("cpu").text_trainable_layers is None  # its own meaning
    assert TrainConfig().text_layers_on("cpu", {"epochs": 3}).text_trainable_layers == "all"  # a 0.9 run resumed
    assert TrainConfig().text_layers_on("cpu", {"text_trainable_layers": 1}).text_trainable_layers == 1
