"""Fused soft-DTW in Triton: one program per pair walks every anti-diagonal without returning to
Python (forward and the expected-alignment backward), instead of ~20 small kernels per diagonal.

Same storage and recursion as the torch wavefront in ``soft_dtw.py``: a pair's cells of one
anti-diagonal sit contiguously (slot ``i`` of diagonal ``d = i + j``), the recursion runs in units
of gamma, and the forward saves the soft-min weights of each cell's three predecessors so that the
backward costs three multiply-adds per cell. Accumulation is float32 (float64 for float64 costs)
whatever the input dtype. Used by ``soft_dtw`` for CUDA tensors; tests run it on CPU tensors with
``TRITON_INTERPRET=1``.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

__all__ = ["soft_dtw_forward", "soft_dtw_backward"]


@triton.jit
def _forward_kernel(
    cost_ptr, r_ptr, w_ptr, n, m, num_diag, width, inv_gamma, BLOCK: tl.constexpr, NEED_WEIGHTS: tl.constexpr
):
    pair = tl.program_id(0)
    i = tl.arange(0, BLOCK)  # slot = row index, 1..n are cells
    cost = cost_ptr + pair * n * m
    r = r_ptr + pair * num_diag * width  # [D, W] of this pair, pre-filled with +inf and r[0, 0] = 0
    w = w_ptr + pair * 3 * (num_diag + 2) * width  # [3, D + 2, W] of this pair, pre-filled with 0
    for d in range(2, num_diag):
        j = d - i
        cell = (i >= 1) & (i <= n) & (j >= 1) & (j <= m)
        c = tl.load(cost + (i - 1) * m + (j - 1), mask=cell, other=0.0).to(r_ptr.dtype.element_ty) * inv_gamma
        r_diag = tl.load(r + (d - 2) * width + i - 1, mask=cell, other=float("inf"))  # (i-1, j-1)
        r_up = tl.load(r + (d - 1) * width + i - 1, mask=cell, other=float("inf"))  # (i-1, j)
        r_left = tl.load(r + (d - 1) * width + i, mask=cell, other=float("inf"))  # (i, j-1)
        rmin = tl.minimum(tl.minimum(r_diag, r_up), r_left)
        rmin = tl.where(cell, rmin, 0.0)  # every cell has a finite predecessor; lanes outside stay finite
        e_diag = tl.exp(rmin - r_diag)
        e_up = tl.exp(rmin - r_up)
        e_left = tl.exp(rmin - r_left)
        total = tl.where(cell, e_diag + e_up + e_left, 1.0)  # >= 1 on cells: the minimum contributes exp(0)
        tl.store(r + d * width + i, c + rmin - tl.log(total), mask=cell)
        if NEED_WEIGHTS:
            tl.store(w + d * width + i, e_diag / total, mask=cell)
            tl.store(w + (num_diag + 2 + d) * width + i, e_up / total, mask=cell)
            tl.store(w + (2 * (num_diag + 2) + d) * width + i, e_left / total, mask=cell)
        tl.debug_barrier()  # the next diagonal reads this one


@triton.jit
def _backward_kernel(w_ptr, e_ptr, n, m, num_diag, width, BLOCK: tl.constexpr):
    pair = tl.program_id(0)
    i = tl.arange(0, BLOCK)
    stride = (num_diag + 2) * width
    w = w_ptr + pair * 3 * stride
    e = e_ptr + pair * stride  # [D + 2, W], the terminal cell pre-set to the output gradient
    for k in range(0, num_diag - 2):
        d = num_diag - 1 - k
        j = d - i
        cell = (i >= 1) & (i <= n) & (j >= 1) & (j <= m)
        acc = tl.load(e + d * width + i, mask=cell, other=0.0)
        acc += tl.load(e + (d + 1) * width + i + 1, mask=cell, other=0.0) * tl.load(
            w + stride + (d + 1) * width + i + 1, mask=cell, other=0.0
        )  # down: (i+1, j), via "up"
        acc += tl.load(e + (d + 1) * width + i, mask=cell, other=0.0) * tl.load(
            w + 2 * stride + (d + 1) * width + i, mask=cell, other=0.0
        )  # right: (i, j+1), via "left"
        acc += tl.load(e + (d + 2) * width + i + 1, mask=cell, other=0.0) * tl.load(
            w + (d + 2) * width + i + 1, mask=cell, other=0.0
        )  # diagonal: (i+1, j+1)
        tl.store(e + d * width + i, acc, mask=cell)
        tl.debug_barrier()  # the next (earlier) diagonal reads this one


def _block(n: int) -> int:
    return max(16, triton.next_power_of_2(n + 2))


def soft_dtw_forward(cost: Tensor, gamma: float, need_weights: bool) -> tuple[Tensor, Tensor | None]:
    """``cost [P, n, m]`` (n <= m, contiguous) -> the skewed DP table ``r [P, D, W]`` (in units of gamma,
    D = n + m + 1, W = n + 2) and, with ``need_weights``, the soft-min weights ``[P, 3, D + 2, W]``."""
    p, n, m = cost.shape
    num_diag, width = n + m + 1, n + 2
    acc = torch.float64 if cost.dtype == torch.float64 else torch.float32
    r = torch.full((p, num_diag, width), float("inf"), device=cost.device, dtype=acc)
    r[:, 0, 0] = 0.0
    w = torch.zeros((p, 3, num_diag + 2, width) if need_weights else (1,), device=cost.device, dtype=acc)
    if p:
        _forward_kernel[(p,)](
            cost, r, w, n, m, num_diag, width, 1.0 / gamma, BLOCK=_block(n), NEED_WEIGHTS=need_weights
        )
    return r, (w if need_weights else None)


def soft_dtw_backward(w: Tensor, terminal: tuple[Tensor, Tensor], grad: Tensor, n: int, m: int) -> Tensor:
    """The expected alignment ``e [P, D + 2, W]`` (skewed) from the saved weights; ``terminal``: each
    pair's (diagonal, slot) of its end cell, where ``grad [P]`` enters."""
    p = w.shape[0]
    num_diag, width = n + m + 1, n + 2
    e = torch.zeros((p, num_diag + 2, width), device=w.device, dtype=w.dtype)
    e[torch.arange(p, device=w.device), terminal[0], terminal[1]] = grad.to(w.dtype)
    if p:
        _backward_kernel[(p,)](w, e, n, m, num_diag, width, BLOCK=_block(n))
    return e
