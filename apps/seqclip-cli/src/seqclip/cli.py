"""The ``seqclip`` command line: thin Typer commands over plain functions.

User mistakes (missing files, unknown options, bad TOML keys) end with one line and exit code 2;
a diverged run exits with 1; no tracebacks for either. Only the standard library, Typer and Rich
are imported here: torch, timm and transformers load inside the commands that need them, so
``--help`` answers at once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table

from radar_text_data.contract import DEFAULT_SHARD_SIZE, MAX_FRAMES

from .config import Device, Loss, Positives, Precision, Similarity, TrainConfig, TrainingError

Task = Literal["retrieval", "zeroshot", "hard_negatives", "order"]
Protocol = Literal["full", "in-batch"]
DataFormat = Literal["directory", "wds"]
DEFAULTS = TrainConfig()  # shown by `train --help` (the options default to None: TOML, then these)

app = typer.Typer(help="Train and evaluate CLIP-style radar-text models.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
data_app = typer.Typer(help="Create, check and inspect datasets.", no_args_is_help=True)
app.add_typer(data_app, name="data")
console = Console()
err_console = Console(stderr=True)

USER_ERRORS = (ValueError, FileNotFoundError)


def fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


# ---------------------------------------------------------------------- data
@data_app.command("synth")
def data_synth(
    out: Annotated[Path, typer.Option(help="Output directory (the dataset, or the shards with --format wds).")],
    clips: Annotated[int, typer.Option(help="Number of clips.")] = 320,
    seed: Annotated[int, typer.Option(help="Random seed (same seed -> identical files).")] = 0,
    workers: Annotated[int, typer.Option(help="Generator processes.")] = 2,
    max_frames: Annotated[int, typer.Option(help="Longest clip in frames (100-496).")] = MAX_FRAMES,
    snr_db: Annotated[float, typer.Option(help="Per-sample SNR of a 1 m^2 target at 5 m.")] = 0.0,
    multi_segment: Annotated[float, typer.Option(help="Share of clips (twins aside) with 2 or 3 activities.")] = 0.6,
    twins: Annotated[float, typer.Option(help="Share of clips in order-swapped twin pairs (each pair in one "
                                         "split).")] = 0.1,
    format: Annotated[DataFormat, typer.Option(help="directory (manifest.jsonl + clips/) or wds (WebDataset "
                                               "shards + index.json).")] = "directory",
    shard_size: Annotated[int, typer.Option(help="Samples per shard (--format wds).")] = DEFAULT_SHARD_SIZE,
) -> None:
    """Simulate a captioned radar dataset with radar-synth."""
    from radar_synth import generate_dataset

    try:
        root = generate_dataset(out, clips, seed=seed, workers=workers, max_frames=max_frames, snr_db=snr_db,
                                multi_segment=multi_segment, twins=twins, format=format, shard_size=shard_size)
    except USER_ERRORS as err:
        raise fail(str(err)) from None
    console.print(f"wrote {clips} clips to {root}" + (" as shards" if format == "wds" else ""))


@data_app.command("shard")
def data_shard(
    root: Annotated[Path, typer.Argument(help="Dataset directory (manifest.jsonl + clips/).")],
    out: Annotated[Path, typer.Option(help="Directory for {split}-{000000..}.tar and index.json.")],
    shard_size: Annotated[int, typer.Option(help="Samples per shard.")] = DEFAULT_SHARD_SIZE,
) -> None:
    """Write a dataset directory as WebDataset shards (deterministic: the same dataset gives the same bytes)."""
    if not root.is_dir():
        raise fail(f"dataset directory not found: {root}")
    from radar_text_data import read_manifest, shard_directory

    try:
        total = len(read_manifest(root))
        with _bar(total, "sharding") as advance:
            index = shard_directory(root, out, shard_size, progress=advance)
    except USER_ERRORS as err:
        raise fail(str(err)) from None
    console.print(f"wrote {total} clips as shards to {out} (index: {index})")


@contextmanager
def _bar(total: int, what: str):
    """A Rich progress bar of ``total`` clips; yields ``advance(n=1)``."""
    from rich.progress import Progress

    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(what, total=total)
        yield lambda n=1: progress.advance(task, n)


@data_app.command("check")
def data_check(data: Annotated[str, typer.Argument(help="Dataset directory, shard directory or shard pattern.")]) -> None:
    """Validate every record and clip; list each problem with its file and line, or shard and key (exit 1 if any)."""
    _check_spec(data)
    from radar_text_data import check_dataset, resolve_data

    try:
        problems = check_dataset(resolve_data(data))
    except USER_ERRORS as err:
        raise fail(str(err)) from None
    for p in problems:
        console.print(p, highlight=False, soft_wrap=True)
    if problems:
        err_console.print(f"[bold red]{len(problems)} problem(s)[/] in {data}")
        raise typer.Exit(1)
    console.print(f"[green]ok[/]: {data} is a valid dataset")


@data_app.command("show")
def data_show(
    data: Annotated[str, typer.Argument(help="Dataset directory, shard directory or shard pattern.")],
    id: Annotated[str, typer.Option("--id", help="Clip id.")],
    out: Annotated[Path, typer.Option(help="PNG to write (missing directories are created).")],
) -> None:
    """Plot the three views of one clip with its captions."""
    _check_spec(data)
    from .plots import plot_clip

    try:
        plot_clip(data, id, out)
    except USER_ERRORS as err:
        raise fail(str(err)) from None
    console.print(f"wrote {out}")


def _check_spec(data: str) -> None:
    """A missing dataset answers before numpy and the format package load."""
    from .runs import check_data_spec

    try:
        check_data_spec(data)
    except TrainingError as err:
        raise fail(str(err)) from None


@data_app.command("convert")
def data_convert(
    src: Annotated[Path, typer.Argument(help="Folder of <id>.npz or <id>/<view>.npy files.")],
    captions: Annotated[Path, typer.Option(help="JSON {id: [captions]} or JSON lines {id, captions}.")],
    out: Annotated[Path, typer.Option(help="Output dataset directory.")],
    seed: Annotated[int, typer.Option(help="Seed of the train/val/test split.")] = 0,
) -> None:
    """Convert your own per-clip views plus a captions file to the dataset directory format."""
    from radar_text_data import convert_folder

    try:
        root = convert_folder(src, captions, out, seed=seed)
    except USER_ERRORS as err:
        raise fail(str(err)) from None
    console.print(f"wrote {root} (check it with `seqclip data check {root}`)")


# ---------------------------------------------------------------------- train
def _d(name: str) -> str:
    return str(getattr(DEFAULTS, name))


@app.command()
def train(
    config: Annotated[Path | None, typer.Option("--config", help="TOML file of training options (keys as the options, "
                                                "under a \\[train] table); the command line wins.")] = None,
    data: Annotated[str | None, typer.Option(help="Dataset directory, shard directory (index.json) or shard pattern "
                                             "(\"shards/train-{000000..000099}.tar\", pipe:...).",
                                             show_default="the built-in synthetic dataset")] = None,
    train_num_samples: Annotated[int | None, typer.Option(help="Samples per epoch of shards without an index.json.",
                                                          show_default="counted from index.json")] = None,
    workers: Annotated[int | None, typer.Option(help="DataLoader worker processes per process.",
                                                show_default="one per spare core, at most 4")] = None,
    decoded_cache: Annotated[str | None, typer.Option(help="Directory where clips are decoded once (float16 .npy, "
                                                      "memory-mapped): inflating .npz leaves the hot path.",
                                                      show_default="off")] = None,
    compile: Annotated[bool | None, typer.Option("--compile/--no-compile", help="torch.compile the radar encoder "
                                                 "and the sequence similarity (worth it on a GPU).",
                                                 show_default=_d("compile"))] = None,
    freeze_text: Annotated[bool | None, typer.Option("--freeze-text/--no-freeze-text", help="Freeze the text "
                                                     "encoder (only the projections learn).",
                                                     show_default=_d("freeze_text"))] = None,
    cache_text: Annotated[bool | None, typer.Option("--cache-text/--no-cache-text", help="With --freeze-text: "
                                                    "compute each caption's text-encoder output once (LiT-style).",
                                                    show_default=_d("cache_text"))] = None,
    preset: Annotated[str | None, typer.Option(help="Radar encoder preset: tiny | small | base.", show_default=_d("preset"))] = None,
    epochs: Annotated[int | None, typer.Option(help="Epochs.", show_default=_d("epochs"))] = None,
    batch_size: Annotated[int | None, typer.Option(help="Batch size per process.",
                                                   show_default="32 on CPU, 128 on CUDA")] = None,
    lr: Annotated[float | None, typer.Option(help="Peak learning rate (radar side).", show_default=_d("lr"))] = None,
    similarity: Annotated[Similarity | None, typer.Option(help="Sequence similarity of the sequence loss (clip: CLIP loss "
                                                          "only).", show_default=_d("similarity"))] = None,
    loss: Annotated[Loss | None, typer.Option(help="Contrastive loss.", show_default=_d("loss"))] = None,
    seq_weight: Annotated[float | None, typer.Option(help="Weight of the sequence loss.", show_default=_d("seq_weight"))] = None,
    order_negatives: Annotated[bool | None, typer.Option("--order-negatives/--no-order-negatives", help="Each multi-"
                                                         "segment clip's order-reversed caption joins the batch as an "
                                                         "extra radar->text negative.",
                                                         show_default=_d("order_negatives"))] = None,
    twin_batches: Annotated[bool | None, typer.Option("--twin-batches/--no-twin-batches", help="Both clips of an "
                                                      "order-swapped twin pair in the same batch.",
                                                      show_default=_d("twin_batches"))] = None,
    positives: Annotated[Positives | None, typer.Option(help="Captions that are positives of each other: of the same "
                                                        "clip, or of the same activity sequence.",
                                                        show_default=_d("positives"))] = None,
    precision: Annotated[Precision | None, typer.Option(help="Autocast precision (fp16: CUDA only).",
                                                        show_default=_d("precision"))] = None,
    accum_steps: Annotated[int | None, typer.Option(help="Micro-batches per optimizer step (exact large-batch gradient; "
                                                    "an epoch's last partial group is dropped).",
                                                    show_default=_d("accum_steps"))] = None,
    grad_clip: Annotated[float | None, typer.Option(help="Max gradient norm (0: off).", show_default=_d("grad_clip"))] = None,
    out: Annotated[Path | None, typer.Option(help="Run directory.", show_default=_d("out"))] = None,
    resume: Annotated[str | None, typer.Option(help="Continue a run: latest | a checkpoint directory.")] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Start afresh in --out, moving an existing run there "
                                            "aside to OUT.old-<time> (never deleted).")] = False,
    device: Annotated[Device | None, typer.Option(help="Device.", show_default=_d("device"))] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.", show_default=_d("seed"))] = None,
    text_model: Annotated[str | None, typer.Option(help="Hugging Face name or local path of the text encoder.",
                                                   show_default=_d("text_model"))] = None,
    skip_bad: Annotated[bool | None, typer.Option("--skip-bad/--no-skip-bad", help="Leave out bad clips (counted) "
                                                  "instead of stopping.", show_default=_d("skip_bad"))] = None,
    max_steps: Annotated[int | None, typer.Option(help="Stop after this many optimizer steps (0: all epochs).",
                                                  show_default=_d("max_steps"))] = None,
    nproc: Annotated[int, typer.Option(help="Processes on this machine (launches torchrun).")] = 1,
) -> None:
    """Train a SeqClip model (generates the built-in dataset on first use) and report test retrieval."""
    from .config import load_train_config
    from .runs import preflight

    if nproc > 1:
        raise typer.Exit(_torchrun(nproc))
    overrides = dict(data=data, train_num_samples=train_num_samples, workers=workers, decoded_cache=decoded_cache,
                     compile=compile,
                     freeze_text=freeze_text, cache_text=cache_text, preset=preset,
                     epochs=epochs, batch_size=batch_size, lr=lr,
                     similarity=similarity, loss=loss, seq_weight=seq_weight, order_negatives=order_negatives,
                     twin_batches=twin_batches, positives=positives, precision=precision,
                     accum_steps=accum_steps, grad_clip=grad_clip, out=str(out) if out else None, resume=resume,
                     overwrite=overwrite or None, device=device, seed=seed, text_model=text_model, skip_bad=skip_bad,
                     max_steps=max_steps)
    try:
        cfg = load_train_config(config, overrides)
        preflight(cfg)  # answers at once: torch is not imported yet
    except (TrainingError, FileNotFoundError) as err:
        raise fail(str(err)) from None
    summary = _run_training(cfg)
    if summary is not None:
        _print_summary(summary)


def _torchrun(nproc: int) -> int:
    """Run this command line again under torchrun with ``nproc`` processes (without --nproc)."""
    args, skip = [], False
    for a in sys.argv[1:]:
        if skip or a.startswith("--nproc="):
            skip = False
            continue
        skip = a == "--nproc"
        if not skip:
            args.append(a)
    cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}", "-m", "seqclip", *args]
    return subprocess.call(cmd)


def _run_training(cfg: TrainConfig) -> dict | None:
    """Train (joining torchrun's process group when launched by it); the summary on rank 0, else None."""
    from .distributed import DistContext
    from .train import train as run_train

    ctx = None
    try:
        if int(os.environ.get("WORLD_SIZE", "1")) > 1:
            ctx = DistContext.from_env(cfg.device)
        summary = run_train(cfg, console, distributed=ctx)
    except TrainingError as err:
        raise fail(str(err), code=1 if "loss became" in str(err) else 2) from None
    except USER_ERRORS as err:
        raise fail(str(err)) from None
    finally:
        if ctx is not None:
            ctx.close()
    return summary if ctx is None or ctx.is_main else None


# ---------------------------------------------------------------------- eval and plot
@app.command("eval")
def eval_cmd(
    checkpoint: Annotated[Path, typer.Option(help="Run directory (best/, else its latest checkpoint) or a saved "
                                             "model directory.")],
    data: Annotated[str, typer.Option(help="Dataset directory, shard directory or shard pattern.")],
    task: Annotated[Task, typer.Option(help="What to evaluate.")] = "retrieval",
    split: Annotated[str, typer.Option(help="Dataset split.")] = "test",
    protocol: Annotated[Protocol, typer.Option(help="full (every clip) | in-batch (reference protocol).")] = "full",
    batch_size: Annotated[int, typer.Option(help="Embedding batch; the in-batch protocol's batch.")] = 64,
    similarity: Annotated[Similarity, typer.Option(help="Score: clip (pooled cosine) or a sequence similarity "
                                                   "(combined adds the pooled score).")] = "clip",
    clip_length: Annotated[int | None, typer.Option(help="Frames per clip after crop/pad.",
                                                    show_default="the model's training clip length")] = None,
    out: Annotated[Path | None, typer.Option(help="JSON file for the metrics (missing directories are created).")] = None,
    device: Annotated[Device, typer.Option(help="Device.")] = "auto",
) -> None:
    """Evaluate a checkpoint: retrieval (both directions), zero-shot recognition, or order: twins
    (hard_negatives: own caption vs the order-swapped twin's) and order (own caption vs its
    order-reversed wording). Scores carry 95 % bootstrap intervals over clips."""
    if not checkpoint.exists():
        raise fail(f"checkpoint not found: {checkpoint}")
    _check_spec(data)
    import json

    from .data import RadarTextDataset
    from .eval_tasks import (
        eval_hard_negatives,
        eval_order,
        eval_retrieval,
        eval_zeroshot,
        load_model,
    )
    from .files import write_text_atomic
    from .train import resolve_device

    try:
        model, note = load_model(checkpoint, resolve_device(device))
        if note:
            err_console.print(f"note: {note}", highlight=False)
        length = clip_length or model.config.clip_length
        ds = RadarTextDataset(data, split, length, train=False)
        if task == "retrieval":
            result = eval_retrieval(model, ds, protocol, batch_size, similarity)
        elif task == "zeroshot":
            png = out.with_suffix(".confusion.png") if out else checkpoint / "eval" / f"zeroshot_{split}_confusion.png"
            png.parent.mkdir(parents=True, exist_ok=True)
            result = eval_zeroshot(model, ds, batch_size, png)
            result["confusion_png"] = str(png)
        elif task == "hard_negatives":
            result = eval_hard_negatives(model, ds, batch_size, similarity)
        else:
            result = eval_order(model, ds, batch_size, similarity)
    except (TrainingError, *USER_ERRORS) as err:
        raise fail(str(err)) from None
    result = {"task": task, "split": split, "checkpoint": str(checkpoint), "similarity": similarity,
              "clip_length": length, **result}
    _print_eval(result)
    if out:
        write_text_atomic(out, json.dumps(result, indent=2) + "\n")
        console.print(f"wrote {out}")


def _print_eval(result: dict) -> None:
    if result["task"] == "retrieval":
        proto = result["protocol"]
        table = Table(title=f"retrieval ({proto['name']}, {proto['clips']} clips, score: {result['similarity']}; "
                            f"[95 % interval])")
        for col in ("direction", "R@1", "R@5", "R@10", "median rank", "mean rank", "mAP"):
            table.add_column(col)
        for direction in ("text_to_radar", "radar_to_text"):
            m = result[direction]
            ci = {k: f" [{m['interval'][k][0]:.1f}, {m['interval'][k][1]:.1f}]" for k in m["interval"]}
            table.add_row(direction.replace("_", " "), *(f"{m[k]:.1f}{ci.get(k, '')}" for k in
                                                         ("R@1", "R@5", "R@10", "median_rank", "mean_rank", "mAP")))
    elif result["task"] == "zeroshot":
        table = Table(title=f"zero-shot activity recognition ({result['clips']} single-activity clips)")
        for col in ("top-1", "top-5", "chance top-1", "confusion matrix"):
            table.add_column(col)
        table.add_row(f"{result['top1']:.1f}", f"{result['top5']:.1f}", f"{result['chance_top1']:.1f}",
                      result["confusion_png"])
    else:
        what = ("own caption vs the order-swapped twin's" if result["task"] == "hard_negatives"
                else "own caption vs its order-reversed wording")
        table = Table(title=f"{what} (score: {result['similarity']})")
        for col in ("accuracy", "95 % interval", "comparisons", "clips", "chance"):
            table.add_column(col)
        low, high = result["interval"]
        table.add_row(f"{result['accuracy']:.1f}", f"[{low:.1f}, {high:.1f}]", str(result["comparisons"]),
                      str(result["clips"]), "50.0")
    console.print(table)


@app.command()
def plot(
    run: Annotated[Path, typer.Argument(help="Run directory.")],
    data: Annotated[str | None, typer.Option(help="Dataset (default: the run's).")] = None,
) -> None:
    """Loss curves, learning rate, logit scale, a validation similarity heatmap and retrieval examples."""
    from .plots import plot_run

    try:
        for path in plot_run(run, data):
            console.print(f"wrote {path}")
    except USER_ERRORS as err:
        raise fail(str(err)) from None


def _print_summary(summary: dict) -> None:
    best = summary["best_val_r1"]
    val = f"best val R@1 {best:.1f}" if best is not None else "no validation ran: the run stopped before an epoch ended"
    console.print(f"run directory: {summary['run']} ({summary['steps']} steps, {val})")
    if summary.get("excluded_clips"):
        console.print(f"left out {summary['excluded_clips']} bad clip(s) found before training (--skip-bad)")
    if "test" not in summary:
        return
    n = summary["test_clips"]
    which = "best/" if summary["test_model"] == "best" else "the latest weights"
    table = Table(title=f"test retrieval of {which} over the full gallery ({n} clips; chance R@1 = {100 / n:.1f}%)")
    for col in ("direction", "R@1", "R@5", "R@10", "median rank", "mAP"):
        table.add_column(col)
    for direction, m in summary["test"].items():
        table.add_row(direction.replace("_", " "), f"{m['R@1']:.1f}", f"{m['R@5']:.1f}", f"{m['R@10']:.1f}",
                      f"{m['median_rank']:.0f}", f"{m['mAP']:.1f}")
    console.print(table)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
