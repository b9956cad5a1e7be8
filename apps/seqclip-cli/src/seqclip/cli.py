"""The ``seqclip`` command line: thin Typer commands over plain functions.

User mistakes (missing files, unknown options, bad TOML keys, values out of range) end with one
line and exit code 2; a diverged run exits with 1; Ctrl-C exits with 130 and says how to resume;
no tracebacks. Only the standard library, Typer and Rich are imported here: torch, timm and
transformers load inside the commands that need them, so ``--help`` answers at once. Help texts
are printed as written (no Rich markup), so every bracket in them shows.
"""

from __future__ import annotations

import os
import shlex
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.markup import escape

from radar_encoder.config import PRESETS  # standard library only
from radar_synth.defaults import (  # standard library only
    DEFAULT_MULTI_SEGMENT,
    DEFAULT_TWINS,
    MIN_FRAMES,
    MOTION_SOURCES,
    SKELETON_NAMES,
    WORDING_FAMILIES,
)
from radar_text_data.contract import (
    DEFAULT_SHARD_SIZE,
    FORMATS,
    MAX_FRAMES,
    SPLIT_FRACTIONS,
    SPLITS,
)

from .config import (
    EVAL_TASKS,
    LOSSES,
    POOLED,
    POSITIVES,
    RENAMED_VALUES,
    SIMILARITIES,
    Device,
    Precision,
    TrainConfig,
)
from .errors import CheckpointError, DivergedError, TrainingError

__all__ = ["app", "data_app", "main"]

Protocol = Literal["full", "in-batch"]
DataFormat = Literal[FORMATS]  # type: ignore[valid-type]  # directory | wds
Split = Literal[SPLITS]  # type: ignore[valid-type]  # train | val | test
DEFAULTS = TrainConfig()  # the train options' defaults; only options typed on the command line override the TOML

app = typer.Typer(help="Train and evaluate CLIP-style radar-text models.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False, rich_markup_mode=None)
data_app = typer.Typer(help="Create, check and inspect datasets.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(data_app, name="data")
console = Console()
err_console = Console(stderr=True)
PACKAGES = ("seqclip-cli", "radar-views", "radar-text-data", "radar-synth", "radar-encoder", "seq-similarity",
            "clip-losses")  # what seqclip --version lists


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        for name in PACKAGES:
            try:
                found = version(name)
            except PackageNotFoundError:
                found = "not installed"
            console.print(f"{name} {found}", highlight=False)
        raise typer.Exit()


@app.callback()
def _options(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                   help="Print the version of every seqclip package and exit.")
                                ] = False) -> None:
    """Train and evaluate CLIP-style radar-text models."""


USER_ERRORS = (ValueError, FileNotFoundError, FileExistsError)


CHOICES = {"similarity": SIMILARITIES, "loss": LOSSES, "positives": POSITIVES, "task": EVAL_TASKS}


def _choice(name: str):
    """A Typer callback for option ``--name``: one of ``CHOICES[name]``; a value renamed since
    (``config.RENAMED_VALUES``) is taken under its new name, with a note."""

    def check(value: str | None) -> str | None:
        if value is None:
            return value
        new = RENAMED_VALUES.get(name, {}).get(value)
        if new is not None:
            err_console.print(f"note: --{name} {value} is now called {new}", highlight=False)
            return new
        if value not in CHOICES[name]:
            raise typer.BadParameter(f"{value!r} is not one of {' | '.join(CHOICES[name])}")
        return value

    return check


def _as_typed(message: str, options) -> str:
    """A library's ``field: problem`` message with the field as the flag the user typed
    (``held_out_wording: ...`` -> ``--held-out-wording: ...``) when ``field`` is one of ``options``."""
    from .config import flag

    field, sep, rest = message.partition(": ")
    return f"{flag(field)}: {rest}" if sep and field in options else message


def fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _check_out(out: Path | None, flag: str = "--out") -> None:
    """``out`` (a file to write) can be written, answered before any work."""
    from .files import check_writable

    try:
        check_writable(out, flag)
    except TrainingError as err:
        raise fail(str(err)) from None


@contextmanager
def _writing(out: Path, flag: str = "--out", lock: bool = True):
    """One writer per output: ``out`` (a directory) checked as ``eval`` checks its file, then locked
    (``radar_views.output_lock``) until the command ends; a second command on it exits 2 at once,
    naming the holder. Before any loading: standard library and radar-views only."""
    from contextlib import ExitStack

    from radar_views import OutputLockedError, output_lock

    from .files import check_writable

    with ExitStack() as stack:
        try:
            check_writable(out, flag, directory=True)
            if lock:
                stack.enter_context(output_lock(out))
        except TrainingError as err:
            raise fail(str(err)) from None
        except OutputLockedError as err:
            raise fail(f"{flag} {err}") from None
        except OSError as err:  # the lock file cannot be made (read-only file system, permissions)
            raise fail(f"{flag} {out}: {err.strerror or err}") from None
        yield


def _check_fractions(val_fraction: float, test_fraction: float) -> None:
    if val_fraction + test_fraction >= 1.0:
        raise fail(f"--val-fraction {val_fraction} + --test-fraction {test_fraction} leave no clip for training")


def _check_windows(window: int | None, stride: int | None, longest: int | None = None) -> None:
    if stride is not None and window is None:
        raise fail("--stride needs --window")
    if window is not None and longest is not None and window > longest:
        raise fail(f"--window {window} is longer than --max-frames {longest}")


def _exists(err: FileExistsError, out: Path) -> typer.Exit:
    return fail(f"--out {out}: {err}; choose another --out, or pass --overwrite to move it aside to "
                f"{out.name}.old-<date>-<time> (never deleted)")


# ---------------------------------------------------------------------- data
@data_app.command("synth")
def data_synth(
    out: Annotated[Path, typer.Option(help="Output directory (the dataset, or the shards with --format wds).")],
    clips: Annotated[int, typer.Option(help="Number of clips.", min=1)] = DEFAULTS.synth_clips,
    seed: Annotated[int, typer.Option(help="Random seed (same seed -> identical files).", min=0)] = 0,
    workers: Annotated[int, typer.Option(help="Generator processes.", min=1)] = 2,
    max_frames: Annotated[int, typer.Option(help="Longest clip in frames.", min=MIN_FRAMES,
                                            max=MAX_FRAMES)] = MAX_FRAMES,
    snr_db: Annotated[float, typer.Option(help="Per-sample SNR of a 1 m^2 target at 5 m.")] = 0.0,
    multi_segment: Annotated[float, typer.Option(help="Share of clips (twins aside) with 2 or 3 activities.",
                                                 min=0.0, max=1.0)] = DEFAULT_MULTI_SEGMENT,
    twins: Annotated[float, typer.Option(help="Share of clips in order-swapped twin pairs (each pair in one "
                                         "split).", min=0.0, max=1.0)] = DEFAULT_TWINS,
    format: Annotated[DataFormat, typer.Option(help="directory (manifest.jsonl + clips/) or wds (WebDataset "
                                               "shards + index.json).")] = "directory",
    shard_size: Annotated[int, typer.Option(help="Samples per shard (--format wds).", min=1)] = DEFAULT_SHARD_SIZE,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing --out, moving it aside to "
                                            "OUT.old-<date>-<time> (never deleted).")] = False,
    unseen: Annotated[str | None, typer.Option(help="Activities kept out of the train and val splits, comma-"
                                               "separated (the test split keeps them; recorded in unseen.txt).",
                                               show_default=False)] = None,
    held_out_wording: Annotated[str | None, typer.Option(
        help=f"Caption wording families used only in val and test (which use no other), comma-separated, from "
             f"{', '.join(WORDING_FAMILIES)}; train captions use the rest.", show_default=False)] = None,
) -> None:
    """Simulate a captioned radar dataset with radar-synth (written beside --out, renamed into place)."""
    from radar_text_data.classes import parse_class_names

    try:
        held_out = parse_class_names(unseen, "--unseen") if unseen is not None else []
        wording = parse_class_names(held_out_wording, "--held-out-wording") if held_out_wording is not None else []
    except ValueError as err:
        raise fail(str(err)) from None
    with _writing(out):
        _synth(out, clips, seed=seed, workers=workers, max_frames=max_frames, snr_db=snr_db,
               multi_segment=multi_segment, twins=twins, format=format, shard_size=shard_size,
               overwrite=overwrite, unseen=held_out, held_out_wording=wording)


def _synth(out: Path, clips: int, **options) -> None:
    from radar_synth import generate_dataset

    try:
        root = generate_dataset(out, clips, **options)
    except KeyboardInterrupt:
        from radar_synth.partial import partial_dir

        err_console.print(escape(f"interrupted: the clips simulated so far are kept in {partial_dir(out, 'synth')}; "
                                 "run the same command again to continue"), highlight=False, soft_wrap=True)
        raise typer.Exit(130) from None
    except FileExistsError as err:
        raise _exists(err, out) from None
    except USER_ERRORS as err:
        raise fail(_as_typed(str(err), options)) from None
    console.print(f"wrote {clips} clips to {root}" + (" as shards" if options["format"] == "wds" else ""))


@data_app.command("shard")
def data_shard(
    root: Annotated[Path, typer.Argument(help="Dataset directory (manifest.jsonl + clips/).")],
    out: Annotated[Path, typer.Option(help="Directory for {split}-{000000..}.tar and index.json.")],
    shard_size: Annotated[int, typer.Option(help="Samples per shard.", min=1)] = DEFAULT_SHARD_SIZE,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing --out, moving it aside to "
                                            "OUT.old-<date>-<time> (never deleted).")] = False,
) -> None:
    """Write a dataset directory as WebDataset shards (deterministic: the same dataset gives the same bytes)."""
    if not root.is_dir():
        raise fail(f"dataset directory not found: {root}")
    with _writing(out):
        _shard(root, out, shard_size, overwrite)


def _shard(root: Path, out: Path, shard_size: int, overwrite: bool) -> None:
    from radar_text_data import read_manifest, shard_directory

    try:
        total = len(read_manifest(root))
        with _bar(total, "sharding") as advance:
            index = shard_directory(root, out, shard_size, progress=advance, overwrite=overwrite)
    except FileExistsError as err:
        raise _exists(err, out) from None
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
    _check_out(out)
    from .figures import clip_figure

    try:
        clip_figure(data, id, out)
    except USER_ERRORS as err:
        raise fail(str(err)) from None
    console.print(f"wrote {out}")


def _check_clip_length(length: int | None) -> None:
    from radar_text_data.contract import check_clip_length

    try:
        if length is not None:
            check_clip_length(length)
    except ValueError as err:
        raise fail(f"--clip-length: {err}") from None


def _check_spec(data: str) -> None:
    """A missing dataset answers before numpy and the format package load."""
    from .files import check_data_spec

    try:
        check_data_spec(data)
    except TrainingError as err:
        raise fail(str(err)) from None


@data_app.command("convert")
def data_convert(
    src: Annotated[Path, typer.Argument(help="Folder of <id>.npz or <id>/<view>.npy files.")],
    out: Annotated[Path, typer.Option(help="Output dataset directory.")],
    captions: Annotated[Path | None, typer.Option(help="JSON {id: [captions]} or JSON lines {id, captions}.",
                                                  show_default=False)] = None,
    labels: Annotated[Path | None, typer.Option(help="Labels instead of (or besides) captions: CSV id,label or "
                                                "id,label,start_frame,end_frame, or JSON {id: label} / {id: "
                                                "[[label, start, end], ...]}; captions are rendered from "
                                                "--templates and classes.json is written.", show_default=False)] = None,
    templates: Annotated[Path | None, typer.Option(help="With --labels: caption templates, one a line, {} for the "
                                                   "labels in order. [default: documented in the README]",
                                                   show_default=False)] = None,
    val_fraction: Annotated[float, typer.Option(help="Share of clips in the val split.", min=0.0, max=1.0)
                                ] = SPLIT_FRACTIONS[1],
    test_fraction: Annotated[float, typer.Option(help="Share of clips in the test split.", min=0.0, max=1.0)
                                 ] = SPLIT_FRACTIONS[2],
    seed: Annotated[int, typer.Option(help="Seed of the train/val/test split.", min=0)] = 0,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing --out, moving it aside to "
                                            "OUT.old-<date>-<time> (never deleted).")] = False,
    skip_unlabelled: Annotated[bool, typer.Option("--skip-unlabelled", help="Leave out clips of SRC that the "
                                                  "captions (or labels) do not mention, instead of stopping; "
                                                  "counted either way.")] = False,
    window: Annotated[int | None, typer.Option(help="Cut recordings longer than this many frames into clips of it "
                                               "(each with the recording's captions, or the labelled segments "
                                               "inside it; all in the recording's split). [default: off]", min=1,
                                               show_default=False)] = None,
    stride: Annotated[int | None, typer.Option(help="With --window: frames between window starts. [default: the "
                                               "window, no overlap]", min=1, show_default=False)] = None,
) -> None:
    """Convert your own per-clip views plus captions or labels to the dataset directory format. Every
    clip is checked first (views, frames, finite values, captions, segments): any problem is listed
    and nothing is written."""
    if captions is None and labels is None:
        raise fail("give --captions FILE, --labels FILE, or both")
    if templates is not None and labels is None:
        raise fail("--templates renders captions from --labels; give --labels too")
    _check_fractions(val_fraction, test_fraction)
    _check_windows(window, stride)
    from radar_text_data import convert_folder, read_manifest

    left_out: list[str] | None = [] if skip_unlabelled else None
    with _writing(out):
        try:
            root = convert_folder(src, captions, out, val_fraction=val_fraction, test_fraction=test_fraction,
                                  seed=seed, overwrite=overwrite, labels_file=labels, templates_file=templates,
                                  unlabelled=left_out, window=window, stride=stride)
        except FileExistsError as err:
            raise _exists(err, out) from None
        except USER_ERRORS as err:
            raise fail(str(err)) from None
    kept, skipped = len(read_manifest(root)), left_out or []
    first = f": {', '.join(skipped[:5])}{', ...' if len(skipped) > 5 else ''}" if skipped else ""
    console.print(escape(f"wrote {kept} clips to {root} ({len(skipped)} clip(s) without "
                         f"{'captions' if captions else 'labelled frames'} left out{first}); check it with "
                         f"`seqclip data check {root}`"), highlight=False, soft_wrap=True)


@data_app.command("simulate")
def data_simulate(
    src: Annotated[Path, typer.Argument(help="The corpus folder (HumanML3D's, a folder of .bvh files, or of .npy "
                                        "joint arrays [T, J, 3]).")],
    out: Annotated[Path, typer.Option(help="Output directory (the dataset, or the shards with --format wds).")],
    source: Annotated[str, typer.Option(help=f"Layout of SRC: {' | '.join(MOTION_SOURCES)}.")] = MOTION_SOURCES[0],
    captions: Annotated[Path | None, typer.Option(help="bvh / joints: JSON {id: [captions]} or JSON lines {id, "
                                                  "captions}, ids the file stems.", show_default=False)] = None,
    skeleton: Annotated[str, typer.Option(help=f"joints: the skeleton of the arrays ({', '.join(SKELETON_NAMES)}).")
                        ] = SKELETON_NAMES[0],
    fps: Annotated[float, typer.Option(help="joints: frame rate of the arrays (HumanML3D: 20; BVH files give their "
                                       "own).")] = 20.0,
    up: Annotated[str, typer.Option(help="The source's up axis: y (HumanML3D, BVH) or z.")] = "y",
    units_m: Annotated[float, typer.Option(help="Metres per source unit (BVH in centimetres: 0.01).")] = 1.0,
    rotations: Annotated[int, typer.Option(help="Copies of each motion, turned about the vertical by 360/K degrees.",
                                           min=1)] = 1,
    smoothing: Annotated[float, typer.Option(help="Gaussian smoothing of the resampled joints, sigma in seconds "
                                             "(0: none).", min=0.0)] = 0.05,
    max_frames: Annotated[int, typer.Option(help="Longest clip in radar frames (50 Hz); longer motions are cut.",
                                            min=16, max=MAX_FRAMES)] = MAX_FRAMES,
    mirrored: Annotated[bool, typer.Option("--mirrored/--no-mirrored", help="humanml3d: keep the M-prefixed "
                                           "mirrored copies.")] = True,
    window: Annotated[int | None, typer.Option(help="Cut motions longer than this many radar frames into clips of "
                                               "it (instead of cropping them to --max-frames); each keeps the "
                                               "motion's captions. [default: off]", min=16, show_default=False)
                      ] = None,
    stride: Annotated[int | None, typer.Option(help="With --window: frames between window starts. [default: the "
                                               "window, no overlap]", min=1, show_default=False)] = None,
    val_fraction: Annotated[float, typer.Option(help="Share of motion files in the val split (sources without "
                                                "split files of their own).", min=0.0, max=1.0)] = SPLIT_FRACTIONS[1],
    test_fraction: Annotated[float, typer.Option(help="Share of motion files in the test split (as --val-fraction).",
                                                 min=0.0, max=1.0)] = SPLIT_FRACTIONS[2],
    seed: Annotated[int, typer.Option(help="Random seed (placement, noise, the split of sources without one).",
                                      min=0)] = 0,
    workers: Annotated[int, typer.Option(help="Simulation processes.", min=1)] = 2,
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help="Leave out motions that cannot be simulated "
                                           "(counted) instead of stopping.")] = False,
    snr_db: Annotated[float, typer.Option(help="Per-sample SNR of a 1 m^2 target at 5 m.")] = 0.0,
    format: Annotated[DataFormat, typer.Option(help="directory (manifest.jsonl + clips/) or wds (WebDataset "
                                               "shards + index.json).")] = "directory",
    shard_size: Annotated[int, typer.Option(help="Samples per shard (--format wds).", min=1)] = DEFAULT_SHARD_SIZE,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing --out, moving it aside to "
                                            "OUT.old-<date>-<time> (never deleted).")] = False,
) -> None:
    """Simulate radar from a motion-capture corpus (HumanML3D, BVH, joint arrays) with its descriptions:
    every motion is checked first; an interrupted run started again with the same options continues."""
    for name, value, choices in (("--source", source, MOTION_SOURCES), ("--skeleton", skeleton, SKELETON_NAMES),
                                 ("--up", up, ("y", "z"))):
        if value not in choices:
            raise fail(f"{name} {value!r}: choose from {', '.join(choices)}")
    _check_windows(window, stride, max_frames)
    _check_fractions(val_fraction, test_fraction)
    with _writing(out):
        summary = _simulate(src, out, dict(source=source, captions=captions, skeleton=skeleton, fps=fps,
                                           mirrored=mirrored, skip_bad=skip_bad),
                            dict(seed=seed, rotations=rotations, max_frames=max_frames, up=up, units_m=units_m,
                                 smoothing_s=smoothing, snr_db=snr_db, window_frames=window, stride_frames=stride,
                                 split_fractions=(1.0 - val_fraction - test_fraction, val_fraction, test_fraction)),
                            dict(workers=workers, format=format, shard_size=shard_size, overwrite=overwrite))
    notes = [f"{summary.resumed} finished before (resumed)"] if summary.resumed else []
    notes += [f"{summary.cropped} cut to {max_frames} frames"] if summary.cropped else []
    if summary.skipped:
        files = len({file for file, _ in summary.skipped})
        notes.append(f"{files} motion file(s) left out by --skip-bad ({len(summary.skipped)} clip(s)), first: "
                     f"{summary.skipped[0][1]}")
    console.print(escape(f"wrote {summary.clips} clips to {summary.out}" + (" as shards" if format == "wds" else "")
                         + (f" ({'; '.join(notes)})" if notes else "")), highlight=False, soft_wrap=True)


def _simulate(src: Path, out: Path, read: dict, options: dict, write: dict):
    """``data simulate``'s work: the corpus read (``read``: read_source's options), simulated with
    ``options`` (``SimulateOptions``) and written with ``write`` (simulate_corpus's options)."""
    from radar_synth.mocap import read_source
    from radar_synth.simulate import SimulateOptions, partial_dir, simulate_corpus

    try:
        unreadable: list[tuple[str, str]] | None = [] if read["skip_bad"] else None
        items = read_source(src, read["source"], read["captions"], read["skeleton"], read["fps"], read["mirrored"],
                            unreadable)
        return simulate_corpus(items, out, SimulateOptions(**options), root=src, skip_bad=read["skip_bad"],
                               read_problems=unreadable or (), **write)
    except KeyboardInterrupt:
        err_console.print(escape(f"interrupted: clips simulated so far (if any) are kept in {partial_dir(out)}; run "
                                 "the same command again to continue"), highlight=False, soft_wrap=True)
        raise typer.Exit(130) from None
    except FileExistsError as err:
        raise _exists(err, out) from None
    except USER_ERRORS as err:
        raise fail(str(err)) from None


# ---------------------------------------------------------------------- train
@app.command()
def train(
    ctx: typer.Context,
    config: Annotated[Path | None, typer.Option("--config", help="TOML file of training options (keys as the options, "
                                                "under a [train] table); an option typed on the command line wins.",
                                                show_default=False)] = None,
    data: Annotated[str | None, typer.Option(help="Dataset directory, shard directory (index.json) or shard pattern "
                                             "(\"shards/train-{000000..000099}.tar\", pipe:...). "
                                             "[default: the built-in synthetic dataset]", show_default=False)] = None,
    train_num_samples: Annotated[int | None, typer.Option(help="Samples per epoch of shards without an index.json. "
                                                          "[default: counted from index.json]",
                                                          show_default=False)] = None,
    workers: Annotated[int | None, typer.Option(help="DataLoader worker processes per process. "
                                                "[default: one per spare core, at most 4]", show_default=False)] = None,
    decoded_cache: Annotated[str | None, typer.Option(help="Directory where clips are decoded once (float16 .npy, "
                                                      "memory-mapped): inflating .npz leaves the hot path. "
                                                      "[default: off]", show_default=False)] = None,
    compile: Annotated[bool, typer.Option("--compile/--no-compile", help="torch.compile the radar encoder "
                                          "and the sequence similarity (worth it on a GPU).")] = DEFAULTS.compile,
    freeze_text: Annotated[bool, typer.Option("--freeze-text/--no-freeze-text", help="Freeze the text "
                                              "encoder (only the projections learn).")] = DEFAULTS.freeze_text,
    cache_text: Annotated[bool, typer.Option("--cache-text/--no-cache-text", help="With --freeze-text: "
                                             "compute each caption's text-encoder output once (LiT-style).")
                          ] = DEFAULTS.cache_text,
    preset: Annotated[str, typer.Option(help=f"Radar encoder preset: {' | '.join(PRESETS)}.")] = DEFAULTS.preset,
    epochs: Annotated[int, typer.Option(help="Epochs.")] = DEFAULTS.epochs,
    batch_size: Annotated[int | None, typer.Option(help="Batch size per process. [default: 32 on CPU, 128 on CUDA]",
                                                   show_default=False)] = None,
    lr: Annotated[float, typer.Option(help="Peak learning rate (radar side).")] = DEFAULTS.lr,
    similarity: Annotated[str, typer.Option(help=f"Sequence similarity of the sequence loss: {' | '.join(SIMILARITIES)} "
                                            "(pooled: the pooled loss only).", callback=_choice("similarity"))
                          ] = DEFAULTS.similarity,
    loss: Annotated[str, typer.Option(help=f"Contrastive loss: {' | '.join(LOSSES)}.", callback=_choice("loss"))
                    ] = DEFAULTS.loss,
    seq_weight: Annotated[float, typer.Option(help="Weight of the sequence loss.")] = DEFAULTS.seq_weight,
    order_negatives: Annotated[bool, typer.Option("--order-negatives/--no-order-negatives", help="Each multi-"
                                                  "segment clip's order-reversed caption joins the batch as an "
                                                  "extra radar->text negative.")] = DEFAULTS.order_negatives,
    twin_batches: Annotated[bool, typer.Option("--twin-batches/--no-twin-batches", help="Both clips of an "
                                               "order-swapped twin pair in the same batch.")] = DEFAULTS.twin_batches,
    positives: Annotated[str, typer.Option(help=f"Captions that are positives of each other: {' | '.join(POSITIVES)} "
                                           "(of the same clip, or of the same activity sequence).",
                                           callback=_choice("positives"))] = DEFAULTS.positives,
    precision: Annotated[Precision, typer.Option(help="Autocast precision (fp16: CUDA only).")] = DEFAULTS.precision,
    accum_steps: Annotated[int, typer.Option(help="Micro-batches per optimizer step (exact large-batch gradient; "
                                             "an epoch's last partial group is dropped).")] = DEFAULTS.accum_steps,
    grad_clip: Annotated[float, typer.Option(help="Max gradient norm (0: off).")] = DEFAULTS.grad_clip,
    out: Annotated[Path, typer.Option(help="Run directory.")] = Path(DEFAULTS.out),
    keep_last: Annotated[int, typer.Option(help="Checkpoints kept in RUN/checkpoints (0: all); each holds the "
                                           "model and the optimizer state.")] = DEFAULTS.keep_last,
    resume: Annotated[str | None, typer.Option(help="Continue a run: latest | a checkpoint directory.",
                                               show_default=False)] = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Start afresh in --out, moving an existing run there "
                                            "aside to OUT.old-<date>-<time> (never deleted).")] = False,
    device: Annotated[Device, typer.Option(help="Device.")] = DEFAULTS.device,
    seed: Annotated[int, typer.Option(help="Random seed.")] = DEFAULTS.seed,
    text_model: Annotated[str, typer.Option(help="Hugging Face name or local path of the text encoder.")
                          ] = DEFAULTS.text_model,
    max_text_length: Annotated[int, typer.Option(help="Tokens per caption the text encoder reads, [CLS] and [SEP] "
                                                 "included (saved with the model; longer captions are cut, with a "
                                                 "warning). The default holds every caption radar-synth writes.")
                               ] = DEFAULTS.max_text_length,
    skip_bad: Annotated[bool, typer.Option("--skip-bad/--no-skip-bad", help="Leave out bad clips (counted) "
                                           "instead of stopping.")] = DEFAULTS.skip_bad,
    max_steps: Annotated[int, typer.Option(help="Stop after this many optimizer steps (0: all epochs).")
                         ] = DEFAULTS.max_steps,
    nproc: Annotated[int, typer.Option(help="Processes on this machine (launches torchrun).", min=1)] = 1,
) -> None:
    """Train a SeqClip model (generates the built-in dataset on first use) and report test retrieval."""
    from .config import load_train_config
    from .rundir import preflight

    if nproc > 1:
        from .launch import relaunch_under_torchrun

        raise typer.Exit(relaunch_under_torchrun(nproc))
    options = {k: v for k, v in ctx.params.items() if k not in ("config", "nproc")}
    typed = {k: str(v) if isinstance(v, Path) else v for k, v in options.items()
             if _typed(ctx, k)}
    try:
        cfg = load_train_config(config, typed)
    except TrainingError as err:
        raise fail(str(err)) from None
    with _writing(Path(cfg.out), lock=os.environ.get("RANK", "0") == "0"):  # one lock per run: rank 0's
        try:
            preflight(cfg)  # answers at once: torch is not imported yet
        except (TrainingError, FileNotFoundError) as err:
            raise fail(str(err)) from None
        try:
            summary = _run_training(cfg)
        except KeyboardInterrupt:
            err_console.print(escape(_interrupted(cfg, config, typed)), highlight=False, soft_wrap=True)
            raise typer.Exit(130) from None
    if summary is not None:
        from .report import print_summary

        print_summary(console, summary)


def _typed(ctx: typer.Context, name: str) -> bool:
    """The option was given on the command line (not left at its default): only those override the TOML."""
    source = ctx.get_parameter_source(name)  # an enum of the click that Typer runs on
    return source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT", "PROMPT")


def _interrupted(cfg: TrainConfig, config: Path | None, typed: dict) -> str:
    """What to type after Ctrl-C: the same options, resuming from the newest checkpoint."""
    from .config import flag
    from .rundir import latest_checkpoint

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
    return ("interrupted; continue exactly where the last checkpoint left off with:\n  "
            + " ".join(shlex.quote(w) for w in words))


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
        raise fail(str(err), code=1 if isinstance(err, DivergedError) else 2) from None
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
    task: Annotated[str, typer.Option(help=f"What to evaluate: {' | '.join(EVAL_TASKS)}.",
                                      callback=_choice("task"))] = "retrieval",
    split: Annotated[Split, typer.Option(help="Dataset split.")] = "test",
    protocol: Annotated[Protocol, typer.Option(help="full (every clip) | in-batch (reference protocol).")] = "full",
    batch_size: Annotated[int, typer.Option(help="Embedding batch; the in-batch protocol's batch.", min=1)] = 64,
    similarity: Annotated[str, typer.Option(help=f"Score: {' | '.join(SIMILARITIES)} (pooled: cosine of the pooled "
                                            "features; combined adds it to the sequence similarity).",
                                            callback=_choice("similarity"))] = POOLED,
    clip_length: Annotated[int | None, typer.Option(help="Frames per clip after crop/pad (a multiple of 16, at most "
                                                    f"{MAX_FRAMES}). [default: the model's training clip length]",
                                                    show_default=False)] = None,
    out: Annotated[Path | None, typer.Option(help="JSON file for the metrics (missing directories are created).",
                                             show_default=False)] = None,
    device: Annotated[Device, typer.Option(help="Device.")] = "auto",
    classes: Annotated[Path | None, typer.Option(help="Zero-shot candidates: a text file (one class a line) or JSON "
                                                 "{class: phrase} / {class: [prompt, ...]}. [default: the dataset's "
                                                 "classes.json, else the labels in its records]",
                                                 show_default=False)] = None,
    templates: Annotated[Path | None, typer.Option(help="Zero-shot templates, one a line with {} for the class "
                                                   "phrase. [default: documented in the README]",
                                                   show_default=False)] = None,
    unseen: Annotated[str | None, typer.Option(help="Classes never seen in training, comma-separated, among the "
                                               "candidates: adds the generalised zero-shot report; none: no report. "
                                               "[default: those of the candidates the dataset records]",
                                               show_default=False)] = None,
) -> None:
    """Evaluate a checkpoint: retrieval (both directions), zero-shot recognition, or order: twins
    (own caption vs the order-swapped twin's) and order (own caption vs its order-reversed
    wording). Scores carry 95 % bootstrap intervals over clips."""
    if not checkpoint.exists():
        raise fail(f"checkpoint not found: {checkpoint}")
    _check_spec(data)
    _check_clip_length(clip_length)
    png = _confusion_png(task, out, checkpoint, data, split)
    _check_out(png, "--out" if out else "--checkpoint")
    _check_out(out)
    zero_shot = _zero_shot_options(classes, templates, unseen, data, task == "zeroshot")
    from .eval_tasks import EvalOptions, evaluate_checkpoint

    try:
        options = EvalOptions(similarity=similarity, protocol=protocol, batch_size=batch_size, **zero_shot)
        result, notes = evaluate_checkpoint(checkpoint, data, task, split, options, clip_length, device)
    except (TrainingError, CheckpointError, *USER_ERRORS) as err:
        raise fail(str(err)) from None
    for note in notes:
        err_console.print(f"note: {escape(note)}", highlight=False, soft_wrap=True)
    if png is not None:
        from .plots import plot_confusion

        result["confusion_png"] = str(plot_confusion(result["confusion"], result["classes"], png))
    from .report import print_eval

    print_eval(console, result)
    if out:
        import json

        from .files import write_text_atomic

        write_text_atomic(out, json.dumps(result, indent=2) + "\n")
        console.print(f"wrote {out}")


def _zero_shot_options(classes: Path | None, templates: Path | None, unseen: str | None, data: str,
                       zero_shot: bool) -> dict:
    """The zero-shot files and names, read and checked before the model loads (no torch): with
    ``zero_shot``, ``--unseen`` against the candidate classes, and the dataset's recorded unseen
    classes narrowed to them (``--unseen none`` or ``""``: none)."""
    from radar_text_data.classes import parse_class_names, read_classes, read_templates
    from radar_text_data.vocabulary import NO_UNSEEN

    def names(text: str) -> tuple[str, ...]:
        return (NO_UNSEEN,) if text.strip().lower() in ("", NO_UNSEEN) else tuple(parse_class_names(text, "--unseen"))

    out: dict = {"classes": None, "templates": None, "unseen": None}
    for name, given, read in (("classes", classes, lambda p: tuple(read_classes(p))), ("templates", templates,
                              read_templates), ("unseen", unseen, names)):
        try:
            out[name] = read(given) if given is not None else None
        except (ValueError, FileNotFoundError) as err:
            message = str(err)
            raise fail(message if message.startswith(f"--{name}") else f"--{name}: {message}") from None
    if zero_shot:
        out["unseen"] = _candidate_unseen(data, out["classes"], out["unseen"])
    return out


def _candidate_unseen(data: str, classes, unseen: tuple[str, ...] | None) -> tuple[str, ...]:
    """The unseen classes a zero-shot evaluation will report: checked against the candidates."""
    from radar_text_data import resolve_data
    from radar_text_data.vocabulary import dataset_classes, resolve_unseen

    try:
        location = resolve_data(data)
        names = [c.name for c in (classes or dataset_classes(location))]
    except (ValueError, FileNotFoundError) as err:
        raise fail(f"--data {data}: {err}") from None
    try:
        return resolve_unseen(location, names, unseen)
    except ValueError as err:
        raise fail(f"--unseen: {err}") from None


def _confusion_png(task: str, out: Path | None, checkpoint: Path, data: str, split: str) -> Path | None:
    """Where zero-shot's confusion matrix goes: beside --out, else in the run's eval/, named by task,
    dataset and split (``zeroshot_<dataset>_<split>_confusion.png``)."""
    if task != "zeroshot":
        return None
    from .rundir import EVAL

    if out:
        return out.with_suffix(".confusion.png")
    dataset = "".join(c if c.isalnum() or c in "-_." else "_" for c in Path(data.rstrip("/")).name) or "data"
    return checkpoint / EVAL / f"zeroshot_{dataset}_{split}_confusion.png"


@app.command()
def plot(
    run: Annotated[Path, typer.Argument(help="Run directory.")],
    data: Annotated[str | None, typer.Option(help="Dataset (default: the run's).")] = None,
) -> None:
    """Loss curves, learning rate, logit scale, a validation similarity heatmap and retrieval examples."""
    from .figures import run_figures

    try:
        for path in run_figures(run, data):
            console.print(f"wrote {path}")
    except USER_ERRORS as err:
        raise fail(str(err)) from None


def main() -> None:
    import warnings

    shown = warnings.showwarning

    def note(message, category, *args, **kwargs) -> None:  # a renamed value or field: one line, no source
        if issubclass(category, FutureWarning):
            err_console.print(f"note: {escape(str(message))}", highlight=False, soft_wrap=True)
        else:
            shown(message, category, *args, **kwargs)

    warnings.showwarning = note
    app()


if __name__ == "__main__":
    main()
