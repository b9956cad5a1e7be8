"""A model knows what its training clips' third view held (``SeqClipConfig.angle``): training records
it, and eval, embed and predict refuse clips of another angle with one line, before any output."""

import json
import shutil

import pytest
import torch
from seqclip_fixtures import make_dataset, one_line, run, tiny_text_model

from seqclip import SeqClip, SeqClipConfig
from seqclip.errors import UserError
from seqclip.model.pretrained import model_fingerprint


def with_angle(data, out, angle, first=None):
    """A copy of dataset ``data`` at ``out`` whose records say ``angle`` (``first``: the first record's)."""
    shutil.copytree(data, out)
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    for i, row in enumerate(rows):
        row["angle"] = first if i == 0 and first else angle
    (out / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return out


@pytest.fixture(scope="module")
def elevation(tmp_path_factory):
    """An elevation model and datasets: the same clips said to hold elevation and azimuth."""
    root = tmp_path_factory.mktemp("angle")
    torch.manual_seed(0)
    config = SeqClipConfig(
        similarity="pooled",
        clip_length=32,
        text_model=tiny_text_model(root / "text"),
        angle="elevation",
    )
    SeqClip(config).save_pretrained(root / "model")
    azimuth = make_dataset(root / "azimuth")
    return root, with_angle(azimuth, root / "elevation", "elevation"), azimuth


def test_the_angle_is_checked_and_left_out_of_old_configs(saved):
    with pytest.raises(UserError, match=r"SeqClipConfig.angle must be one of \('azimuth', 'elevation'\)"):
        SeqClipConfig(angle="range")
    assert "angle" not in SeqClipConfig().to_dict()  # not recorded: config.json and fingerprint as before
    old = SeqClip.from_pretrained(saved)
    assert old.config.angle is None and "angle" not in json.loads((saved / "config.json").read_text())
    assert model_fingerprint(old) == model_fingerprint(SeqClip.from_pretrained(saved))
    recorded = SeqClipConfig.from_dict({**old.config.to_dict(), "angle": "elevation"})
    assert recorded.to_dict()["angle"] == "elevation" and SeqClipConfig.from_dict(recorded.to_dict()) == recorded


def test_the_card_says_the_models_third_view(elevation, saved):
    root, _, _ = elevation
    assert "- third view: elevation over time" in (root / "model" / "README.md").read_text()
    assert "- third view: not recorded" in (saved / "README.md").read_text()


def test_eval_refuses_clips_of_another_angle_in_one_line(elevation):
    root, ok, azimuth = elevation
    args = ["eval", "--checkpoint", root / "model", "--task", "retrieval", "--split", "test"]
    result = run(*args, "--data", azimuth)
    line = one_line(result)
    assert result.exit_code == 2 and str(azimuth) in line
    assert "third view holds azimuth" in line and "trained on elevation" in line and "--angle elevation" in line
    assert run(*args, "--data", ok).exit_code == 0


def test_embed_refuses_clips_of_another_angle_before_touching_its_out(elevation, tmp_path):
    root, ok, azimuth = elevation
    args = ["--checkpoint", root / "model", "--out", tmp_path / "e", "--no-captions"]
    assert run("embed", ok, *args).exit_code == 0
    before = sorted(p.name for p in (tmp_path / "e").rglob("*"))
    result = run("embed", azimuth, *args, "--overwrite")
    assert result.exit_code == 2 and f"DATA: {azimuth}" in one_line(result) and "--angle elevation" in one_line(result)
    assert sorted(p.name for p in (tmp_path / "e").rglob("*")) == before and not list(tmp_path.glob("e.*"))


def test_predict_refuses_clips_of_another_angle(elevation, tmp_path):
    root, ok, azimuth = elevation
    (tmp_path / "classes.txt").write_text("wave\nclap\n")
    args = ["--checkpoint", root / "model", "--classes", tmp_path / "classes.txt", "--out", tmp_path / "p.json"]
    result = run("predict", azimuth, *args)
    assert result.exit_code == 2 and "trained on elevation" in one_line(result) and not (tmp_path / "p.json").exists()
    assert run("predict", ok, *args).exit_code == 0 and (tmp_path / "p.json").is_file()


def test_a_dataset_of_two_angles_is_refused(elevation, tmp_path):
    root, _, azimuth = elevation
    mixed = with_angle(azimuth, tmp_path / "mixed", "azimuth", first="elevation")
    result = run("embed", mixed, "--checkpoint", root / "model", "--out", tmp_path / "e")
    line = one_line(result)
    assert result.exit_code == 2 and str(mixed) in line and "elevation (clip 'c000')" in line and "azimuth" in line
    assert not (tmp_path / "e").exists()


def test_training_records_the_angle_and_init_from_another_says_so(elevation, tmp_path):
    from rich.console import Console

    from seqclip.config import TrainConfig
    from seqclip.distributed import DistContext
    from seqclip.errors import TrainingError
    from seqclip.training.setup import setup

    root, ok, azimuth = elevation
    base = dict(clip_length=32, batch_size=4, similarity="pooled", epochs=1, eval_test=False)
    base |= dict(text_model=str(root / "text"))
    for data, angle in ((ok, "elevation"), (azimuth, "azimuth")):
        console = Console(record=True, width=400)
        r = setup(
            TrainConfig(**base, data=str(data), out=str(tmp_path / angle), init=str(root / "model")),
            console,
            DistContext.single(),
        )
        r.logger.close()
        assert r.model.config.angle == angle
        warned = "warning: --init:" in console.export_text()
        assert warned == (angle != "elevation"), console.export_text()
    mixed = with_angle(azimuth, tmp_path / "mixed", "azimuth", first="elevation")
    with pytest.raises(TrainingError, match="third views hold different angles"):
        setup(TrainConfig(**base, data=str(mixed), out=str(tmp_path / "m")), Console(quiet=True), DistContext.single())
    from radar_text_data import shard_directory

    shard_directory(ok, tmp_path / "shards", shard_size=4)  # streamed: the val split's records say the angle
    r = setup(
        TrainConfig(**base, data=str(tmp_path / "shards"), out=str(tmp_path / "s"), data_on_device=False),
        Console(quiet=True),
        DistContext.single(),
    )
    r.logger.close()
    assert r.model.config.angle == "elevation"
