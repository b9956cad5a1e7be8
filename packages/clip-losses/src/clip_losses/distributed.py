"""Cross-device negatives: gathering features across the ranks of a process group."""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_fn
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
        return torch.cat(dist_fn.all_gather(x.contiguous()), dim=0)
    parts = [torch.empty_like(x) for _ in range(size)]
    dist.all_gather(parts, x.detach().contiguous())
    parts[rank] = x  # keep this rank's graph
    return torch.cat(parts, dim=0)
