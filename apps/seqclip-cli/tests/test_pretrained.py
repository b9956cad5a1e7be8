"""pretrained.py: saving and loading models, in eval mode, with unreadable files named."""

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
        a, b = (model.encode_text(["a person walks toward the radar"]) for _ in range(2))
    assert torch.equal(a, b)


def test_the_app_readme_python_example_runs_as_written(tmp_path, monkeypatch):
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})


def test_corrupt_model_files_are_named_in_one_line(tmp_path, saved):
    import shutil

    data = make_dataset(tmp_path / "d")
    for name, content, expected in (("model.safetensors", b"\x00garbage", "model.safetensors: unreadable"),
                                    ("config.json", b'{"preset": "tiny"\n"x": 1}', "config.json: not valid JSON")):
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
        r = model.encode_radar(b["range_time"], b["doppler_time"], b["azimuth_time"], b["mask"])
        t = model.encode_text(b["captions"])
    model.save_pretrained(tmp_path / "m")
    assert {p.name for p in (tmp_path / "m").iterdir()} == {"config.json", "model.safetensors", "tokenizer", "text_encoder"}
    loaded = SeqClip.from_pretrained(tmp_path / "m").eval()
    with torch.no_grad():
        torch.testing.assert_close(loaded.encode_radar(b["range_time"], b["doppler_time"], b["azimuth_time"], b["mask"]), r)
        torch.testing.assert_close(loaded.encode_text(b["captions"]), t)
    with pytest.raises(FileNotFoundError, match="not a SeqClip checkpoint"):
        SeqClip.from_pretrained(tmp_path)


def test_a_run_stopped_before_validation_is_evaluable_and_prints_no_sentinel(tmp_path, data):
    run = tmp_path / "run"
    result = train_cli(*toml_base(tmp_path, eval_test=True), "--data", str(data), *FAST_ARGS, "--out", str(run), "--max-steps", "1")
    assert result.exit_code == 0, result.output
    assert "-1.0" not in result.output and "no validation ran" in result.output
    assert not (run / "best").exists() and "test retrieval of the latest weights" in result.output
    out = tmp_path / "m.json"
    ev = CliRunner().invoke(app, ["eval", "--checkpoint", str(run), "--data", str(data), "--out", str(out)])
    assert ev.exit_code == 0, ev.output
    assert "latest checkpoint step_0000001" in ev.output
    assert json.loads(out.read_text())["clip_length"] == 32  # the training clip length, from the checkpoint
