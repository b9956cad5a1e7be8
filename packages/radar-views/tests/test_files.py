import json
import os
import subprocess
import sys

import pytest

from radar_views import OutputExistsError, atomic_write, move_aside, staged_directory


def test_a_staged_directory_appears_whole_or_not_at_all(tmp_path):
    target = tmp_path / "out" / "data"
    with staged_directory(target) as tmp:
        (tmp / "a.txt").write_text("a")
        assert not target.exists() and tmp.parent == target.parent
    assert (target / "a.txt").read_text() == "a"
    assert sorted(p.name for p in target.parent.iterdir()) == ["data"]
    with pytest.raises(RuntimeError), staged_directory(tmp_path / "failed") as tmp:
        (tmp / "half.txt").write_text("x")
        raise RuntimeError("the write fails half-way")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # nothing half-written is left


def test_an_existing_output_is_refused_or_moved_aside_never_deleted(tmp_path):
    target = tmp_path / "data"
    target.mkdir()
    with staged_directory(target) as tmp:  # an empty directory is simply replaced
        (tmp / "v1").write_text("1")
    with pytest.raises(OutputExistsError, match="already exists and is not empty"), staged_directory(target):
        pass
    with staged_directory(target, overwrite=True) as tmp:
        (tmp / "v2").write_text("2")
    old = [p for p in tmp_path.iterdir() if p.name.startswith("data.old-")]
    assert [p.name for p in target.iterdir()] == ["v2"] and len(old) == 1 and (old[0] / "v1").read_text() == "1"
    atomic_write(tmp_path / "file", b"x")
    with pytest.raises(OutputExistsError, match="is a file"), staged_directory(tmp_path / "file", overwrite=True):
        pass


def test_moving_aside_twice_in_one_second_keeps_both(tmp_path):
    for k in range(2):
        (tmp_path / "run").mkdir()
        (tmp_path / "run" / "k").write_text(str(k))
        move_aside(tmp_path / "run")
    kept = sorted(p for p in tmp_path.iterdir())
    assert len(kept) == 2 and sorted((p / "k").read_text() for p in kept) == ["0", "1"]


def test_a_staged_directory_gets_the_umask_mode(tmp_path):
    old = os.umask(0o027)
    try:
        with staged_directory(tmp_path / "d"):
            pass
    finally:
        os.umask(old)
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o750


# ---------------------------------------------------------------------- output_lock
HOLD = """
import os, sys, time
from radar_views import output_lock
with output_lock(sys.argv[1], command="holder --out x"):
    print("held", flush=True)
    if len(sys.argv) > 2:
        child = os.fork()
        if child == 0:
            time.sleep(60)
            os._exit(0)
        print(child, flush=True)
    time.sleep(60)
"""


def _holder(target, fork=False):
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(target), *(["fork"] if fork else [])], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_held_output_is_refused_naming_the_holder_and_released_with_its_lock_file(tmp_path):
    from radar_views import OutputLockedError, lock_path, output_lock

    holder = _holder(tmp_path / "out")
    try:
        with pytest.raises(
            OutputLockedError,
            match=rf"out is being written by another command \(pid {holder.pid}: "
            r"holder --out x\)",
        ):
            with output_lock(tmp_path / "out"):
                pass
    finally:
        holder.kill()
        holder.wait()
    assert lock_path(tmp_path / "out").is_file()  # left by a killed holder: stale, holds no lock
    with output_lock(tmp_path / "out", command="second") as path:
        assert json.loads(path.read_text()) == {"pid": os.getpid(), "command": "second"}
    assert not lock_path(tmp_path / "out").exists() and not (tmp_path / "out").exists()


def test_a_forked_child_of_a_killed_holder_does_not_keep_the_lock(tmp_path):
    """A DataLoader worker forked by a training that is then SIGKILLed lives on a while: the output
    must be free at once (a POSIX record lock is not inherited; an ``flock`` would be)."""
    from radar_views import lock_path, output_lock

    holder = _holder(tmp_path / "out", fork=True)
    child = int(holder.stdout.readline())
    try:
        holder.kill()
        holder.wait()
        assert lock_path(tmp_path / "out").is_file() and os.kill(child, 0) is None  # the child still runs
        with output_lock(tmp_path / "out"):
            pass
    finally:
        os.kill(child, 9)


def test_a_writers_own_output_saved_again_is_replaced_and_nothing_else_is_left(tmp_path):
    target = tmp_path / "best"
    for generation in ("first", "second"):
        with staged_directory(target, discard=True) as tmp:
            (tmp / "weights").write_text(generation)
    assert (target / "weights").read_text() == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best"]  # no .old, no .partial, nothing moved aside
    with pytest.raises(RuntimeError), staged_directory(target, discard=True) as tmp:  # a failed save
        (tmp / "weights").write_text("third")
        raise RuntimeError("interrupted")
    assert (target / "weights").read_text() == "second" and sorted(p.name for p in tmp_path.iterdir()) == ["best"]
    with pytest.raises(OutputExistsError):  # without discard an existing output is still refused
        with staged_directory(target):
            pass
