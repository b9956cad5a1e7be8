"""The fused Triton soft-DTW against the float64 dynamic-programming reference, on CPU tensors under
Triton's interpreter (``TRITON_INTERPRET=1``, set before the kernel module is imported).

Tolerances: float64 costs (float64 accumulation) within 1e-9 of the reference, values and
gradients; float32 within 1e-4 (relative to the value) and 1e-5 (gradients); bfloat16 costs are
accumulated in float32 and match the float32 result of the same rounded costs within 1e-5.
"""

import os

os.environ["TRITON_INTERPRET"] = "1"  # before seq_similarity.soft_dtw_triton is first imported

import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from seqsim_reference import assert_ragged_parity, hard_dtw_dp, soft_dtw_dp  # noqa: E402

from seq_similarity import soft_dtw  # noqa: E402

triton = pytest.importorskip("triton", reason="triton is installed with torch on Linux x86-64 only")


def test_the_kernel_runs_interpreted():
    from seq_similarity import soft_dtw_triton

    assert type(soft_dtw_triton._forward_kernel).__name__ == "InterpretedFunction"


@given(
    n=st.integers(1, 6),
    m=st.integers(1, 6),
    p=st.integers(1, 3),
    gamma=st.sampled_from([0.05, 0.3, 1.0]),
    seed=st.integers(0, 2**16),
)
def test_values_and_gradients_match_the_reference_with_ragged_lengths(n, m, p, gamma, seed):
    def kernel(cost, gamma, lx, ly):
        return soft_dtw(cost, gamma, lx, ly, backend="triton")

    assert_ragged_parity(kernel, n, m, p, gamma, seed, atol=1e-9)  # zero gradient beyond each pair's lengths


def test_float32_matches_the_torch_wavefront_and_the_reference():
    torch.manual_seed(0)
    cost = (torch.rand(4, 9, 13) * 3).requires_grad_()
    lx, ly = torch.tensor([9, 4, 7, 1]), torch.tensor([13, 13, 5, 2])
    outs = {}
    for backend in ("triton", "torch"):
        value = soft_dtw(cost, 0.1, lx, ly, backend=backend)
        (grad,) = torch.autograd.grad(value.sum(), cost)
        outs[backend] = (value, grad)
    torch.testing.assert_close(outs["triton"][0], outs["torch"][0], atol=1e-4, rtol=1e-5)
    torch.testing.assert_close(outs["triton"][1], outs["torch"][1], atol=1e-5, rtol=0)
    want = torch.stack([soft_dtw_dp(cost[k, : lx[k], : ly[k]].double(), 0.1) for k in range(4)])
    torch.testing.assert_close(outs["triton"][0].double(), want, atol=1e-4, rtol=1e-5)


def test_bfloat16_costs_accumulate_in_float32():
    cost = torch.rand(3, 5, 7).bfloat16()
    got = soft_dtw(cost, 0.1, backend="triton")
    want = soft_dtw(cost.float(), 0.1, backend="torch")
    assert got.dtype == torch.bfloat16
    torch.testing.assert_close(got.float(), want.bfloat16().float(), atol=0, rtol=0)


def test_tends_to_hard_dtw_as_gamma_goes_to_zero():
    torch.manual_seed(3)
    cost = torch.rand(4, 5, 6, dtype=torch.float64)
    hard = torch.tensor([hard_dtw_dp(c.tolist()) for c in cost], dtype=torch.float64)
    errors = [float((soft_dtw(cost, g, backend="triton") - hard).abs().max()) for g in (1.0, 0.1, 1e-3, 1e-5)]
    assert errors[-1] < 1e-4 and errors == sorted(errors, reverse=True)


def test_finite_difference_gradient():
    torch.manual_seed(4)
    cost = torch.rand(2, 4, 5, dtype=torch.float64, requires_grad=True)
    lx, ly = torch.tensor([4, 2]), torch.tensor([3, 5])
    # fast mode: finite differences along a random direction (the interpreter makes the 40-column Jacobian
    # take 10 s); every gradient entry is compared above with autograd through the plain DP
    check = lambda c: soft_dtw(c, 0.2, lx, ly, backend="triton")  # noqa: E731
    assert torch.autograd.gradcheck(check, (cost,), eps=1e-6, atol=1e-6, fast_mode=True)


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="backend"):
        soft_dtw(torch.rand(2, 3), backend="cuda")
