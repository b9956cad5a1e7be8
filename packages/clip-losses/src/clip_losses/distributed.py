"""Cross-device negatives: gathering features across the ranks of a process group."""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor

__all__ = ["world", "gather_features", "gather_no_grad"]


def world() -> tuple[int, int]:
    """``(rank, world_size)`` of the default process group, ``(0, 1)`` outside one."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def gather_no_grad(x: Tensor) -> Tensor:
    """Concatenate ``x`` from every rank along dim 0, without gradient (e.g. sample ids)."""
    _, size = world()
    if size == 1:
        return x
    parts = [torch.empty_like(x) for _ in range(size)]
    dist.all_gather(parts, x.contiguous())
    return torch.cat(parts, dim=0)


class _AllGatherWithGrad(torch.autograd.Function):
    """All-gather whose backward sums every rank's gradient for this rank's slice (public
    collectives only; ``torch.distributed.nn.functional.all_gather`` is deprecated)."""

    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:
        rank, size = world()
        parts = [torch.empty_like(x) for _ in range(size)]
        dist.all_gather(parts, x.contiguous())
        ctx.rows = (rank * x.shape[0], (rank + 1) * x.shape[0])
        return torch.cat(parts, dim=0)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        grad = grad.contiguous().clone()
        dist.all_reduce(grad)  # sum over ranks: each rank's loss depends on every slice
        return grad[ctx.rows[0] : ctx.rows[1]]


def gather_features(x: Tensor, gather_with_grad: bool) -> Tensor:
    """Concatenate features from every rank along dim 0 (equal local batch sizes).

    ``gather_with_grad``: gradients flow back to every rank's features (summed across ranks).
    Otherwise only this rank's slice carries gradient, the other ranks' are constants
    (OpenCLIP's default).
    """
    rank, size = world()
    if size == 1:
        return x
    if gather_with_grad:
        return _AllGatherWithGrad.apply(x)
    parts = [torch.empty_like(x) for _ in range(size)]
    dist.all_gather(parts, x.detach().contiguous())
    parts[rank] = x  # keep this rank's graph
    return torch.cat(parts, dim=0)
