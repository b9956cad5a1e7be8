"""The ``seqclip`` command line: thin Typer commands over plain functions.

User mistakes (missing files, unknown options, bad TOML keys) end with one line and exit code 2;
a diverged run exits with 1; no tracebacks for either.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

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
    out: Annotated[Path, typer.Option(help="Output dataset directory.")],
    clips: Annotated[int, typer.Option(help="Number of clips.")] = 320,
    seed: Annotated[int, typer.Option(help="Random seed (same seed -> identical files).")] = 0,
    workers: Annotated[int, typer.Option(help="Generator processes.")] = 2,
    max_frames: Annotated[int, typer.Option(help="Longest clip in frames (100-496).")] = 496,
    snr_db: Annotated[float, typer.Option(help="Per-sample SNR of a 1 m^2 target at 5 m.")] = 0.0,
) -> None:
    """Simulate a captioned radar dataset with radar-synth."""
    from radar_synth import generate_dataset

    try:
        root = generate_dataset(out, clips, seed=seed, workers=workers, max_frames=max_frames, snr_db=snr_db)
    except USER_ERRORS as err:
        raise fail(str(err)) from None
    console.print(f"wrote {clips} clips to {root}")


@data_app.command("check")
def data_check(root: Annotated[Path, typer.Argument(help="Dataset directory.")]) -> None:
    """Validate the manifest and every clip; list each problem with its file and line (exit 1 if any)."""
    from .check import check_dataset

    problems = check_dataset(root)
    for p in problems:
        console.print(p, highlight=False, soft_wrap=True)
    if problems:
        err_console.print(f"[bold red]{len(problems)} problem(s)[/] in {root}")
        raise typer.Exit(1)
    console.print(f"[green]ok[/]: {root} is a valid dataset")


@data_app.command("show")
def data_show(
    root: Annotated[Path, typer.Argument(help="Dataset directory.")],
    id: Annotated[str, typer.Option("--id", help="Clip id.")],
    out: Annotated[Path, typer.Option(help="PNG to write.")] = Path("clip.png"),
) -> None:
    """Plot the three views of one clip with its captions."""
    from .plots import plot_clip

    try:
        plot_clip(root, id, out)
    except USER_ERRORS as err:
        raise fail(str(err)) from None
    console.print(f"wrote {out}")


@data_app.command("convert")
def data_convert(
    src: Annotated[Path, typer.Argument(help="Folder of <id>.npz or <id>/<view>.npy files.")],
    captions: Annotated[Path, typer.Option(help="JSON {id: [captions]} or JSON lines {id, captions}.")],
    out: Annotated[Path, typer.Option(help="Output dataset directory.")],
    seed: Annotated[int, typer.Option(help="Seed of the train/val/test split.")] = 0,
) -> None:
    """Convert your own per-clip views plus a captions file to the seqclip dataset format."""
    from .data import convert_folder

    try:
        root = convert_folder(src, captions, out, seed=seed)
    except USER_ERRORS as err:
        raise fail(str(err)) from None
    console.print(f"wrote {root} (check it with `seqclip data check {root}`)")


# ---------------------------------------------------------------------- train
@app.command()
def train(
    config: Annotated[Path | None, typer.Option("--config", help="TOML file of training options.")] = None,
    data: Annotated[Path | None, typer.Option(help="Dataset directory (default: the built-in synthetic one).")] = None,
    preset: Annotated[str | None, typer.Option(help="Radar encoder preset: tiny | small | base.")] = None,
    epochs: Annotated[int | None, typer.Option(help="Epochs.")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Batch size per process.")] = None,
    lr: Annotated[float | None, typer.Option(help="Peak learning rate (radar side).")] = None,
    similarity: Annotated[str | None, typer.Option(help="combined | global | local | attention | temporal | none.")] = None,
    loss: Annotated[str | None, typer.Option(help="clip | siglip.")] = None,
    seq_weight: Annotated[float | None, typer.Option(help="Weight of the sequence loss.")] = None,
    precision: Annotated[str | None, typer.Option(help="fp32 | bf16 | fp16 (fp16: CUDA only).")] = None,
    accum_steps: Annotated[int | None, typer.Option(help="Gradient accumulation steps.")] = None,
    grad_clip: Annotated[float | None, typer.Option(help="Max gradient norm (0: off).")] = None,
    out: Annotated[Path | None, typer.Option(help="Run directory.")] = None,
    resume: Annotated[str | None, typer.Option(help="latest | a checkpoint directory.")] = None,
    device: Annotated[str | None, typer.Option(help="auto | cpu | cuda.")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    text_model: Annotated[str | None, typer.Option(help="Hugging Face name or local path of the text encoder.")] = None,
    skip_bad: Annotated[bool | None, typer.Option("--skip-bad/--no-skip-bad", help="Skip bad clips instead of stopping.")] = None,
    max_steps: Annotated[int | None, typer.Option(help="Stop after this many optimizer steps.")] = None,
    nproc: Annotated[int, typer.Option(help="Processes on this machine (launches torchrun).")] = 1,
) -> None:
    """Train a SeqClip model (generates the built-in dataset on first use) and report test retrieval."""
    from .distributed import DistContext
    from .train import TrainingError, load_train_config
    from .train import train as run_train

    if nproc > 1:
        args, skip = [], False
        for a in sys.argv[1:]:  # the same command line without --nproc
            if skip or a.startswith("--nproc="):
                skip = False
                continue
            skip = a == "--nproc"
            if not skip:
                args.append(a)
        cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}", "-m", "seqclip", *args]
        raise typer.Exit(subprocess.call(cmd))
    overrides = dict(data=str(data) if data else None, preset=preset, epochs=epochs, batch_size=batch_size, lr=lr,
                     similarity=similarity, loss=loss, seq_weight=seq_weight, precision=precision,
                     accum_steps=accum_steps, grad_clip=grad_clip, out=str(out) if out else None, resume=resume,
                     device=device, seed=seed, text_model=text_model, skip_bad=skip_bad, max_steps=max_steps)
    ctx = None
    try:
        cfg = load_train_config(config, overrides)
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
    if ctx is None or ctx.is_main:
        _print_summary(summary)


# ---------------------------------------------------------------------- eval and plot
@app.command("eval")
def eval_cmd(
    checkpoint: Annotated[Path, typer.Option(help="Run directory (uses best/) or a saved model directory.")],
    data: Annotated[Path, typer.Option(help="Dataset directory.")],
    task: Annotated[str, typer.Option(help="retrieval | zeroshot | hard_negatives.")] = "retrieval",
    split: Annotated[str, typer.Option(help="Dataset split.")] = "test",
    protocol: Annotated[str, typer.Option(help="full (every clip) | in-batch (reference protocol).")] = "full",
    batch_size: Annotated[int, typer.Option(help="Embedding batch; the in-batch protocol's batch.")] = 64,
    similarity: Annotated[str, typer.Option(help="clip | global | local | attention | temporal | combined.")] = "clip",
    clip_length: Annotated[int, typer.Option(help="Frames per clip after crop/pad.")] = 496,
    out: Annotated[Path | None, typer.Option(help="JSON file for the metrics.")] = None,
    device: Annotated[str, typer.Option(help="auto | cpu | cuda.")] = "auto",
) -> None:
    """Evaluate a checkpoint: retrieval (both directions), zero-shot recognition or hard negatives."""
    import json

    from .data import RadarTextDataset
    from .eval_tasks import eval_hard_negatives, eval_retrieval, eval_zeroshot, load_model
    from .train import TrainingError, resolve_device

    try:
        model = load_model(checkpoint, resolve_device(device))
        ds = RadarTextDataset(data, split, clip_length, train=False)
        if task == "retrieval":
            result = eval_retrieval(model, ds, protocol, batch_size, similarity)
        elif task == "zeroshot":
            png = (out.with_suffix(".confusion.png") if out else Path("zeroshot_confusion.png"))
            result = eval_zeroshot(model, ds, batch_size, png)
            result["confusion_png"] = str(png)
        elif task == "hard_negatives":
            result = eval_hard_negatives(model, ds, batch_size)
        else:
            raise ValueError(f"--task must be retrieval, zeroshot or hard_negatives, got {task!r}")
    except (TrainingError, *USER_ERRORS) as err:
        raise fail(str(err)) from None
    result = {"task": task, "split": split, "checkpoint": str(checkpoint), "similarity": similarity, **result}
    _print_eval(result)
    if out:
        out.write_text(json.dumps(result, indent=2) + "\n")
        console.print(f"wrote {out}")


def _print_eval(result: dict) -> None:
    if result["task"] == "retrieval":
        proto = result["protocol"]
        table = Table(title=f"retrieval ({proto['name']}, {proto['clips']} clips, score: {result['similarity']})")
        for col in ("direction", "R@1", "R@5", "R@10", "median rank", "mean rank", "mAP"):
            table.add_column(col)
        for direction in ("text_to_radar", "radar_to_text"):
            m = result[direction]
            table.add_row(direction.replace("_", " "), *(f"{m[k]:.1f}" for k in ("R@1", "R@5", "R@10", "median_rank",
                                                                                  "mean_rank", "mAP")))
    elif result["task"] == "zeroshot":
        table = Table(title=f"zero-shot activity recognition ({result['clips']} single-activity clips)")
        for col in ("top-1", "top-5", "chance top-1", "confusion matrix"):
            table.add_column(col)
        table.add_row(f"{result['top1']:.1f}", f"{result['top5']:.1f}", f"{result['chance_top1']:.1f}",
                      result["confusion_png"])
    else:
        table = Table(title=f"hard negatives: own caption vs order-swapped twin ({result['clips']} clips)")
        table.add_column("accuracy")
        table.add_column("chance")
        table.add_row(f"{result['accuracy']:.1f}", "50.0")
    console.print(table)


@app.command()
def plot(
    run: Annotated[Path, typer.Argument(help="Run directory.")],
    data: Annotated[Path | None, typer.Option(help="Dataset (default: the run's).")] = None,
) -> None:
    """Loss curves, learning rate, logit scale, a validation similarity heatmap and retrieval examples."""
    from .plots import plot_run

    try:
        for path in plot_run(run, data):
            console.print(f"wrote {path}")
    except USER_ERRORS as err:
        raise fail(str(err)) from None


def _print_summary(summary: dict) -> None:
    console.print(f"run directory: {summary['run']} ({summary['steps']} steps, best val R@1 {summary['best_val_r1']:.1f})")
    if "test" not in summary:
        return
    n = summary["test_clips"]
    table = Table(title=f"test retrieval over the full gallery ({n} clips; chance R@1 = {100 / n:.1f}%)")
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
