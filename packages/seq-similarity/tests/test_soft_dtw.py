import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from seqsim_reference import assert_ragged_parity, hard_dtw_dp, soft_dtw_dp

from seq_similarity import soft_dtw


@pytest.mark.parametrize("n,m", [(1, 1), (1, 5), (4, 1), (5, 7), (8, 3)])
def test_matches_plain_dp_values_and_gradients(n, m):
    torch.manual_seed(n * 10 + m)
    cost = torch.rand(3, n, m, dtype=torch.float64, requires_grad=True)
    got = soft_dtw(cost, gamma=0.3)
    got.sum().backward()
    fast_grad = cost.grad.clone()
    cost.grad = None
    want = torch.stack([soft_dtw_dp(cost[k], 0.3) for k in range(3)])
    want.sum().backward()
    torch.testing.assert_close(got, want, atol=1e-6, rtol=0)
    torch.testing.assert_close(fast_grad, cost.grad, atol=1e-6, rtol=0)


@given(
    n=st.integers(1, 7),
    m=st.integers(1, 7),
    p=st.integers(1, 4),
    gamma=st.sampled_from([0.05, 0.1, 1.0]),
    seed=st.integers(0, 2**16),
)
def test_per_pair_lengths_match_cropped_reference(n, m, p, gamma, seed):
    # the cost beyond each pair's lengths gets exactly zero gradient
    assert_ragged_parity(soft_dtw, n, m, p, gamma, seed, atol=1e-6)


def test_gradcheck_with_lengths():
    torch.manual_seed(0)
    cost = torch.rand(4, 5, 6, dtype=torch.float64, requires_grad=True)
    lx = torch.tensor([5, 2, 1, 4])
    ly = torch.tensor([6, 6, 3, 1])
    assert torch.autograd.gradcheck(lambda c: soft_dtw(c, 0.5, lx, ly), (cost,))
    tall = torch.rand(3, 7, 4, dtype=torch.float64, requires_grad=True)  # transposed path
    assert torch.autograd.gradcheck(lambda c: soft_dtw(c, 0.2), (tall,))


@pytest.mark.parametrize("n,m", [(4, 6), (7, 3)])
def test_tends_to_hard_dtw(n, m):
    torch.manual_seed(1)
    cost = torch.rand(5, n, m, dtype=torch.float64)
    hard = torch.tensor([hard_dtw_dp(c.tolist()) for c in cost], dtype=torch.float64)
    errors = [float((soft_dtw(cost, g) - hard).abs().max()) for g in (1.0, 0.1, 1e-3, 1e-5)]
    assert errors[-1] < 1e-4
    assert errors == sorted(errors, reverse=True)


def test_symmetric_under_transpose_and_leading_dims():
    torch.manual_seed(2)
    cost = torch.rand(2, 3, 5, 8)
    a = soft_dtw(cost, 0.1)
    b = soft_dtw(cost.transpose(-1, -2), 0.1)
    assert a.shape == (2, 3)
    torch.testing.assert_close(a, b, atol=1e-5, rtol=0)


def test_order_sensitive():
    x = torch.linspace(0, 1, 6)
    cost = (x[:, None] - x[None, :]).abs()
    reversed_cost = (x.flip(0)[:, None] - x[None, :]).abs()
    assert soft_dtw(reversed_cost, 0.01) > soft_dtw(cost, 0.01) + 1.0


def test_low_precision_input_is_upcast():
    cost = torch.rand(2, 4, 5)
    got = soft_dtw(cost.bfloat16(), 0.1)
    assert got.dtype == torch.bfloat16
    assert math.isclose(float(got[0]), float(soft_dtw(cost.bfloat16().float(), 0.1)[0]), rel_tol=1e-2)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"gamma": 0.0}, "gamma"),
        ({"lengths_x": torch.tensor([0])}, "lengths_x"),
        ({"lengths_y": torch.tensor([9])}, "lengths_y"),
        ({"lengths_x": torch.tensor([1.5])}, "integers"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        soft_dtw(torch.rand(1, 3, 4), **kwargs)


def test_bad_cost_shape():
    with pytest.raises(ValueError, match="cost"):
        soft_dtw(torch.rand(5))


def test_auto_falls_back_to_the_wavefront_when_the_kernel_fails(monkeypatch):
    import sys
    import types

    module = sys.modules["seq_similarity.soft_dtw"]  # the module (the package attribute is the function)

    def broken(*args, **kwargs):
        raise RuntimeError("no compiler here")

    monkeypatch.setitem(sys.modules, "seq_similarity.soft_dtw_triton", types.SimpleNamespace(soft_dtw_forward=broken))
    monkeypatch.setattr(module, "_TRITON_BROKEN", [])
    monkeypatch.setattr(
        module,
        "_backend",
        lambda name, cost: (
            name
            if name != "auto"  # "auto" on a pretend GPU
            else "torch"
            if module._TRITON_BROKEN
            else "triton"
        ),
    )
    cost = torch.rand(3, 4, 5)
    with pytest.warns(RuntimeWarning, match="no compiler here"):
        got = soft_dtw(cost, 0.1)
    torch.testing.assert_close(got, soft_dtw(cost, 0.1, backend="torch"))
    assert module._TRITON_BROKEN  # later calls go straight to the wavefront
    with pytest.raises(RuntimeError, match="no compiler"):
        soft_dtw(cost, 0.1, backend="triton")  # an explicit backend is never replaced


def test_the_wavefront_ops_pass_opcheck():
    """Schema, fake (meta) shapes and dispatch of the two custom ops that torch.compile sees."""
    torch.manual_seed(0)
    cost = torch.rand(3, 4, 6)
    lx, ly = torch.tensor([4, 2, 3]), torch.tensor([6, 6, 1])
    for need_grad in (True, False):
        torch.library.opcheck(torch.ops.seq_similarity.soft_dtw_wavefront, (cost, lx, ly, 0.1, need_grad))
    _, w = torch.ops.seq_similarity.soft_dtw_wavefront(cost, lx, ly, 0.1, True)
    grad_out = torch.rand(3)
    torch.library.opcheck(torch.ops.seq_similarity.soft_dtw_wavefront_backward, (w, lx, ly, grad_out, 4, 6))


def _traced_graphs(n: int, m: int) -> list[torch.fx.GraphModule]:
    graphs: list[torch.fx.GraphModule] = []

    def record(gm, _inputs):
        graphs.extend(mod for mod in gm.modules() if isinstance(mod, torch.fx.GraphModule))
        return gm.forward

    cost = torch.rand(2, n, m, requires_grad=True)
    torch.compile(lambda c: soft_dtw(c, 0.1), backend=record, fullgraph=True, dynamic=False)(cost).sum().backward()
    return graphs


def test_a_compiled_graph_calls_the_wavefront_once_whatever_the_length():
    """The loop over anti-diagonals stays inside the ops: the traced graph does not grow with N + M."""
    small, large = _traced_graphs(3, 4), _traced_graphs(12, 20)
    assert [len(g.graph.nodes) for g in small] == [len(g.graph.nodes) for g in large]
    code = "".join(g.code for g in large)
    assert code.count("seq_similarity.soft_dtw_wavefront(") == 1
    assert code.count("seq_similarity.soft_dtw_wavefront_backward(") == 1


def test_inductor_matches_eager_values_and_gradients():
    torch.manual_seed(0)
    cost = torch.rand(3, 5, 7, requires_grad=True)
    lengths = torch.tensor([5, 3, 1])
    eager = soft_dtw(cost, 0.1, lengths_x=lengths)
    (eager_grad,) = torch.autograd.grad(eager.sum(), cost)
    compiled = torch.compile(lambda c: soft_dtw(c, 0.1, lengths_x=lengths), dynamic=False)(cost)
    (compiled_grad,) = torch.autograd.grad(compiled.sum(), cost)
    torch.testing.assert_close(compiled, eager)
    torch.testing.assert_close(compiled_grad, eager_grad)
