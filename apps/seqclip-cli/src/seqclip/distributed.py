"""Devices and distributed training on torch.distributed (DDP): launched by ``torchrun`` (or ``seqclip train
--nproc N``, which runs torchrun). nccl on CUDA, gloo on CPU; rank 0 logs and checkpoints.
``resolve_device`` picks the device of a single process (auto: CUDA when present)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import nullcontext

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import Sampler

from .errors import UserError

__all__ = ["DistContext", "ShardedSampler", "resolve_device"]


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("device: cuda asked, and no CUDA device is available")
    return torch.device(name)


class ShardedSampler(Sampler[int]):
    """Rank ``r`` of ``w`` takes positions ``r, r + w, ...`` of the base sampler's order, so one global
    batch of ``w x b`` is split across ranks (what DistributedSampler does, but resumable)."""

    def __init__(self, base: Sampler[int], rank: int, world: int) -> None:
        self.base, self.rank, self.world = base, rank, world

    def __iter__(self) -> Iterator[int]:
        return iter(list(self.base)[self.rank :: self.world])

    def __len__(self) -> int:
        return len(range(self.rank, len(self.base), self.world))


class DistContext:
    """Rank, world size and device of this process, and the few collectives training needs."""

    def __init__(self, rank: int, world_size: int, device: torch.device, initialized: bool) -> None:
        self.rank, self.world_size, self.device, self.initialized = rank, world_size, device, initialized

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def single(cls) -> DistContext:
        return cls(0, 1, torch.device("cpu"), False)

    @classmethod
    def from_env(cls, device: str = "auto") -> DistContext:
        """Join the process group torchrun describes (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_*)."""
        world = int(os.environ.get("WORLD_SIZE", "1"))
        use_cuda = torch.cuda.is_available() and device != "cpu"
        if world == 1:
            return cls(0, 1, torch.device("cuda" if use_cuda else "cpu"), False)
        local = int(os.environ.get("LOCAL_RANK", "0"))
        if use_cuda:
            torch.cuda.set_device(local)
        dist.init_process_group("nccl" if use_cuda else "gloo")
        return cls(dist.get_rank(), world, torch.device(f"cuda:{local}" if use_cuda else "cpu"), True)

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        if not self.initialized:
            return model
        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids)

    def shard(self, sampler: Sampler[int]) -> Sampler[int]:
        return sampler if self.world_size == 1 else ShardedSampler(sampler, self.rank, self.world_size)

    def min_across_ranks(self, n: int) -> int:
        """The smallest ``n`` over all ranks."""
        if not self.initialized:
            return n
        t = torch.tensor([n], device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MIN)
        return int(t.item())

    def no_sync(self, model: torch.nn.Module, last: bool):
        """DDP's ``no_sync`` for all but the ``last`` backward of an accumulation group."""
        if last or not isinstance(model, DistributedDataParallel):
            return nullcontext()
        return model.no_sync()

    def barrier(self) -> None:
        if self.initialized:
            dist.barrier()

    def broadcast_object(self, obj):
        if not self.initialized:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def close(self) -> None:
        if self.initialized:
            dist.destroy_process_group()
