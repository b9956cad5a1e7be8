"""One writer per output, checked first: two commands on one --out (the second exits 2 at once,
naming the first; the first's output equals a run alone; train's case is in test_train's SIGKILL
test, which has a run alone to compare with), and every writer's --out checked before any work."""

import filecmp
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from seqclip_fixtures import make_dataset, one_line, run, toml

from radar_views import lock_path

SEQCLIP = [sys.executable, "-m", "seqclip"]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    """Until ``path`` exists; fails when ``proc`` ended first (it finished before a rival could meet it)."""
    deadline = time.time() + timeout
    while not path.exists():
        assert proc.poll() is None, f"the first command ended before the second started: {proc.communicate()}"
        assert time.time() < deadline, f"{path} never appeared"
        time.sleep(0.005)


def meet(first: list[str], second: list[str], out: Path, alone: list[str]) -> str:
    """``first`` (a process writing ``out``) and, while it holds ``out``'s lock, ``seqclip SECOND`` on the
    same ``out`` (in this process); ``alone`` runs meanwhile into its own directory. Returns the second's
    error output after checking that it exited 2 at once naming the first's pid, and that both others
    succeeded."""
    reference = subprocess.Popen(alone, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    winner = subprocess.Popen(first, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_for(lock_path(out), winner)
        started = time.time()
        loser = run(*second)
        took = time.time() - started
        assert winner.poll() is None, "the first command ended before the second was refused"
    finally:
        outputs = [p.communicate(timeout=600)[0] for p in (winner, reference)]
    assert winner.returncode == 0, outputs[0][-3000:]
    assert reference.returncode == 0, outputs[1][-3000:]
    assert loser.exit_code == 2, loser.output
    message = " ".join(loser.output.split())
    assert "Traceback" not in loser.output and f"pid {winner.pid}" in message and "--out" in message, message
    assert took < 20, f"the second command took {took:.1f} s to be refused"
    assert not lock_path(out).exists(), "the lock file outlived its command"
    return message


def assert_same_tree(a: Path, b: Path) -> None:
    """Every file under ``a`` and ``b`` the same, byte for byte."""
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert files_a == files_b and files_a
    _, mismatch, errors = filecmp.cmpfiles(a, b, [str(p) for p in files_a], shallow=False)
    assert not mismatch and not errors, (mismatch, errors)


def test_two_data_synth_on_one_out_the_second_exits_at_once(tmp_path):
    synth = ["data", "synth", "--clips", "6", "--max-frames", "100", "--workers", "1", "--seed", "3"]
    message = meet(
        [*SEQCLIP, *synth, "--out", str(tmp_path / "d")],
        [*synth, "--out", str(tmp_path / "d"), "--seed", "7"],
        tmp_path / "d",
        [*SEQCLIP, *synth, "--out", str(tmp_path / "alone")],
    )
    assert "data synth" in message
    assert_same_tree(tmp_path / "d", tmp_path / "alone")


def test_two_data_simulate_on_one_out_the_second_exits_at_once(tmp_path):
    from radar_synth.mocap_fixtures import write_humanml3d_fixture

    corpus = write_humanml3d_fixture(tmp_path / "HumanML3D", 3)
    simulate = ["data", "simulate", str(corpus), "--rotations", "2", "--workers", "1", "--max-frames", "64"]
    meet(
        [*SEQCLIP, *simulate, "--out", str(tmp_path / "d")],
        [*simulate, "--out", str(tmp_path / "d"), "--seed", "9"],
        tmp_path / "d",
        [*SEQCLIP, *simulate, "--out", str(tmp_path / "alone")],
    )
    assert_same_tree(tmp_path / "d", tmp_path / "alone")
    assert not list(tmp_path.glob(".d.*")), "a partial directory was left behind"


# ---------------------------------------------------------------------- --out checked first
@pytest.fixture
def under_a_file(tmp_path):
    """An output path under a regular file: it cannot be made, even as root."""
    (tmp_path / "file").write_text("x")
    return tmp_path / "file" / "out"


def test_every_writer_refuses_an_out_it_cannot_write_in_one_line_before_any_work(tmp_path, under_a_file):
    from radar_synth.mocap_fixtures import write_humanml3d_fixture

    data = make_dataset(tmp_path / "data")
    corpus = write_humanml3d_fixture(tmp_path / "HumanML3D", 1)
    (tmp_path / "clips").mkdir()
    (tmp_path / "captions.json").write_text("{}")
    commands = {
        "data synth": ["data", "synth", "--clips", "2"],
        "data simulate": ["data", "simulate", corpus],
        "data convert": ["data", "convert", tmp_path / "clips", "--captions", tmp_path / "captions.json"],
        "data shard": ["data", "shard", data],
        "data show": ["data", "show", data, "--id", "c000"],
        "train": ["train", "--data", data, *toml(tmp_path)],
    }
    for name, args in commands.items():
        out = under_a_file.with_suffix(".png") if name == "data show" else under_a_file
        result = run(*args, "--out", out)
        line = one_line(result)
        assert result.exit_code == 2 and "--out" in line and "is a file, not a directory" in line, (name, line)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["file", "data", "HumanML3D", "clips", "captions.json", "run.toml"]
    )
