"""``seqclip data``: create, check and inspect datasets (synth, simulate, convert, shard, check, show)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from radar_synth.defaults import (  # standard library only
    DEFAULT_MULTI_SEGMENT,
    DEFAULT_TWINS,
    MIN_FRAMES,
    MOTION_SOURCES,
    SKELETON_NAMES,
    WORDING_FAMILIES,
)
from radar_text_data.contract import (  # standard library only
    DEFAULT_SHARD_SIZE,
    FRAME_MULTIPLE,
    MAX_FRAMES,
    SPLIT_FRACTIONS,
)

from ..config import TrainConfig
from .common import (
    DATASET_HELP,
    Angle,
    Engine,
    Format,
    Overwrite,
    RayAddress,
    ShardSize,
    Stride,
    as_typed,
    check_angle,
    check_fractions,
    check_out,
    check_spec,
    check_windows,
    console,
    err_console,
    fail,
    interrupted,
    note,
    progress_bar,
    user_errors,
    writing,
)
from .convert import data_convert

__all__ = ["data_app"]

data_app = typer.Typer(help="Create, check and inspect datasets.", no_args_is_help=True, rich_markup_mode=None)
DEFAULTS = TrainConfig()  # the built-in dataset's size is data synth's default


Sensor = Annotated[
    str | None,
    typer.Option(
        help="Simulate a point-cloud sensor's recordings instead: its profile and "
        "frame rate, its firmware's point-cloud chain, subjects where its recordings "
        "place them, rendered on the views as "
        "`data convert --from` renders its real recordings (iwr1443-radhar: "
        "RadHAR's sensor). [default: dense views of the IWR1843 profile]",
        show_default=False,
    ),
]

# the options data synth and data simulate share
DatasetOut = Annotated[Path, typer.Option(help="Output directory (the dataset, or the shards with --format wds).")]
Workers = Annotated[int, typer.Option(help="CPUs: processes, or Ray tasks at a time.", min=1)]
SnrDb = Annotated[float, typer.Option(help="Per-sample SNR of a 1 m^2 target at 5 m.")]
DEFAULT_WORKERS = 2
DEFAULT_SNR_DB = 0.0  # radar-synth's own default (SynthConfig, generate_dataset)


@data_app.command("synth")
def data_synth(
    out: DatasetOut,
    clips: Annotated[int, typer.Option(help="Number of clips.", min=1)] = DEFAULTS.synth_clips,
    seed: Annotated[int, typer.Option(help="Random seed (same seed -> identical files).", min=0)] = 0,
    workers: Workers = DEFAULT_WORKERS,
    engine: Engine = "local",
    ray_address: RayAddress = "auto",
    max_frames: Annotated[
        int, typer.Option(help="Longest clip in frames.", min=MIN_FRAMES, max=MAX_FRAMES)
    ] = MAX_FRAMES,
    snr_db: SnrDb = DEFAULT_SNR_DB,
    multi_segment: Annotated[
        float, typer.Option(help="Share of clips (twins aside) with 2 or 3 activities.", min=0.0, max=1.0)
    ] = DEFAULT_MULTI_SEGMENT,
    twins: Annotated[
        float,
        typer.Option(help="Share of clips in order-swapped twin pairs (each pair in one split).", min=0.0, max=1.0),
    ] = DEFAULT_TWINS,
    format: Format = "directory",
    shard_size: ShardSize = DEFAULT_SHARD_SIZE,
    overwrite: Overwrite = False,
    unseen: Annotated[
        str | None,
        typer.Option(
            help="Activities kept out of the train and val splits, comma-"
            "separated (the test split keeps them; recorded in unseen.txt).",
            show_default=False,
        ),
    ] = None,
    held_out_wording: Annotated[
        str | None,
        typer.Option(
            help=f"Caption wording families used only in val and test (which use no other), comma-separated, from "
            f"{', '.join(WORDING_FAMILIES)}; train captions use the rest.",
            show_default=False,
        ),
    ] = None,
    sensor: Sensor = None,
    angle: Angle = "azimuth",
) -> None:
    """Simulate a captioned radar dataset with radar-synth (written beside --out, renamed into place)."""
    from radar_text_data.classes import parse_class_names

    check_angle(angle, sensor is not None, "--sensor (the dense views hold azimuth)")

    with user_errors():
        unseen_names = parse_class_names(unseen, "--unseen") if unseen is not None else []
        wording = parse_class_names(held_out_wording, "--held-out-wording") if held_out_wording is not None else []
    with writing(out):
        _synth(
            out,
            clips,
            seed=seed,
            workers=workers,
            max_frames=max_frames,
            snr_db=snr_db,
            multi_segment=multi_segment,
            twins=twins,
            format=format,
            shard_size=shard_size,
            overwrite=overwrite,
            unseen=unseen_names,
            held_out_wording=wording,
            engine=engine,
            ray_address=ray_address,
            sensor=sensor,
            angle=angle,
        )


def _synth(out: Path, clips: int, angle: str = "azimuth", **options) -> None:
    from radar_synth import generate_dataset
    from radar_synth.sensor import SensorSpec

    try:
        with user_errors(out, rename=lambda message: as_typed(message, options)):
            if angle != "azimuth":  # the named sensor, rendering elevation
                options["sensor"] = SensorSpec.named(options["sensor"], angle)
            root = generate_dataset(out, clips, **options)
    except KeyboardInterrupt:
        from radar_synth.partial import partial_dir

        raise interrupted(f"the clips simulated so far are kept in {partial_dir(out, 'synth')}") from None
    console.print(f"wrote {clips} clips to {root}" + (" as shards" if options["format"] == "wds" else ""))


@data_app.command("shard")
def data_shard(
    root: Annotated[Path, typer.Argument(help="Dataset directory (manifest.jsonl + clips/).")],
    out: Annotated[Path, typer.Option(help="Directory for {split}-{000000..}.tar and index.json.")],
    shard_size: Annotated[int, typer.Option(help="Samples per shard.", min=1)] = DEFAULT_SHARD_SIZE,
    overwrite: Overwrite = False,
) -> None:
    """Write a dataset directory as WebDataset shards (deterministic: the same dataset gives the same bytes)."""
    if not root.is_dir():
        raise fail(f"dataset directory not found: {root}")
    with writing(out):
        _shard(root, out, shard_size, overwrite)


def _shard(root: Path, out: Path, shard_size: int, overwrite: bool) -> None:
    from radar_text_data import read_manifest, shard_directory

    with user_errors(out):
        total = len(read_manifest(root))
        with progress_bar(total, "sharding") as advance:
            index = shard_directory(root, out, shard_size, progress=advance, overwrite=overwrite)
    console.print(f"wrote {total} clips as shards to {out} (index: {index})")


@data_app.command("check")
def data_check(
    data: Annotated[str, typer.Argument(help=DATASET_HELP)],
) -> None:
    """Validate every record and clip; list each problem with its file and line, or shard and key (exit 1 if
    any), else say what the dataset holds in one line. Empty splits are no problem: a note says what the
    dataset can serve (an evaluation-only dataset holds val or test alone)."""
    check_spec(data)
    from radar_text_data import check_dataset, describe_dataset, resolve_data, split_notes

    with user_errors():
        location = resolve_data(data)
        problems = check_dataset(location)
    for p in problems:
        console.print(p, highlight=False, soft_wrap=True)
    if problems:
        err_console.print(f"[bold red]{len(problems)} problem(s)[/] in {data}")
        raise typer.Exit(1)
    for line in split_notes(location):
        note(line)
    console.print(
        f"[green]ok[/]: {data} is a valid dataset: {describe_dataset(location)}", highlight=False, soft_wrap=True
    )


@data_app.command("show")
def data_show(
    data: Annotated[str, typer.Argument(help=DATASET_HELP)],
    id: Annotated[str, typer.Option("--id", help="Clip id.")],
    out: Annotated[Path, typer.Option(help="PNG to write (missing directories are created).")],
) -> None:
    """Plot the three views of one clip with its captions."""
    check_spec(data)
    check_out(out)
    from ..evaluation.figures import clip_figure

    with user_errors():
        clip_figure(data, id, out)
    console.print(f"wrote {out}")


data_app.command("convert")(data_convert)


@data_app.command("simulate")
def data_simulate(
    src: Annotated[
        Path,
        typer.Argument(
            help="The corpus folder (HumanML3D's, a folder of .bvh files, or of .npy joint arrays [T, J, 3])."
        ),
    ],
    out: DatasetOut,
    source: Annotated[str, typer.Option(help=f"Layout of SRC: {' | '.join(MOTION_SOURCES)}.")] = MOTION_SOURCES[0],
    captions: Annotated[
        Path | None,
        typer.Option(
            help="bvh / joints: JSON {id: [captions]} or JSON lines {id, captions}, ids the file stems.",
            show_default=False,
        ),
    ] = None,
    skeleton: Annotated[
        str, typer.Option(help=f"joints: the skeleton of the arrays ({', '.join(SKELETON_NAMES)}).")
    ] = SKELETON_NAMES[0],
    fps: Annotated[
        float, typer.Option(help="joints: frame rate of the arrays (HumanML3D: 20; BVH files give their own).")
    ] = 20.0,
    up: Annotated[str, typer.Option(help="The source's up axis: y (HumanML3D, BVH) or z.")] = "y",
    units_m: Annotated[float, typer.Option(help="Metres per source unit (BVH in centimetres: 0.01).")] = 1.0,
    rotations: Annotated[
        int, typer.Option(help="Copies of each motion, turned about the vertical by 360/K degrees.", min=1)
    ] = 1,
    smoothing: Annotated[
        float, typer.Option(help="Gaussian smoothing of the resampled joints, sigma in seconds (0: none).", min=0.0)
    ] = 0.05,
    max_frames: Annotated[
        int,
        typer.Option(
            help="Longest clip in radar frames (50 Hz); longer motions are cut.", min=FRAME_MULTIPLE, max=MAX_FRAMES
        ),
    ] = MAX_FRAMES,
    mirrored: Annotated[
        bool, typer.Option("--mirrored/--no-mirrored", help="humanml3d: keep the M-prefixed mirrored copies.")
    ] = True,
    window: Annotated[
        int | None,
        typer.Option(
            help="Cut motions longer than this many radar frames into clips of "
            "it (instead of cropping them to --max-frames); each keeps the "
            "motion's captions. [default: off]",
            min=FRAME_MULTIPLE,
            show_default=False,
        ),
    ] = None,
    stride: Stride = None,
    val_fraction: Annotated[
        float,
        typer.Option(
            help="Share of motion files in the val split (sources without split files of their own).", min=0.0, max=1.0
        ),
    ] = SPLIT_FRACTIONS[1],
    test_fraction: Annotated[
        float, typer.Option(help="Share of motion files in the test split (as --val-fraction).", min=0.0, max=1.0)
    ] = SPLIT_FRACTIONS[2],
    seed: Annotated[
        int, typer.Option(help="Random seed (placement, noise, the split of sources without one).", min=0)
    ] = 0,
    workers: Workers = DEFAULT_WORKERS,
    engine: Engine = "local",
    ray_address: RayAddress = "auto",
    skip_bad: Annotated[
        bool,
        typer.Option("--skip-bad", help="Leave out motions that cannot be simulated (counted) instead of stopping."),
    ] = False,
    snr_db: SnrDb = DEFAULT_SNR_DB,
    format: Format = "directory",
    shard_size: ShardSize = DEFAULT_SHARD_SIZE,
    overwrite: Overwrite = False,
    sensor: Sensor = None,
    angle: Angle = "azimuth",
) -> None:
    """Simulate radar from a motion-capture corpus (HumanML3D, BVH, joint arrays) with its descriptions:
    every motion is checked first; an interrupted run started again with the same options continues."""
    check_angle(angle, sensor is not None, "--sensor (the dense views hold azimuth)")
    for name, value, choices in (
        ("--source", source, MOTION_SOURCES),
        ("--skeleton", skeleton, SKELETON_NAMES),
        ("--up", up, ("y", "z")),
    ):
        if value not in choices:
            raise fail(f"{name} {value!r}: choose from {', '.join(choices)}")
    check_windows(window, stride, max_frames)
    check_fractions(val_fraction, test_fraction)
    with writing(out):
        summary = _simulate(
            src,
            out,
            dict(source=source, captions=captions, skeleton=skeleton, fps=fps, mirrored=mirrored, skip_bad=skip_bad),
            dict(
                seed=seed,
                rotations=rotations,
                max_frames=max_frames,
                up=up,
                units_m=units_m,
                smoothing_s=smoothing,
                snr_db=snr_db,
                window_frames=window,
                stride_frames=stride,
                sensor=sensor,
                angle=angle,
                split_fractions=(1.0 - val_fraction - test_fraction, val_fraction, test_fraction),
            ),
            dict(
                workers=workers,
                format=format,
                shard_size=shard_size,
                overwrite=overwrite,
                engine=engine,
                ray_address=ray_address,
            ),
        )
    notes = [f"{summary.resumed} finished before (resumed)"] if summary.resumed else []
    notes += [f"{summary.cropped} cut to {max_frames} frames"] if summary.cropped else []
    if summary.skipped:
        files = len({file for file, _ in summary.skipped})
        notes.append(
            f"{files} motion file(s) left out by --skip-bad ({len(summary.skipped)} clip(s)), first: "
            f"{summary.skipped[0][1]}"
        )
    console.print(
        escape(
            f"wrote {summary.clips} clips to {summary.out}"
            + (" as shards" if format == "wds" else "")
            + (f" ({'; '.join(notes)})" if notes else "")
        ),
        highlight=False,
        soft_wrap=True,
    )


def _simulate(src: Path, out: Path, read: dict, options: dict, write: dict):
    """``data simulate``'s work: the corpus read (``read``: read_source's options), simulated with
    ``options`` (``SimulateOptions``) and written with ``write`` (simulate_corpus's options)."""
    from radar_synth.mocap import read_source
    from radar_synth.simulate import SimulateOptions, partial_dir, simulate_corpus

    try:
        with user_errors(out, rename=lambda message: as_typed(message, options)):
            opts = SimulateOptions(**options)  # a bad --sensor is named before the corpus is read
            unreadable: list[tuple[str, str]] | None = [] if read["skip_bad"] else None
            items = read_source(
                src, read["source"], read["captions"], read["skeleton"], read["fps"], read["mirrored"], unreadable
            )
            return simulate_corpus(
                items, out, opts, root=src, skip_bad=read["skip_bad"], read_problems=unreadable or (), **write
            )
    except KeyboardInterrupt:
        raise interrupted(f"clips simulated so far (if any) are kept in {partial_dir(out)}") from None
