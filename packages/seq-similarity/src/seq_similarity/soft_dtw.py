"""Batched soft-DTW (Cuturi & Blondel, 2017) on precomputed cost matrices.

The forward pass runs the anti-diagonal wavefront over every pair at once; cells of one
anti-diagonal are stored contiguously (``[diagonal, pair, row]``), so each step reads three
contiguous slices of the two previous diagonals. The backward pass is the expected-alignment
recursion of the paper, reusing the soft-min weights saved by the forward pass, so it costs
three multiply-adds per cell and no exponentials.
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor

from .masking import require

__all__ = ["soft_dtw", "SoftDTWFunction", "BACKENDS"]

BACKENDS = ("auto", "torch", "triton")
_TRITON_BROKEN: list[str] = []  # why the kernel failed in this process ("auto" then uses torch)


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


def _unskewed(e: Tensor, n: int, m: int) -> Tensor:
    """The row-major ``[P, n, m]`` matrices of anti-diagonal storage ``e [P, rows >= D, n + 2]`` (or its
    flat ``[P, rows * (n + 2)]``)."""
    _, _, storage = _skew_index(n, m, e.device)
    return e.reshape(e.shape[0], -1)[:, storage.reshape(-1)].reshape(-1, n, m)


class SoftDTWFunction(torch.autograd.Function):
    """Autograd function: cost [P, n, m] (n <= m), lengths [P], gamma, backend -> soft-DTW values [P]."""

    @staticmethod
    def forward(ctx, cost: Tensor, len_x: Tensor, len_y: Tensor, gamma: float, backend: str = "torch") -> Tensor:
        p, n, m = cost.shape
        need_grad = ctx.needs_input_grad[0]
        if backend == "triton":
            from .soft_dtw_triton import soft_dtw_forward

            r, w = soft_dtw_forward(cost, gamma, need_grad)
            values = r[torch.arange(p, device=cost.device), len_x + len_y, len_x] * gamma  # [P]
        else:
            values, w = torch.ops.seq_similarity.soft_dtw_wavefront(cost, len_x, len_y, gamma, need_grad)
        if need_grad:
            ctx.save_for_backward(w, len_x, len_y)
            ctx.shape, ctx.backend, ctx.dtype = (p, n, m), backend, cost.dtype
        return values.to(cost.dtype)

    @staticmethod
    def backward(ctx, grad_out: Tensor):
        w, len_x, len_y = ctx.saved_tensors
        _, n, m = ctx.shape
        if ctx.backend == "triton":
            from .soft_dtw_triton import soft_dtw_backward

            e = soft_dtw_backward(w, (len_x + len_y, len_x), grad_out, n, m)  # [P, D + 2, W]
            grad_cost = _unskewed(e, n, m)
        else:
            grad_cost = torch.ops.seq_similarity.soft_dtw_wavefront_backward(w, len_x, len_y, grad_out, n, m)
        return grad_cost.to(ctx.dtype), None, None, None, None


# The torch wavefront as two custom ops: torch.compile keeps each as one call in its graph instead of
# unrolling the loop over the N + M anti-diagonals (unrolled on a CPU, a [2, 16, 31] cost compiles in
# minutes; as ops, in seconds).
@torch.library.custom_op("seq_similarity::soft_dtw_wavefront", mutates_args=())
def _wavefront(cost: Tensor, len_x: Tensor, len_y: Tensor, gamma: float, need_grad: bool) -> tuple[Tensor, Tensor]:
    """``(values [P], soft-min weights [3, D + 2, P, W])`` of ``cost [P, n, m]``; the weights are empty
    without ``need_grad``."""
    r, w = _forward_torch(cost, gamma, need_grad)
    values = r[len_x + len_y, torch.arange(cost.shape[0], device=cost.device), len_x] * gamma  # [P]
    return values, w if w is not None else cost.new_empty(0)


@_wavefront.register_fake
def _wavefront_fake(cost: Tensor, len_x: Tensor, len_y: Tensor, gamma: float, need_grad: bool) -> tuple[Tensor, Tensor]:
    p, n, m = cost.shape
    return cost.new_empty(p), cost.new_empty((3, n + m + 3, p, n + 2) if need_grad else (0,))


@torch.library.custom_op("seq_similarity::soft_dtw_wavefront_backward", mutates_args=())
def _wavefront_backward(w: Tensor, len_x: Tensor, len_y: Tensor, grad_out: Tensor, n: int, m: int) -> Tensor:
    """The gradient ``[P, n, m]`` of the values with respect to the cost."""
    return _unskewed(_backward_torch(w, len_x, len_y, grad_out, n, m), n, m)  # from [P, D * W]


@_wavefront_backward.register_fake
def _wavefront_backward_fake(w: Tensor, len_x: Tensor, len_y: Tensor, grad_out: Tensor, n: int, m: int) -> Tensor:
    return w.new_empty((w.shape[2], n, m))


def _forward_torch(cost: Tensor, gamma: float, need_grad: bool) -> tuple[Tensor, Tensor | None]:
    """The wavefront over every pair at once: ``r [D, P, W]`` (units of gamma) and the soft-min
    weights ``[3, D + 2, P, W]`` (diag, up, left)."""
    p, n, m = cost.shape
    dev, dt = cost.device, cost.dtype
    num_diag, width = n + m + 1, n + 2
    flat, _, _ = _skew_index(n, m, dev)
    # skewed cost: [D, P, W], one contiguous block per anti-diagonal
    skewed = cost.reshape(p, n * m)[:, flat.reshape(-1)].reshape(p, num_diag, width)
    # the recursion runs in units of gamma (R / gamma), which saves four multiplies per step
    skewed = skewed.transpose(0, 1).mul(1.0 / gamma).contiguous()
    r = torch.full((num_diag, p, width), float("inf"), device=dev, dtype=dt)
    r[0, :, 0] = 0.0
    w = torch.zeros((3, num_diag + 2, p, width), device=dev, dtype=dt) if need_grad else None
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
        # copies into views (not out= on strided views, which torch.compile cannot trace); the same values
        r[d, :, lo : hi + 1].copy_(skewed[d, :, lo : hi + 1] + rmin - torch.log(total))
        if w is not None:
            w[0, d, :, lo : hi + 1].copy_(e_diag / total)
            w[1, d, :, lo : hi + 1].copy_(e_up / total)
            w[2, d, :, lo : hi + 1].copy_(e_left / total)
    return r, w


def _backward_torch(w: Tensor, len_x: Tensor, len_y: Tensor, grad_out: Tensor, n: int, m: int) -> Tensor:
    """The expected alignment, skewed and flattened per pair: ``[P, D * W]``."""
    p = w.shape[2]
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
    return e[:num_diag].transpose(0, 1).reshape(p, num_diag * width)


def _lengths(lengths: Tensor | int | None, full: int, batch: torch.Size, name: str, device) -> Tensor:
    if lengths is None:
        return torch.full(batch, full, dtype=torch.long, device=device)
    t = torch.as_tensor(lengths, device=device)
    if t.dtype.is_floating_point or t.dtype == torch.bool:
        raise ValueError(f"{name} must hold integers, got dtype {t.dtype}")
    t = torch.broadcast_to(t.long(), batch)
    require(
        ((t >= 1) & (t <= full)).all(),
        lambda: f"{name} must lie in [1, {full}], got values in [{int(t.min())}, {int(t.max())}]",
    )
    return t


def soft_dtw(
    cost: Tensor,
    gamma: float = 0.1,
    lengths_x: Tensor | int | None = None,
    lengths_y: Tensor | int | None = None,
    backend: str = "auto",
) -> Tensor:
    """Soft-DTW value of every cost matrix in a batch.

    ``cost`` is ``[..., N, M]``; ``lengths_x`` / ``lengths_y`` (broadcastable to ``[...]``) are
    the true lengths of each pair, so the alignment ends at cell ``(len_x, len_y)`` and the
    cost beyond it is never read. Returns ``[...]``, differentiable with respect to ``cost``.
    ``gamma`` > 0 is the smoothing; ``gamma -> 0`` gives hard DTW. ``backend``: ``torch`` (the
    wavefront, the reference), ``triton`` (the fused kernel; on CPU only under
    ``TRITON_INTERPRET=1``) or ``auto`` (triton for CUDA tensors when triton is installed).
    Accumulation is float32 for half-precision costs (float64 for float64).
    """
    if not isinstance(cost, Tensor) or cost.dim() < 2:
        raise ValueError(f"cost must be a tensor [..., N, M], got {getattr(cost, 'shape', type(cost))}")
    if not gamma > 0:
        raise ValueError(f"gamma must be > 0, got {gamma}")
    *dims, n, m = cost.shape
    if n == 0 or m == 0:
        raise ValueError(f"cost must have N, M >= 1, got [{n}, {m}]")
    batch = torch.Size(dims)
    lx = _lengths(lengths_x, n, batch, "lengths_x", cost.device).reshape(-1)
    ly = _lengths(lengths_y, m, batch, "lengths_y", cost.device).reshape(-1)
    chosen = _backend(backend, cost)
    in_dtype = cost.dtype
    c = cost.reshape(-1, n, m)
    if c.dtype not in (torch.float32, torch.float64) and chosen == "torch":
        c = c.float()  # the kernel reads half-precision costs as they are and accumulates in float32
    if n > m:  # soft-DTW is symmetric under transposition; keep the stored diagonals short
        c, lx, ly = c.transpose(1, 2), ly, lx
    if c.shape[0] == 0:
        return cost.new_zeros(batch)
    if torch.compiler.is_compiling():  # inside a compiled graph: no fallback (the try would split the graph)
        return SoftDTWFunction.apply(c.contiguous(), lx, ly, float(gamma), chosen).reshape(batch).to(in_dtype)
    try:
        values = SoftDTWFunction.apply(c.contiguous(), lx, ly, float(gamma), chosen)
    except Exception as err:  # noqa: BLE001 - a kernel that fails to build must not stop training
        if backend != "auto" or chosen != "triton":
            raise
        _TRITON_BROKEN.append(f"{type(err).__name__}: {err}")
        warnings.warn(
            f"soft_dtw: the Triton kernel failed ({_TRITON_BROKEN[0][:200]}); using the torch wavefront from now on",
            RuntimeWarning,
            stacklevel=2,
        )
        values = SoftDTWFunction.apply(
            c.float().contiguous() if c.dtype not in (torch.float32, torch.float64) else c.contiguous(),
            lx,
            ly,
            float(gamma),
            "torch",
        )
    return values.reshape(batch).to(in_dtype)


def _backend(name: str, cost: Tensor) -> str:
    if name not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {name!r}")
    if name != "auto":
        return name
    if not cost.is_cuda or _TRITON_BROKEN:
        return "torch"
    try:
        import triton  # noqa: F401
    except ImportError:
        return "torch"
    return "triton"
