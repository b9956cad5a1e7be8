"""evaluation/tasks.py: one test per registered task, through the CLI."""

import json

import pytest
import torch
from seqclip_fixtures import holds_evaluation, make_dataset, one_line, order_dataset, run
from typer.testing import CliRunner

from seqclip import SeqClip, SeqClipConfig
from seqclip.cli import app


@pytest.fixture(scope="module")
def eval_setup(tmp_path_factory):
    """A 24-clip dataset (12 test clips of three activities, one twin pair) and a saved model."""
    tmp_path = tmp_path_factory.mktemp("eval")
    data = make_dataset(tmp_path / "d", n=24, splits=["train"] * 8 + ["val"] * 4 + ["test"] * 12)
    rows = [json.loads(x) for x in (data / "manifest.jsonl").read_text().splitlines()]
    for i, r in enumerate(rows):
        r["segments"] = [{"activity": ["walk", "wave", "clap"][i % 3], "start_frame": 0, "end_frame": 48, "params": {}}]
    rows[-1]["twin_of"], rows[-2]["twin_of"] = rows[-2]["id"], rows[-1]["id"]
    (data / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    torch.manual_seed(0)
    SeqClip(SeqClipConfig()).save_pretrained(tmp_path / "run" / "best")
    return tmp_path, ["eval", "--checkpoint", str(tmp_path / "run"), "--data", str(data), "--clip-length", "48"]


def _eval(eval_setup, *extra):
    tmp_path, base = eval_setup
    out = tmp_path / ("m-" + "-".join(extra).replace("--", "") + ".json")
    result = CliRunner().invoke(app, [*base, *extra, "--out", str(out)])
    assert result.exit_code == 0, result.output
    metrics = json.loads(out.read_text())
    holds_evaluation(metrics)
    return metrics, out


@pytest.mark.parametrize(
    "extra, clips",
    [
        ((), 12),
        (("--protocol", "in-batch", "--batch-size", "4"), 12),
        (("--similarity", "temporal"), 12),
        (("--similarity", "total"), 12),
    ],
)
def test_eval_task_retrieval(eval_setup, extra, clips):
    metrics, _ = _eval(eval_setup, "--task", "retrieval", *extra)
    assert metrics["protocol"]["clips"] == clips
    for direction in ("text_to_radar", "radar_to_text"):
        m = metrics[direction]
        low, high = m["interval"]["R@1"]
        assert low <= m["R@1"] <= high and m["R@1"] <= m["R@5"] <= m["R@10"]  # an interval around the estimate
        assert 1 <= m["median_rank"] <= (12 if direction == "text_to_radar" else 24)


def test_eval_task_zeroshot(eval_setup):
    metrics, out = _eval(eval_setup, "--task", "zeroshot")
    assert out.with_suffix(".confusion.png").is_file() and metrics["clips"] == 12
    assert sum(map(sum, metrics["confusion"])) == 12 and metrics["top1"] <= metrics["top5"]


def test_eval_task_twins(eval_setup):
    metrics, _ = _eval(eval_setup, "--task", "twins")
    assert metrics["clips"] == 2 and metrics["comparisons"] == 4  # 2 twins x 2 captions each


def test_eval_refuses_an_unknown_task(eval_setup):
    _, base = eval_setup
    bad = CliRunner().invoke(app, [*base, "--task", "captioning"])
    assert bad.exit_code == 2 and "--task" in bad.output


@pytest.fixture(scope="module")
def order_setup(tmp_path_factory):
    """The order dataset (8 two-activity test clips, one twin pair) and a saved temporal model."""
    tmp_path = tmp_path_factory.mktemp("order")
    data = order_dataset(tmp_path / "d")
    torch.manual_seed(0)
    SeqClip(SeqClipConfig(clip_length=48)).save_pretrained(tmp_path / "model")
    return tmp_path, ["eval", "--checkpoint", str(tmp_path / "model"), "--data", str(data)]


@pytest.mark.parametrize("similarity", ["pooled", "temporal", "total"])
@pytest.mark.parametrize("task, clips", [("order", 8), ("twins", 2)])
def test_eval_task_order_and_twins_with_every_similarity_report_intervals(order_setup, task, clips, similarity):
    tmp_path, base = order_setup
    out = tmp_path / f"{task}-{similarity}.json"
    result = CliRunner().invoke(app, [*base, "--task", task, "--similarity", similarity, "--out", str(out)])
    assert result.exit_code == 0, result.output
    m = json.loads(out.read_text())
    holds_evaluation(m)
    assert m["clips"] == clips and m["comparisons"] == 2 * clips and m["similarity"] == similarity
    assert m["interval"][0] <= m["accuracy"] <= m["interval"][1]


def test_retrieval_of_the_order_dataset_reports_intervals(order_setup):
    tmp_path, base = order_setup
    out = tmp_path / "r.json"
    assert CliRunner().invoke(app, [*base, "--out", str(out)]).exit_code == 0
    t2r = json.loads(out.read_text())["text_to_radar"]
    assert t2r["interval"]["R@1"][0] <= t2r["R@1"] <= t2r["interval"]["R@1"][1]


def test_twins_names_the_splits_that_hold_twins(tmp_path, saved):
    data = make_dataset(tmp_path / "d")
    rows = [json.loads(x) for x in (data / "manifest.jsonl").read_text().splitlines()]
    rows[0]["twin_of"], rows[1]["twin_of"] = rows[1]["id"], rows[0]["id"]  # both train
    (data / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = run("eval", "--checkpoint", saved, "--data", data, "--task", "twins")
    line = one_line(result)
    assert result.exit_code == 2 and "in split 'test'" in line and "in train" in line and "--split" in line
    assert run("eval", "--checkpoint", saved, "--data", data, "--task", "twins", "--split", "train").exit_code == 0


def test_eval_task_zeroshot_takes_a_class_file_templates_and_unseen_classes(eval_setup, tmp_path):
    (tmp_path / "classes.txt").write_text("# two of the three\nwalk\nclap\n")
    (tmp_path / "templates.txt").write_text("a person who is {}.\n{}\n")
    metrics, out = _eval(
        eval_setup,
        "--task",
        "zeroshot",
        "--classes",
        str(tmp_path / "classes.txt"),
        "--templates",
        str(tmp_path / "templates.txt"),
        "--unseen",
        "clap",
    )
    assert metrics["classes"] == ["walk", "clap"] and metrics["unlisted_clips"] == {"wave": 4}
    assert metrics["prompts"]["walk"] == ["a person who is walk.", "walk"]
    g = metrics["generalized"]
    assert g["unseen_classes"] == ["clap"] and g["unseen_only"]["chance"] == 100.0 and g["calibrated_on"] == "val"
    assert g["seen_only"]["chance"] == 100.0 and set(g["raw_intervals"]) == {"seen", "unseen", "harmonic_mean"}
    assert out.with_suffix(".confusion.png").is_file()
    bad = CliRunner().invoke(app, [*eval_setup[1], "--task", "zeroshot", "--unseen", "jog"])
    assert bad.exit_code == 2 and "--unseen: ['jog'] are not among the 3 classes" in " ".join(bad.output.split())
    missing = CliRunner().invoke(app, [*eval_setup[1], "--task", "zeroshot", "--classes", str(tmp_path / "no.txt")])
    assert missing.exit_code == 2 and "--classes: file not found" in missing.output


def test_recorded_unseen_classes_narrow_to_the_candidates_and_none_turns_them_off(eval_setup, tmp_path):
    data = eval_setup[1][eval_setup[1].index("--data") + 1]
    unseen_txt = __import__("pathlib").Path(data) / "unseen.txt"
    unseen_txt.write_text("clap\n")
    try:
        (tmp_path / "classes.txt").write_text("walk\nwave\n")
        narrowed, _ = _eval(eval_setup, "--task", "zeroshot", "--classes", str(tmp_path / "classes.txt"))
        assert "generalized" not in narrowed  # clap is not a candidate: no report, and no error about --unseen
        recorded, _ = _eval(eval_setup, "--task", "zeroshot")
        assert recorded["generalized"]["unseen_classes"] == ["clap"]
        for off in ("none", ""):
            metrics, _ = _eval(eval_setup, "--task", "zeroshot", "--unseen", off)
            assert "generalized" not in metrics
    finally:
        unseen_txt.unlink()


def test_a_score_from_fewer_than_20_clips_is_flagged_beside_its_interval(eval_setup):
    result = CliRunner().invoke(app, [*eval_setup[1], "--task", "twins"])  # 2 clips
    text = " ".join(result.output.split())
    assert (
        result.exit_code == 0
        and "rests on 2 clip(s): with fewer than 20 clips its 95 % interval is not meaningful" in text
    )


def test_eval_says_how_many_clips_it_cropped_to_the_clip_length(eval_setup):
    base = [a for a in eval_setup[1] if a not in ("--clip-length", "48")]
    cropped = CliRunner().invoke(app, [*base, "--clip-length", "32"])  # 48-frame clips
    assert cropped.exit_code == 0 and "12 of 12 clips are longer than the clip length 32 and were cropped" in " ".join(
        cropped.output.split()
    )
    whole = CliRunner().invoke(app, [*base, "--clip-length", "48"])
    assert whole.exit_code == 0 and "were cropped" not in whole.output


def test_eval_refuses_prompts_from_descriptions_a_class_file_lacks(eval_setup, tmp_path):
    (tmp_path / "c.json").write_text(
        json.dumps({"walk": "walks", "wave": {"phrase": "waves", "descriptions": ["a person lifts an arm."]}})
    )
    result = CliRunner().invoke(
        app, [*eval_setup[1], "--task", "zeroshot", "--classes", str(tmp_path / "c.json"), "--prompts", "descriptions"]
    )
    assert result.exit_code == 2 and "--prompts descriptions:" in one_line(result) and "walk" in one_line(result)
    result = CliRunner().invoke(app, [*eval_setup[1], "--task", "zeroshot", "--prompts", "sentences"])
    assert result.exit_code == 2 and "is not one of auto | names | descriptions | both" in " ".join(
        result.output.split()
    )
