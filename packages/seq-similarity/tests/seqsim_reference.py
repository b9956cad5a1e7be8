"""Slow, obviously-correct per-pair references for the fast paths (kept in the tests)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def soft_dtw_dp(cost: torch.Tensor, gamma: float) -> torch.Tensor:
    """Plain O(N*M) soft-DTW recursion on one [N, M] cost; differentiable through autograd."""
    n, m = cost.shape
    inf = torch.tensor(math.inf, dtype=cost.dtype)
    r = [[inf] * (m + 1) for _ in range(n + 1)]
    r[0][0] = torch.zeros((), dtype=cost.dtype)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            prev = torch.stack([r[i - 1][j - 1], r[i - 1][j], r[i][j - 1]])
            r[i][j] = cost[i - 1, j - 1] - gamma * torch.logsumexp(-prev / gamma, dim=0)
    return r[n][m]


def hard_dtw_dp(cost: list[list[float]]) -> float:
    n, m = len(cost), len(cost[0])
    r = [[math.inf] * (m + 1) for _ in range(n + 1)]
    r[0][0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            r[i][j] = cost[i - 1][j - 1] + min(r[i - 1][j - 1], r[i - 1][j], r[i][j - 1])
    return r[n][m]


def _valid(x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Tokens of one sequence [L, d] whose mask is True, in order."""
    return x if mask is None else x[mask.bool()]


def _windows(n: int, size: int, stride: int) -> list[tuple[int, int]]:
    """Window spans for a sequence of n tokens, written out rule by rule."""
    spans = [(0, min(size, n))]
    start = stride
    while start < n:
        end = start + size
        if end <= n:
            spans.append((start, end))
        elif start - stride + size < n:  # the previous window missed a tail
            spans.append((start, n))
        start += stride
    return spans


def pair_similarity(sim, kind: str, r: torch.Tensor, t: torch.Tensor, rm=None, tm=None) -> torch.Tensor:
    """One logit for radar r [Lr, d] and text t [Lt, d], from the module's parameters."""
    rv, tv = _valid(r, rm), _valid(t, tm)
    tau = sim.temperature
    if kind == "global":
        a = F.normalize(sim.global_proj(rv.mean(0)), dim=-1)
        b = F.normalize(sim.global_proj(tv.mean(0)), dim=-1)
        return (a * b).sum() / tau
    if kind == "local":
        size, stride = sim.window_size, sim.window_stride
        best = -math.inf
        for rs, re in _windows(len(rv), size, stride):
            a = F.normalize(sim.local_proj(rv[rs:re].mean(0)), dim=-1)
            for ts, te in _windows(len(tv), size, stride):
                b = F.normalize(sim.local_proj(tv[ts:te].mean(0)), dim=-1)
                best = max(best, float((a * b).sum()))
        return torch.tensor(best / tau)
    if kind == "attention":
        ra = sim.attention(rv[None], rv[None], rv[None], need_weights=False)[0][0]
        ta = sim.attention(tv[None], tv[None], tv[None], need_weights=False)[0][0]
        attended = []
        for a in range(len(ra)):
            w = torch.softmax(ta @ ra[a] / math.sqrt(ra.shape[-1]), dim=0)
            attended.append((w[:, None] * ta).sum(0))
        mean_att = torch.stack(attended).mean(0)
        return F.cosine_similarity(ra.mean(0), mean_att, dim=0) / tau
    if kind == "temporal":
        rp = F.normalize(sim.temporal_proj(rv), dim=-1)
        tp = F.normalize(sim.temporal_proj(tv), dim=-1)
        cost = 1.0 - rp.double() @ tp.double().T
        value = soft_dtw_dp(cost, sim.gamma)
        return (-value / max(len(rv), len(tv)) / tau).float()
    raise ValueError(kind)


def assert_ragged_parity(soft_dtw_fn, n: int, m: int, p: int, gamma: float, seed: int, atol: float) -> None:
    """``soft_dtw_fn(cost, gamma, lx, ly)`` on random costs with per-pair lengths against the DP on each
    pair's cropped cost: values, and gradients of a weighted sum (exactly zero beyond the lengths)."""
    g = torch.Generator().manual_seed(seed)
    cost = (torch.rand(p, n, m, generator=g, dtype=torch.float64) * 2).requires_grad_()
    lx = torch.randint(1, n + 1, (p,), generator=g)
    ly = torch.randint(1, m + 1, (p,), generator=g)
    weights = torch.rand(p, generator=g, dtype=torch.float64)
    got = soft_dtw_fn(cost, gamma, lx, ly)
    (got * weights).sum().backward()
    fast_grad = cost.grad.clone()
    cost.grad = None
    want = torch.stack([soft_dtw_dp(cost[k, : lx[k], : ly[k]], gamma) for k in range(p)])
    (want * weights).sum().backward()
    torch.testing.assert_close(got, want, atol=atol, rtol=0)
    torch.testing.assert_close(fast_grad, cost.grad, atol=atol, rtol=0)
