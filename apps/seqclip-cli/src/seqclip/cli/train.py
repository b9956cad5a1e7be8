"""``seqclip train``: options over ``TrainConfig`` (only those typed override a ``--config`` TOML),
the torchrun relaunch, and what to type after Ctrl-C."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from radar_encoder.config import PRESETS  # standard library only

from ..config import ALL_LAYERS, LOSSES, POSITIVES, SIMILARITIES, Device, Precision, TrainConfig
from ..errors import DivergedError
from .common import choice, console, err_console, fail, user_errors, writing

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
        typer.Option(
            help="Dataset directory, shard directory (index.json) or shard pattern "
            '("shards/train-{000000..000099}.tar", pipe:...). '
            "[default: the built-in synthetic dataset]",
            show_default=False,
        ),
    ] = None,
    train_num_samples: Annotated[
        int | None,
        typer.Option(
            help="Samples per epoch of shards without an index.json. [default: counted from index.json]",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="DataLoader worker processes per process. [default: one per spare core, at most 4]", show_default=False
        ),
    ] = None,
    decoded_cache: Annotated[
        str | None,
        typer.Option(
            help="Directory where clips are decoded once (float16 .npy, "
            "memory-mapped): inflating .npz leaves the hot path. "
            "[default: off]",
            show_default=False,
        ),
    ] = None,
    data_on_device: Annotated[
        bool | None,
        typer.Option(
            "--data-on-device/--no-data-on-device",
            help="Hold the training "
            "split (a dataset directory) as float16 tensors on the device, "
            "decoded once, and make batches by indexing: no loader worker. "
            "The same batches as without. [default: on CUDA when the "
            "training split fits in half the free memory, else off]",
            show_default=False,
        ),
    ] = None,
    compile: Annotated[
        bool | None,
        typer.Option(
            "--compile/--no-compile",
            help="torch.compile the whole training step (CUDA graphs on one GPU). [default: on CUDA, off on CPU]",
            show_default=False,
        ),
    ] = None,
    freeze_text: Annotated[
        bool,
        typer.Option("--freeze-text/--no-freeze-text", help="Freeze the text encoder (only the projections learn)."),
    ] = DEFAULTS.freeze_text,
    cache_text: Annotated[
        bool,
        typer.Option(
            "--cache-text/--no-cache-text",
            help="With --freeze-text: compute each caption's text-encoder output once (LiT-style).",
        ),
    ] = DEFAULTS.cache_text,
    text_trainable_layers: Annotated[
        str | None,
        typer.Option(
            help="Only the top N layers of the text encoder "
            "train; its embeddings and the layers below are "
            "frozen, their output computed once per caption and "
            "cached (0: --freeze-text --cache-text); all: every "
            "layer and the embeddings. [default: 0 on CPU, all "
            "on CUDA]",
            callback=_layers,
            show_default=False,
        ),
    ] = None,
    text_cache_mb: Annotated[
        int,
        typer.Option(
            help="With --text-trainable-layers or --cache-text: the cache's "
            "bound in MiB (the least recently used captions are dropped and "
            "computed again).",
            min=1,
        ),
    ] = DEFAULTS.text_cache_mb,
    preset: Annotated[str, typer.Option(help=f"Radar encoder preset: {' | '.join(PRESETS)}.")] = DEFAULTS.preset,
    epochs: Annotated[int, typer.Option(help="Epochs.")] = DEFAULTS.epochs,
    batch_size: Annotated[
        int | None, typer.Option(help="Batch size per process. [default: 32 on CPU, 128 on CUDA]", show_default=False)
    ] = None,
    lr: Annotated[float, typer.Option(help="Peak learning rate (radar side).")] = DEFAULTS.lr,
    similarity: Annotated[
        str,
        typer.Option(
            help=f"Sequence similarity of the sequence loss: {' | '.join(SIMILARITIES)} "
            "(pooled: the pooled loss only).",
            callback=choice("similarity", SIMILARITIES),
        ),
    ] = DEFAULTS.similarity,
    loss: Annotated[
        str, typer.Option(help=f"Contrastive loss: {' | '.join(LOSSES)}.", callback=choice("loss", LOSSES))
    ] = DEFAULTS.loss,
    seq_weight: Annotated[float, typer.Option(help="Weight of the sequence loss.")] = DEFAULTS.seq_weight,
    seq_hard_negatives: Annotated[
        int,
        typer.Option(
            help="The sequence loss scores each clip's and caption's "
            "positives and its K hardest negatives by the pooled score "
            "only (2 x batch x (K + 1) pairs instead of batch^2; the default "
            "was chosen on validation); 0: every pair.",
            min=0,
        ),
    ] = DEFAULTS.seq_hard_negatives,
    order_negatives: Annotated[
        bool,
        typer.Option(
            "--order-negatives/--no-order-negatives",
            help="Each multi-segment clip's order-reversed caption joins the batch as an extra radar->text negative.",
        ),
    ] = DEFAULTS.order_negatives,
    twin_batches: Annotated[
        bool,
        typer.Option(
            "--twin-batches/--no-twin-batches", help="Both clips of an order-swapped twin pair in the same batch."
        ),
    ] = DEFAULTS.twin_batches,
    positives: Annotated[
        str,
        typer.Option(
            help=f"Captions that are positives of each other: {' | '.join(POSITIVES)} "
            "(of the same clip, or of the same activity sequence).",
            callback=choice("positives", POSITIVES),
        ),
    ] = DEFAULTS.positives,
    precision: Annotated[
        Precision | None,
        typer.Option(
            help="Autocast precision (fp16: CUDA only). [default: bf16 on CUDA, fp32 on CPU]", show_default=False
        ),
    ] = None,
    accum_steps: Annotated[
        int,
        typer.Option(
            help="Micro-batches per optimizer step (exact large-batch gradient; "
            "an epoch's last partial group is dropped)."
        ),
    ] = DEFAULTS.accum_steps,
    grad_clip: Annotated[float, typer.Option(help="Max gradient norm (0: off).")] = DEFAULTS.grad_clip,
    out: Annotated[Path, typer.Option(help="Run directory.")] = Path(DEFAULTS.out),
    keep_last: Annotated[
        int,
        typer.Option(
            help="Checkpoints kept in RUN/checkpoints (0: all); each holds the model and the optimizer state."
        ),
    ] = DEFAULTS.keep_last,
    resume: Annotated[
        str | None, typer.Option(help="Continue a run: latest | a checkpoint directory.", show_default=False)
    ] = None,
    init: Annotated[
        str | None,
        typer.Option(
            help="Start from this model's weights (fine-tuning): a model "
            "directory, a run or a checkpoint of the same preset, text model and "
            "text length; the optimizer and schedule start afresh. [default: off, "
            "the weights start at random]",
            show_default=False,
        ),
    ] = None,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="Start a fresh run in --out, moving an existing run aside to OUT.old-<date>-<time> (never deleted).",
        ),
    ] = False,
    device: Annotated[Device, typer.Option(help="Device.")] = DEFAULTS.device,
    seed: Annotated[int, typer.Option(help="Random seed.")] = DEFAULTS.seed,
    text_model: Annotated[
        str, typer.Option(help="Hugging Face name or local path of the text encoder.")
    ] = DEFAULTS.text_model,
    max_text_length: Annotated[
        int,
        typer.Option(
            help="Tokens per caption the text encoder reads, [CLS] and [SEP] "
            "included (saved with the model; longer captions are cut, with a "
            "warning). The default holds every caption radar-synth writes."
        ),
    ] = DEFAULTS.max_text_length,
    skip_bad: Annotated[
        bool, typer.Option("--skip-bad/--no-skip-bad", help="Leave out bad clips (counted) instead of stopping.")
    ] = DEFAULTS.skip_bad,
    max_steps: Annotated[
        int, typer.Option(help="Stop after this many optimizer steps (0: all epochs).")
    ] = DEFAULTS.max_steps,
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


def _run_training(cfg: TrainConfig) -> dict | None:
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
