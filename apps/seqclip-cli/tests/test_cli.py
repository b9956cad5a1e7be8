"""The seqclip command line: one-line errors and exit codes, help texts and defaults, data commands that never
overwrite, the import guard."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from seqclip_fixtures import make_dataset, one_line, run, toml
from typer.testing import CliRunner

from seqclip import SeqClip, SeqClipConfig
from seqclip.cli import app
from seqclip.config import TrainConfig


def _commands(group, prefix=()):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _commands(command, (*prefix, name))
        else:
            yield (*prefix, name), command


def test_cli_user_errors_are_one_line_exit_2(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["train", "--data", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "data directory" in result.output and "Traceback" not in result.output
    make_dataset(tmp_path / "d")
    result = runner.invoke(
        app, ["train", "--data", str(tmp_path / "d"), "--preset", "huge", "--out", str(tmp_path / "r")]
    )
    assert result.exit_code == 2 and "unknown preset" in result.output
    (tmp_path / "run.toml").write_text("[train]\nepochz = 3\n")
    result = runner.invoke(app, ["train", "--config", str(tmp_path / "run.toml")])
    assert result.exit_code == 2 and "unknown key" in result.output and "epochz" in result.output
    result = runner.invoke(app, ["train", "--loss", "triplet", "--data", str(tmp_path / "d")])
    assert result.exit_code == 2 and "triplet" in result.output and "siglip" in result.output
    bad = make_dataset(tmp_path / "bad")
    (bad / "clips" / "c001.npz").unlink()
    result = runner.invoke(app, ["data", "check", str(bad)])
    assert result.exit_code == 1 and "c001.npz" in result.output


def test_a_bug_keeps_its_traceback_while_a_libraries_input_error_is_one_line(tmp_path, monkeypatch):
    import radar_text_data
    from radar_text_data.errors import DataError

    data = make_dataset(tmp_path / "d")

    def broken(location):
        raise ValueError("an internal inconsistency")  # a plain ValueError: a bug, not the user's input

    monkeypatch.setattr(radar_text_data, "check_dataset", broken)
    result = CliRunner().invoke(app, ["data", "check", str(data)])
    assert result.exit_code == 1 and isinstance(result.exception, ValueError)
    assert not isinstance(result.exception, DataError) and "error:" not in result.output

    def refused(location):
        raise DataError(f"{location.spec}: manifest.jsonl:3: bad field")

    monkeypatch.setattr(radar_text_data, "check_dataset", refused)
    result = CliRunner().invoke(app, ["data", "check", str(data)])
    assert result.exit_code == 2 and "bad field" in one_line(result)


def test_the_entry_point_says_how_to_report_a_bug(monkeypatch, capsys):
    import seqclip.cli as cli

    def crash():
        raise KeyError("internal")

    monkeypatch.setattr(cli, "app", crash)
    with pytest.raises(KeyError):
        cli.main()
    assert cli.BUG_REPORT in capsys.readouterr().err.replace("\n", " ")


def test_every_library_input_error_is_a_user_error_and_none_is_imported_for_it():
    from radar_synth.errors import SynthError
    from radar_text_data.errors import DataError
    from radar_views.errors import RadarViewsError
    from seqclip.cli.common import user_error_types
    from seqclip.errors import CheckpointError, FieldError, UserError

    found = user_error_types()
    for family in (UserError, FieldError, CheckpointError, DataError, RadarViewsError, SynthError):
        assert issubclass(family, ValueError) and issubclass(family, found)
    assert not issubclass(ValueError, found) and not issubclass(KeyError, found)
    code = (
        "import sys; from seqclip.cli.common import user_error_types; user_error_types(); "
        "sys.exit(1 if {'radar_views', 'numpy'} & set(sys.modules) else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_importing_the_cli_loads_no_heavy_library():
    code = (
        "import sys, seqclip.cli; heavy = [m for m in ('torch', 'timm', 'transformers', 'numpy') "
        "if m in sys.modules]; print(heavy); sys.exit(1 if heavy else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_user_errors_that_need_no_model_answer_without_importing_torch(tmp_path):
    data = make_dataset(tmp_path / "d")
    (tmp_path / "c.txt").write_text("kick\nwalk\n")
    code = (
        "import sys; from typer.testing import CliRunner; from seqclip.cli import app\n"
        f"for args in ({['train', '--data', str(tmp_path / 'missing')]!r}, "
        f"{['train', '--resume', 'latest', '--out', str(tmp_path / 'none')]!r}, "
        f"{['eval', '--checkpoint', str(tmp_path / 'none'), '--data', str(tmp_path)]!r}, "
        f"{['eval', '--checkpoint', str(tmp_path), '--data', str(data), '--task', 'zeroshot', '--classes', str(tmp_path / 'c.txt'), '--unseen', 'kick,moonwalk']!r}):\n"  # noqa: E501
        "    r = CliRunner().invoke(app, args)\n"
        "    assert r.exit_code == 2, args\n"
        "    assert args[-1] != 'kick,moonwalk' or \"--unseen: ['moonwalk'] are not among the 2 classes\" in r.output, r.output\n"  # noqa: E501
        "sys.exit(1 if 'torch' in sys.modules else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_train_option_shows_its_default():
    """Each option shows the default it has: TrainConfig's value as ``[default: X]`` (0.3.x showed
    ``[default: (20)]``), or, where that default is None, what it means in words."""
    import re

    import typer.main

    command = typer.main.get_command(app).commands["train"]
    defaults = TrainConfig()
    shown = re.sub(r"-\s+", "-", " ".join(CliRunner().invoke(app, ["train", "--help"]).output.split()))
    for p in command.params:
        if p.name in ("config", "resume", "overwrite", "help"):  # no default to show: off unless given
            continue
        value = getattr(defaults, p.name, None)
        if value is None and p.name != "nproc":
            assert "[default: " in p.help and not p.show_default, p.name  # described in words
            continue
        flag = p.opts[0]
        entry = re.search(re.escape(flag) + r"[ /].*?\[default: ([^\]]*)\]", shown)
        assert entry, p.name
        if value is not None:
            text = entry.group(1).split(";")[0]
            expected = str(value)
            if isinstance(value, bool):  # a flag pair shows the side that is on
                expected = (flag if value else p.secondary_opts[0] if p.secondary_opts else "False").lstrip("-")
            assert text in (expected, str(value)), (p.name, text, value)


def test_eval_outputs_land_where_asked_and_nothing_in_the_working_directory(tmp_path, data, monkeypatch):
    import torch

    from seqclip import SeqClip, SeqClipConfig

    rows = [json.loads(x) for x in (data / "manifest.jsonl").read_text().splitlines()]
    labelled = tmp_path / "labelled"
    labelled.mkdir()
    (labelled / "clips").symlink_to(data / "clips")
    for i, r in enumerate(rows):
        r["segments"] = [{"activity": ["walk", "wave"][i % 2], "start_frame": 0, "end_frame": 48, "params": {}}]
    (labelled / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    torch.manual_seed(0)
    SeqClip(SeqClipConfig(similarity="pooled", clip_length=48)).save_pretrained(tmp_path / "model")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    base = ["eval", "--checkpoint", str(tmp_path / "model"), "--data", str(labelled)]
    out = tmp_path / "some" / "missing" / "dir" / "m.json"
    assert CliRunner().invoke(app, [*base, "--out", str(out)]).exit_code == 0 and out.is_file()
    zs = CliRunner().invoke(app, [*base, "--task", "zeroshot", "--out", str(tmp_path / "z" / "zs.json")])
    assert zs.exit_code == 0, zs.output
    assert (tmp_path / "z" / "zs.confusion.png").is_file()
    assert CliRunner().invoke(app, [*base, "--task", "zeroshot"]).exit_code == 0
    assert (tmp_path / "model" / "eval" / "zeroshot_labelled_test_confusion.png").is_file()
    assert list(cwd.iterdir()) == []


def test_data_synth_refuses_an_existing_dataset_and_overwrite_moves_it_aside(tmp_path):
    out = tmp_path / "synth"
    assert run("data", "synth", "--out", out, "--clips", 4, "--workers", 1, "--max-frames", 100).exit_code == 0
    rows = (out / "manifest.jsonl").read_text().splitlines()
    (out / "manifest.jsonl").write_text("\n".join([*(json.dumps({**json.loads(r), "mine": 1}) for r in rows), ""]))
    kept = (out / "manifest.jsonl").read_bytes()
    again = run("data", "synth", "--out", out, "--clips", 2, "--workers", 1, "--max-frames", 100)
    assert again.exit_code == 2 and "--overwrite" in one_line(again) and str(out) in one_line(again)
    assert (out / "manifest.jsonl").read_bytes() == kept
    fresh = run("data", "synth", "--out", out, "--clips", 2, "--workers", 1, "--max-frames", 100, "--overwrite")
    assert fresh.exit_code == 0, fresh.output
    old = [p for p in tmp_path.iterdir() if p.name.startswith("synth.old-")]
    assert len(old) == 1 and (old[0] / "manifest.jsonl").read_bytes() == kept
    assert len((out / "manifest.jsonl").read_text().splitlines()) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["synth", old[0].name])  # nothing half-written


def test_data_convert_and_data_shard_refuse_an_existing_output(tmp_path):
    data = make_dataset(tmp_path / "d")
    shards = tmp_path / "shards"
    assert run("data", "shard", data, "--out", shards, "--shard-size", 4).exit_code == 0
    index = (shards / "index.json").read_bytes()
    again = run("data", "shard", data, "--out", shards)
    assert again.exit_code == 2 and "--overwrite" in one_line(again) and (shards / "index.json").read_bytes() == index
    assert run("data", "shard", data, "--out", shards, "--overwrite").exit_code == 0
    src = tmp_path / "src"
    src.mkdir()
    for i in range(4):
        np.savez(
            src / f"r{i}.npz",
            range_time=np.ones((256, 32)),
            doppler_time=np.ones((128, 32)),
            azimuth_time=np.ones((128, 32)),
        )
    (tmp_path / "caps.json").write_text(json.dumps({f"r{i}": [f"caption {i}"] for i in range(4)}))
    convert = run("data", "convert", src, "--captions", tmp_path / "caps.json", "--out", data)
    assert convert.exit_code == 2 and "--overwrite" in one_line(convert)
    assert len((data / "manifest.jsonl").read_text().splitlines()) == 16


def test_data_convert_of_a_missing_source_folder_says_so(tmp_path):
    (tmp_path / "caps.json").write_text(json.dumps({"rec00": ["a caption"]}))
    result = run("data", "convert", tmp_path / "nowhere", "--captions", tmp_path / "caps.json", "--out", tmp_path / "o")
    assert result.exit_code == 2 and "source folder not found" in one_line(result) and "lacks" not in result.output


def test_data_convert_takes_the_split_fractions(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for i in range(10):
        np.savez(
            src / f"r{i}.npz",
            range_time=np.ones((256, 32)),
            doppler_time=np.ones((128, 32)),
            azimuth_time=np.ones((128, 32)),
        )
    (tmp_path / "caps.json").write_text(json.dumps({f"r{i}": [f"caption {i}"] for i in range(10)}))
    base = ["data", "convert", src, "--captions", tmp_path / "caps.json"]
    ok = run(*base, "--out", tmp_path / "o", "--val-fraction", 0.3, "--test-fraction", 0.2)
    assert ok.exit_code == 0, ok.output
    splits = [json.loads(x)["split"] for x in (tmp_path / "o" / "manifest.jsonl").read_text().splitlines()]
    assert (splits.count("train"), splits.count("val"), splits.count("test")) == (5, 3, 2)
    bad = run(*base, "--out", tmp_path / "p", "--val-fraction", 0.6, "--test-fraction", 0.5)
    assert bad.exit_code == 2 and "--val-fraction" in one_line(bad) and not (tmp_path / "p").exists()
    evaluation = run(*base, "--out", tmp_path / "e", "--val-fraction", 0.5, "--test-fraction", 0.5)  # no train split
    assert evaluation.exit_code == 0, evaluation.output


@pytest.mark.parametrize(
    "args, flag",
    [
        (["train", "--lr", "-1"], "--lr"),
        (["train", "--seq-weight", "-0.5"], "--seq-weight"),
        (["train", "--grad-clip", "-1"], "--grad-clip"),
        (["train", "--max-steps", "-1"], "--max-steps"),
        (["train", "--workers", "-1"], "--workers"),
        (["train", "--preset", "huge"], "--preset"),
        (["train", "--keep-last", "-2"], "--keep-last"),
        (["train", "--epochs", "0"], "--epochs"),
        (["data", "synth", "--out", "x", "--max-frames", "50"], "--max-frames"),
        (["data", "synth", "--out", "x", "--clips", "0"], "--clips"),
        (["data", "synth", "--out", "x", "--twins", "1.5"], "--twins"),
        (["eval", "--checkpoint", ".", "--data", ".", "--batch-size", "0"], "--batch-size"),
        (["eval", "--checkpoint", ".", "--data", ".", "--clip-length", "20"], "--clip-length"),
        (["eval", "--checkpoint", ".", "--data", ".", "--split", "dev"], "--split"),
    ],
)
def test_out_of_range_options_are_refused_at_once_naming_the_flag(args, flag):
    code = (
        "import sys, time; from typer.testing import CliRunner; from seqclip.cli import app\n"
        f"r = CliRunner().invoke(app, {args!r})\n"
        "print(r.exit_code); print(r.output); sys.exit(1 if 'torch' in sys.modules else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")
    assert proc.returncode == 0, "torch was imported: " + proc.stdout + proc.stderr  # the time: bench/cli_latency.py
    assert proc.stdout.splitlines()[0] == "2" and flag in proc.stdout, proc.stdout


def test_help_lists_the_choices_of_preset_and_split():
    train = run("train", "--help").output
    assert "tiny | small | base" in train
    assert "<train|val|test>" in run("eval", "--help").output


def test_ctrl_c_prints_the_command_that_resumes(tmp_path, monkeypatch):
    data = make_dataset(tmp_path / "d")
    out = tmp_path / "run"
    import seqclip.training.loop as train_module

    original = train_module.train_one_epoch

    def interrupted(r, on_step):
        if r.state.epoch == 1:
            raise KeyboardInterrupt
        original(r, on_step)

    monkeypatch.setattr(train_module, "train_one_epoch", interrupted)
    result = run("train", *toml(tmp_path, epochs=2), "--data", data, "--out", out, "--overwrite")
    assert result.exit_code == 130 and "--resume latest" in result.output and str(out) in result.output
    assert "--overwrite" not in result.output.split("--resume")[0].splitlines()[-1]
    monkeypatch.setattr(train_module, "train_one_epoch", lambda r, on_step: (_ for _ in ()).throw(KeyboardInterrupt))
    early = run("train", *toml(tmp_path), "--data", data, "--out", tmp_path / "early2")
    assert early.exit_code == 130 and "before the first checkpoint" in early.output
    assert not (tmp_path / "early2").exists()


def test_every_help_text_renders_every_character_of_its_source():
    import typer.main

    def words(text):  # the help formatter wraps lines, also after a hyphen
        return re.sub(r"-\s+", "-", " ".join(text.split()))

    for path, command in _commands(typer.main.get_command(app)):
        shown = words(run(*path, "--help").output)
        for param in command.params:
            if getattr(param, "help", None):
                assert words(param.help) in shown, (path, param.name, param.help)
        assert words(command.help.split("\n\n")[0]) in shown, path


def test_eval_out_is_checked_for_writability_before_any_work(tmp_path, saved):
    data = make_dataset(tmp_path / "d")
    (tmp_path / "file").write_text("x")
    for out, expected in (
        (Path("/sys/seqclip/m.json"), "cannot write in /sys"),
        (tmp_path / "file" / "m.json", "is a file, not a directory"),
        (tmp_path, "is a directory"),
    ):
        for task in ("retrieval", "zeroshot"):
            result = run("eval", "--checkpoint", saved, "--data", data, "--task", task, "--out", out)
            assert result.exit_code == 2 and expected in one_line(result), (task, result.output)
            assert "R@1" not in result.output and "top-1" not in result.output  # before the evaluation


def test_label_only_data_converts_and_evaluates_zero_shot_on_its_own_classes(tmp_path):
    src = tmp_path / "har"
    src.mkdir()
    rng = np.random.default_rng(0)
    lines = ["id,label"]
    for i in range(12):  # one action per clip and a label table, as public HAR datasets come
        cid = f"S{i // 3:02d}_A{i % 3:02d}"
        np.savez(
            src / f"{cid}.npz",
            range_time=rng.random((256, 48)),
            doppler_time=rng.random((128, 48)),
            azimuth_time=rng.random((128, 48)),
        )
        lines.append(f"{cid},{['walking', 'sit_down', 'waving'][i % 3]}")
    (tmp_path / "labels.csv").write_text("\n".join(lines) + "\n")
    out = tmp_path / "data"
    result = run("data", "convert", src, "--labels", tmp_path / "labels.csv", "--out", out, "--test-fraction", "0.5")
    assert result.exit_code == 0, result.output
    checked = run("data", "check", out)
    assert checked.exit_code == 0 and "is a valid dataset: 12 clips (train 5, val 1, test 6)" in checked.output
    assert "third view: azimuth" in checked.output
    torch.manual_seed(0)
    SeqClip(SeqClipConfig(similarity="pooled", clip_length=48)).save_pretrained(tmp_path / "model")
    evaluated = run(
        "eval", "--task", "zeroshot", "--checkpoint", tmp_path / "model", "--data", out, "--out", tmp_path / "zs.json"
    )
    assert evaluated.exit_code == 0, evaluated.output
    metrics = json.loads((tmp_path / "zs.json").read_text())
    assert metrics["classes"] == ["sit_down", "walking", "waving"] and metrics["clips"] == 6
    assert metrics["prompts"]["sit_down"][0] == "Sit down."  # the captions a clip of that label gets
    neither = run("data", "convert", src, "--out", tmp_path / "none")
    assert neither.exit_code == 2 and "--captions FILE, --labels FILE, or both" in neither.output
    (tmp_path / "c.json").write_text(
        json.dumps(
            {
                name: {"descriptions": [f"a person {verb}."]}
                for name, verb in (
                    ("walking", "travels forward"),
                    ("sit_down", "ends seated"),
                    ("waving", "raises one arm above the head"),
                )
            }
        )
    )
    described = tmp_path / "described"
    result = run(
        "data",
        "convert",
        src,
        "--labels",
        tmp_path / "labels.csv",
        "--classes",
        tmp_path / "c.json",
        "--out",
        described,
        "--test-fraction",
        "0.5",
    )
    assert result.exit_code == 0, result.output
    evaluated = run(
        "eval",
        "--task",
        "zeroshot",
        "--checkpoint",
        tmp_path / "model",
        "--data",
        described,
        "--prompts",
        "descriptions",
        "--out",
        tmp_path / "zs2.json",
    )
    assert evaluated.exit_code == 0, evaluated.output
    metrics = json.loads((tmp_path / "zs2.json").read_text())
    assert metrics["prompts"]["sit_down"] == ["a person ends seated."] and metrics["prompt_source"] == "descriptions"
    alone = run(
        "data",
        "convert",
        src,
        "--captions",
        tmp_path / "c.json",
        "--classes",
        tmp_path / "c.json",
        "--out",
        tmp_path / "x",
    )
    assert alone.exit_code == 2 and "--classes describes the classes of --labels" in alone.output
    assert not (tmp_path / "x").exists()


def test_a_librarys_field_is_worded_as_the_flag(capsys):
    import typer

    from seqclip.cli.common import user_errors
    from seqclip.errors import UserError

    for raised, shown in (
        ("similarity: temporal is not the model's", "error: --similarity: temporal is not the model's"),
        ("rerank: must be one of none | temporal", "error: --rerank: must be one of none | temporal"),
        ("manifest.jsonl:3: bad field", "error: manifest.jsonl:3: bad field"),  # no field: as raised
    ):
        with pytest.raises(typer.Exit), user_errors():
            raise UserError(raised)
        assert capsys.readouterr().err.strip() == shown
