"""Map-style datasets over one split of a dataset (a directory or indexed shards, read through
radar-text-data), the batch collation, and the resumable epoch sampler."""

from __future__ import annotations

import copy
from collections.abc import Collection, Iterable, Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import cast

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from radar_text_data import (
    FRAME_MULTIPLE,
    MAX_FRAMES,
    BadClipError,
    ClipRecord,
    check_clip_length,
    sequence_id,
    views_angle,
)
from radar_text_data.source import DataLocation, open_split, resolve_data
from radar_views import VIEW_NAMES, crop_or_pad

from .batches import BAD_CLIP, BadClip, Batch, Item, ItemText
from .config import POSITIVES
from .errors import UserError

__all__ = [
    "RadarTextDataset",
    "check_angle_match",
    "EpochSampler",
    "collate",
    "collate_text",
    "pinned",
    "make_item",
    "item_text",
    "draw_crop",
    "twin_pairs",
    "sequence_ids",
    "bad_clip_item",
    "usable_batches",
    "SKIP_BAD_HINT",
    "LoaderView",
]


def check_angle_match(model_angle: str | None, data_angle: str | None, data: str) -> None:
    """``UserError`` naming ``data`` when its clips' third view holds another angle than the one the
    model was trained on (``SeqClipConfig.angle``, ``radar_views.ANGLES``): its figures would mean
    nothing. Either one unknown (None): no check."""
    if model_angle is None or data_angle is None or model_angle == data_angle:
        return
    raise UserError(
        f"{data}: its clips' third view holds {data_angle}, and the model was trained on {model_angle}; "
        f"convert the recordings with --angle {model_angle}, or use a model trained on {data_angle}"
    )


def bad_clip_item(err: BadClipError) -> BadClip:
    """A bad clip as an item: loader workers pass the one-line message on to the main process, which
    raises it (an exception raised in a worker would reach the user as the worker's traceback)."""
    return {"bad_clip": str(err)}


SKIP_BAD_HINT = " (leave bad clips out with --skip-bad)"  # after a bad clip's one line in training


def usable_batches(batches: Iterable[Batch], hint: str = "") -> Iterator[Batch]:
    """``batches`` as they come, raising ``BadClipError`` (one line naming the file, then ``hint``)
    at a bad clip."""
    for batch in batches:
        if BAD_CLIP in batch:
            raise BadClipError(batch[BAD_CLIP] + hint)
        yield batch


def sequence_ids(record: ClipRecord, position: int) -> tuple[int, int]:
    """The ids of the clip's activity sequence and of its reverse (a clip without segments gets
    negative ids of its own, equal to no other clip's)."""
    acts = record.activities
    if not acts:
        return -1 - position, -1 - position
    return sequence_id(acts), sequence_id(acts[::-1])


def draw_crop(rng: np.random.Generator | None, total: int, length: int, captions: int) -> tuple[int, int, int]:
    """An item's crop start, frames kept (``min(total, length)`` to a multiple of ``FRAME_MULTIPLE``)
    and caption: drawn from ``rng`` in that order, or frame 0 and caption 0 without one."""
    keep = min(total, length) // FRAME_MULTIPLE * FRAME_MULTIPLE
    start = int(rng.integers(0, total - keep + 1)) if rng is not None else 0
    return start, keep, int(rng.integers(captions)) if rng is not None else 0


def item_text(record: ClipRecord, position: int, pick: int, positives: str, order_negatives: bool) -> ItemText:
    """An item's caption ``pick``, the clip's ids and, with ``order_negatives``, the order-reversed
    wording of the caption (when the clip has one)."""
    seq, rev = sequence_ids(record, position)
    item: ItemText = {
        "caption": record.captions[pick],
        "index": position,
        "sequence_id": seq,
        "sample_id": seq if positives == "same_activities" else position,
    }
    reverse = record.captions_reversed or ()
    if order_negatives and pick < len(reverse):
        item["caption_reversed"], item["reversed_sequence_id"] = reverse[pick], rev
    return item


def make_item(
    arrays: dict[str, np.ndarray],
    record: ClipRecord,
    position: int,
    rng: np.random.Generator | None,
    length: int,
    positives: str,
    order_negatives: bool,
) -> Item:
    """One training / evaluation item: the views cropped (at a random start when ``rng`` is given,
    else from frame 0) and padded to ``length`` with a mask, and ``item_text``'s caption and ids."""
    start, _, pick = draw_crop(rng, arrays["range_time"].shape[-1], length, len(record.captions))
    views, mask = crop_or_pad(arrays, length=length, multiple=FRAME_MULTIPLE, start=start)
    return {
        "range_time": torch.from_numpy(views.range_time),  # [bins, L]
        "doppler_time": torch.from_numpy(views.doppler_time),
        "azimuth_time": torch.from_numpy(views.azimuth_time),
        "mask": torch.from_numpy(mask),  # [L]
        **item_text(record, position, pick, positives, order_negatives),
    }


class RadarTextDataset(Dataset):
    """One split of a dataset (a directory, a shard directory with ``index.json`` or a shard
    pattern). Items are crops padded to ``length`` frames with a mask and one caption; crop start
    and caption are drawn from ``(seed, epoch, position)``, so a resumed run sees exactly the same
    samples; the epoch comes with the index (``ds[epoch, i]``, as ``EpochSampler`` yields it) so
    persistent loader workers see it. ``train=False``: crop from frame 0 and caption 0. ``exclude``:
    clip ids left out (bad clips found up front with ``--skip-bad``). ``positives``: ``same_clip``
    (captions of one clip are positives of each other) or ``same_activities`` (so are captions of
    clips with the same activity sequence). ``order_negatives``: items of multi-segment clips carry the
    order-reversed wording of their caption (``captions_reversed``) as ``caption_reversed``.
    ``decoded_cache``: a directory where clips of a dataset directory are decoded once (float16,
    memory-mapped; see ``radar_text_data.DecodedCache``). ``item["index"]`` is the clip's position
    in the split (a stable integer); ``record_at(position)`` gives its record."""

    def __init__(
        self,
        data: str | Path | DataLocation,
        split: str,
        length: int = MAX_FRAMES,
        train: bool = True,
        seed: int = 0,
        skip_bad: bool = False,
        exclude: Collection[str] = (),
        positives: str = "same_clip",
        order_negatives: bool = False,
        decoded_cache: str | Path | None = None,
    ) -> None:
        self.location = location = data if isinstance(data, DataLocation) else resolve_data(data)
        self.source = open_split(location, split, exclude, decoded_cache)
        if not len(self.source):
            raise UserError(f"{location.spec}: no usable clips in split {split!r}")
        check_clip_length(length)
        if positives not in POSITIVES:
            raise UserError(f"positives must be one of {POSITIVES}, got {positives!r}")
        self.split, self.length, self.train, self.seed, self.skip_bad = split, length, train, seed, skip_bad
        self.positives, self.order_negatives = positives, order_negatives
        self.indices = list(range(len(self.source)))  # source indices this dataset (or subset) holds
        self.positions = self.source.positions()
        self._source_index = {p: i for i, p in enumerate(self.positions)}  # position -> source index

    @property
    def records(self) -> list[ClipRecord]:
        return [self.source.records[i] for i in self.indices]

    @cached_property
    def angle(self) -> str | None:
        """What the third view of the split's clips holds (``ClipRecord.angle``; ``DataError`` when
        they differ)."""
        return views_angle(self.source.records, f"{self.location.spec} (split {self.split!r})")

    def __len__(self) -> int:
        return len(self.indices)

    def subset(self, indices: Sequence[int]) -> RadarTextDataset:
        """The same dataset restricted to ``indices`` (item indices refer to the subset)."""
        sub = copy.copy(self)
        sub.indices = [self.indices[i] for i in indices]
        return sub

    def record_at(self, position: int) -> ClipRecord:
        """The record of the clip whose ``item["index"]`` is ``position``."""
        return self.source.records[self._source_index[position]]

    def views_at(self, position: int) -> dict[str, np.ndarray]:
        """The full (uncropped) views of the clip whose ``item["index"]`` is ``position``."""
        return self.source.load(self._source_index[position])

    def __getitem__(self, key: int | tuple[int, int]) -> Item | None:
        epoch, index = key if isinstance(key, tuple) else (0, key)
        source_index = self.indices[index]
        try:
            arrays = self.source.load(source_index)
        except BadClipError:
            if self.skip_bad:
                return None
            raise
        position = self.positions[source_index]
        rng = np.random.default_rng([self.seed, epoch, position]) if self.train else None
        return make_item(
            arrays, self.source.records[source_index], position, rng, self.length, self.positives, self.order_negatives
        )


class LoaderView(Dataset):
    """A dataset as loader workers read it: a bad clip becomes ``bad_clip_item`` (raised by
    ``usable_batches`` in the main process) instead of an exception in the worker."""

    def __init__(self, dataset: RadarTextDataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: int | tuple[int, int]) -> Item | BadClip | None:
        try:
            return self.dataset[key]
        except BadClipError as err:
            return bad_clip_item(err)


def collate(items: Sequence[Item | BadClip | None]) -> Batch:
    """Stack items; ``None`` (skipped bad clips) are dropped and counted in ``skipped``; a bad clip's
    message (``bad_clip_item``) makes the batch that message alone (see ``usable_batches``)."""
    good: list[Item] = []
    for it in items:
        if it is None:
            continue
        if BAD_CLIP in it:
            return {"skipped": 0, "bad_clip": it[BAD_CLIP]}
        good.append(it)
    batch: Batch = {"skipped": len(items) - len(good)}
    if not good:
        return batch
    for k in (*VIEW_NAMES, "mask"):
        batch[k] = torch.stack([it[k] for it in good])  # [b, bins, L], mask [b, L]
    return collate_text(good, batch)


def collate_text(good: Sequence[ItemText], batch: Batch) -> Batch:
    """``batch`` with the text side of its items (``item_text``) added: captions, positions, ids and
    order negatives."""
    batch["captions"] = [it["caption"] for it in good]
    batch["positions"] = torch.tensor([it["index"] for it in good])
    batch["sample_ids"] = torch.tensor([it.get("sample_id", it["index"]) for it in good])
    batch["sequence_ids"] = torch.tensor([it.get("sequence_id", -1 - it["index"]) for it in good])
    negatives = [it for it in good if "caption_reversed" in it]
    if negatives:  # extra negative texts of the radar->text direction, never positives or queries
        batch["captions_reversed"] = [it["caption_reversed"] for it in negatives]
        batch["reversed_sequence_ids"] = torch.tensor([it["reversed_sequence_id"] for it in negatives])
    return batch


def pinned(batch: Batch) -> Batch:
    """``batch`` with its tensors in pinned host memory."""
    return cast(Batch, {k: v.pin_memory() if isinstance(v, torch.Tensor) else v for k, v in batch.items()})


class EpochSampler(Sampler[tuple[int, int]]):
    """A seeded permutation per epoch that can start part-way (resume at a batch position); yields
    ``(epoch, index)`` so that items drawn in loader workers know the epoch.

    ``twins`` (pairs of indices) with ``batch``: both members of a pair sit next to each other and
    inside one batch of ``batch`` consecutive positions (a single clip is pulled forward to fill a
    gap a pair does not fit in); the epoch's set of samples is unchanged."""

    def __init__(
        self, size: int, seed: int, shuffle: bool = True, twins: Sequence[tuple[int, int]] = (), batch: int = 1
    ) -> None:
        self.size, self.seed, self.shuffle, self.batch = size, seed, shuffle, batch
        self.twins = [tuple(p) for p in twins]
        self.epoch, self.start = 0, 0

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        self.epoch, self.start = epoch, start

    def order(self) -> list[int]:
        paired = {i for p in self.twins for i in p}
        units = [(i,) for i in range(self.size) if i not in paired] + self.twins
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
            units = [units[u] for u in torch.randperm(len(units), generator=g).tolist()]
        if not self.twins:
            return [i for u in units for i in u]
        return _pack(units, self.batch)

    def __iter__(self):
        return iter([(self.epoch, i) for i in self.order()[self.start :]])

    def __len__(self) -> int:
        return max(0, self.size - self.start)


def _pack(units: list[tuple[int, ...]], batch: int) -> list[int]:
    """Flatten units in order; when a pair would straddle a batch boundary, the next single clip is
    pulled forward to fill the gap (a pair straddles only when no single is left after it)."""
    units, i = list(units), 0
    out: list[int] = []
    while i < len(units):
        if len(units[i]) > batch - len(out) % batch:
            j = next((k for k in range(i + 1, len(units)) if len(units[k]) == 1), None)
            if j is not None:
                units.insert(i, units.pop(j))
        out.extend(units[i])
        i += 1
    return out


def twin_pairs(records: Sequence[ClipRecord]) -> list[tuple[int, int]]:
    """Index pairs of order-swapped twins (``twin_of``) both present in ``records``."""
    where = {r.id: i for i, r in enumerate(records)}
    pairs = {(min(i, where[r.twin_of]), max(i, where[r.twin_of])) for i, r in enumerate(records) if r.twin_of in where}
    return sorted(pairs)
