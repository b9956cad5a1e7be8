"""model/seqclip.py: the forward pass, text-encoder freezing and caching, compilation."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from seqclip_fixtures import batch

from seqclip import SeqClip, SeqClipConfig


def test_forward_losses_and_sequence_masks(model):
    out = model(batch())
    for k in ("loss_pooled", "loss_seq", "loss_total", "logits_per_radar", "seq_logits", "sim_global", "sim_temporal"):
        assert k in out
    w = model.config.seq_weight
    torch.testing.assert_close(out["loss_total"], out["loss_pooled"] + w * out["loss_seq"])
    text = model.encode_text(["a person walks", "someone waves twice to the radar"], return_sequence=True)
    seq, mask = text.sequence, text.mask
    tok = model.tokenize(["a person walks", "someone waves twice to the radar"])
    assert int(mask[0].sum()) == int(tok["attention_mask"][0].sum()) - 2  # [CLS] and [SEP] excluded
    assert seq.shape[:2] == mask.shape


def test_freeze_and_unfreeze_text_layers(model):
    model.freeze_text()
    assert not any(p.requires_grad for p in model.text_encoder.parameters())
    model.unfreeze_text_layers(1)
    trainable = {n for n, p in model.text_encoder.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith("encoder.layer.5.") for n in trainable)
    model.set_text_trainable(True)


def test_every_trainable_parameter_learns_with_and_without_the_sequence_loss():
    for use_seq in (True, False):
        torch.manual_seed(0)
        m = SeqClip(SeqClipConfig(similarity="combined" if use_seq else "pooled"))
        m(batch(3))["loss_total"].backward()
        silent = [n for n, p in m.named_parameters() if p.requires_grad and (p.grad is None or not p.grad.abs().sum())]
        assert silent == [], (use_seq, silent[:5])


def test_the_text_cache_gives_the_encoders_features_and_runs_it_once_per_caption():
    from seqclip import SeqClip, SeqClipConfig

    torch.manual_seed(0)
    model = SeqClip(SeqClipConfig(similarity="temporal", freeze_text=True)).train()
    texts = ["a person waves", "someone sits down and then stands up again slowly", "a person waves"]
    fresh = model.encode_text(texts, return_sequence=True)
    calls = []
    model.text_encoder.register_forward_hook(lambda m, a, o: calls.append(a))
    model.cache_text()
    first = model.encode_text(texts[:1], return_sequence=True)  # cached alone: padded to its own length
    cached = model.encode_text(texts, return_sequence=True)
    assert len(calls) == 2  # one forward for the first caption, one for the one still missing
    torch.testing.assert_close(first.pooled, fresh.pooled[:1], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(cached.pooled, fresh.pooled, rtol=1e-5, atol=1e-6)
    assert torch.equal(cached.mask, fresh.mask)  # token mask (padding is masked: its features differ and never count)
    torch.testing.assert_close(cached.sequence[cached.mask], fresh.sequence[fresh.mask], rtol=1e-5, atol=1e-6)
    cached.pooled.sum().backward()  # the projections still learn
    assert model.text_proj.weight.grad is not None
    trainable = SeqClip(SeqClipConfig(similarity="pooled"))
    with pytest.raises(ValueError, match="the text cache needs a frozen text encoder"):
        trainable.cache_text()


def test_the_encoder_defaults_follow_the_dataset_shape_contract():
    """radar-encoder and radar-views sit below radar-text-data and keep their own defaults; they
    must equal the contract seqclip trains with."""
    from radar_encoder import RadarEncoderConfig
    from radar_text_data import FRAME_MULTIPLE, MAX_FRAMES, VIEW_BINS
    from seqclip import SeqClipConfig

    enc = SeqClipConfig().encoder_config()
    assert enc.view_heights == tuple(VIEW_BINS.values()) == RadarEncoderConfig().view_heights
    assert enc.max_frames == MAX_FRAMES and enc.patch_time == FRAME_MULTIPLE


def test_compiled_parts_match_eager_and_keep_checkpoint_names():
    from seqclip import SeqClip, SeqClipConfig

    torch.manual_seed(0)  # one block per transformer: the tiny preset's code path, a shorter compilation
    model = SeqClip(SeqClipConfig(similarity="temporal", encoder_overrides={"vit_depth": 1, "eot_depth": 1})).eval()
    keys = list(model.state_dict())
    views = [torch.randn(2, b, 32) for b in (256, 128, 128)]
    mask = torch.tensor([[True] * 32, [True] * 16 + [False] * 16])
    with torch.no_grad():
        eager = model.encode_radar(*views, mask, return_sequence=True)
        model.compile_parts()  # torch.compile (inductor) in place
        compiled = model.encode_radar(*views, mask, return_sequence=True)
    assert list(model.state_dict()) == keys  # checkpoints load either way
    for field in ("pooled", "sequence", "mask"):
        torch.testing.assert_close(getattr(compiled, field), getattr(eager, field), rtol=1e-4, atol=1e-5)


CAPTIONS = [
    "a person walks",
    "someone waves twice to the radar and then sits down slowly on a chair nearby",
    "jumps",
    "A person walks toward the radar, then waves with the left hand three times, and finally sits down. " * 3,
    "claps, claps, claps",
]


@settings(max_examples=20, deadline=None)
@given(picks=st.lists(st.integers(0, len(CAPTIONS) - 1), min_size=1, max_size=6), length=st.sampled_from([8, 66]))
def test_tokenised_once_gives_the_tokenizers_tensors(model, picks, length):
    from seqclip.model.text import TokenCache

    texts = [CAPTIONS[i] for i in picks]
    want = model.tokenizer(
        texts, padding=True, truncation=True, max_length=length, return_tensors="pt", return_special_tokens_mask=True
    )
    cache = TokenCache(model.tokenizer, length)
    for _ in range(2):  # tokenised, then from the cache
        got = cache(texts)
        assert got.keys() == want.keys()
        for key in want:
            assert torch.equal(got[key], want[key]), key
    assert len(cache) == len(set(texts))
