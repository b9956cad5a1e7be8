"""_deprecations.py: every old name of the app in one registry, read under its new name with one note."""

import importlib
import subprocess
import sys
import warnings

import pytest
import torch

from seqclip._deprecations import (
    RENAMED_METRICS,
    RENAMED_MODULES,
    metric,
    rename_note,
    renamed_value,
)


def test_every_old_module_path_imports_the_module_at_its_new_path_with_a_note():
    code = (
        "import importlib, sys, warnings\n"
        "from seqclip._deprecations import RENAMED_MODULES\n"
        "for old, new in RENAMED_MODULES.items():\n"
        "    with warnings.catch_warnings(record=True) as caught:\n"
        "        warnings.simplefilter('always')\n"
        "        module = importlib.import_module(old)\n"
        "    assert module is importlib.import_module(new), old\n"
        "    assert module.__spec__.name == new and module.__name__ == new, old\n"
        "    assert [str(w.message) for w in caught] == [f\"module '{old}' is now called '{new}'\"], old\n"
        "print(len(RENAMED_MODULES))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout) == len(RENAMED_MODULES) >= 17


def test_an_old_module_path_keeps_its_names():
    sys.modules.pop("seqclip.main", None)  # imported before in this process: the note came then
    with pytest.warns(FutureWarning, match="seqclip.main"):
        old = importlib.import_module("seqclip.main")
    from seqclip.training.setup import setup

    assert old.setup is setup


def test_old_values_are_read_under_their_new_names_with_one_text():
    with pytest.warns(FutureWarning, match="similarity 'combined' is now called 'total'"):
        assert renamed_value("eval_similarity", "combined", label="similarity") == "total"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert renamed_value("similarity", "combined") == "combined"  # training's combined is current
    assert rename_note("--task", "hard_negatives", "twins", quoted=False) == "--task hard_negatives is now called twins"


def test_old_metric_names_are_read_from_old_runs():
    ((old, new),) = RENAMED_METRICS.items()
    assert metric({old: 1.5}, new) == 1.5 and metric({new: 2.0, old: 1.0}, new) == 2.0
    assert metric({}, new, "none") == "none" and metric({"step": 1}, "step") == 1


def test_eval_options_take_the_old_eval_name_of_the_total_score():
    from seqclip.evaluation.options import EvalOptions

    with pytest.warns(FutureWarning, match="EvalOptions.similarity 'combined' is now called 'total'"):
        assert EvalOptions(similarity="combined").similarity == "total"


def test_the_one_function_users_had_from_seqclip_evaluate_still_embeds_a_split(tmp_path):
    from seqclip_fixtures import make_dataset

    from seqclip import Scorer, SeqClip, SeqClipConfig
    from seqclip.data import RadarTextDataset

    sys.modules.pop("seqclip.evaluate", None)
    with pytest.warns(FutureWarning) as caught:
        from seqclip.evaluate import embed_split
    assert any(
        "seqclip.evaluate.embed_split' is now called 'seqclip.Scorer(model).embed_clips'" in str(w.message)
        for w in caught
    )
    ds = RadarTextDataset(make_dataset(tmp_path / "d"), "test", 48, train=False)
    torch.manual_seed(0)
    model = SeqClip(SeqClipConfig(similarity="temporal"))
    old = embed_split(model, ds, batch_size=2, return_sequence=True)
    scorer = Scorer(model, "temporal", 2)
    clips = scorer.embed_clips(ds)
    assert old["captions"] == clips.captions and old["positions"] == clips.positions
    assert torch.equal(old["radar"], clips.radar.pooled) and torch.equal(old["caption_clip"], clips.caption_clip)
    assert torch.equal(old["text"], scorer.embed_texts(clips.captions).pooled)
    assert torch.equal(old["radar_seq"][0][0], clips.radar.sequence)
