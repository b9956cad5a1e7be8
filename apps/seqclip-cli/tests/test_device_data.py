"""training/device_data.py: the split held as tensors gives exactly the DataLoader path's batches."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from seqclip_fixtures import FAST_ARGS, toml_base, train_cli

from radar_text_data import BadClipError, write_clip
from radar_text_data.testing import tiny_dataset
from seqclip.data import EpochSampler, RadarTextDataset
from seqclip.distributed import ShardedSampler
from seqclip.training.device_data import DeviceData, bytes_per_clip
from seqclip.training.stream import TrainData

FRAMES = [16, 20, 32, 47, 48, 64, 80, 96, 33, 64, 48, 16, 100, 64, 32, 32, 32, 32]  # crops, pads, odd lengths


@pytest.fixture(scope="module")
def varied(tmp_path_factory):
    return tiny_dataset(
        tmp_path_factory.mktemp("v") / "d",
        n=len(FRAMES),
        frames=FRAMES,
        seed=1,
        splits=["train"] * 14 + ["val"] * 2 + ["test"] * 2,
    )


def _same(got: dict, want: dict) -> None:
    assert got.keys() == want.keys()
    for key, value in want.items():
        if torch.is_tensor(value):
            assert got[key].dtype == value.dtype and torch.equal(got[key], value), key
        else:
            assert got[key] == value, key


def _both(ds, seed, batch, world, rank):
    loader_sampler = EpochSampler(len(ds), seed, batch=batch * world)
    shard = ShardedSampler(loader_sampler, rank, world) if world > 1 else loader_sampler
    loader = TrainData.mapped(ds, loader_sampler, shard, batch, world, workers=0, pin=False)
    device = DeviceData(
        ds,
        EpochSampler(len(ds), seed, batch=batch * world),
        lambda order: order[rank::world],
        batch,
        world,
        torch.device("cpu"),
    )
    return loader, device


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 50),
    length=st.sampled_from([16, 32, 64]),
    batch=st.integers(1, 5),
    positives=st.sampled_from(["same_clip", "same_activities"]),
    order_negatives=st.booleans(),
    world=st.sampled_from([1, 2]),
    rank=st.integers(0, 1),
    epoch=st.integers(0, 2),
    position=st.integers(0, 2),
)
def test_device_batches_are_the_dataloader_batches(
    varied, seed, length, batch, positives, order_negatives, world, rank, epoch, position
):
    rank = min(rank, world - 1)
    ds = RadarTextDataset(
        varied, "train", length, train=True, seed=seed, positives=positives, order_negatives=order_negatives
    )
    loader, device = _both(ds, seed, batch, world, rank)
    want, got = list(loader.batches(epoch, position)), list(device.batches(epoch, position))
    assert len(got) == len(want) == max(0, (len(ds) - position * batch * world) // world // batch)
    for g, w in zip(got, want, strict=True):
        _same(g, w)
    assert device.samples_per_rank == loader.samples_per_rank


def test_bad_clips_are_skipped_as_the_loader_skips_them_or_named_at_once(tmp_path):
    data = tiny_dataset(tmp_path / "d", n=10, frames=32, splits=["train"] * 8 + ["val", "test"])
    clip = {
        k: np.full((b, 32), np.nan, np.float16)
        for k, b in (("range_time", 256), ("doppler_time", 128), ("azimuth_time", 128))
    }
    write_clip(data / "clips" / "c003.npz", clip)
    ds = RadarTextDataset(data, "train", 32, train=True, seed=0, skip_bad=True, order_negatives=True)
    loader, device = _both(ds, 0, 3, 1, 0)
    want, got = list(loader.batches(0, 0)), list(device.batches(0, 0))
    assert sum(b["skipped"] for b in want) == 1
    for g, w in zip(got, want, strict=True):
        _same(g, w)
    strict = RadarTextDataset(data, "train", 32, train=True, seed=0)
    with pytest.raises(BadClipError, match="c003.npz"):
        _both(strict, 0, 3, 1, 0)


def test_the_memory_it_states_is_the_memory_it_holds(varied):
    ds = RadarTextDataset(varied, "train", 32, train=True)
    _, device = _both(ds, 0, 2, 1, 0)
    assert device.nbytes == sum(v.numel() * v.element_size() for v in device.views.values())
    assert device.nbytes == len(ds) * bytes_per_clip(max(FRAMES[:14]), 256 + 128 + 128)
    assert "in host memory" in device.describe() and f"{len(ds)} training clips" in device.describe()


def test_train_with_data_on_device_logs_what_the_loader_path_logs(tmp_path, varied):
    runs = {}
    for flag in ("--no-data-on-device", "--data-on-device"):
        out = tmp_path / flag
        result = train_cli("--data", varied, "--out", out, *FAST_ARGS, *toml_base(tmp_path), "--workers", "0", flag)
        assert result.exit_code == 0, result.output
        runs[flag] = [
            {k: v for k, v in line.items() if k != "samples_per_s"}
            for line in map(__import__("json").loads, (out / "metrics.jsonl").read_text().splitlines())
        ]
    assert runs["--data-on-device"] == runs["--no-data-on-device"] and runs["--data-on-device"]


def test_a_manifest_without_frame_counts_gives_the_same_batches(tmp_path):
    import json

    data = tiny_dataset(
        tmp_path / "d",
        n=10,
        frames=[16, 48, 32, 64, 20, 40, 16, 80, 32, 32],
        seed=3,
        splits=["train"] * 8 + ["val", "test"],
    )
    rows = [json.loads(x) for x in (data / "manifest.jsonl").read_text().splitlines()]
    (data / "manifest.jsonl").write_text("".join(json.dumps({**r, "num_frames": None}) + "\n" for r in rows))
    ds = RadarTextDataset(data, "train", 32, train=True, seed=3, order_negatives=True)
    loader, device = _both(ds, 3, 3, 1, 0)
    for g, w in zip(device.batches(1, 0), loader.batches(1, 0), strict=True):
        _same(g, w)
    assert device.nbytes == len(ds) * bytes_per_clip(80, 512)  # widened to the longest clip as it was read


def test_the_data_is_held_on_the_device_by_default_when_it_fits(varied, tmp_path, monkeypatch):
    import json

    from radar_text_data import resolve_data, shard_directory
    from seqclip.training import device_data
    from seqclip.training.device_data import fits_on_device

    need = 14 * bytes_per_clip(max(FRAMES[:14]), 512)  # the 14 training clips, padded to the longest
    cuda, cpu = torch.device("cuda"), torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (2 * need, 80 << 30))
    monkeypatch.setattr(device_data, "host_available_bytes", lambda: 2 * need)
    assert fits_on_device(resolve_data(varied), cuda) and fits_on_device(resolve_data(varied), cpu)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")  # two CPU processes on this host: two copies
    assert fits_on_device(resolve_data(varied), cuda) and not fits_on_device(resolve_data(varied), cpu)
    monkeypatch.delenv("LOCAL_WORLD_SIZE")
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (2 * need - 1, 80 << 30))
    monkeypatch.setattr(device_data, "host_available_bytes", lambda: 2 * need - 1)
    assert not fits_on_device(resolve_data(varied), cuda)  # more than half the free memory
    assert not fits_on_device(resolve_data(varied), cpu)
    monkeypatch.setattr(device_data, "host_available_bytes", lambda: None)
    assert not fits_on_device(resolve_data(varied), cpu)  # the host's free memory unknown: not guessed
    assert not fits_on_device(resolve_data(varied), torch.device("meta"))
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (1 << 40, 80 << 30))
    shards = tmp_path / "shards"
    shard_directory(varied, shards, shard_size=8)
    assert not fits_on_device(resolve_data(shards), cuda)  # shards are streamed
    unknown = tiny_dataset(tmp_path / "u", n=6, frames=32, splits=["train"] * 4 + ["val", "test"])
    rows = [json.loads(x) for x in (unknown / "manifest.jsonl").read_text().splitlines()]
    (unknown / "manifest.jsonl").write_text("".join(json.dumps({**r, "num_frames": None}) + "\n" for r in rows))
    assert not fits_on_device(resolve_data(unknown), cuda)  # frames not in the manifest: not guessed


def test_on_a_cpu_the_unset_options_resolve_to_todays_defaults_and_are_recorded(tmp_path, varied):
    import tomllib

    from seqclip.config import default_precision

    result = train_cli("--data", varied, "--out", tmp_path / "run", *FAST_ARGS, *toml_base(tmp_path), "--workers", "0")
    assert result.exit_code == 0, result.output
    recorded = tomllib.loads((tmp_path / "run" / "config.toml").read_text())["train"]
    precision = default_precision("cpu")  # bf16 where the CPU has native bf16, else fp32
    assert (recorded["precision"], recorded["data_on_device"], recorded["batch_size"]) == (precision, True, 4)
    assert f"precision {precision}: this CPU has" in " ".join(result.output.split())
