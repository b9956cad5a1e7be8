import os

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
