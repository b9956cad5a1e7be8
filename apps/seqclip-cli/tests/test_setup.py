"""training/setup.py: what setup checks before the first step and what it records."""

import pytest
import torch
from seqclip_fixtures import FAST_ARGS, make_dataset, toml_base, train_cli


def _corrupt(root, n_bad):
    for i in range(n_bad):
        (root / "clips" / f"c{i:03d}.npz").write_bytes(b"not a zip")


def test_bad_clips_are_found_before_the_first_step(tmp_path):
    data = make_dataset(tmp_path / "d", n=40, splits=["train"] * 32 + ["val"] * 4 + ["test"] * 4)
    _corrupt(data, 23)
    result = train_cli(*toml_base(tmp_path), "--data", str(data), *FAST_ARGS, "--out", str(tmp_path / "run"))
    assert result.exit_code == 2 and "23 of 40 clips" in result.output and "--skip-bad" in result.output
    assert "c000.npz" in result.output and "c019.npz" in result.output and "c020.npz" not in result.output
    assert "and 3 more" in result.output and not (tmp_path / "run").exists()
    skipped = train_cli(
        *toml_base(tmp_path), "--data", str(data), *FAST_ARGS, "--out", str(tmp_path / "run"), "--skip-bad"
    )
    assert skipped.exit_code == 0, skipped.output
    assert "left out 23 bad clip(s)" in skipped.output


def test_the_batch_size_defaults_to_the_device_and_is_recorded(tmp_path, data):
    import tomllib

    run = tmp_path / "run"
    result = train_cli(
        *toml_base(tmp_path),
        "--data",
        str(data),
        "--epochs",
        "1",
        "--similarity",
        "pooled",
        "--out",
        str(run),
        "--max-steps",
        "1",
        "--device",
        "cpu",
    )
    assert result.exit_code == 2 and "no optimizer step of 1 x 32 clips" in result.output  # 12 train clips < 32
    from seqclip.config import DEFAULT_BATCH, TrainConfig

    assert TrainConfig().batch_size is None and DEFAULT_BATCH == {"cpu": 32, "cuda": 128}
    ok = train_cli(*toml_base(tmp_path), "--data", str(data), *FAST_ARGS, "--out", str(run))
    assert ok.exit_code == 0 and tomllib.loads((run / "config.toml").read_text())["train"]["batch_size"] == 4


def test_init_starts_from_a_models_weights_and_refuses_another_architecture(tmp_path, data):
    from rich.console import Console

    from seqclip import SeqClipConfig
    from seqclip.config import TrainConfig
    from seqclip.distributed import DistContext
    from seqclip.errors import TrainingError
    from seqclip.model import SeqClip
    from seqclip.training.setup import setup

    torch.manual_seed(1)  # not the run's seed: other weights than a fresh start's
    SeqClip(SeqClipConfig(clip_length=32, similarity="pooled")).save_pretrained(tmp_path / "a")
    trained = SeqClip.from_pretrained(tmp_path / "a").state_dict()
    base = dict(data=str(data), clip_length=32, batch_size=4, similarity="pooled", epochs=1, eval_test=False)
    r = setup(
        TrainConfig(**base, out=str(tmp_path / "b"), init=str(tmp_path / "a")),
        Console(quiet=True),
        DistContext.single(),
    )
    r.logger.close()
    for name, value in r.model.state_dict().items():
        assert torch.equal(value.cpu(), trained[name]), name
    fresh = setup(TrainConfig(**base, out=str(tmp_path / "c")), Console(quiet=True), DistContext.single())
    fresh.logger.close()
    assert not all(torch.equal(v.cpu(), trained[k]) for k, v in fresh.model.state_dict().items())
    with pytest.raises(TrainingError, match=r"--init: .* has --preset 'tiny', this run 'small'; pass the same"):
        setup(
            TrainConfig(**base, out=str(tmp_path / "d"), init=str(tmp_path / "a"), preset="small"),
            Console(quiet=True),
            DistContext.single(),
        )
    missing = train_cli(
        *toml_base(tmp_path),
        "--data",
        str(data),
        *FAST_ARGS,
        "--out",
        str(tmp_path / "e"),
        "--init",
        str(tmp_path / "nope"),
    )
    assert missing.exit_code == 2 and "--init:" in missing.output and "not found" in missing.output


def test_a_label_dataset_keeps_its_best_epoch_by_validation_class_accuracy(tmp_path, data):
    import json

    from radar_text_data.radhar import convert_radhar
    from radar_text_data.testing import radhar_folder

    radhar_folder(
        tmp_path / "src",
        {
            f"{s}/{a}": [f"{a}{s}{i}" for i in range(3 if s == "Train" else 1)]
            for s in ("Train", "Test")
            for a in ("jack", "walk")
        },
        frames=60,
    )
    labelled = convert_radhar(tmp_path / "src", tmp_path / "radhar", window=32, stride=32, val_fraction=0.34)
    result = train_cli(*toml_base(tmp_path), "--data", str(labelled), *FAST_ARGS, "--out", str(tmp_path / "run"))
    assert result.exit_code == 0, result.output
    assert "class accuracy" in result.output and "best val class accuracy" in result.output
    logged = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert sum("val_class_accuracy" in row for row in logged) == 1  # one epoch, one validation
    from seqclip.data import RadarTextDataset
    from seqclip.training.selection import label_classes

    assert [c.name for c in label_classes(RadarTextDataset(labelled, "val", 32))] == ["jack", "walk"]
    assert label_classes(RadarTextDataset(data, "val", 32)) is None  # clips of several activities: R@1 picks best/


def test_the_built_in_dataset_holds_out_the_same_number_of_clips_for_val_and_test(tmp_path, monkeypatch):
    import json

    from rich.console import Console

    from seqclip.config import TrainConfig
    from seqclip.errors import UserError
    from seqclip.training.setup import default_dataset

    monkeypatch.setenv("SEQCLIP_CACHE", str(tmp_path))
    cfg = TrainConfig(synth_clips=14, synth_held_out=3, synth_max_frames=100, synth_workers=2)
    root = default_dataset(cfg, Console(quiet=True))
    splits = [json.loads(line)["split"] for line in (root / "manifest.jsonl").read_text().splitlines()]
    assert [splits.count(s) for s in ("train", "val", "test")] == [8, 3, 3]
    assert default_dataset(cfg, Console(quiet=True)) == root  # generated once
    with pytest.raises(UserError, match="synth_held_out"):
        TrainConfig(synth_clips=14, synth_held_out=7)
