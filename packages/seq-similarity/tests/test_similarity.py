import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from seqsim_reference import pair_similarity

from seq_similarity import SIMILARITIES, SequenceSimilarity
from seq_similarity.similarity import grid_pays, pair_token_dots

STRATEGIES = ("global", "local", "attention", "temporal")
D = 16


def make(kind="combined", **kw):
    torch.manual_seed(0)
    return SequenceSimilarity(embed_dim=D, similarity=kind, num_heads=4, window_size=4, **kw).eval()


def random_batch(g, b, length, min_valid=1):
    x = torch.randn(b, length, D, generator=g)
    mask = torch.rand(b, length, generator=g) > 0.4
    mask[:, :min_valid] = True
    return x, mask


@pytest.mark.parametrize("kind", STRATEGIES)
def test_entry_equals_pair_alone_against_plain_reference(kind):
    sim = make(kind)
    g = torch.Generator().manual_seed(1)
    r, rm = random_batch(g, 4, 13)
    t, tm = random_batch(g, 3, 9)
    with torch.no_grad():
        got = sim(r, t, rm, tm)
        want = torch.tensor(
            [[float(pair_similarity(sim, kind, r[i], t[j], rm[i], tm[j])) for j in range(3)] for i in range(4)]
        )
    assert got.shape == (4, 3)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind", SIMILARITIES)
@pytest.mark.parametrize("fill", [0.0, 1e4, float("nan")])
def test_padding_is_invisible_whatever_its_values(kind, fill):
    sim = make(kind)
    g = torch.Generator().manual_seed(2)
    r, rm = random_batch(g, 3, 10)
    t, tm = random_batch(g, 5, 6)
    with torch.no_grad():
        base = sim(r, t, rm, tm)
        pad_r = torch.full((3, 7, D), fill)
        pad_t = torch.randn(5, 3, D, generator=g) * 1e3
        r2, rm2 = torch.cat([r, pad_r], 1), torch.cat([rm, torch.zeros(3, 7, dtype=torch.bool)], 1)
        t2, tm2 = torch.cat([pad_t, t], 1), torch.cat([torch.zeros(5, 3, dtype=torch.bool), tm], 1)
        padded = sim(r2, t2, rm2, tm2)
    torch.testing.assert_close(padded, base, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind", SIMILARITIES)
def test_single_valid_token(kind):
    sim = make(kind)
    r = torch.randn(2, 5, D)
    t = torch.randn(3, 4, D)
    rm = torch.zeros(2, 5, dtype=torch.bool)
    rm[:, 2] = True
    tm = torch.zeros(3, 4, dtype=torch.bool)
    tm[:, 0] = True
    with torch.no_grad():
        got = sim(r, t, rm, tm)
        alone = sim(r[:, 2:3], t[:, 0:1])
    assert torch.isfinite(got).all()
    torch.testing.assert_close(got, alone, atol=1e-5, rtol=1e-5)


def test_order_matters_for_temporal_not_global():
    sim = make("combined")
    g = torch.Generator().manual_seed(3)
    r = torch.randn(2, 12, D, generator=g)
    t = torch.randn(2, 12, D, generator=g)
    with torch.no_grad():
        a = sim.similarities(r, t)
        b = sim.similarities(r.flip(1), t)
    assert (a["temporal"] - b["temporal"]).abs().max() > 1e-2
    torch.testing.assert_close(a["global"], b["global"], atol=1e-5, rtol=0)


def test_every_parameter_learns():
    sim = make("combined").train()
    r, t = torch.randn(3, 20, D), torch.randn(4, 7, D)
    logits = sim(r, t)
    torch.nn.functional.cross_entropy(logits, torch.tensor([0, 1, 2])).backward()
    for name, p in sim.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


@pytest.mark.parametrize("kind", STRATEGIES)
def test_chunked_equals_unchunked_values_and_gradients(kind):
    big, small = make(kind), make(kind, max_chunk_elements=64)
    small.load_state_dict(big.state_dict())
    g = torch.Generator().manual_seed(4)
    r, rm = random_batch(g, 6, 11)
    t, tm = random_batch(g, 5, 7)
    grads = []
    outs = []
    for sim in (big, small):
        rr = r.clone().requires_grad_()
        out = sim(rr, t, rm, tm)
        (out * torch.arange(out.numel()).reshape(out.shape)).sum().backward()
        outs.append(out.detach())
        grads.append(rr.grad)
    torch.testing.assert_close(outs[0], outs[1], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(grads[0], grads[1], atol=1e-5, rtol=1e-5)


def test_combined_is_weighted_sum_and_similarities_reports_components():
    sim = make("combined", weights={"global": 2.0, "temporal": -1.0})
    r, t = torch.randn(2, 6, D), torch.randn(3, 5, D)
    with torch.no_grad():
        parts = sim.similarities(r, t)
        assert set(parts) == {"global", "temporal"}
        torch.testing.assert_close(sim(r, t), 2 * parts["global"] - parts["temporal"])


def test_hf_integer_attention_mask_accepted():
    sim = make("global")
    t = torch.randn(2, 4, D)
    tm = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1]])
    with torch.no_grad():
        torch.testing.assert_close(sim(t, t, tm, tm), sim(t, t, tm.bool(), tm.bool()))


@pytest.mark.parametrize(
    "build,match",
    [
        (lambda: SequenceSimilarity(similarity="dtw"), "similarity must be"),
        (lambda: SequenceSimilarity(weights={"globl": 1.0}), "unknown weights"),
        (lambda: SequenceSimilarity(embed_dim=10, num_heads=3), "divisible"),
        (lambda: SequenceSimilarity(temperature=0), "temperature"),
    ],
)
def test_bad_configuration(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_bad_inputs():
    sim = make("global")
    with pytest.raises(ValueError, match="radar_seq must be"):
        sim(torch.randn(4, D), torch.randn(2, 3, D))
    with pytest.raises(ValueError, match="text_mask must have shape"):
        sim(torch.randn(2, 3, D), torch.randn(2, 3, D), text_mask=torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="row 1 has no valid token"):
        sim(torch.randn(2, 3, D), torch.randn(2, 3, D), radar_mask=torch.tensor([[1, 0, 0], [0, 0, 0]]))
    with pytest.raises(ValueError, match="embed_dim"):
        sim(torch.randn(2, 3, 8), torch.randn(2, 3, 8))


@given(
    kind=st.sampled_from(SIMILARITIES),
    br=st.integers(1, 4),
    bt=st.integers(1, 4),
    lr=st.integers(1, 12),
    lt=st.integers(1, 8),
    seed=st.integers(0, 2**16),
)
def test_properties(kind, br, bt, lr, lt, seed):
    """Shape, finiteness, pairwise consistency, mask invariance and permutation equivariance."""
    sim = make(kind)
    g = torch.Generator().manual_seed(seed)
    r, rm = random_batch(g, br, lr)
    t, tm = random_batch(g, bt, lt)
    with torch.no_grad():
        out = sim(r, t, rm, tm)
        assert out.shape == (br, bt)
        assert torch.isfinite(out).all()
        # pairwise: a sub-grid equals the same entries of the full grid
        i, j = br - 1, bt - 1
        torch.testing.assert_close(sim(r[i:], t[j:], rm[i:], tm[j:]), out[i:, j:], atol=1e-5, rtol=1e-5)
        # mask invariance: extra padding with garbage changes nothing
        r2 = torch.cat([r, torch.randn(br, 3, D, generator=g) * 50], 1)
        rm2 = torch.cat([rm, torch.zeros(br, 3, dtype=torch.bool)], 1)
        torch.testing.assert_close(sim(r2, t, rm2, tm), out, atol=1e-5, rtol=1e-5)
        # permuting the text batch permutes the columns
        perm = torch.randperm(bt, generator=g)
        torch.testing.assert_close(sim(r, t[perm], rm, tm[perm]), out[:, perm], atol=1e-5, rtol=1e-5)


def test_the_chunk_budget_follows_free_cuda_memory(monkeypatch):
    from seq_similarity import DEFAULT_CHUNK_ELEMENTS, chunk_elements

    assert chunk_elements(torch.device("cpu")) == DEFAULT_CHUNK_ELEMENTS
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (64 << 30, 80 << 30))  # 64 GiB free
    assert chunk_elements(torch.device("cuda")) == (64 << 30) // 64  # a sixteenth, in float32 elements
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (1 << 20, 80 << 30))  # nearly full
    assert chunk_elements(torch.device("cuda")) == DEFAULT_CHUNK_ELEMENTS


def test_the_names_import_without_torch():
    import subprocess
    import sys

    code = "import sys, seq_similarity.names as n; assert 'torch' not in sys.modules; print(n.SIMILARITIES)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "combined" in out


def test_soft_dtw_is_the_function_whichever_name_is_imported_first():
    import subprocess
    import sys

    code = (
        "import seq_similarity as s; s.SequenceSimilarity; from seq_similarity import soft_dtw; "
        "assert callable(soft_dtw) and callable(s.soft_dtw), soft_dtw"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@given(
    kind=st.sampled_from(SIMILARITIES),
    br=st.integers(1, 4),
    bt=st.integers(1, 4),
    lr=st.integers(1, 12),
    lt=st.integers(1, 8),
    seed=st.integers(0, 2**16),
    data=st.data(),
)
def test_pair_similarities_are_the_grids_entries(kind, br, bt, lr, lt, seed, data):
    """Each pair's logit equals the full grid's entry, component by component, chunked or not."""
    g = torch.Generator().manual_seed(seed)
    r, rm = random_batch(g, br, lr)
    t, tm = random_batch(g, bt, lt)
    rows = torch.tensor(data.draw(st.lists(st.integers(0, br - 1), min_size=1, max_size=7)))
    cols = torch.tensor(data.draw(st.lists(st.integers(0, bt - 1), min_size=len(rows), max_size=len(rows))))
    with torch.no_grad():
        for chunk in (None, 1):  # 1: one pair per chunk
            sim = make(kind, max_chunk_elements=chunk)
            grid = sim.similarities(r, t, rm, tm)
            pairs = sim.pair_similarities(r, t, rows, cols, rm, tm)
            assert pairs.keys() == grid.keys()
            for name in grid:
                torch.testing.assert_close(pairs[name], grid[name][rows, cols], atol=1e-5, rtol=1e-5)
            torch.testing.assert_close(
                sim.pair_logits(r, t, rows, cols, rm, tm), sim(r, t, rm, tm)[rows, cols], atol=1e-5, rtol=1e-5
            )


@pytest.mark.parametrize("kind", STRATEGIES)
def test_pair_gradients_are_the_grids(kind):
    g = torch.Generator().manual_seed(1)
    r, rm = random_batch(g, 3, 9)
    t, tm = random_batch(g, 4, 6)
    rows, cols = torch.tensor([0, 2, 2, 1]), torch.tensor([3, 0, 3, 1])
    weights = torch.randn(4, generator=g)
    grads = []
    for use_pairs, chunk in ((False, None), (True, None), (True, 1)):
        sim = make(kind, max_chunk_elements=chunk)
        ri, ti = r.clone().requires_grad_(), t.clone().requires_grad_()
        out = sim.pair_logits(ri, ti, rows, cols, rm, tm) if use_pairs else sim(ri, ti, rm, tm)[rows, cols]
        (out * weights).sum().backward()
        grads.append((ri.grad, ti.grad, [p.grad.clone() for p in sim.parameters() if p.grad is not None]))
    for got in grads[1:]:
        torch.testing.assert_close(got[0], grads[0][0], atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(got[1], grads[0][1], atol=1e-5, rtol=1e-4)
        for a, b in zip(got[2], grads[0][2], strict=True):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


def test_pairs_need_one_list_of_each():
    sim = make("global")
    r, t = torch.randn(2, 3, D), torch.randn(2, 3, D)
    with pytest.raises(ValueError, match="rows and cols must be 1-D of one length"):
        sim.pair_similarities(r, t, torch.tensor([0, 1]), torch.tensor([0]))


@given(
    ba=st.integers(1, 5),
    bb=st.integers(1, 5),
    la=st.integers(1, 7),
    lb=st.integers(1, 7),
    seed=st.integers(0, 2**16),
    data=st.data(),
)
def test_pair_token_dots_from_the_grid_equal_the_pairs_one_by_one(ba, bb, la, lb, seed, data):
    """Both ways of ``pair_token_dots`` (the whole grid, gathered pairs) against one matrix product a
    pair, values and gradients, repeated pairs included."""
    g = torch.Generator().manual_seed(seed)
    a, b = torch.randn(ba, la, 8, generator=g), torch.randn(bb, lb, 8, generator=g)
    i = torch.tensor(data.draw(st.lists(st.integers(0, ba - 1), min_size=1, max_size=9)))
    j = torch.tensor(data.draw(st.lists(st.integers(0, bb - 1), min_size=len(i), max_size=len(i))))
    weights = torch.randn(len(i), la, lb, generator=g)
    a_ref, b_ref = a.clone().requires_grad_(), b.clone().requires_grad_()
    ref = torch.stack([a_ref[p] @ b_ref[q].T for p, q in zip(i.tolist(), j.tolist(), strict=True)])  # [P, La, Lb]
    (ref * weights).sum().backward()
    for grid in (True, False):
        ai, bi = a.clone().requires_grad_(), b.clone().requires_grad_()
        out = pair_token_dots(ai, bi, i, j, grid)
        torch.testing.assert_close(out, ref.detach(), atol=1e-5, rtol=1e-5)
        (out * weights).sum().backward()
        torch.testing.assert_close(ai.grad, a_ref.grad, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(bi.grad, b_ref.grad, atol=1e-5, rtol=1e-5)


def test_the_grid_is_scored_only_when_small_next_to_the_pairs_and_within_the_budget():
    assert grid_pays(32, 32, 576, 16 * 48, 1 << 24)  # batch 32, 8 hard negatives a row both ways
    assert not grid_pays(256, 256, 4608, 16 * 48, 1 << 40)  # batch 256: the grid is 14x the pairs
    assert not grid_pays(32, 32, 576, 16 * 48, 1 << 10)  # over the budget
