"""model/pretrained.py: saving and loading models, in eval mode, with unreadable files named."""

import json
import re
from pathlib import Path

import pytest
import torch
from seqclip_fixtures import FAST_ARGS, batch, make_dataset, one_line, run, toml_base, train_cli
from typer.testing import CliRunner

from seqclip import SeqClip
from seqclip.cli import app


def test_from_pretrained_returns_a_model_in_eval_mode_that_embeds_deterministically(saved):
    model = SeqClip.from_pretrained(saved)
    assert not model.training and not any(m.training for m in model.modules())
    with torch.no_grad():
        a, b = (model.encode_text(["a person walks toward the radar"]).pooled for _ in range(2))
    assert torch.equal(a, b)


def test_the_app_readme_python_example_runs_as_written(tmp_path, monkeypatch):
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})


def test_corrupt_model_files_are_named_in_one_line(tmp_path, saved):
    import shutil

    data = make_dataset(tmp_path / "d")
    for name, content, expected in (
        ("model.safetensors", b"\x00garbage", "model.safetensors: unreadable"),
        ("config.json", b'{"preset": "tiny"\n"x": 1}', "config.json: not valid JSON"),
    ):
        copy = tmp_path / name.split(".")[0]
        shutil.copytree(saved, copy)
        (copy / name).write_bytes(content)
        result = run("eval", "--checkpoint", copy, "--data", data)
        line = one_line(result)
        assert result.exit_code == 2 and expected in line and str(copy) in line, line


def test_save_and_from_pretrained_round_trip(model, tmp_path):
    model.eval()
    b = batch(2)
    with torch.no_grad():
        r = model.encode_radar(b["range_time"], b["doppler_time"], b["azimuth_time"], b["mask"]).pooled
        t = model.encode_text(b["captions"]).pooled
    model.save_pretrained(tmp_path / "m")
    assert {p.name for p in (tmp_path / "m").iterdir()} == {
        "config.json",
        "model.safetensors",
        "tokenizer",
        "text_encoder",
        "README.md",
    }  # the model card
    loaded = SeqClip.from_pretrained(tmp_path / "m").eval()
    with torch.no_grad():
        torch.testing.assert_close(
            loaded.encode_radar(b["range_time"], b["doppler_time"], b["azimuth_time"], b["mask"]).pooled, r
        )
        torch.testing.assert_close(loaded.encode_text(b["captions"]).pooled, t)
    with pytest.raises(FileNotFoundError, match="not a SeqClip checkpoint"):
        SeqClip.from_pretrained(tmp_path)


def test_a_run_stopped_before_validation_is_evaluable_and_prints_no_sentinel(tmp_path, data):
    run = tmp_path / "run"
    result = train_cli(
        *toml_base(tmp_path, eval_test=True), "--data", str(data), *FAST_ARGS, "--out", str(run), "--max-steps", "1"
    )
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # Rich wraps at the terminal width, wherever the path ends
    assert "-1.0" not in said and "no validation ran" in said
    assert not (run / "best").exists() and "test retrieval of the latest weights" in said
    out = tmp_path / "m.json"
    ev = CliRunner().invoke(app, ["eval", "--checkpoint", str(run), "--data", str(data), "--out", str(out)])
    assert ev.exit_code == 0, ev.output
    assert "latest checkpoint step_0000001" in ev.output
    assert json.loads(out.read_text())["clip_length"] == 32  # the training clip length, from the checkpoint


def test_encode_radar_takes_clips_as_stored_float16_arrays_of_any_length_with_a_mask(saved):
    """What is on disk (float16 numpy, 40 frames: not a multiple of 16) embeds as the float32 tensor
    padded by hand with a mask does; one clip without a batch axis too."""
    import numpy as np

    model = SeqClip.from_pretrained(saved)
    data = make_dataset(saved.parent / "d", n=4, frames=40)
    with np.load(data / "clips" / "c000.npz") as z:
        stored = {k: z[k][None] for k in ("range_time", "doppler_time", "azimuth_time")}
    assert all(v.dtype == np.float16 for v in stored.values())
    padded = [
        torch.nn.functional.pad(torch.from_numpy(stored[k].astype(np.float32)), (0, 8))
        for k in ("range_time", "doppler_time", "azimuth_time")
    ]
    mask = torch.arange(48)[None] < 40
    with torch.no_grad():
        expected = model.encode_radar(*padded, mask).pooled
        from_disk = model.encode_radar(stored["range_time"], stored["doppler_time"], stored["azimuth_time"]).pooled
        one = model.encode_radar(
            *(torch.from_numpy(stored[k][0]) for k in ("range_time", "doppler_time", "azimuth_time"))
        ).pooled
    torch.testing.assert_close(from_disk, expected)
    torch.testing.assert_close(one, expected)


def test_from_pretrained_takes_a_run_directory_as_eval_does(tmp_path, data):
    trained = train_cli("--data", data, "--out", tmp_path / "run", *FAST_ARGS, *toml_base(tmp_path))
    assert trained.exit_code == 0, trained.output
    model = SeqClip.from_pretrained(tmp_path / "run")
    assert model.load_note is None and not model.training
    best = SeqClip.from_pretrained(tmp_path / "run" / "best")
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), best.state_dict().values(), strict=True))


def test_version_lists_every_package():
    from importlib.metadata import version

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    names = [tomllib.loads(p.read_text())["project"]["name"] for p in root.glob("*/*/pyproject.toml")]
    assert len(names) == 7
    for name in names:  # every package of the workspace
        assert f"{name} {version(name)}" in result.output
