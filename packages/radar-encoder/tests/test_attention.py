"""radar_encoder.Attention against timm's Attention with the same weights: identical in fp32, within
bf16's tolerance under CPU bf16 autocast, where its fused kernel gets fp32 inputs."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from timm.layers import Attention as TimmAttention
from torch.utils._python_dispatch import TorchDispatchMode

from radar_encoder import RadarEncoder, RadarEncoderConfig
from radar_encoder.attention import Attention


def _pair(dim: int, heads: int, seed: int) -> tuple[Attention, TimmAttention]:
    torch.manual_seed(seed)
    ours = Attention(dim, heads, qkv_bias=True)
    ref = TimmAttention(dim, heads, qkv_bias=True)
    ref.load_state_dict(ours.state_dict())  # strict: the same parameter names
    return ours, ref


def _mask(kind: str, b: int, n: int, g: torch.Generator) -> torch.Tensor | None:
    if kind == "none":
        return None
    keep = torch.rand(b, 1, 1, n, generator=g) < 0.7
    keep[..., 0] = True  # every query has a key to attend to
    return keep if kind == "bool" else torch.zeros(b, 1, 1, n).masked_fill(~keep, -1e4)


def _run(module: torch.nn.Module, x: torch.Tensor, mask: torch.Tensor | None, bf16: bool):
    module.zero_grad()
    x = x.clone().requires_grad_()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        out = module(x, attn_mask=mask)
    out.float().square().sum().backward()
    return out.detach().float(), x.grad, module.qkv.weight.grad


@settings(max_examples=25, deadline=None)
@given(
    b=st.integers(1, 3),
    n=st.integers(1, 24),
    heads=st.integers(1, 3),
    head_dim=st.sampled_from([4, 8, 32]),
    mask=st.sampled_from(["none", "bool", "float"]),
    seed=st.integers(0, 10_000),
)
def test_values_and_gradients_equal_timms_in_fp32_and_within_bf16_tolerance_under_autocast(
    b, n, heads, head_dim, mask, seed
):
    ours, ref = _pair(heads * head_dim, heads, seed)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, n, heads * head_dim, generator=g)
    m = _mask(mask, b, n, g)
    for a, r in zip(_run(ours, x, m, False), _run(ref, x, m, False), strict=True):
        assert torch.equal(a, r)  # fp32: the same kernel on the same inputs
    for a, r in zip(_run(ours, x, m, True), _run(ref, x, m, False), strict=True):
        torch.testing.assert_close(a.float(), r, rtol=5e-2, atol=5e-2 * float(r.abs().max()))


class _KernelDtypes(TorchDispatchMode):
    """The dtypes of the query given to each fused attention kernel."""

    def __init__(self):
        super().__init__()
        self.dtypes = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if "scaled_dot_product" in func.__name__ and "backward" not in func.__name__:
            self.dtypes.append(args[0].dtype)
        return func(*args, **(kwargs or {}))


def test_every_attention_of_the_encoder_runs_its_kernel_in_fp32_under_cpu_bf16_autocast():
    cfg = RadarEncoderConfig(
        vit_dim=16, vit_depth=1, vit_heads=2, embed_dim=32, eot_depth=1, eot_heads=2, max_frames=96
    )
    enc = RadarEncoder(cfg)
    attentions = [m for m in enc.modules() if isinstance(m, TimmAttention)]
    assert attentions and all(isinstance(m, Attention) for m in attentions)  # 3 views + EOT
    x = [torch.randn(2, h, 32) for h in (256, 128, 128)]
    mask = torch.ones(2, 32, dtype=torch.bool)
    mask[1, 20:] = False
    with _KernelDtypes() as seen, torch.autocast("cpu", dtype=torch.bfloat16):
        out = enc(*x, mask=mask)
    assert out.pooled.dtype == torch.bfloat16  # the projections ran in bf16
    assert len(seen.dtypes) == len(attentions) and set(seen.dtypes) == {torch.float32}


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_a_model_cast_to_a_dtype_returns_that_dtype(dtype):
    ours, ref = _pair(16, 2, 0)
    x = torch.randn(2, 5, 16, dtype=dtype)
    assert ours.to(dtype)(x).dtype == dtype
    torch.testing.assert_close(ours(x).float(), ref(x.float()), rtol=5e-2, atol=5e-2)


def test_the_encoder_compiles_as_one_graph_under_cpu_bf16_autocast():
    """``--compile`` on a CPU with native bf16 (whose default precision is bf16): the fp32 region of
    each attention stays inside one graph, and the compiled encoder returns what eager does."""
    import torch._dynamo

    if not hasattr(torch, "compile") or not torch._dynamo.is_dynamo_supported():
        pytest.skip("torch.compile is not supported on this platform")
    torch.manual_seed(0)
    cfg = RadarEncoderConfig(
        vit_dim=16, vit_depth=1, vit_heads=2, embed_dim=32, eot_depth=1, eot_heads=2, max_frames=96
    )
    enc = RadarEncoder(cfg).eval()
    x = [torch.randn(2, h, 32) for h in (256, 128, 128)]
    mask = torch.ones(2, 32, dtype=torch.bool)
    mask[1, 20:] = False
    compiled = torch.compile(enc, backend="aot_eager", fullgraph=True)  # no C compiler needed
    with torch.autocast("cpu", dtype=torch.bfloat16):
        eager, out = enc(*x, mask=mask).pooled, compiled(*x, mask=mask).pooled
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out, eager)  # bf16's default tolerance (the same ops: equal here)
