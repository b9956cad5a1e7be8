"""``seqclip train --data-on-device``: a dataset directory's training split decoded once and held as
one float16 tensor per view on the training device (pinned host memory when it does not fit), with
crops, padding, masks, captions, order negatives and the sampler done by indexing in the training
process: no loader worker on the hot path. For the same seed it yields exactly the batches of the
DataLoader path (``stream.TrainData.mapped``), batch by batch."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from radar_text_data import BadClipError
from radar_text_data.source import DataLocation
from radar_views import VIEW_NAMES

from ..batches import Batch
from ..data import SKIP_BAD_HINT, EpochSampler, RadarTextDataset, collate_text, draw_crop, item_text

__all__ = ["DeviceData", "bytes_per_clip", "fits_on_device", "host_available_bytes", "FREE_MEMORY_SHARE"]

FREE_MEMORY_SHARE = 0.5  # the views may take this share of the free memory (the rest: the model, activations)


def bytes_per_clip(frames: int, bins: int) -> int:
    """Memory one clip takes on the device: ``bins`` rows of all views x ``frames`` frames, float16."""
    return 2 * bins * frames


@dataclass
class _Clips:
    """The split held in memory: ``views`` per name ``[N, bins, T_max]`` float16 (zero past each clip's
    end), ``frames [N]``, and ``usable [N]`` (False: a bad clip left out by ``--skip-bad``)."""

    views: dict[str, Tensor]
    frames: np.ndarray
    usable: np.ndarray

    @property
    def nbytes(self) -> int:
        return sum(v.numel() * v.element_size() for v in self.views.values())


def _read_clips(ds: RadarTextDataset) -> _Clips:
    """Every clip of ``ds`` decoded once (through its decoded cache when it has one) into tensors
    allocated up front from the manifest's frame counts (widened if a clip is longer), on the host."""
    n = len(ds)
    records = [ds.source.records[i] for i in ds.indices]
    width = max((r.num_frames or 0) for r in records)
    views: dict[str, Tensor] = {}
    frames, usable = np.zeros(n, dtype=int), np.zeros(n, dtype=bool)
    for i in range(n):
        try:
            arrays = ds.source.load(ds.indices[i])
        except BadClipError as err:
            if not ds.skip_bad:
                raise BadClipError(f"{err}{SKIP_BAD_HINT}") from err
            continue
        frames[i], usable[i] = arrays[VIEW_NAMES[0]].shape[-1], True
        for name in VIEW_NAMES:
            if name not in views or views[name].shape[-1] < frames[i]:  # first clip, or a longer one
                views[name] = _widened(views.get(name), n, arrays[name].shape[0], max(width, frames[i]))
            views[name][i, :, : frames[i]] = torch.from_numpy(np.asarray(arrays[name], dtype=np.float16))
    if not views:
        raise BadClipError(f"{ds.location.spec}: no usable clip in split {ds.split!r}")
    return _Clips(views, frames, usable)


def _widened(store: Tensor | None, n: int, bins: int, frames: int) -> Tensor:
    """``store [n, bins, T]`` zero-padded to ``frames`` (a new zero store when there is none)."""
    wider = torch.zeros(n, bins, frames, dtype=torch.float16)  # [N, bins, T_max]
    if store is not None:
        wider[:, :, : store.shape[-1]] = store
    return wider


class DeviceData:
    """An epoch's micro-batches of ``batch_size`` clips for this rank, from a batch position, as
    ``TrainData`` gives them; the views live on ``device`` (or in pinned host memory: ``where``)."""

    def __init__(
        self,
        ds: RadarTextDataset,
        sampler: EpochSampler,
        rank_order: Callable[[list[int]], list[int]],
        batch_size: int,
        world_size: int,
        device: torch.device,
    ) -> None:
        self.dataset, self.sampler, self.rank_order = ds, sampler, rank_order
        self.batch_size, self.global_batch, self.device = batch_size, batch_size * world_size, device
        self.samples_per_rank = len(ds) // world_size
        clips = _read_clips(ds)
        self.frames, self.usable, self.nbytes = clips.frames, clips.usable, clips.nbytes
        self.where = _placement(clips.nbytes, device)
        self.views = {
            k: v.to(device) if self.where == "device" else v.pin_memory() if self.where == "pinned" else v
            for k, v in clips.views.items()
        }
        self.records = [ds.source.records[i] for i in ds.indices]
        self.positions = [ds.positions[i] for i in ds.indices]

    def describe(self) -> str:
        """Where the views are and what they take (one line for the run's start)."""
        n, longest = len(self.frames), int(self.frames.max())
        place = {
            "device": f"on {self.device}",
            "pinned": f"in pinned host memory (they do not fit in "
            f"{FREE_MEMORY_SHARE:.0%} of {self.device}'s free memory)",
            "host": "in host memory",
        }[self.where]
        return (
            f"--data-on-device: {n} training clips, up to {longest} frames, {self.nbytes / 2**20:.1f} MiB of "
            f"float16 views {place} ({self.nbytes / n * 1000 / 2**20:.0f} MiB per 1,000 clips of this length)"
        )

    def batches(self, epoch: int, batch_position: int) -> Iterator[Batch]:
        self.sampler.set_epoch(epoch, start=batch_position * self.global_batch)
        order = self.rank_order(self.sampler.order()[self.sampler.start :])
        for first in range(0, len(order) - self.batch_size + 1, self.batch_size):  # the last partial batch is dropped
            yield self.batch(epoch, order[first : first + self.batch_size])

    def batch(self, epoch: int, indices: list[int]) -> Batch:
        """The batch of items ``indices`` (``collate`` of ``RadarTextDataset`` items, bad clips counted)."""
        good = [i for i in indices if self.usable[i]]
        batch: Batch = {"skipped": len(indices) - len(good)}
        if not good:
            return batch
        draws = [self._draw(epoch, i) for i in good]  # (start, frames kept, caption) per item
        ds = self.dataset
        items = [
            item_text(self.records[i], self.positions[i], pick, ds.positives, ds.order_negatives)
            for i, (_, _, pick) in zip(good, draws, strict=True)
        ]
        return collate_text(items, self._add_views(batch, good, draws))

    def _draw(self, epoch: int, i: int) -> tuple[int, int, int]:
        """Item ``i``'s crop start, frames kept and caption, drawn as ``data.make_item`` draws them."""
        rng = np.random.default_rng([self.dataset.seed, epoch, self.positions[i]])
        return draw_crop(rng, int(self.frames[i]), self.dataset.length, len(self.records[i].captions))

    def _add_views(self, batch: Batch, good: list[int], draws: list[tuple[int, int, int]]) -> Batch:
        """``batch`` with the crops ``[b, bins, L]`` (float32, zero past the frames kept; on the training
        device) and the mask ``[b, L]`` (on the host), by indexing."""
        store = self.views[VIEW_NAMES[0]].device
        idx = torch.tensor(good, device=store)
        start = torch.tensor([s for s, _, _ in draws], device=store)[:, None]  # [b, 1]
        keep = torch.tensor([k for _, k, _ in draws], device=store)[:, None]
        steps = torch.arange(self.dataset.length, device=store)[None]  # [1, L]
        mask = steps < keep  # [b, L]
        frames = (start + steps).clamp_max(self.views[VIEW_NAMES[0]].shape[-1] - 1)  # [b, L]
        for name in VIEW_NAMES:
            views = self.views[name]
            rows = torch.arange(views.shape[1], device=store)[None, :, None]  # [1, bins, 1]
            taken = views[idx[:, None, None], rows, frames[:, None, :]]  # [b, bins, L]: only the frames taken
            batch[name] = torch.where(mask[:, None], taken.float(), 0.0).to(self.device, non_blocking=True)
        # the mask stays on the host, as the DataLoader's: SeqClip.prepare drops an all-True one without a device read
        batch["mask"] = torch.arange(self.dataset.length)[None] < torch.tensor([k for _, k, _ in draws])[:, None]
        return batch


def fits_on_device(data: DataLocation, device: torch.device) -> bool:
    """Whether ``seqclip train`` holds the data on the device when not told: a dataset directory whose
    manifest gives every training clip's frames, and views that fit in ``FREE_MEMORY_SHARE`` of the
    free memory: the card's on CUDA, the host's on a CPU (every local process holds its own copy). On
    a CPU this takes the loader worker off the cores the step computes on."""
    if device.type not in ("cuda", "cpu") or data.kind != "directory":
        return False
    from radar_text_data import VIEW_BINS, read_manifest

    frames = [r.num_frames for r in read_manifest(data.root) if r.split == "train"]
    if not frames or None in frames:
        return False
    nbytes = len(frames) * bytes_per_clip(max(frames), sum(VIEW_BINS.values()))
    if device.type == "cuda":
        return _placement(nbytes, device) == "device"
    free = host_available_bytes()
    return free is not None and nbytes * int(os.environ.get("LOCAL_WORLD_SIZE", "1")) <= FREE_MEMORY_SHARE * free


def host_available_bytes() -> int | None:
    """Host memory available to new allocations: Linux's ``MemAvailable``, else the free physical
    pages; None where neither is known."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024  # kB
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _placement(nbytes: int, device: torch.device) -> str:
    """``device`` when the views fit in ``FREE_MEMORY_SHARE`` of its free memory, else ``pinned``; ``host`` on a CPU."""
    if device.type != "cuda":
        return "host"
    free, _ = torch.cuda.mem_get_info(device)
    return "device" if nbytes <= FREE_MEMORY_SHARE * free else "pinned"
