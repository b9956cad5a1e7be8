"""The model card: save_pretrained writes README.md beside the weights; training fills in the data,
recipe and validation with intervals, its final test appends the test figures; eval --card appends."""

import re

from seqclip_fixtures import make_dataset, run, tiny_text_model, toml

from seqclip import SeqClip, SeqClipConfig
from seqclip.model.card import data_fingerprint
from seqclip.model.pretrained import model_fingerprint


def test_a_model_saved_from_python_has_a_card(tmp_path):
    model = SeqClip(
        SeqClipConfig(text_model=tiny_text_model(tmp_path / "text"), encoder_overrides={"vit_depth": 1, "eot_depth": 1})
    )
    card = (model.save_pretrained(tmp_path / "m") / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: seqclip") and model_fingerprint(model) in card
    assert "Not recorded" in card and "## Intended use and limits" in card and "seqclip-cli " in card


def test_training_and_eval_fill_the_card(tmp_path):
    data = make_dataset(tmp_path / "d")
    args = [
        "train",
        "--data",
        data,
        "--out",
        tmp_path / "run",
        "--text-model",
        tiny_text_model(tmp_path / "text"),
        *toml(tmp_path, eval_test=True, epochs=1),
    ]
    assert run(*args).exit_code == 0
    card = (tmp_path / "run" / "best" / "README.md").read_text()
    assert f"`{data}` (fingerprint `{data_fingerprint(data)}`)" in card and "| similarity | `pooled` |" in card
    assert re.search(r"### Validation \(epoch 0, \d+ clips, 95 % intervals\)", card)
    assert re.search(r"\| text → radar \| [\d.]+ \[[\d.]+, [\d.]+\]", card)
    assert "### Test split (" in card  # appended by the final test
    result = run("eval", "--checkpoint", tmp_path / "run", "--data", data, "--task", "retrieval", "--card")
    assert result.exit_code == 0, result.output
    card = (tmp_path / "run" / "best" / "README.md").read_text()
    assert "### seqclip eval --task retrieval --split test" in card
    results, versions = card.index("## Results"), card.index("## Versions")
    assert results < card.index("### Test split (") < card.index("### seqclip eval") < versions  # under Results
    assert "synth_" not in card  # the built-in dataset's options are no part of a recipe on given data
    assert "warning: this validation rests on 2 clip(s)" in card
    checkpoint = next((tmp_path / "run" / "checkpoints").glob("step_*")) / "model" / "README.md"
    saved = checkpoint.read_text()
    assert "Not recorded" not in saved and f"(fingerprint `{data_fingerprint(data)}`)" in saved
    assert "no validation is computed for it" in saved


def test_a_zero_shot_result_on_the_card_keeps_its_interval():
    from seqclip.model.card import result_markdown

    zero_shot = {"top1": 0.0, "top1_interval": [0.0, 0.0], "clips": 8}
    assert result_markdown(zero_shot) == "top1: 0.0 % [0.0, 0.0] (8 clips)"
    assert (
        result_markdown({"accuracy": 62.5, "interval": [40.0, 80.0], "clips": 16})
        == "accuracy: 62.5 % [40.0, 80.0] (16 clips)"
    )
