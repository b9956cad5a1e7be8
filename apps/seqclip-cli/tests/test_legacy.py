"""legacy.py: what earlier versions saved is read under the current names, with one note."""

import warnings

import pytest

from seqclip.legacy import RENAMED_METRICS, metric, rename_note, renamed_value


def test_saved_old_values_are_read_under_their_new_names_with_one_text():
    with pytest.warns(FutureWarning, match="run.toml: similarity 'clip' is now called 'pooled'"):
        assert renamed_value("similarity", "clip", "run.toml: ") == "pooled"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert renamed_value("similarity", "combined") == "combined"  # a current value
        assert renamed_value("epochs", 3) == 3
    assert rename_note("loss", "clip", "infonce") == "loss 'clip' is now called 'infonce'"


def test_old_metric_names_are_read_from_old_runs():
    ((old, new),) = RENAMED_METRICS.items()
    assert metric({old: 1.5}, new) == 1.5 and metric({new: 2.0, old: 1.0}, new) == 2.0
    assert metric({}, new, "none") == "none" and metric({"step": 1}, "step") == 1


def test_module_paths_of_earlier_versions_are_gone():
    import importlib

    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("seqclip.main")  # a module path before the app's five parts
