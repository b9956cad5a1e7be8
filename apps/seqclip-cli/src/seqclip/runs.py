"""Run directories: a new run never writes into an old one, and a failed start writes nothing.

``check_run_dir`` is called before anything is written; ``open_run_dir`` only once the run is
ready to take its first step.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import tomli_w

from .config import TrainConfig, TrainingError

__all__ = ["RUN_FILES", "START_FILES", "check_run_dir", "open_run_dir", "is_run_dir", "preflight", "check_data_spec",
           "latest_checkpoint", "resolve_resume", "check_writable", "discard_unfinished_start"]

RUN_FILES = ("checkpoints", "metrics.jsonl", "best", "config.toml", "tensorboard")  # what marks a run directory
START_FILES = ("config.toml", "metrics.jsonl", "tensorboard")  # what a start writes before its first checkpoint
KEPT_FILES = ("checkpoints", "best")  # what a run has that is worth resuming or keeping


def is_run_dir(path: Path) -> bool:
    return path.is_dir() and any((path / name).exists() for name in RUN_FILES)


def _holds_weights(path: Path) -> bool:
    return any((path / name).exists() for name in KEPT_FILES)


def _unfinished_start(path: Path) -> bool:
    """A run directory whose start died before its first checkpoint: seqclip's config.toml, no weights."""
    import tomllib

    try:
        config = tomllib.loads((path / "config.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return isinstance(config.get("train"), dict) and not _holds_weights(path)


def check_run_dir(cfg: TrainConfig) -> None:
    """Refuse to start a fresh run in a directory that already holds one (unless ``overwrite``). A
    start that died before its first checkpoint holds no weights: the same command starts again."""
    run = Path(cfg.out)
    if run.exists() and not run.is_dir():
        raise TrainingError(f"--out {run} is a file, not a directory")
    if cfg.resume or cfg.overwrite or not is_run_dir(run) or _unfinished_start(run):
        return
    raise TrainingError(f"{run} already holds a run; continue it with --resume latest, or start afresh with "
                        f"--overwrite (the old run is moved aside, not deleted)")


def discard_unfinished_start(run: Path, created: bool) -> None:
    """After a start that failed before writing any weights: remove what it wrote (the directory
    itself when this start created it), so nothing half-made is left and a retry starts clean."""
    if _holds_weights(run):
        return
    if created:
        shutil.rmtree(run, ignore_errors=True)
        return
    for name in START_FILES:
        target = run / name
        if target.is_dir():
            shutil.rmtree(target, ignore_errors=True)
        else:
            target.unlink(missing_ok=True)


def check_writable(path: Path | None, flag: str) -> None:
    """``path`` (a file to be written, None: nothing to check) can be created: not a directory, and
    its nearest existing ancestor is a directory this process can create files in (tried, so a
    read-only file system or a missing permission answers now, before any work)."""
    if path is None:
        return
    path = Path(path)
    if path.is_dir():
        raise TrainingError(f"{flag} {path} is a directory; give a file name")
    ancestor = path.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise TrainingError(f"{flag} {path}: {ancestor} is a file, not a directory")
    try:
        with tempfile.TemporaryFile(dir=ancestor):
            pass
    except OSError as err:
        raise TrainingError(f"{flag} {path}: cannot write in {ancestor} ({err.strerror or err})") from None


def latest_checkpoint(run: Path) -> Path | None:
    """The run's newest complete checkpoint (``RUN/checkpoints/latest``), or None."""
    pointer = run / "checkpoints" / "latest"
    if not pointer.is_file():
        return None
    return run / "checkpoints" / pointer.read_text().strip()


def resolve_resume(run: Path, resume: str) -> Path:
    """``latest`` -> the run's newest checkpoint; otherwise a checkpoint directory path."""
    if resume == "latest":
        latest = latest_checkpoint(run)
        if latest is None:
            raise FileNotFoundError(f"--resume latest: no checkpoint in {run / 'checkpoints'} (a run that stopped "
                                    f"before its first checkpoint starts again with the same command, without "
                                    f"--resume)")
        return latest
    path = Path(resume)
    if not (path / "trainer_state.pt").is_file():
        raise FileNotFoundError(f"--resume {resume}: not a checkpoint directory (no trainer_state.pt)")
    return path


def check_data_spec(spec: str) -> None:
    """A ``--data`` that is a plain path must exist (shard patterns and URLs are checked when opened)."""
    pattern = any(mark in spec for mark in ("{", "::", "://", "pipe:"))
    if not pattern and not Path(spec).exists():
        raise TrainingError(f"data directory or shards not found: {spec}")


def preflight(cfg: TrainConfig) -> None:
    """The start-up checks that need no torch (the CLI runs them before importing it): the data
    data (a path that is not a shard pattern or URL must exist), the run directory, the checkpoint
    to resume from."""
    if cfg.data is not None:
        check_data_spec(cfg.data)
    check_run_dir(cfg)
    if cfg.resume:
        resolve_resume(Path(cfg.out), cfg.resume)


def open_run_dir(cfg: TrainConfig, data_dir: Path) -> tuple[Path, Path | None, bool]:
    """Create the run directory (moving an old run aside with ``overwrite``; clearing what a start
    that died before its first checkpoint wrote) and write config.toml. Returns the run directory,
    where the old run went (or None), and whether this start created the directory."""
    from radar_views import move_aside

    from .files import write_text_atomic

    run = Path(cfg.out)
    moved = move_aside(run) if cfg.overwrite and is_run_dir(run) else None
    created = not run.exists()
    if not cfg.resume and not created and _unfinished_start(run):
        discard_unfinished_start(run, created=False)
    run.mkdir(parents=True, exist_ok=True)
    resolved = {**cfg.to_toml_dict(), "data": str(data_dir)}
    write_text_atomic(run / "config.toml", tomli_w.dumps({"train": resolved}))
    return run, moved, created
