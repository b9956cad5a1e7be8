"""evaluation/figures.py (what `seqclip plot` and `data show` draw) over the pure figures of plots.py."""

import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from seqclip_fixtures import make_dataset

from seqclip import SeqClip, SeqClipConfig
from seqclip.evaluation.figures import TITLE_WIDTH, clip_figure, run_figures, views_title
from seqclip.plots import plot_confusion, plot_curves


def _png(path):
    return path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_run_figures_draw_curves_and_the_validation_figures_of_a_run(tmp_path):
    data = make_dataset(tmp_path / "d")
    run = tmp_path / "run"
    torch.manual_seed(0)
    SeqClip(SeqClipConfig(similarity="pooled", clip_length=48)).save_pretrained(run / "best")
    lines = [
        {"step": s, "loss_total": 2.0 / s, "loss_pooled": 2.0 / s, "lr": 1e-3, "logit_scale": 14.0} for s in range(1, 5)
    ] + [{"step": 4, "epoch": 0, "val_loss_total": 1.5}]
    (run / "metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    (run / "config.toml").write_text(f'[train]\ndata = "{data}"\n')
    written = run_figures(run)
    assert [p.name for p in written] == ["curves.png", "val_similarity.png", "retrieval_examples.png"]
    assert all(_png(p) and p.parent == run / "plots" for p in written)


def test_a_run_without_a_model_gets_its_curves_and_a_missing_log_is_named(tmp_path):
    (tmp_path / "metrics.jsonl").write_text('{"step": 1, "loss_total": 1.0, "loss_clip": 1.0}\n')  # a 0.4 run
    assert [p.name for p in run_figures(tmp_path)] == ["curves.png"]
    with pytest.raises(FileNotFoundError, match="metrics.jsonl"):
        run_figures(tmp_path / "nothing")


def test_plots_take_arrays_and_write_pngs(tmp_path):
    assert _png(plot_confusion(np.eye(3, dtype=int), ["a", "b", "c"], tmp_path / "x" / "cm.png"))
    assert _png(plot_curves([{"step": 1, "loss_total": 1.0}], tmp_path / "curves.png"))


def test_clip_figure_finds_the_clip_in_any_split(tmp_path):
    data = make_dataset(tmp_path / "d")
    ids = [json.loads(x)["id"] for x in (data / "manifest.jsonl").read_text().splitlines()]
    assert _png(clip_figure(data, ids[-1], tmp_path / "clip.png"))
    with pytest.raises(ValueError, match="no clip 'nope'"):
        clip_figure(data, "nope", tmp_path / "no.png")


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.text("ab,;.", min_size=1, max_size=20), min_size=1, max_size=60), min_size=1, max_size=4))
def test_a_clip_figures_title_wraps_every_caption_and_loses_no_word(words):
    captions = [" ".join(w) for w in words]
    title = views_title("clip_1", "test", captions)
    lines = title.split("\n")
    assert lines[0] == "clip_1 (test)" and all(len(line) <= TITLE_WIDTH for line in lines[1:])
    assert " ".join(lines[1:]).split() == " ".join(captions).split()
