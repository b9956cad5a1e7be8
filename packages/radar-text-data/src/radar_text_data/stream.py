"""Which samples each (rank, loader worker) reads in an epoch, and the seeded shuffle buffer.

With sample counts (an index), the epoch's shard order (seeded per epoch) is concatenated and cut
into ``world`` contiguous rank ranges, each cut into ``workers`` slot ranges whose sizes differ by
at most one (larger first): every sample is read by exactly one slot, ranks get equal counts within
one sample, and a rank's stream is its workers' streams taken round-robin. Without counts, whole
shards are dealt to the slots (still exactly once, not balanced)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .shards import RawSample, ShardInfo, iter_shard

__all__ = [
    "Slot",
    "shard_order",
    "rank_sizes",
    "worker_sizes",
    "slot_pieces",
    "worker_skip",
    "stream_slot",
    "shuffle_buffer",
    "DEFAULT_SHUFFLE_BUFFER",
]

DEFAULT_SHUFFLE_BUFFER = 256  # samples held per worker (raw bytes, ~ 0.25 MB each)


@dataclass(frozen=True)
class Slot:
    """One reader of an epoch: rank ``rank`` of ``world``, loader worker ``worker`` of ``workers``."""

    rank: int = 0
    world: int = 1
    worker: int = 0
    workers: int = 1

    @property
    def index(self) -> int:
        return self.rank * self.workers + self.worker


def shard_order(num_shards: int, seed: int, epoch: int, shuffle: bool) -> list[int]:
    """The epoch's shard order: a permutation seeded by ``(seed, epoch)``, or the stored order."""
    if not shuffle:
        return list(range(num_shards))
    return [int(i) for i in np.random.default_rng([seed, epoch, 11]).permutation(num_shards)]


def _cut(total: int, parts: int) -> list[int]:
    """Sizes of ``parts`` near-equal pieces of ``total``, larger first."""
    q, rem = divmod(total, parts)
    return [q + (i < rem) for i in range(parts)]


def rank_sizes(total: int, world: int) -> list[int]:
    """Samples each rank reads in an epoch of ``total`` samples."""
    return _cut(total, world)


def worker_sizes(total: int, slot: Slot) -> list[int]:
    """Samples each loader worker of ``slot.rank`` reads."""
    return _cut(rank_sizes(total, slot.world)[slot.rank], slot.workers)


def slot_pieces(shards: Sequence[ShardInfo], order: Sequence[int], slot: Slot) -> list[tuple[int, int, int | None]]:
    """``(shard, first sample, stop)`` pieces the slot reads, in reading order (stop None: to the end)."""
    known = [s.samples for s in shards]
    if any(c is None for c in known):  # no index: deal whole shards
        return [(i, 0, None) for i in order[slot.index :: slot.world * slot.workers]]
    counts = [c for c in known if c is not None]
    total = sum(counts)
    workers = worker_sizes(total, slot)
    lo = sum(rank_sizes(total, slot.world)[: slot.rank]) + sum(workers[: slot.worker])
    hi = lo + workers[slot.worker]
    pieces: list[tuple[int, int, int | None]] = []
    at = 0
    for i in order:
        start, stop = max(lo, at), min(hi, at + counts[i])
        if start < stop:
            pieces.append((i, start - at, stop - at))
        at += counts[i]
    return pieces


def worker_skip(consumed: int, sizes: Sequence[int], worker: int) -> int:
    """How many of ``worker``'s samples are among the first ``consumed`` of the round-robin stream of
    workers with ``sizes`` (non-increasing, differing by at most one)."""
    w = len(sizes)
    full = min(consumed, min(sizes) * w)
    taken = full // w + (worker < full % w)
    return taken + (consumed > full and worker < consumed - full)


def shuffle_buffer(items: Iterator, size: int, rng: np.random.Generator) -> Iterator:
    """A seeded shuffle through a buffer of ``size`` items (``size`` <= 1: the stored order)."""
    buf: list = []
    for item in items:
        if size <= 1:
            yield item
            continue
        if len(buf) < size:
            buf.append(item)
            continue
        j = int(rng.integers(size))
        buf[j], item = item, buf[j]
        yield item
    for j in rng.permutation(len(buf)) if buf else ():
        yield buf[int(j)]


def stream_slot(
    shards: Sequence[ShardInfo],
    split: str | None,
    slot: Slot,
    *,
    seed: int,
    epoch: int,
    shuffle: bool = True,
    buffer: int = DEFAULT_SHUFFLE_BUFFER,
    skip: int = 0,
) -> Iterator[RawSample]:
    """The raw samples ``slot`` reads in ``epoch`` (shuffled through ``buffer``), after the first
    ``skip`` of them (skipped samples are read but never decoded: resuming mid-epoch)."""
    order = shard_order(len(shards), seed, epoch, shuffle)
    pieces = slot_pieces(shards, order, slot)

    def read():
        for i, start, stop in pieces:
            for k, sample in enumerate(iter_shard(shards[i].url, split)):
                if stop is not None and k >= stop:
                    break
                if k >= start:
                    yield sample

    rng = np.random.default_rng([seed, epoch, slot.index, 13])
    for n, sample in enumerate(shuffle_buffer(read(), buffer if shuffle else 1, rng)):
        if n >= skip:
            yield sample
