import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from timm.models import VisionTransformer

from radar_encoder import (
    FUSIONS,
    PRESETS,
    RadarEncoder,
    RadarEncoderConfig,
    RadarEncoderOutput,
    plan_patches,
)

MINI = dict(
    vit_dim=16,
    vit_depth=1,
    vit_heads=2,
    embed_dim=32,
    eot_depth=1,
    eot_heads=2,
    fusion_heads=2,
    output_dim=24,
    max_frames=96,
)


def mini(**kw):
    torch.manual_seed(0)
    return RadarEncoder(RadarEncoderConfig(**{**MINI, **kw})).eval()


def views(b, t, seed=0, heights=(256, 128, 128)):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(b, h, t, generator=g) for h in heights]


def test_default_plan_is_the_design_grid():
    plan = plan_patches()
    assert plan.patch_sizes == ((32, 16), (16, 16), (16, 16))
    assert (plan.rows, plan.cols, plan.num_tokens) == (8, 31, 248)
    enc = RadarEncoder(RadarEncoderConfig.preset("tiny")).eval()
    with torch.no_grad():
        out = enc(*views(1, 496))
    assert out.sequence.shape == (1, 248, 128)
    assert out.time_sequence.shape == (1, 31, 128)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(view_heights=(250, 128, 128)), "not multiples of token_rows"),
        (dict(num_frames=500), "multiple of patch_time"),
        (dict(num_frames=8), "multiple of patch_time"),
    ],
)
def test_plan_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        plan_patches(**kwargs)


@given(
    rows=st.integers(1, 8),
    mults=st.tuples(*[st.integers(1, 6)] * 3),
    cols=st.integers(1, 40),
    patch_time=st.sampled_from([8, 16]),
)
def test_planner_gives_equal_grids(rows, mults, cols, patch_time):
    heights = tuple(rows * m for m in mults)
    plan = plan_patches(heights, cols * patch_time, rows, patch_time)
    counts = {(h // ph) * (cols * patch_time // pt) for h, (ph, pt) in zip(heights, plan.patch_sizes, strict=True)}
    assert counts == {plan.num_tokens} == {rows * cols}


@given(mults=st.tuples(*[st.integers(1, 4)] * 3), cols=st.integers(1, 6))
def test_built_views_yield_equal_token_counts(mults, cols):
    heights = tuple(8 * m for m in mults)
    enc = mini(view_heights=heights, max_frames=cols * 16)
    x = views(2, cols * 16, heights=heights)
    mask = torch.ones(2, cols * 16, dtype=torch.bool)
    col_mask = torch.ones(2, cols, dtype=torch.bool)
    with torch.no_grad():
        counts = {
            enc.encoders[k](v, col_mask).shape[1]
            for k, v in zip(("range_time", "doppler_time", "azimuth_time"), x, strict=True)
        }
        out = enc(*x, mask=mask)
    assert counts == {8 * cols} and out.sequence.shape[1] == 8 * cols


def test_view_encoders_are_timm_vits_with_one_channel():
    enc = mini()
    for e in enc.encoders.values():
        assert isinstance(e.vit, VisionTransformer)
        assert e.vit.patch_embed.proj.in_channels == 1


@given(length=st.integers(1, 96), fill=st.sampled_from([0.0, 7.0, -1e3]), seed=st.integers(0, 1000))
def test_padding_is_invisible(length, fill, seed):
    enc = mini()
    x = views(2, 96, seed)
    mask = torch.zeros(2, 96, dtype=torch.bool)
    mask[0, :length] = True
    mask[1] = True
    garbage = [v.clone() for v in x]
    g = torch.Generator().manual_seed(seed + 1)
    for v in garbage:
        v[0, :, length:] = fill + torch.randn(v[0, :, length:].shape, generator=g)
    with torch.no_grad():
        a, b = enc(*x, mask=mask), enc(*garbage, mask=mask)
    torch.testing.assert_close(a.pooled, b.pooled, atol=1e-5, rtol=1e-5)
    valid = a.sequence_mask[0]
    assert int(valid.sum()) == 8 * -(-length // 16)
    torch.testing.assert_close(a.sequence[0][valid], b.sequence[0][valid], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(
        a.time_sequence[0][a.time_mask[0]], b.time_sequence[0][b.time_mask[0]], atol=1e-5, rtol=1e-5
    )
    # a short clip without padding equals its padded version
    t = 16 * -(-length // 16)
    with torch.no_grad():
        short = enc(*(v[:1, :, :t] for v in x), mask=mask[:1, :t])
    torch.testing.assert_close(short.pooled, a.pooled[:1], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("fusion", FUSIONS)
@pytest.mark.parametrize(
    "subset", ["all", "range_only", "doppler_only", "azimuth_only", ("range_time", "azimuth_time")]
)
def test_fusions_and_view_subsets(fusion, subset):
    enc = mini(fusion=fusion, views=subset)
    r, d, a = views(2, 32)
    given = {"range_time": r, "doppler_time": d, "azimuth_time": a}
    used = {k: v for k, v in given.items() if k in enc.config.views}  # the views are the arguments' names
    with torch.no_grad():
        out = enc(**used)
    assert isinstance(out, RadarEncoderOutput)
    assert out.pooled.shape == (2, 24) and out.sequence.shape == (2, 16, 32)
    assert torch.isfinite(out.pooled).all()


def test_return_sequence_false_returns_pooled_from_the_eot_token():
    enc = mini()
    x = views(3, 48)
    with torch.no_grad():
        pooled = enc(*x, return_sequence=False)
        tokens, eot, _, _ = enc.forward_features(*x)
        assert isinstance(pooled, torch.Tensor) and pooled.shape == (3, 24)
        torch.testing.assert_close(pooled, enc.head(eot))
    assert tokens.shape == (3, 24, 32)


@pytest.mark.parametrize("fusion", FUSIONS)
def test_every_parameter_receives_a_gradient(fusion):
    enc = mini(fusion=fusion).train()
    mask = torch.ones(2, 64, dtype=torch.bool)
    mask[0, 40:] = False
    out = enc(*views(2, 64), mask=mask)
    (out.pooled.square().sum() + out.sequence.square().mean()).backward()
    for name, p in enc.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


def test_gradient_checkpointing_matches():
    x = views(2, 32)
    results = []
    for ckpt in (False, True):
        enc = mini(grad_checkpointing=ckpt).train()
        out = enc(*x, return_sequence=False)
        out.sum().backward()
        results.append((out.detach(), [p.grad.clone() for p in enc.parameters()]))
    torch.testing.assert_close(results[0][0], results[1][0])
    for g0, g1 in zip(results[0][1], results[1][1], strict=True):
        torch.testing.assert_close(g0, g1, atol=1e-6, rtol=1e-5)


def test_torch_compile_with_gradient_checkpointing():
    """Fails when compilation fails; skips only where the platform cannot compile at all (told
    before the call: torch.compile missing, or dynamo unsupported on this Python)."""
    import torch._dynamo

    if not hasattr(torch, "compile") or not torch._dynamo.is_dynamo_supported():
        pytest.skip("torch.compile is not supported on this platform")
    enc = mini(grad_checkpointing=True).train()
    x = views(2, 32)
    ref = enc(*x, return_sequence=False)
    compiled = torch.compile(enc, backend="aot_eager")  # no C compiler needed
    out = compiled(*x, return_sequence=False)
    out.sum().backward()
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    assert all(p.grad is not None for p in enc.parameters())


def test_local_vit_checkpoint_is_loaded(tmp_path):
    torch.manual_seed(3)
    donor = VisionTransformer(img_size=32, patch_size=8, in_chans=3, embed_dim=16, depth=1, num_heads=2, num_classes=10)
    path = tmp_path / "vit.pth"
    torch.save(donor.state_dict(), path)
    enc = mini(vit_checkpoint=str(path))
    for e in enc.encoders.values():
        torch.testing.assert_close(e.vit.blocks[0].attn.qkv.weight, donor.blocks[0].attn.qkv.weight)
        assert e.vit.pos_embed.shape[1] == e.rows * e.max_cols
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        mini(vit_checkpoint=str(tmp_path / "missing.pth"))


def test_presets_and_config_round_trip():
    assert set(PRESETS) >= {"tiny", "small", "base"}
    assert PRESETS["base"].vit_dim == 768 and PRESETS["base"].vit_depth == 12
    cfg = RadarEncoderConfig.preset("small", fusion="attention")
    assert RadarEncoderConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="unknown preset"):
        RadarEncoderConfig.preset("huge")
    with pytest.raises(ValueError, match="views must be"):
        RadarEncoderConfig(views="radar_only")


def test_bad_inputs_are_named():
    enc = mini()
    r, d, a = views(2, 32)
    with pytest.raises(ValueError, match="doppler_time is required"):
        enc(r, None, a)
    with pytest.raises(ValueError, match=r"range_time must be \[batch, 256"):
        enc(r[:, :100], d, a)
    with pytest.raises(ValueError, match="multiple of 16"):
        enc(r[..., :30], d[..., :30], a[..., :30])
    with pytest.raises(ValueError, match="disagree"):
        enc(r, d[..., :16], a)
    with pytest.raises(ValueError, match="no valid frame"):
        enc(r, d, a, mask=torch.zeros(2, 32, dtype=torch.bool))


def test_instance_input_norm_ignores_gain_offset_and_padding():
    """Each view of each clip is standardised over its real frames: an affine change of a clip's
    values (as between normalisations or radars) changes nothing; without it, it does."""
    x = views(2, 64)
    mask = torch.ones(2, 64, dtype=torch.bool)
    mask[1, 40:] = False
    shifted = [3.0 * v + 5.0 for v in x]
    for norm, same in (("instance", True), ("none", False)):
        enc = mini(input_norm=norm)
        with torch.no_grad():
            a, b = enc(*x, mask=mask).pooled, enc(*shifted, mask=mask).pooled
        assert torch.allclose(a, b, atol=1e-4) == same, norm
    with pytest.raises(ValueError, match="input_norm"):
        RadarEncoderConfig(input_norm="batch")


def test_every_attention_runs_through_torch_sdpa():
    """timm's fused_attn: the blocks call F.scaled_dot_product_attention (flash / memory-efficient
    kernels on a GPU) rather than an explicit softmax(QK^T)V."""
    enc = RadarEncoder(RadarEncoderConfig.preset("tiny"))
    flags = [m.fused_attn for m in enc.modules() if hasattr(m, "fused_attn")]
    assert flags and all(flags)


def test_weights_and_view_lists_of_radar_encoder_0_1_load_under_the_view_names():
    enc = mini(views="doppler_only")
    old = {k.replace("encoders.doppler_time.", "encoders.doppler."): v for k, v in enc.state_dict().items()}
    assert any(k.startswith("encoders.doppler.") for k in old)
    fresh = mini(views="doppler_only")
    with torch.no_grad():
        for p in fresh.parameters():
            p.add_(1.0)
    fresh.load_state_dict(old)  # strict: every old key found its new name
    for (k, a), b in zip(enc.state_dict().items(), fresh.state_dict().values(), strict=True):
        assert torch.equal(a, b), k
    with pytest.warns(FutureWarning, match="now"):
        cfg = RadarEncoderConfig(**MINI, views=["range", "azimuth"])
    assert cfg.views == ("range_time", "azimuth_time")


def test_no_mask_is_an_all_true_mask_and_no_step_reads_the_host():
    from torch.utils._python_dispatch import TorchDispatchMode

    syncing = {torch.ops.aten._local_scalar_dense.default, torch.ops.aten.nonzero.default}

    class Syncs(TorchDispatchMode):
        count = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            Syncs.count += func in syncing
            return func(*args, **(kwargs or {}))

    enc = mini()
    v = views(2, 32)
    full = enc(*v, mask=torch.ones(2, 32, dtype=torch.bool))  # attention masked (all True)
    none = enc(*v)  # attention without a mask (SDPA may take its flash kernel)
    for field in ("pooled", "sequence", "sequence_mask", "time_sequence", "time_mask"):
        torch.testing.assert_close(getattr(full, field), getattr(none, field), rtol=1e-5, atol=1e-6)
    padded = torch.ones(2, 32, dtype=torch.bool)
    padded[1, 16:] = False
    with Syncs():
        enc.train()(*v, mask=padded).pooled.sum().backward()
    assert Syncs.count == 0
    with pytest.raises(ValueError, match="mask row 1 has no valid frame"):
        enc(*v, mask=torch.tensor([[True] * 32, [False] * 32]))
