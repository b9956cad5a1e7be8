"""Benchmark the training data path against the training step: samples/s of the loader alone
(directory format, with and without the decoded float16 cache, and WebDataset shards; 0 / 1 / 2
DataLoader workers; and ``--data-on-device``: the split held as tensors, batches by indexing, no
worker) beside the tiny preset's own training samples/s, so one can see whether loading limits
training.

    uv run python bench/data_loading.py            # 192 radar-synth clips of <= 256 frames (cached)
    BENCH_CLIPS=512 uv run python bench/data_loading.py

Items are what training draws: a random 256-frame crop (zero-padded) of every train clip with a
random caption, batched by 32; each configuration reads one warm-up epoch, then one timed epoch
(persistent workers, as in training). The training step is the real ``optimizer_step`` of
``seqclip train`` (default similarity and CPU precision, batch 32) on batches from the loader.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import torch

# bench/ holds scripts named like the packages: import the packages, not the scripts
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE] + [_HERE]
from benchlib import print_table  # noqa: E402

from radar_synth import generate_dataset  # noqa: E402
from radar_text_data import resolve_data, shard_directory  # noqa: E402
from seqclip.config import TrainConfig, default_precision  # noqa: E402
from seqclip.data import EpochSampler, RadarTextDataset  # noqa: E402
from seqclip.training.stream import ShardStream, TrainData  # noqa: E402

BATCH, LENGTH = 32, 256


def _datasets(root: Path, clips: int) -> tuple[Path, Path]:
    directory, shards = root / f"synth-{clips}", root / f"synth-{clips}-shards"
    if not (directory / "manifest.jsonl").is_file():
        generate_dataset(directory, clips, seed=0, workers=2, max_frames=LENGTH)
    if not (shards / "index.json").is_file():
        shard_directory(directory, shards, shard_size=64)
    return directory, shards


def _loader(kind: str, path: Path, workers: int) -> TrainData:
    if kind == "data on device":
        from seqclip.training.device_data import DeviceData

        ds = RadarTextDataset(path, "train", LENGTH, seed=0, order_negatives=True)
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return DeviceData(ds, EpochSampler(len(ds), seed=0), lambda order: order, BATCH, 1, device)
    if kind == "shards":
        stream = ShardStream(resolve_data(path), "train", LENGTH, seed=0, workers=workers, order_negatives=True)
        return TrainData.streamed(stream, BATCH, stream.samples_per_rank(), workers, pin=False)
    cache = path.parent / f"{path.name}-decoded" if kind == "directory + decoded cache" else None
    ds = RadarTextDataset(path, "train", LENGTH, seed=0, order_negatives=True, decoded_cache=cache)
    sampler = EpochSampler(len(ds), seed=0)
    return TrainData.mapped(ds, sampler, sampler, BATCH, 1, workers, pin=False)


def loader_rate(kind: str, path: Path, workers: int) -> float:
    data = _loader(kind, path, workers)
    for _ in data.batches(0, 0):  # warm-up epoch: workers started, page cache warm
        pass
    t0, n = time.perf_counter(), 0
    for batch in data.batches(1, 0):
        n += len(batch["captions"])
    return n / (time.perf_counter() - t0)


def step_rate(directory: Path, steps: int = 5) -> float:
    """samples/s of ``optimizer_step`` (what ``seqclip train`` runs per step) on real batches."""
    from rich.console import Console

    from seqclip.distributed import DistContext
    from seqclip.training.loop import optimizer_step
    from seqclip.training.setup import setup

    with tempfile.TemporaryDirectory() as out:
        cfg = TrainConfig(
            data=str(directory), out=out, batch_size=BATCH, clip_length=LENGTH, workers=0, device="cpu", eval_test=False
        )
        r = setup(cfg, Console(quiet=True), DistContext.single())
        batches = list(zip(range(steps + 1), r.train_data.batches(0, 0), strict=False))
        optimizer_step(r, [batches[0][1]])  # warm-up
        t0 = time.perf_counter()
        for _, batch in batches[1:]:
            optimizer_step(r, [batch])
        r.logger.close()
        return steps * BATCH / (time.perf_counter() - t0)


def main() -> None:
    clips = int(os.environ.get("BENCH_CLIPS", "192"))
    root = Path(os.environ.get("BENCH_OUT", "bench_out")) / "data_loading"
    directory, shards = _datasets(root, clips)
    print(
        f"{clips} clips (train split: {len(RadarTextDataset(directory, 'train'))}), batch {BATCH} x {LENGTH} frames; "
        f"torch {torch.__version__}, {os.cpu_count()} CPU cores, {torch.get_num_threads()} torch threads"
    )
    train = step_rate(directory)
    rows = []
    for kind, path in (
        ("directory", directory),
        ("directory + decoded cache", directory),
        ("shards", shards),
        ("data on device", directory),
    ):
        for workers in (0, 1, 2) if kind != "data on device" else (0,):
            rate = loader_rate(kind, path, workers)
            rows.append([kind, workers, rate, rate / train])
    rows.append([f"training step (tiny, temporal, {default_precision('cpu')})", "-", train, 1.0])
    print_table("data loading vs the training step", ["source", "workers", "samples/s", "x training"], rows)


if __name__ == "__main__":
    main()
