"""Training data as the loop consumes it: ``TrainData`` over a map-style split (directory or indexed
shards read in place) or ``ShardStream`` (shards streamed, split by rank and loader worker, seeded
per epoch, resumable), each giving an epoch's micro-batches from a batch position."""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from radar_text_data import BadClipError, decode_clip
from radar_text_data.source import DataLocation
from radar_text_data.stream import (
    DEFAULT_SHUFFLE_BUFFER,
    Slot,
    rank_sizes,
    stream_slot,
    worker_sizes,
    worker_skip,
)

from ..batches import BadClip, Batch, Item
from ..data import EpochSampler, LoaderView, RadarTextDataset, bad_clip_item, collate, make_item, pinned
from ..errors import UserError

__all__ = ["ShardStream", "TrainData", "default_workers"]


def default_workers(local_world: int = 1) -> int:
    """Loader workers per process when ``--workers`` is not given: one per spare core, at most 4."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(0, min(4, cores // max(1, local_world) - 1))


class ShardStream(IterableDataset):
    """One split of shards, streamed: rank ``rank`` of ``world`` reads its share, each of its
    ``workers`` loader workers a part of that (``radar_text_data.stream``); items as
    ``RadarTextDataset`` makes them (crop and caption seeded by ``(seed, epoch, position)``), bad clips
    as None with ``skip_bad``. ``set_epoch(epoch, start)`` (shared with persistent workers): the
    epoch, and how many of this rank's samples were already used (resume)."""

    def __init__(
        self,
        location: DataLocation,
        split: str,
        length: int,
        seed: int,
        rank: int = 0,
        world: int = 1,
        workers: int = 0,
        skip_bad: bool = False,
        positives: str = "same_clip",
        order_negatives: bool = False,
        shuffle: bool = True,
        buffer: int = DEFAULT_SHUFFLE_BUFFER,
    ) -> None:
        self.shards, self.split = location.shards(split), split
        if not self.shards:
            raise UserError(f"{location.spec}: no shards of split {split!r}")
        self.length, self.seed, self.rank, self.world = length, seed, rank, world
        self.workers, self.skip_bad, self.shuffle, self.buffer = max(1, workers), skip_bad, shuffle, buffer
        self.positives, self.order_negatives = positives, order_negatives
        self._epoch, self._start = mp.Value("q", 0), mp.Value("q", 0)

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        self._epoch.value, self._start.value = epoch, start

    @property
    def total(self) -> int | None:
        """Samples in the split (None without an index)."""
        counts = [s.samples for s in self.shards]
        return None if any(c is None for c in counts) else sum(c or 0 for c in counts)

    def samples_per_rank(self) -> int | None:
        """Samples every rank reads in an epoch (the smallest rank's share), None without an index."""
        return None if self.total is None else min(rank_sizes(self.total, self.world))

    def __iter__(self) -> Iterator[Item | BadClip | None]:
        info = get_worker_info()
        slot = Slot(self.rank, self.world, info.id if info else 0, self.workers)
        epoch, start = self._epoch.value, self._start.value
        # without counts the workers are assumed to take turns to the end (exact until one runs dry)
        sizes = worker_sizes(self.total, slot) if self.total is not None else [start + 1] * slot.workers
        skip = worker_skip(start, sizes, slot.worker)
        for raw in stream_slot(
            self.shards,
            self.split,
            slot,
            seed=self.seed,
            epoch=epoch,
            shuffle=self.shuffle,
            buffer=self.buffer,
            skip=skip,
        ):
            try:
                arrays = decode_clip(raw.npz, f"{raw.where}.npz")
            except BadClipError as err:
                yield None if self.skip_bad else bad_clip_item(err)
                continue
            rng = np.random.default_rng([self.seed, epoch, raw.position])
            yield make_item(arrays, raw.record, raw.position, rng, self.length, self.positives, self.order_negatives)


def _as_numpy(item: Item | BadClip | None) -> dict[str, object] | None:
    """Runs in the worker: arrays travel through the worker queue pickled, which for ~1 MB items is
    several times cheaper than a shared-memory segment per tensor (``_as_tensors`` turns them back)."""
    return None if item is None else {k: v.numpy() if isinstance(v, Tensor) else v for k, v in item.items()}


def _as_tensors(item: dict[str, object] | None) -> Item | BadClip | None:
    """An item of ``_as_numpy`` as it was: its arrays as tensors."""
    if item is None:
        return None
    return cast(Item | BadClip, {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in item.items()})


def _own_generator() -> torch.Generator:
    """The loader's own generator: starting workers then draws their base seed from it, not from
    the global RNG, whose stream (dropout) must not depend on when loaders start (exact resume).
    Items draw nothing from torch's RNG: crops and captions are seeded by (seed, epoch, position)."""
    return torch.Generator().manual_seed(0)


@dataclass
class TrainData:
    """An epoch's micro-batches of ``batch_size`` clips for this rank, from a batch position."""

    dataset: RadarTextDataset | ShardStream
    loader: DataLoader
    batch_size: int
    samples_per_rank: int | None
    sampler: EpochSampler | None = None
    global_batch: int = 0
    pin: bool = False

    @classmethod
    def streamed(
        cls, stream: ShardStream, batch_size: int, samples_per_rank: int, workers: int, pin: bool
    ) -> TrainData:
        """Items come one by one from the workers (taking turns, so the order is reproducible) and
        are batched here."""
        loader = DataLoader(
            stream,
            batch_size=None,
            num_workers=workers,
            collate_fn=_as_numpy,
            persistent_workers=workers > 0,
            generator=_own_generator(),
        )
        return cls(stream, loader, batch_size, samples_per_rank, pin=pin)

    @classmethod
    def mapped(
        cls,
        ds: RadarTextDataset,
        sampler: EpochSampler,
        rank_sampler,
        batch_size: int,
        world_size: int,
        workers: int,
        pin: bool,
    ) -> TrainData:
        """``rank_sampler``: this rank's share of ``sampler`` (the sampler itself on one process)."""
        loader = DataLoader(
            LoaderView(ds),
            batch_size=batch_size,
            sampler=rank_sampler,
            collate_fn=collate,
            num_workers=workers,
            drop_last=True,
            pin_memory=pin,
            persistent_workers=workers > 0,
            generator=_own_generator(),
        )
        return cls(ds, loader, batch_size, len(ds) // world_size, sampler, batch_size * world_size, pin)

    def batches(self, epoch: int, batch_position: int) -> Iterator[Batch]:
        if self.sampler is not None:  # map-style: the sampler (main process) carries the epoch
            self.sampler.set_epoch(epoch, start=batch_position * self.global_batch)
            return iter(self.loader)
        if not isinstance(self.dataset, ShardStream):
            raise ValueError("a map-style split needs its sampler")
        self.dataset.set_epoch(epoch, start=batch_position * self.batch_size)
        return _batched(iter(self.loader), self.batch_size, self.pin)


def _batched(items: Iterator[dict[str, object] | None], size: int, pin: bool) -> Iterator[Batch]:
    """Collate consecutive items (``_as_numpy``'s) into batches of ``size`` (a partial last batch is dropped)."""
    buf = []
    for item in items:
        buf.append(_as_tensors(item))
        if len(buf) == size:
            batch = collate(buf)
            buf = []
            yield pinned(batch) if pin else batch
