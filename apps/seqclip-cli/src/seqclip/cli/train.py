"""``seqclip train``: options over ``TrainConfig`` (only those typed override a ``--config`` TOML),
the torchrun relaunch, and what to type after Ctrl-C."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from ..config import ALL_LAYERS, LOSSES, POSITIVES, SIMILARITIES, Device, Precision, TrainConfig
from ..errors import DivergedError
from .common import choice, console, err_console, fail, field_option, user_errors, writing

if TYPE_CHECKING:
    from ..evaluation.results import TrainSummary

__all__ = ["train"]

DEFAULTS = TrainConfig()  # the options' defaults; only options typed on the command line override the TOML


def _layers(value: str | None) -> int | str | None:
    """``--text-trainable-layers``: ``all`` or a whole number of at least 0."""
    if value is None or value == ALL_LAYERS:
        return value
    if not value.isdigit():
        raise typer.BadParameter(f"{value!r} is not {ALL_LAYERS} or a whole number >= 0")
    return int(value)


def train(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="TOML file of training options (keys as the options, "
            "under a [train] table); an option typed on the command line wins.",
            show_default=False,
        ),
    ] = None,
    data: Annotated[
        str | None,
        field_option("data", show_default=False),
    ] = None,
    train_num_samples: Annotated[
        int | None,
        field_option("train_num_samples", show_default=False),
    ] = None,
    workers: Annotated[
        int | None,
        field_option("workers", show_default=False),
    ] = None,
    decoded_cache: Annotated[
        str | None,
        field_option("decoded_cache", show_default=False),
    ] = None,
    data_on_device: Annotated[
        bool | None,
        field_option("data_on_device", "--data-on-device/--no-data-on-device", show_default=False),
    ] = None,
    compile: Annotated[
        bool | None,
        field_option("compile", "--compile/--no-compile", show_default=False),
    ] = None,
    freeze_text: Annotated[
        bool,
        field_option("freeze_text", "--freeze-text/--no-freeze-text"),
    ] = DEFAULTS.freeze_text,
    cache_text: Annotated[
        bool,
        field_option("cache_text", "--cache-text/--no-cache-text"),
    ] = DEFAULTS.cache_text,
    text_trainable_layers: Annotated[
        str | None,
        field_option("text_trainable_layers", callback=_layers, show_default=False),
    ] = None,
    text_cache_mb: Annotated[
        int,
        field_option("text_cache_mb", min=1),
    ] = DEFAULTS.text_cache_mb,
    preset: Annotated[str, field_option("preset")] = DEFAULTS.preset,
    epochs: Annotated[int, field_option("epochs")] = DEFAULTS.epochs,
    batch_size: Annotated[int | None, field_option("batch_size", show_default=False)] = None,
    lr: Annotated[float, field_option("lr")] = DEFAULTS.lr,
    similarity: Annotated[
        str,
        field_option("similarity", callback=choice("similarity", SIMILARITIES)),
    ] = DEFAULTS.similarity,
    loss: Annotated[str, field_option("loss", callback=choice("loss", LOSSES))] = DEFAULTS.loss,
    seq_weight: Annotated[float, field_option("seq_weight")] = DEFAULTS.seq_weight,
    seq_hard_negatives: Annotated[
        int,
        field_option("seq_hard_negatives", min=0),
    ] = DEFAULTS.seq_hard_negatives,
    order_negatives: Annotated[
        bool,
        field_option("order_negatives", "--order-negatives/--no-order-negatives"),
    ] = DEFAULTS.order_negatives,
    twin_batches: Annotated[
        bool,
        field_option("twin_batches", "--twin-batches/--no-twin-batches"),
    ] = DEFAULTS.twin_batches,
    positives: Annotated[
        str,
        field_option("positives", callback=choice("positives", POSITIVES)),
    ] = DEFAULTS.positives,
    precision: Annotated[
        Precision | None,
        field_option("precision", show_default=False),
    ] = None,
    accum_steps: Annotated[
        int,
        field_option("accum_steps"),
    ] = DEFAULTS.accum_steps,
    grad_clip: Annotated[float, field_option("grad_clip")] = DEFAULTS.grad_clip,
    out: Annotated[Path, field_option("out")] = Path(DEFAULTS.out),
    keep_last: Annotated[
        int,
        field_option("keep_last"),
    ] = DEFAULTS.keep_last,
    resume: Annotated[str | None, field_option("resume", show_default=False)] = None,
    init: Annotated[
        str | None,
        field_option("init", show_default=False),
    ] = None,
    overwrite: Annotated[
        bool,
        field_option("overwrite", "--overwrite"),
    ] = False,
    device: Annotated[Device, field_option("device")] = DEFAULTS.device,
    seed: Annotated[int, field_option("seed")] = DEFAULTS.seed,
    text_model: Annotated[str, field_option("text_model")] = DEFAULTS.text_model,
    max_text_length: Annotated[
        int,
        field_option("max_text_length"),
    ] = DEFAULTS.max_text_length,
    skip_bad: Annotated[bool, field_option("skip_bad", "--skip-bad/--no-skip-bad")] = DEFAULTS.skip_bad,
    max_steps: Annotated[int, field_option("max_steps")] = DEFAULTS.max_steps,
    nproc: Annotated[int, typer.Option(help="Processes on this machine (launches torchrun).", min=1)] = 1,
) -> None:
    """Train a SeqClip model (generates the built-in dataset on first use) and report test retrieval."""
    from ..config import load_train_config
    from ..rundir import preflight

    if nproc > 1:
        from ..training.launch import relaunch_under_torchrun

        raise typer.Exit(relaunch_under_torchrun(nproc))
    options = {k: v for k, v in ctx.params.items() if k not in ("config", "nproc")}
    typed = {k: str(v) if isinstance(v, Path) else v for k, v in options.items() if _typed(ctx, k)}
    with user_errors():
        cfg = load_train_config(config, typed)
    with writing(Path(cfg.out), lock=os.environ.get("RANK", "0") == "0"):  # one lock per run: rank 0's
        with user_errors():
            preflight(cfg)  # answers at once: torch is not imported yet
        try:
            summary = _run_training(cfg)
        except KeyboardInterrupt:
            err_console.print(escape(_interrupted(cfg, config, typed)), highlight=False, soft_wrap=True)
            raise typer.Exit(130) from None
    if summary is not None:
        from ..evaluation.report import print_summary

        print_summary(console, summary)


def _typed(ctx: typer.Context, name: str) -> bool:
    """The option was given on the command line (not left at its default): only those override the TOML."""
    source = ctx.get_parameter_source(name)  # an enum of the click that Typer runs on
    return source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT", "PROMPT")


def _interrupted(cfg: TrainConfig, config: Path | None, typed: dict) -> str:
    """What to type after Ctrl-C: the same options, resuming from the newest checkpoint."""
    from ..config import flag
    from ..rundir import latest_checkpoint

    if latest_checkpoint(Path(cfg.out)) is None:
        return "interrupted before the first checkpoint (nothing was kept); run the same command again to start"
    words = ["seqclip", "train", *(["--config", str(config)] if config else [])]
    for name, value in typed.items():
        if name in ("resume", "overwrite", "out"):
            continue
        if isinstance(value, bool):
            words.append(flag(name) if value else flag(name).replace("--", "--no-", 1))
        else:
            words += [flag(name), str(value)]
    words += ["--out", cfg.out, "--resume", "latest"]
    return "interrupted; continue exactly where the last checkpoint left off with:\n  " + " ".join(
        shlex.quote(w) for w in words
    )


def _run_training(cfg: TrainConfig) -> TrainSummary | None:
    """Train (joining torchrun's process group when launched by it); the summary on rank 0, else None."""
    from ..distributed import DistContext
    from ..training.loop import train as run_train

    ctx = None
    try:
        with user_errors():
            if int(os.environ.get("WORLD_SIZE", "1")) > 1:
                ctx = DistContext.from_env(cfg.device)
            try:
                summary = run_train(cfg, console, distributed=ctx)
            except DivergedError as err:
                raise fail(str(err), code=1) from None
    finally:
        if ctx is not None:
            ctx.close()
    return summary if ctx is None or ctx.is_main else None
