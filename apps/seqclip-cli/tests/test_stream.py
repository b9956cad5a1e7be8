"""Training, evaluation and checks on WebDataset shards: exactly once per epoch across ranks and
loader workers, resumable mid-epoch, and the CLI's shard commands."""

import json
from pathlib import Path

import pytest
import torch
from seqclip_fixtures import make_dataset, tiny_text_model, torchrun
from typer.testing import CliRunner

from radar_text_data import resolve_data
from seqclip.cli import app
from seqclip.training.stream import ShardStream, TrainData

FAST = ["--epochs", "1", "--batch-size", "4", "--similarity", "pooled", "--workers", "1"]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("d")
    data = make_dataset(root / "dir", n=31, splits=["train"] * 23 + ["val"] * 4 + ["test"] * 4)
    result = CliRunner().invoke(app, ["data", "shard", str(data), "--out", str(root / "shards"), "--shard-size", "5"])
    assert result.exit_code == 0, result.output
    return data, root / "shards"


def test_two_gloo_ranks_with_two_workers_see_every_sample_once_per_epoch(tmp_path, data):
    _, shards = data
    out = tmp_path / "seen.json"
    script = Path(__file__).with_name("shard_ranks.py")
    torchrun(str(script), str(shards), str(out))
    ranks = json.loads(out.read_text())
    for epoch in ("0", "1"):
        seen = [p for rank in ranks for p in rank[epoch]]
        assert sorted(seen) == list(range(23))  # the whole split, no sample twice
        assert abs(len(ranks[0][epoch]) - len(ranks[1][epoch])) <= 1
    assert ranks[0]["0"] != ranks[0]["1"]  # shuffled afresh each epoch


@pytest.mark.parametrize("workers", [0, 2])
def test_a_stream_resumed_mid_epoch_continues_with_the_same_samples(data, workers):
    _, shards = data

    def batches(position):
        stream = ShardStream(resolve_data(shards), "train", 32, seed=3, workers=workers)
        loader = TrainData.streamed(stream, 4, stream.samples_per_rank(), workers, pin=False)
        return list(loader.batches(epoch=1, batch_position=position))

    whole, resumed = batches(0), batches(2)
    assert len(whole) == 5 and len(resumed) == 3
    for a, b in zip(whole[2:], resumed, strict=True):
        assert a["positions"].tolist() == b["positions"].tolist() and a["captions"] == b["captions"]
        assert torch.equal(a["range_time"], b["range_time"])  # the same crops


def test_training_on_shards_resumes_exactly_and_evaluates(tmp_path, data):
    from safetensors.torch import load_file

    _, shards = data
    (tmp_path / "run.toml").write_text(
        "[train]\nclip_length = 32\nwarmup_steps = 1\nlog_every = 1\neval_test = true\nepochs = 2\nfreeze_text = true\n"
    )
    args = ["train", "--config", str(tmp_path / "run.toml"), "--data", str(shards), *FAST[2:]]
    whole = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "whole")])
    assert whole.exit_code == 0, whole.output
    assert "test retrieval" in whole.output
    assert CliRunner().invoke(app, [*args, "--out", str(tmp_path / "split"), "--max-steps", "3"]).exit_code == 0
    resumed = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "split"), "--resume", "latest"])
    assert resumed.exit_code == 0, resumed.output
    final = "checkpoints/step_0000010/model/model.safetensors"  # 2 epochs of 23 // 4 = 5 steps
    a, b = load_file(str(tmp_path / "whole" / final)), load_file(str(tmp_path / "split" / final))
    assert all(torch.equal(a[k], b[k]) for k in a)
    ev = CliRunner().invoke(
        app, ["eval", "--checkpoint", str(tmp_path / "whole"), "--data", str(shards), "--split", "val"]
    )
    assert ev.exit_code == 0 and "retrieval" in ev.output, ev.output


def test_a_shard_pattern_trains_with_train_num_samples(tmp_path, data):
    _, shards = data
    pattern = f"{shards}/train-{{000000..000004}}.tar"
    base = ["train", "--data", pattern, *FAST, "--out", str(tmp_path / "run")]
    need = CliRunner().invoke(app, base)
    assert need.exit_code == 2 and "--train-num-samples" in need.output and not (tmp_path / "run").exists()
    ok = CliRunner().invoke(app, [*base, "--train-num-samples", "40"])
    assert ok.exit_code == 0, ok.output
    assert "the data ended after 5 of 10 micro-batches" in " ".join(ok.output.split())
    assert "no validation" in ok.output


def test_data_check_and_show_work_on_shards(tmp_path, data):
    directory, shards = data
    assert CliRunner().invoke(app, ["data", "check", str(shards)]).exit_code == 0
    assert CliRunner().invoke(app, ["data", "check", f"{shards}/val-000000.tar"]).exit_code == 0
    png = tmp_path / "c001.png"
    assert CliRunner().invoke(app, ["data", "show", str(shards), "--id", "c001", "--out", str(png)]).exit_code == 0
    assert png.is_file()
    (tmp_path / "bad").mkdir()
    broken = tmp_path / "bad" / "train-000000.tar"
    broken.write_bytes((shards / "train-000000.tar").read_bytes()[:3000])
    result = CliRunner().invoke(app, ["data", "check", str(broken)])
    assert result.exit_code == 1 and "train-000000.tar" in result.output


def test_ddp_on_unevenly_dealt_shards_ends_the_epoch_on_every_rank_together(tmp_path, data):
    """Two gloo ranks on a pattern without an index: whole shards are dealt (13 vs 10 samples); the
    epoch must end on both ranks when the smaller share runs out, not hang in a collective."""
    _, shards = data
    proc = torchrun(
        "-m",
        "seqclip",
        "train",
        "--data",
        f"{shards}/train-{{000000..000004}}.tar",
        "--train-num-samples",
        "48",
        "--batch-size",
        "4",
        "--similarity",
        "pooled",
        "--workers",
        "0",
        "--epochs",
        "2",
        "--text-model",
        tiny_text_model(tmp_path / "text"),
        "--out",
        str(tmp_path / "run"),
        timeout=300,
    )
    assert " ".join(proc.stdout.split()).count("the data ended after 2 of 6 micro-batches") == 2  # both epochs
