import math

import pytest
import torch
import torch.nn.functional as F
from cliploss_reference import clip as ref_clip
from cliploss_reference import siglip as ref_siglip
from hypothesis import given
from hypothesis import strategies as st

from clip_losses import ClipLoss, LogitScale, SigLipLoss, clip_loss, loss_from_logits, siglip_loss


def feats(b, d=8, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    r = F.normalize(torch.randn(b, d, generator=g, dtype=dtype), dim=-1)
    t = F.normalize(torch.randn(b, d, generator=g, dtype=dtype), dim=-1)
    return r, t


@pytest.mark.parametrize("b", [1, 2, 7, 64])
def test_losses_match_plain_formulas(b):
    r, t = feats(b, seed=b)
    assert abs(float(clip_loss(r, t, 14.0)) - ref_clip(r.tolist(), t.tolist(), 14.0)) < 1e-6
    assert abs(float(siglip_loss(r, t, 10.0, -10.0)) - ref_siglip(r.tolist(), t.tolist(), 10.0, -10.0)) < 1e-6
    # the modules outside a process group are the functional losses
    assert abs(float(ClipLoss()(r, t, 14.0)) - float(clip_loss(r, t, 14.0))) < 1e-12
    assert abs(float(SigLipLoss()(r, t, 10.0, -10.0)) - float(siglip_loss(r, t, 10.0, -10.0))) < 1e-12


@pytest.mark.parametrize("b", [2, 7, 64])
def test_multi_positive_matches_plain_formulas(b):
    r, t = feats(b, seed=100 + b)
    ids = torch.randint(0, max(1, b // 2), (b,), generator=torch.Generator().manual_seed(b))
    got = float(clip_loss(r, t, 14.0, sample_ids=ids))
    assert abs(got - ref_clip(r.tolist(), t.tolist(), 14.0, ids.tolist())) < 1e-6
    got = float(siglip_loss(r, t, 10.0, -10.0, sample_ids=ids))
    assert abs(got - ref_siglip(r.tolist(), t.tolist(), 10.0, -10.0, ids.tolist())) < 1e-6


def test_unique_ids_are_the_standard_loss():
    r, t = feats(9)
    ids = torch.arange(9) * 3
    assert torch.allclose(clip_loss(r, t, 20.0, sample_ids=ids), clip_loss(r, t, 20.0))
    assert torch.allclose(siglip_loss(r, t, 5.0, -2.0, sample_ids=ids), siglip_loss(r, t, 5.0, -2.0))


def test_two_captions_of_one_clip_are_not_negatives():
    """Clip 0 appears twice with its own caption: without ids the loss pushes their cross logit
    down (a negative), with ids it pulls it up (a positive)."""
    r, t = feats(5)
    for kind in ("infonce", "siglip"):
        logits = (14.0 * r @ t.T).requires_grad_()
        loss_from_logits(logits, kind).backward()
        assert logits.grad[0, 4] > 0
        logits.grad = None
        loss_from_logits(logits, kind, sample_ids=torch.tensor([0, 1, 2, 3, 0])).backward()
        assert logits.grad[0, 4] < 0 and logits.grad[4, 0] < 0


def test_loss_from_logits_on_logits():
    r, t = feats(5)
    logits = 14.0 * r @ t.T
    torch.testing.assert_close(loss_from_logits(logits), clip_loss(r, t, 14.0))
    torch.testing.assert_close(loss_from_logits(logits, "siglip", logit_bias=-3.0), siglip_loss(r, t, 14.0, -3.0))
    with pytest.raises(ValueError, match="square"):
        loss_from_logits(logits[:, :3])
    with pytest.raises(ValueError, match="kind"):
        loss_from_logits(logits, "triplet")
    with pytest.raises(ValueError, match="sample_ids"):
        loss_from_logits(logits, sample_ids=torch.arange(4))


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_low_precision_is_upcast(dtype):
    r, t = feats(16, dtype=torch.float32)
    for loss in (clip_loss(r.to(dtype), t.to(dtype), 100.0), siglip_loss(r.to(dtype), t.to(dtype), 100.0, -10.0)):
        assert loss.dtype == torch.float32
        assert torch.isfinite(loss)
    assert abs(float(clip_loss(r.to(dtype), t.to(dtype), 14.0)) - float(clip_loss(r, t, 14.0))) < 0.05


@pytest.mark.parametrize("b", [1, 8])
def test_no_nan_at_max_scale_with_identical_features(b):
    r = F.normalize(torch.ones(b, 8), dim=-1).requires_grad_()
    for loss in (clip_loss(r, r, 100.0), siglip_loss(r, r, 100.0, -10.0)):
        loss.backward()
        assert torch.isfinite(loss.detach()) and torch.isfinite(r.grad).all()
        r.grad = None


def test_logit_scale():
    s = LogitScale(init=1 / 0.07, max_scale=100.0)
    assert math.isclose(float(s().detach()), 1 / 0.07, rel_tol=1e-6)
    with torch.no_grad():
        s.log_scale.fill_(10.0)
    assert float(s().detach()) == 100.0
    s.clamp_()
    assert math.isclose(float(s.log_scale.detach()), math.log(100.0), rel_tol=1e-6)
    with pytest.raises(ValueError, match="init"):
        LogitScale(init=200.0, max_scale=100.0)


def test_bad_feature_shapes():
    with pytest.raises(ValueError, match="features"):
        clip_loss(torch.randn(3, 4), torch.randn(3, 5), 1.0)


@given(b=st.integers(1, 12), d=st.integers(2, 16), seed=st.integers(0, 2**16), scale=st.floats(1.0, 100.0))
def test_properties(b, d, seed, scale):
    r, t = feats(b, d, seed)
    perm = torch.randperm(b, generator=torch.Generator().manual_seed(seed))
    for fn in (lambda x, y: clip_loss(x, y, scale), lambda x, y: siglip_loss(x, y, scale, -scale / 2)):
        base = fn(r, t)
        assert float(base) >= 0
        torch.testing.assert_close(fn(r[perm], t[perm]), base)  # the pairing, not the order, matters
    torch.testing.assert_close(clip_loss(t, r, scale), clip_loss(r, t, scale))  # symmetric
    # perfect alignment with well separated samples: loss near its minimum (0)
    eye = torch.eye(max(b, d), dtype=torch.float64)[:b, :d] if b <= d else None
    if eye is not None:
        assert float(clip_loss(eye, eye, 100.0)) < 1e-6
        assert float(siglip_loss(eye, eye, 100.0, -50.0)) < 1e-6 * b + 1e-6


def _reference_with_negatives(logits, negatives, kind, bias=0.0):
    """Plain loops: radar row i against its texts and the extra negatives (target: text i alone);
    text column j against the radar rows only (negatives are never queries)."""
    b, m = len(logits), len(negatives[0]) if negatives else 0
    if kind == "infonce":
        loss_r = 0.0
        for i in range(b):
            row = list(logits[i]) + list(negatives[i])
            loss_r += -(row[i] - math.log(sum(math.exp(x) for x in row)))
        loss_t = 0.0
        for j in range(b):
            col = [logits[i][j] for i in range(b)]
            loss_t += -(col[j] - math.log(sum(math.exp(x) for x in col)))
        return (loss_r / b + loss_t / b) / 2
    total = 0.0
    for i in range(b):
        for j in range(b):
            z = 1.0 if i == j else -1.0
            total += math.log1p(math.exp(-z * (logits[i][j] + bias)))
        for k in range(m):
            total += math.log1p(math.exp(negatives[i][k] + bias))  # label -1: never a positive
    return total / b


@given(b=st.integers(1, 6), m=st.integers(1, 5), seed=st.integers(0, 1000), kind=st.sampled_from(["infonce", "siglip"]))
def test_order_negatives_are_extra_radar_to_text_negatives_only(b, m, seed, kind):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(b, b, generator=g, dtype=torch.float64) * 3
    negatives = torch.randn(b, m, generator=g, dtype=torch.float64) * 3
    bias = -2.0 if kind == "siglip" else None
    got = float(loss_from_logits(logits, kind, logit_bias=bias, negative_logits=negatives))
    want = _reference_with_negatives(logits.tolist(), negatives.tolist(), kind, bias or 0.0)
    assert abs(got - want) < 1e-9
    # a negative pushed out with -1e9 contributes nothing: the same as leaving it out
    cut = negatives.clone()
    cut[:, -1] = -1e9
    fewer = negatives[:, :-1] if m > 1 else None
    assert (
        abs(
            float(loss_from_logits(logits, kind, logit_bias=bias, negative_logits=cut))
            - float(loss_from_logits(logits, kind, logit_bias=bias, negative_logits=fewer))
        )
        < 1e-9
    )


def test_order_negatives_through_the_modules_equal_the_functional_loss():
    r, t = feats(5, seed=3)
    neg = F.normalize(torch.randn(3, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(4)), dim=-1)
    negative = r @ neg.T * 14.0
    want = float(loss_from_logits(r @ t.T * 14.0, "infonce", negative_logits=negative))
    assert abs(float(ClipLoss()(r, t, 14.0, negative_logits=negative)) - want) < 1e-12
    want = float(loss_from_logits(r @ t.T * 10.0, "siglip", logit_bias=-10.0, negative_logits=r @ neg.T * 10.0))
    assert abs(float(SigLipLoss()(r, t, 10.0, -10.0, negative_logits=r @ neg.T * 10.0)) - want) < 1e-12


def test_old_names_are_gone():
    import clip_losses

    r, t = feats(4)
    with pytest.raises(ValueError, match="kind must be 'infonce' or 'siglip'"):
        loss_from_logits(14.0 * r @ t.T, "clip")
    with pytest.raises(AttributeError):
        clip_losses.sequence_loss  # noqa: B018


@pytest.mark.parametrize("kind", ["infonce", "siglip"])
def test_absent_entries_are_neither_positives_nor_negatives(kind):
    """A sparse matrix: the loss over the present entries equals the loss with the absent ones'
    logits pushed to minus infinity by hand, and all present is the dense loss."""
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(5, 5, dtype=torch.float64, generator=g) * 3
    ids = torch.tensor([0, 1, 1, 2, 3])
    present = torch.rand(5, 5, generator=g) > 0.4
    present |= torch.eye(5, dtype=torch.bool)  # every row and column keeps its own positive
    present[1, 2] = False  # a positive (same id) that is absent: not a positive any more
    dense = loss_from_logits(logits, kind, logit_bias=-1.0, sample_ids=ids)
    assert torch.equal(
        loss_from_logits(logits, kind, logit_bias=-1.0, sample_ids=ids, present=torch.ones(5, 5, dtype=torch.bool)),
        dense,
    )
    sparse = loss_from_logits(logits, kind, logit_bias=-1.0, sample_ids=ids, present=present)
    pushed = logits.masked_fill(~present, -1e30)
    mask = (ids[:, None] == ids[None, :]) & present
    if kind == "infonce":
        want = (
            -(torch.log_softmax(pushed, 1)[mask] / mask.sum(1, keepdim=True).expand_as(mask)[mask]).sum() / 5 / 2
            - (torch.log_softmax(pushed.T, 1)[mask.T] / mask.T.sum(1, keepdim=True).expand_as(mask)[mask.T]).sum()
            / 5
            / 2
        )
    else:
        z = torch.where(mask, 1.0, -1.0).double()
        want = -(torch.nn.functional.logsigmoid(z * (logits - 1.0))[present]).sum() / 5
    assert abs(float(sparse) - float(want)) < 1e-9


def test_the_losses_read_nothing_from_the_device_and_a_row_without_positive_is_named():
    from torch.utils._python_dispatch import TorchDispatchMode

    from clip_losses import softmax_targets

    class Syncs(TorchDispatchMode):
        count = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            Syncs.count += func in (torch.ops.aten._local_scalar_dense.default, torch.ops.aten.nonzero.default)
            return func(*args, **(kwargs or {}))

    r, t = torch.randn(4, 8, requires_grad=True), torch.randn(4, 8, requires_grad=True)
    ids = torch.tensor([0, 0, 1, 2])
    with Syncs():
        for kind in ("infonce", "siglip"):
            loss_from_logits(r @ t.T, kind, sample_ids=ids, logit_bias=torch.tensor(-1.0)).backward()
    assert Syncs.count == 0
    with pytest.raises(ValueError, match="every row needs at least one positive"):
        softmax_targets(torch.tensor([[True, False], [False, False]]))
