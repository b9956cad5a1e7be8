"""config.py: one default recipe, one name per concept, and the old names still read."""

import json
from dataclasses import fields

import pytest
from seqclip_fixtures import one_line, run, train_cli
from typer.testing import CliRunner

from seqclip.cli import app
from seqclip.config import MODEL_FIELDS, SIMILARITIES, SeqClipConfig, TrainConfig, load_train_config


def test_the_model_config_defaults_are_the_training_defaults():
    model, train = SeqClipConfig(), TrainConfig()
    assert {f: getattr(train, f) for f in MODEL_FIELDS} == {f: getattr(model, f) for f in MODEL_FIELDS}
    assert train.model_config() == model
    assert {f.name for f in fields(SeqClipConfig)} >= set(MODEL_FIELDS)


def test_the_similarity_names_are_seq_similaritys_plus_pooled():
    from seq_similarity import SIMILARITIES as SEQUENCE

    assert SIMILARITIES == ("pooled", *SEQUENCE)


def test_the_view_names_are_one_set_from_radar_views_to_the_encoder():
    from radar_encoder import VIEW_KEYS
    from radar_text_data.contract import VIEW_BINS
    from radar_views import VIEW_NAMES

    assert VIEW_KEYS == VIEW_NAMES == tuple(VIEW_BINS)


def test_the_eval_task_registry_has_the_names_the_cli_lists():
    from seqclip.config import EVAL_TASKS
    from seqclip.evaluation.tasks import TASKS

    assert tuple(TASKS) == EVAL_TASKS


def test_a_config_json_of_seqclip_cli_0_4_reads_under_the_new_names():
    saved = {**SeqClipConfig().to_dict(), "similarity": "clip", "loss": "clip"}
    with pytest.warns(FutureWarning) as caught:
        cfg = SeqClipConfig.from_dict(json.loads(json.dumps(saved)))
    assert (cfg.similarity, cfg.loss) == ("pooled", "infonce")
    text = " ".join(str(w.message) for w in caught)
    assert "similarity 'clip' is now called 'pooled'" in text and "loss 'clip' is now called 'infonce'" in text


def test_a_toml_file_with_old_values_loads_and_the_warning_names_the_file(tmp_path):
    path = tmp_path / "old.toml"
    path.write_text('[train]\nsimilarity = "clip"\npositives = "activities"\nloss = "clip"\n')
    with pytest.warns(FutureWarning) as caught:
        cfg = load_train_config(path, {})
    notes = sorted(str(w.message).split(": ", 1)[1] for w in caught)
    assert notes == [
        "loss 'clip' is now called 'infonce'",
        "positives 'activities' is now called 'same_activities'",
        "similarity 'clip' is now called 'pooled'",
    ]
    assert all(str(w.message).startswith(str(path)) for w in caught)
    assert (cfg.similarity, cfg.positives, cfg.loss) == ("pooled", "same_activities", "infonce")


def test_an_unknown_option_value_is_refused_with_the_choices():
    result = CliRunner().invoke(app, ["train", "--similarity", "dtw"])
    assert result.exit_code == 2 and "'dtw' is not one of pooled | global" in " ".join(result.output.split())


def test_a_toml_value_of_the_wrong_type_names_the_key_the_type_and_the_value(tmp_path):
    (tmp_path / "run.toml").write_text('[train]\nepochs = "ten"\n')
    result = train_cli("--config", str(tmp_path / "run.toml"))
    assert result.exit_code == 2 and "Traceback" not in result.output
    text = " ".join(result.output.split())
    assert "epochs: expected int, got 'ten' (str)" in text and "run.toml" in text
    (tmp_path / "run.toml").write_text('[train]\nsimilarity = "dtw"\n')
    text = " ".join(train_cli("--config", str(tmp_path / "run.toml")).output.split())
    assert "similarity: expected one of 'pooled'" in text and "'dtw'" in text


def test_the_toml_file_names_its_key_not_a_flag(tmp_path):
    (tmp_path / "run.toml").write_text("[train]\nmax_steps = -1\n")
    result = run("train", "--config", tmp_path / "run.toml")
    line = one_line(result)
    assert result.exit_code == 2 and "run.toml: max_steps: must be >= 0, got -1" in line and "--max-steps" not in line


def test_fields_added_later_read_as_the_older_versions_trained():
    old = SeqClipConfig().to_dict()
    for added in ("max_text_length", "seq_hard_negatives"):
        old.pop(added)
    cfg = SeqClipConfig.from_dict(old)  # a config.json of seqclip-cli <= 0.5
    assert (cfg.max_text_length, cfg.seq_hard_negatives) == (32, 0)  # its text length; every pair
    assert SeqClipConfig().seq_hard_negatives == TrainConfig().seq_hard_negatives == 8  # chosen on validation


def test_every_train_option_of_a_config_field_shows_the_fields_help():
    import dataclasses

    import typer

    from seqclip.config import HELP, option_help

    command = typer.main.get_command(app).commands["train"]
    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    shown = {p.name: p.help for p in command.params if p.name in fields}
    assert len(shown) >= 30
    for name, text in shown.items():
        assert HELP in fields[name].metadata, name  # the field holds the text ...
        assert text == option_help(name), name  # ... and the option shows it


def test_every_eval_option_of_an_options_field_shows_the_fields_help_and_default():
    import dataclasses

    import typer

    from seqclip.config import option_help
    from seqclip.evaluation.options import DEFAULT_OPTIONS, EvalOptions

    command = typer.main.get_command(app).commands["eval"]
    fields = {f.name: f for f in dataclasses.fields(EvalOptions)}
    shown = {p.name: p for p in command.params if p.name in fields and p.name != "templates"}
    assert set(shown) == {"similarity", "protocol", "batch_size", "classes", "unseen", "prompts", "calibration"}
    for name, param in shown.items():
        assert param.help == option_help(name, EvalOptions), name
        if getattr(DEFAULT_OPTIONS, name) is not None:  # classes, unseen: files and names read into the field
            assert param.default == getattr(DEFAULT_OPTIONS, name), name


def test_no_help_text_is_written_twice_in_the_commands():
    """An option that more than one command takes is declared once (``cli.common``, or its module)."""
    import ast
    from collections import Counter
    from pathlib import Path

    import seqclip.cli

    texts = Counter(
        ast.unparse(node.value)
        for path in Path(seqclip.cli.__file__).parent.glob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.keyword) and node.arg == "help" and not isinstance(node.value, ast.Name)
    )
    assert [text for text, n in texts.items() if n > 1] == []
