"""Batched soft-DTW (Cuturi & Blondel, 2017) on precomputed cost matrices.

The forward pass runs the anti-diagonal wavefront over every pair at once; cells of one
anti-diagonal are stored contiguously (``[diagonal, pair, row]``), so each step reads three
contiguous slices of the two previous diagonals. The backward pass is the expected-alignment
recursion of the paper, reusing the soft-min weights saved by the forward pass, so it costs
three multiply-adds per cell and no exponentials.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["soft_dtw", "SoftDTWFunction"]


def _skew_index(n: int, m: int, device: torch.device) -> tuple[Tensor, Tensor, Tensor]:
    """Index map between a row-major [n, m] matrix and anti-diagonal storage [n+m+1, n+2].

    Cell (i, j) (1-based) lives at diagonal d = i + j, slot i. Returns the flat cost index of
    every storage slot (0 where the slot is outside the matrix), the validity mask of the slots,
    and, for every matrix cell, its flat index into the storage.
    """
    d = torch.arange(n + m + 1, device=device)[:, None]  # [D, 1]
    i = torch.arange(n + 2, device=device)[None, :]  # [1, W]
    j = d - i
    valid = (i >= 1) & (i <= n) & (j >= 1) & (j <= m)  # [D, W]
    flat = torch.where(valid, (i - 1) * m + (j - 1), torch.zeros_like(j))
    ii = torch.arange(1, n + 1, device=device)[:, None]
    jj = torch.arange(1, m + 1, device=device)[None, :]
    storage = (ii + jj) * (n + 2) + ii  # [n, m] -> flat index into [D, W]
    return flat, valid, storage


class SoftDTWFunction(torch.autograd.Function):
    """Autograd function: cost [P, n, m] (n <= m), lengths [P] -> soft-DTW values [P]."""

    @staticmethod
    def forward(ctx, cost: Tensor, len_x: Tensor, len_y: Tensor, gamma: float) -> Tensor:
        p, n, m = cost.shape
        dev, dt = cost.device, cost.dtype
        num_diag, width = n + m + 1, n + 2
        flat, _, storage = _skew_index(n, m, dev)
        # skewed cost: [D, P, W], one contiguous block per anti-diagonal
        skewed = cost.reshape(p, n * m)[:, flat.reshape(-1)].reshape(p, num_diag, width)
        # the recursion runs in units of gamma (R / gamma), which saves four multiplies per step
        skewed = skewed.transpose(0, 1).mul(1.0 / gamma).contiguous()

        r = torch.full((num_diag, p, width), float("inf"), device=dev, dtype=dt)
        r[0, :, 0] = 0.0
        need_grad = ctx.needs_input_grad[0]
        if need_grad:
            # soft-min weights of each cell's three predecessors (diag, up, left), +2 spare diagonals
            w = torch.zeros((3, num_diag + 2, p, width), device=dev, dtype=dt)
        for d in range(2, num_diag):
            lo, hi = max(1, d - m), min(n, d - 1)
            r_diag = r[d - 2, :, lo - 1 : hi]  # (i-1, j-1)
            r_up = r[d - 1, :, lo - 1 : hi]  # (i-1, j)
            r_left = r[d - 1, :, lo : hi + 1]  # (i, j-1)
            rmin = torch.minimum(torch.minimum(r_diag, r_up), r_left)
            e_diag = torch.exp(rmin - r_diag)
            e_up = torch.exp(rmin - r_up)
            e_left = torch.exp(rmin - r_left)
            total = e_diag + e_up + e_left  # >= 1: the minimum contributes exp(0)
            out = r[d, :, lo : hi + 1]
            torch.add(skewed[d, :, lo : hi + 1], rmin, out=out)
            out.sub_(torch.log(total))
            if need_grad:
                torch.div(e_diag, total, out=w[0, d, :, lo : hi + 1])
                torch.div(e_up, total, out=w[1, d, :, lo : hi + 1])
                torch.div(e_left, total, out=w[2, d, :, lo : hi + 1])
        pairs = torch.arange(p, device=dev)
        values = r[len_x + len_y, pairs, len_x] * gamma  # [P]
        if need_grad:
            ctx.save_for_backward(w, len_x, len_y, storage)
            ctx.shape = (p, n, m)
        return values

    @staticmethod
    def backward(ctx, grad_out: Tensor):
        w, len_x, len_y, storage = ctx.saved_tensors
        p, n, m = ctx.shape
        num_diag, width = n + m + 1, n + 2
        e = torch.zeros((num_diag + 2, p, width), device=w.device, dtype=w.dtype)
        pairs = torch.arange(p, device=w.device)
        e[len_x + len_y, pairs, len_x] = grad_out.to(w.dtype)  # the pair's terminal cell
        for d in range(num_diag - 1, 1, -1):
            lo, hi = max(1, d - m), min(n, d - 1)
            acc = e[d, :, lo : hi + 1]
            acc.addcmul_(e[d + 1, :, lo + 1 : hi + 2], w[1, d + 1, :, lo + 1 : hi + 2])
            acc.addcmul_(e[d + 1, :, lo : hi + 1], w[2, d + 1, :, lo : hi + 1])
            acc.addcmul_(e[d + 2, :, lo + 1 : hi + 2], w[0, d + 2, :, lo + 1 : hi + 2])
        e = e[:num_diag].transpose(0, 1).reshape(p, num_diag * width)  # [P, D*W]
        grad_cost = e[:, storage.reshape(-1)].reshape(p, n, m)
        return grad_cost, None, None, None


def _lengths(lengths: Tensor | int | None, full: int, batch: torch.Size, name: str, device) -> Tensor:
    if lengths is None:
        return torch.full(batch, full, dtype=torch.long, device=device)
    t = torch.as_tensor(lengths, device=device)
    if t.dtype.is_floating_point or t.dtype == torch.bool:
        raise ValueError(f"{name} must hold integers, got dtype {t.dtype}")
    t = torch.broadcast_to(t.long(), batch)
    if t.numel() and (int(t.min()) < 1 or int(t.max()) > full):
        raise ValueError(f"{name} must lie in [1, {full}], got values in [{int(t.min())}, {int(t.max())}]")
    return t


def soft_dtw(
    cost: Tensor,
    gamma: float = 0.1,
    lengths_x: Tensor | int | None = None,
    lengths_y: Tensor | int | None = None,
) -> Tensor:
    """Soft-DTW value of every cost matrix in a batch.

    ``cost`` is ``[..., N, M]``; ``lengths_x`` / ``lengths_y`` (broadcastable to ``[...]``) are
    the true lengths of each pair, so the alignment ends at cell ``(len_x, len_y)`` and the
    cost beyond it is never read. Returns ``[...]``, differentiable with respect to ``cost``.
    ``gamma`` > 0 is the smoothing; ``gamma -> 0`` gives hard DTW.
    """
    if not isinstance(cost, Tensor) or cost.dim() < 2:
        raise ValueError(f"cost must be a tensor [..., N, M], got {getattr(cost, 'shape', type(cost))}")
    if not gamma > 0:
        raise ValueError(f"gamma must be > 0, got {gamma}")
    *batch, n, m = cost.shape
    if n == 0 or m == 0:
        raise ValueError(f"cost must have N, M >= 1, got [{n}, {m}]")
    batch = torch.Size(batch)
    lx = _lengths(lengths_x, n, batch, "lengths_x", cost.device).reshape(-1)
    ly = _lengths(lengths_y, m, batch, "lengths_y", cost.device).reshape(-1)
    in_dtype = cost.dtype
    c = cost.reshape(-1, n, m)
    if c.dtype not in (torch.float32, torch.float64):
        c = c.float()
    if n > m:  # soft-DTW is symmetric under transposition; keep the stored diagonals short
        c, lx, ly = c.transpose(1, 2), ly, lx
    if c.shape[0] == 0:
        return cost.new_zeros(batch)
    values = SoftDTWFunction.apply(c.contiguous(), lx, ly, float(gamma))
    return values.reshape(batch).to(in_dtype)
