import json
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from radar_text_data import (
    ClipRecord,
    ShardInfo,
    ShardWriter,
    Slot,
    check_dataset,
    decode_clip,
    iter_shard,
    load_clip,
    open_split,
    read_manifest,
    resolve_data,
    shard_directory,
    stream_slot,
    worker_skip,
)
from radar_text_data.stream import rank_sizes, slot_pieces, worker_sizes
from radar_text_data.testing import tiny_dataset


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tiny_dataset(tmp_path_factory.mktemp("d"), n=23, splits=["train"] * 17 + ["val"] * 3 + ["test"] * 3)
    shards = tmp_path_factory.mktemp("s")
    shard_directory(root, shards, shard_size=4)
    return root, shards


def test_sharding_is_deterministic_and_indexed(dataset, tmp_path):
    root, shards = dataset
    again = shard_directory(root, tmp_path / "again", shard_size=4).parent
    names = sorted(p.name for p in shards.iterdir())
    assert names == sorted(p.name for p in again.iterdir())
    assert all((shards / n).read_bytes() == (again / n).read_bytes() for n in names)
    index = json.loads((shards / "index.json").read_text())
    train = index["splits"]["train"]
    assert train["samples"] == 17 and [s["samples"] for s in train["shards"]] == [4, 4, 4, 4, 1]
    assert [s["name"] for s in train["shards"]][:2] == ["train-000000.tar", "train-000001.tar"]
    assert not [p for p in shards.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_shard_samples_are_the_records_and_clips_in_manifest_order(dataset):
    root, shards = dataset
    records = [r for r in read_manifest(root) if r.split == "train"]
    samples = [s for i in range(5) for s in iter_shard(str(shards / f"train-{i:06d}.tar"))]
    assert [s.record for s in samples] == records and [s.position for s in samples] == list(range(17))
    for s, r in zip(samples, records, strict=True):
        np.testing.assert_array_equal(decode_clip(s.npz, s.where)["doppler_time"], load_clip(root, r)["doppler_time"])


@pytest.mark.parametrize("spec", ["dir", "pattern", "pipe"])
def test_random_access_to_a_split_of_shards_equals_the_directory(dataset, spec):
    root, shards = dataset
    location = resolve_data(
        {
            "dir": shards,
            "pattern": f"{shards}/val-{{000000..000000}}.tar::{shards}/train-000004.tar",
            "pipe": f"pipe:cat {shards}/val-000000.tar",
        }[spec]
    )
    assert location.kind == "shards" and location.indexed == (spec == "dir")
    source, reference = open_split(location, "val"), open_split(resolve_data(root), "val")
    assert source.records == reference.records and source.positions() == [0, 1, 2]
    for i in range(len(source)):
        np.testing.assert_array_equal(source.load(i)["range_time"], reference.load(i)["range_time"])


def test_data_specs_that_do_not_resolve_say_why(dataset, tmp_path):
    _, shards = dataset
    with pytest.raises(FileNotFoundError, match=r"5 of 10 shards do not exist \(first: .*train-000005.tar\)"):
        resolve_data(f"{shards}/train-{{000000..000009}}.tar")
    with pytest.raises(FileNotFoundError, match="neither a dataset directory"):
        resolve_data(tmp_path)


def test_check_finds_problems_inside_shards(dataset, tmp_path):
    root, shards = dataset
    assert check_dataset(resolve_data(shards)) == []
    records = read_manifest(root)
    with ShardWriter(tmp_path, shard_size=10) as writer:
        writer.add(records[0], b"not a zip")
        writer.add(records[1], (root / records[1].file).read_bytes())
        val = next(r for r in records if r.split == "val")  # a val clip: an empty val split is a problem too
        writer.add(val, (root / val.file).read_bytes())
    problems = check_dataset(resolve_data(tmp_path))
    assert len(problems) == 1 and f"{tmp_path}/" in problems[0] and ":000000000.npz: unreadable" in problems[0]
    with pytest.raises(ValueError, match="must come in id order"), ShardWriter(tmp_path / "x") as writer:
        writer.add(records[1], b"")
        writer.add(records[0], b"")


def test_a_failed_write_leaves_no_partial_shard(tmp_path, dataset):
    root, _ = dataset
    record = read_manifest(root)[0]
    with pytest.raises(RuntimeError), ShardWriter(tmp_path, shard_size=10) as writer:
        writer.add(record, b"x")
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


counts = st.lists(st.integers(0, 9), min_size=1, max_size=7)


@settings(max_examples=200, deadline=None)
@given(counts=counts, world=st.integers(1, 3), workers=st.integers(1, 3), seed=st.integers(0, 3), indexed=st.booleans())
def test_every_sample_is_read_by_exactly_one_slot(counts, world, workers, seed, indexed):
    shards = [ShardInfo(f"s{i}", c if indexed else None) for i, c in enumerate(counts)]
    order = list(np.random.default_rng(seed).permutation(len(shards)))
    read = Counter()
    for rank in range(world):
        for worker in range(workers):
            for i, start, stop in slot_pieces(shards, order, Slot(rank, world, worker, workers)):
                read.update((i, k) for k in range(start, counts[i] if stop is None else stop))
    assert read == Counter((i, k) for i, c in enumerate(counts) for k in range(c))
    if indexed:
        sizes = rank_sizes(sum(counts), world)
        assert max(sizes) - min(sizes) <= 1
        w = worker_sizes(sum(counts), Slot(0, world, 0, workers))
        assert w == sorted(w, reverse=True) and max(w) - min(w) <= 1


@given(total=st.integers(0, 40), workers=st.integers(1, 4), consumed=st.integers(0, 40))
def test_worker_skip_counts_the_round_robin_stream(total, workers, consumed):
    sizes = worker_sizes(total, Slot(0, 1, 0, workers))
    queues = [list(range(n)) for n in sizes]
    stream = [w for k in range(max(sizes, default=0)) for w in range(workers) if k < sizes[w]]  # workers take turns
    consumed = min(consumed, total)
    for w in range(workers):
        assert worker_skip(consumed, sizes, w) == stream[:consumed].count(w)
    assert sum(map(len, queues)) == total


def test_a_resumed_slot_stream_continues_exactly(dataset):
    _, shards = dataset
    location = resolve_data(shards)
    args = dict(split="train", slot=Slot(0, 1, 0, 1), seed=5, epoch=2, buffer=6)
    full = [s.position for s in stream_slot(location.shards("train"), **args)]
    assert sorted(full) == list(range(17)) and full != list(range(17))  # shuffled, each once
    for skip in (0, 1, 7, 16, 17):
        assert [s.position for s in stream_slot(location.shards("train"), skip=skip, **args)] == full[skip:]
    other = [s.position for s in stream_slot(location.shards("train"), **{**args, "epoch": 3})]
    assert other != full and sorted(other) == sorted(full)


def test_records_from_shards_keep_every_field(dataset):
    root, shards = dataset
    record = next(iter_shard(str(shards / "train-000000.tar"))).record
    assert isinstance(record, ClipRecord) and record == read_manifest(root)[0]
    assert record.captions_reversed is None and record.activities == ("wave",)


def test_the_decoded_cache_gives_the_clip_and_follows_edits(dataset, tmp_path):
    from radar_text_data import VIEW_BINS, clip_arrays, write_clip
    from radar_text_data.source import DirectorySource

    root, _ = dataset
    plain, cached = DirectorySource(root, "val"), DirectorySource(root, "val", cache=tmp_path / "cache")
    for i in range(len(plain)):
        views = cached.load(i)
        assert isinstance(views["range_time"], np.memmap) and views["range_time"].dtype == np.float16
        for k, v in plain.load(i).items():
            np.testing.assert_array_equal(np.asarray(views[k], dtype=np.float32), v)  # float16 values, exactly
    assert len(list((tmp_path / "cache").iterdir())) == len(plain)
    root = tiny_dataset(tmp_path / "d", n=4)  # an edited clip is decoded afresh
    source = DirectorySource(root, "val", cache=tmp_path / "cache2")
    assert source.load(0)["range_time"].shape == (256, 32)
    fresh = clip_arrays({k: np.random.default_rng(9).random((b, 20)) for k, b in VIEW_BINS.items()})
    write_clip(root / source.records[0].file, fresh)
    np.testing.assert_array_equal(np.asarray(source.load(0)["doppler_time"]), fresh["doppler_time"])


def test_check_flags_reversed_captions_that_do_not_reverse_the_caption(tmp_path):
    """The reported fault: a reversed caption that drops one activity and names another."""
    from radar_text_data import reversal_problems, write_manifest

    root = tiny_dataset(tmp_path / "d", n=6)
    records = read_manifest(root)
    multi = next(r for r in records if r.captions_reversed)
    assert reversal_problems(multi) == []
    bad = ClipRecord.from_dict(
        {
            **multi.to_dict(),
            "captions_reversed": [
                "stands still, then waves",
                multi.captions[1].replace("waves, then claps", "claps, then waves"),
            ],
        }
    )
    single = next(r for r in records if not r.captions_reversed)
    lone = ClipRecord.from_dict({**single.to_dict(), "captions_reversed": [single.captions[0]]})
    assert (
        len(reversal_problems(bad)) == 1
        and "captions_reversed[0] does not reverse captions[0]" in reversal_problems(bad)[0]
    )
    assert "needs 2 or more" in reversal_problems(lone)[0]
    write_manifest(root, [bad if r.id == bad.id else lone if r.id == lone.id else r for r in records])
    problems = check_dataset(resolve_data(root))
    assert len(problems) == 2 and all("manifest.jsonl:" in p for p in problems)


def test_check_flags_clips_whose_third_views_hold_different_angles(tmp_path):
    from radar_text_data import write_manifest

    root = tiny_dataset(tmp_path / "d", n=6)
    records = read_manifest(root)
    write_manifest(root, [ClipRecord.from_dict({**r.to_dict(), "angle": "elevation"}) for r in records])
    assert check_dataset(resolve_data(root)) == []  # one angle, elevation
    write_manifest(root, [ClipRecord.from_dict({**records[0].to_dict(), "angle": "elevation"}), *records[1:]])
    problems = check_dataset(resolve_data(root))
    assert len(problems) == 1 and "manifest.jsonl: the clips' third views hold different angles" in problems[0]
    assert f"elevation (clip {records[0].id!r}), azimuth (clip {records[1].id!r})" in problems[0]
    shard_directory(root, tmp_path / "s", shard_size=4)
    problems = check_dataset(resolve_data(tmp_path / "s"))
    assert len(problems) == 1 and "third views hold different angles" in problems[0]


def test_a_valid_dataset_is_described_by_its_clips_angle_sensors_and_datasets(dataset, tmp_path):
    from radar_text_data import describe_dataset, write_manifest

    root, shards = dataset
    assert describe_dataset(resolve_data(root)) == "23 clips (train 17, val 3, test 3); third view: azimuth"
    assert describe_dataset(resolve_data(shards)) == "23 clips (train 17, val 3, test 3)"
    pattern = str(shards / "train-{000000..000004}.tar")
    assert describe_dataset(resolve_data(pattern)) == f"shards {pattern} (no index: clips not counted)"
    copy = tiny_dataset(tmp_path / "d", n=4, splits=["test"] * 4)
    extras = [{"sensor": "iwr1443-radhar", "dataset": "RadHAR"}, {"sensor": "b"}, {}, {}]
    records = [
        ClipRecord.from_dict({**r.to_dict(), "angle": "elevation", **e})
        for r, e in zip(read_manifest(copy), extras, strict=True)
    ]
    write_manifest(copy, records)
    assert describe_dataset(resolve_data(copy)) == (
        "4 clips (test 4); third view: elevation; sensor: b, iwr1443-radhar; dataset: RadHAR"
    )
