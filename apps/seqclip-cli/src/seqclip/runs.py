"""Run directories: a new run never writes into an old one, and a failed start writes nothing.

``check_run_dir`` is called before anything is written; ``open_run_dir`` only once the run is
ready to take its first step.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import tomli_w

from .config import TrainConfig, TrainingError

__all__ = ["RUN_FILES", "check_run_dir", "open_run_dir", "is_run_dir", "preflight", "check_data_spec", "latest_checkpoint", "resolve_resume"]

RUN_FILES = ("checkpoints", "metrics.jsonl", "best", "config.toml", "tensorboard")  # what marks a run directory


def is_run_dir(path: Path) -> bool:
    return path.is_dir() and any((path / name).exists() for name in RUN_FILES)


def check_run_dir(cfg: TrainConfig) -> None:
    """Refuse to start a fresh run in a directory that already holds one (unless ``overwrite``)."""
    run = Path(cfg.out)
    if run.exists() and not run.is_dir():
        raise TrainingError(f"--out {run} is a file, not a directory")
    if cfg.resume or cfg.overwrite or not is_run_dir(run):
        return
    raise TrainingError(f"{run} already holds a run; continue it with --resume latest, or start afresh with "
                        f"--overwrite (the old run is moved aside, not deleted)")


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
            raise FileNotFoundError(f"--resume latest: no checkpoint in {run / 'checkpoints'}")
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


def open_run_dir(cfg: TrainConfig, data_dir: Path) -> tuple[Path, Path | None]:
    """Create the run directory (moving an old run aside with ``overwrite``) and write config.toml.
    Returns the run directory and where the old run went (or None)."""
    from .files import write_text_atomic

    run = Path(cfg.out)
    moved = None
    if cfg.overwrite and is_run_dir(run):
        moved = run.with_name(f"{run.name}.old-{time.strftime('%Y%m%d-%H%M%S')}")
        suffix = 1
        while moved.exists():
            moved, suffix = moved.with_name(f"{run.name}.old-{time.strftime('%Y%m%d-%H%M%S')}-{suffix}"), suffix + 1
        os.replace(run, moved)
    run.mkdir(parents=True, exist_ok=True)
    resolved = {**cfg.to_toml_dict(), "data": str(data_dir)}
    write_text_atomic(run / "config.toml", tomli_w.dumps({"train": resolved}))
    return run, moved
