"""The run directory: the only module that knows its file names.

::

    RUN/config.toml                    the run's TrainConfig (written when the run starts)
    RUN/metrics.jsonl, RUN/tensorboard/  the metrics (``logger.MetricsLogger``)
    RUN/best/                          the best model by validation R@1 (``pretrained`` layout)
    RUN/checkpoints/step_0000123/      model/ (``pretrained`` layout) + trainer_state.pt
    RUN/checkpoints/latest             the name of the newest complete checkpoint
    RUN/plots/                         ``seqclip plot``'s figures
    RUN/eval/                          ``seqclip eval``'s figures when no --out is given

A new run never writes into an old one and a failed start writes nothing: ``check_run_dir`` runs
before anything is written, ``open_run_dir`` only once the run is ready to take its first step.
Standard library only at import (torch loads inside the checkpoint functions).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from .config import TrainConfig
from .errors import TrainingError
from .files import check_data_spec

__all__ = [
    "read_config_toml",
    "CONFIG_TOML",
    "METRICS",
    "TENSORBOARD",
    "BEST",
    "CHECKPOINTS",
    "PLOTS",
    "EVAL",
    "RUN_FILES",
    "check_run_dir",
    "open_run_dir",
    "is_run_dir",
    "preflight",
    "discard_unfinished_start",
    "latest_checkpoint",
    "resolve_resume",
    "save_checkpoint",
    "load_trainer_state",
    "checkpoint_model",
    "model_candidates",
    "run_data",
    "read_metrics",
]

CONFIG_TOML = "config.toml"
METRICS = "metrics.jsonl"
TENSORBOARD = "tensorboard"
BEST = "best"
CHECKPOINTS = "checkpoints"
PLOTS = "plots"
EVAL = "eval"
LATEST = "latest"  # in CHECKPOINTS: the newest complete checkpoint's name
TRAINER_STATE = "trainer_state.pt"  # in a checkpoint: optimizer, scheduler, scaler, RNG, TrainState
MODEL = "model"  # in a checkpoint: the weights, as ``pretrained.save_pretrained`` writes them

RUN_FILES = (CHECKPOINTS, METRICS, BEST, CONFIG_TOML, TENSORBOARD)  # what marks a run directory
START_FILES = (CONFIG_TOML, METRICS, TENSORBOARD)  # what a start writes before its first checkpoint
KEPT_FILES = (CHECKPOINTS, BEST)  # what a run has that is worth resuming or keeping


def is_run_dir(path: Path) -> bool:
    return path.is_dir() and any((path / name).exists() for name in RUN_FILES)


def _holds_weights(path: Path) -> bool:
    return any((path / name).exists() for name in KEPT_FILES)


def read_config_toml(run: Path) -> dict | None:
    """RUN/config.toml's ``[train]`` table, or None when there is none (or it is not seqclip's)."""
    import tomllib

    try:
        config = tomllib.loads((run / CONFIG_TOML).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    return config["train"] if isinstance(config.get("train"), dict) else None


def _unfinished_start(path: Path) -> bool:
    """A run directory whose start died before its first checkpoint: seqclip's config.toml, no weights."""
    return read_config_toml(path) is not None and not _holds_weights(path)


def check_run_dir(cfg: TrainConfig) -> None:
    """Refuse to start a fresh run in a directory that already holds one (unless ``overwrite``). A
    start that died before its first checkpoint holds no weights: the same command starts again."""
    run = Path(cfg.out)
    if run.exists() and not run.is_dir():
        raise TrainingError(f"--out {run} is a file, not a directory")
    if cfg.resume or cfg.overwrite or not is_run_dir(run) or _unfinished_start(run):
        return
    raise TrainingError(
        f"{run} already holds a run; continue it with --resume latest, or start afresh with "
        f"--overwrite (the old run is moved aside, not deleted)"
    )


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


def latest_checkpoint(run: Path) -> Path | None:
    """The run's newest complete checkpoint (``RUN/checkpoints/latest``), or None."""
    pointer = run / CHECKPOINTS / LATEST
    if not pointer.is_file():
        return None
    return run / CHECKPOINTS / pointer.read_text().strip()


def resolve_resume(run: Path, resume: str) -> Path:
    """``latest`` -> the run's newest checkpoint; otherwise a checkpoint directory path."""
    if resume == "latest":
        latest = latest_checkpoint(run)
        if latest is None:
            raise FileNotFoundError(
                f"--resume latest: no checkpoint in {run / CHECKPOINTS} (a run that stopped "
                f"before its first checkpoint starts again with the same command, without "
                f"--resume)"
            )
        return latest
    path = Path(resume)
    if not (path / TRAINER_STATE).is_file():
        raise FileNotFoundError(f"--resume {resume}: not a checkpoint directory (no {TRAINER_STATE})")
    return path


def preflight(cfg: TrainConfig) -> None:
    """The start-up checks that need no torch (the CLI runs them before importing it): the data (a
    path that is not a shard pattern or URL must exist), the run directory, the checkpoint to resume from."""
    if cfg.data is not None:
        check_data_spec(cfg.data)
    check_run_dir(cfg)
    if cfg.resume:
        resolve_resume(Path(cfg.out), cfg.resume)
    if cfg.init and not Path(cfg.init).exists():
        raise TrainingError(f"--init: {cfg.init} not found (a model directory, a run or a checkpoint)")


def open_run_dir(cfg: TrainConfig, data_dir: Path) -> tuple[Path, Path | None, bool]:
    """Create the run directory (moving an old run aside with ``overwrite``; clearing what a start
    that died before its first checkpoint wrote) and write config.toml. Returns the run directory,
    where the old run went (or None), and whether this start created the directory."""
    import tomli_w

    from radar_views import move_aside

    from .files import write_text_atomic

    run = Path(cfg.out)
    moved = move_aside(run) if cfg.overwrite and is_run_dir(run) else None
    created = not run.exists()
    if not cfg.resume and not created and _unfinished_start(run):
        discard_unfinished_start(run, created=False)
    run.mkdir(parents=True, exist_ok=True)
    resolved = {**cfg.to_toml_dict(), "data": str(data_dir)}
    write_text_atomic(run / CONFIG_TOML, tomli_w.dumps({"train": resolved}))
    return run, moved, created


def run_data(run: Path) -> str:
    """The dataset a run trained on, as its config.toml records it."""
    config = read_config_toml(run)
    if config is None or "data" not in config:
        raise FileNotFoundError(f"{run} has no readable {CONFIG_TOML} naming its data; pass --data")
    return config["data"]


def read_metrics(run: Path) -> list[dict]:
    """Every line of RUN/metrics.jsonl, in order."""
    path = Path(run) / METRICS
    if not path.is_file():
        raise FileNotFoundError(f"{run} has no {METRICS} (is it a seqclip run directory?)")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# ---------------------------------------------------------------------- checkpoints
def save_checkpoint(run: Path, model, trainer_state: dict, keep_last: int, training: dict | None = None) -> Path:
    """``RUN/checkpoints/step_N/`` (the model, its card with ``training``, and ``trainer_state``),
    written beside and renamed into place; then ``latest`` names it and all but the ``keep_last``
    newest are removed (0: keep all)."""
    import torch

    from radar_views import staged_directory

    from .files import write_text_atomic

    ckpts = run / CHECKPOINTS
    name = f"step_{trainer_state['state']['global_step']:07d}"
    final = ckpts / name
    with staged_directory(final, discard=True) as tmp:  # a step saved again (a resumed run) is replaced
        model.save_pretrained(tmp / MODEL, training=training)
        torch.save(trainer_state, tmp / TRAINER_STATE)
    write_text_atomic(ckpts / LATEST, name + "\n")
    done = sorted(p for p in ckpts.glob("step_*") if p.is_dir())
    for old in done[:-keep_last] if keep_last > 0 else []:
        shutil.rmtree(old, ignore_errors=True)
    return final


def load_trainer_state(checkpoint: Path, map_location="cpu") -> dict:
    """A checkpoint's ``trainer_state.pt`` (loaded with ``weights_only=True``)."""
    import torch

    from .errors import CheckpointError

    path = checkpoint / TRAINER_STATE
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # noqa: BLE001 - a truncated or foreign file raises many types
        raise CheckpointError(f"{path}: unreadable ({type(err).__name__})") from None


def checkpoint_model(checkpoint: Path) -> Path:
    """The model directory inside a checkpoint."""
    return checkpoint / MODEL


def model_candidates(path: Path) -> list[tuple[Path, str | None]]:
    """Where a model may be, in order, for a path the user gave: itself (a model directory), a run's
    ``best/``, a checkpoint's ``model/``, a run's latest checkpoint (with a note saying so)."""
    candidates: list[tuple[Path, str | None]] = [(path, None), (path / BEST, None), (path / MODEL, None)]
    latest = latest_checkpoint(path)
    if latest is not None:
        candidates.append(
            (latest / MODEL, f"{path} has no {BEST}/ (no validation ran): using its latest checkpoint {latest.name}")
        )
    return candidates
