"""End to end on CPU: synthesise 48 clips -> train tiny for 2 epochs -> checkpoint -> from_pretrained
-> embeddings -> plots (the README's quick start, small)."""

import torch
from typer.testing import CliRunner

from seqclip import SeqClip
from seqclip.cli import app
from seqclip.data import RadarTextDataset
from seqclip.evaluation.scorer import Scorer


def test_synth_train_checkpoint_embed(tmp_path):
    runner = CliRunner()
    data, run = tmp_path / "data", tmp_path / "run"
    result = runner.invoke(
        app, ["data", "synth", "--out", str(data), "--clips", "48", "--workers", "2", "--max-frames", "100"]
    )
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["data", "check", str(data)]).exit_code == 0
    result = runner.invoke(app, ["train", "--data", str(data), "--epochs", "2", "--batch-size", "8", "--out", str(run)])
    assert result.exit_code == 0, result.output
    assert "test retrieval" in result.output
    for name in ("config.toml", "metrics.jsonl", "best", "checkpoints/latest"):
        assert (run / name).exists(), name
    assert list((run / "tensorboard").iterdir())
    model = SeqClip.from_pretrained(run / "best")
    scorer = Scorer(model)
    clips = scorer.embed_clips(RadarTextDataset(data, "test", length=256, train=False))
    radar, text = clips.radar.pooled, scorer.embed_texts(clips.captions).pooled
    assert radar.shape[1] == model.config.embed_dim
    assert torch.allclose(radar.norm(dim=-1), torch.ones(len(radar)), atol=1e-4)
    assert text.shape[0] == len(clips.captions) >= 3 * radar.shape[0]
    result = runner.invoke(app, ["plot", str(run)])
    assert result.exit_code == 0, result.output
    for name in ("curves.png", "val_similarity.png", "retrieval_examples.png"):
        assert (run / "plots" / name).stat().st_size > 1000, name
    clip_id = RadarTextDataset(data, "train").records[0].id
    result = runner.invoke(app, ["data", "show", str(data), "--id", clip_id, "--out", str(tmp_path / "clip.png")])
    assert result.exit_code == 0 and (tmp_path / "clip.png").stat().st_size > 1000, result.output
