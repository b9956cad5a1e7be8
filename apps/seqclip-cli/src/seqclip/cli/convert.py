"""``seqclip data convert``: a user's own clips with captions or labels, or a public dataset's point
clouds (``--from``), to the dataset format."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from radar_text_data.contract import (  # standard library only
    FRAME_MULTIPLE,
    MMFI_PROTOCOL_NAMES,
    MMFI_SPLITS,
    PUBLIC_DATASETS,
    SPLIT_FRACTIONS,
)
from radar_text_data.labels import CAPTION_TEMPLATES  # standard library only

from .common import (
    Angle,
    Overwrite,
    Stride,
    check_angle,
    check_fractions,
    check_windows,
    choice,
    console,
    fail,
    listed,
    progress_bar,
    user_errors,
    writing,
)

__all__ = ["data_convert"]


def data_convert(
    src: Annotated[
        Path,
        typer.Argument(help="Folder of <id>.npz or <id>/<view>.npy files, or with --from a public dataset's folder."),
    ],
    out: Annotated[Path, typer.Option(help="Output dataset directory.")],
    captions: Annotated[
        Path | None, typer.Option(help="JSON {id: [captions]} or JSON lines {id, captions}.", show_default=False)
    ] = None,
    labels: Annotated[
        Path | None,
        typer.Option(
            help="Labels instead of (or besides) captions: CSV id,label or "
            "id,label,start_frame,end_frame, or JSON {id: label} / {id: "
            "[[label, start, end], ...]}; captions are rendered from "
            "--templates and classes.json is written.",
            show_default=False,
        ),
    ] = None,
    templates: Annotated[
        Path | None,
        typer.Option(
            help="With --labels: caption templates, one a line, {} for the labels in order. [default: "
            + listed(CAPTION_TEMPLATES)
            + "]",
            show_default=False,
        ),
    ] = None,
    classes: Annotated[
        Path | None,
        typer.Option(
            help="With --labels: a class file (as `seqclip eval --classes` "
            "takes it) whose phrases, prompts and descriptions go into "
            "classes.json for the labels it names (zero-shot --prompts "
            "descriptions).",
            show_default=False,
        ),
    ] = None,
    val_fraction: Annotated[
        float, typer.Option(help="Share of clips in the val split.", min=0.0, max=1.0)
    ] = SPLIT_FRACTIONS[1],
    test_fraction: Annotated[
        float,
        typer.Option(
            help="Share of clips in the test split (with --val-fraction adding "
            "up to 1: an evaluation-only dataset, no train split).",
            min=0.0,
            max=1.0,
        ),
    ] = SPLIT_FRACTIONS[2],
    seed: Annotated[int, typer.Option(help="Seed of the train/val/test split.", min=0)] = 0,
    overwrite: Overwrite = False,
    skip_unlabelled: Annotated[
        bool,
        typer.Option(
            "--skip-unlabelled",
            help="Leave out clips of SRC that the "
            "captions (or labels) do not mention, instead of stopping; "
            "counted either way.",
        ),
    ] = False,
    window: Annotated[
        int | None,
        typer.Option(
            help="Cut recordings longer than this many frames into clips of it "
            "(each with the recording's captions, or the labelled segments "
            "inside it; all in the recording's split). [default: off]",
            min=FRAME_MULTIPLE,
            show_default=False,
        ),
    ] = None,
    stride: Stride = None,
    from_: Annotated[
        str | None,
        typer.Option(
            "--from",
            help=f"Read a public dataset's own layout instead: "
            f"{' | '.join(PUBLIC_DATASETS)} (radhar: RadHAR's Data folder, official "
            "Train/Test split, --window 96 --stride 16 by default; mmfi: the folder "
            "of E01..E04, --protocol and --official-split, --window 256 --stride "
            "128 by default; ti-csv: TI Demo Visualizer CSVs in <label>/ folders "
            "or with --labels, --frame-rate, split by --val/--test-fraction, "
            "--window 128 --stride 64 by default; val carved from train by "
            "recording).",
            callback=choice("from", PUBLIC_DATASETS),
            show_default=False,
        ),
    ] = None,
    protocol: Annotated[
        str,
        typer.Option(
            help="With --from mmfi: protocol1 (daily activities) | protocol2 (rehabilitation) | protocol3 (all 27).",
            callback=choice("protocol", MMFI_PROTOCOL_NAMES),
        ),
    ] = "protocol3",
    official_split: Annotated[
        str,
        typer.Option(
            help=f"With --from mmfi: the toolbox's train/test split: {' | '.join(MMFI_SPLITS)}.",
            callback=choice("official-split", MMFI_SPLITS),
        ),
    ] = "random",
    axes: Annotated[
        str,
        typer.Option(
            help="With --from mmfi or ti-csv: the source columns of right, forward and up "
            "(a minus flips one), e.g. -y,x,z when depth is x."
        ),
    ] = "x,y,z",
    frame_rate: Annotated[
        float | None,
        typer.Option(help="With --from ti-csv: the recordings' frames per second.", min=0.001, show_default=False),
    ] = None,
    angle: Angle = "azimuth",
) -> None:
    """Convert your own per-clip views plus captions or labels to the dataset directory format, or with
    --from a public dataset's point clouds (rendered as views). Every clip is checked first (views,
    frames, finite values, captions, segments): any problem is listed and nothing is written."""
    check_angle(angle, from_ is not None, "--from (your own views are converted as they are)")
    if from_ is not None:
        own = from_ != "ti-csv"  # the dataset brings its labels and its test split
        given = [
            flag
            for flag, value in (
                ("--captions", captions),
                ("--labels", labels if own else None),
                ("--templates", templates),
                ("--classes", classes),
                ("--skip-unlabelled", skip_unlabelled or None),
            )
            if value is not None
        ]
        if given or (own and test_fraction != SPLIT_FRACTIONS[2]):
            what = ", ".join(given) if given else "--test-fraction"
            source = (
                "the dataset's own labels and official test split" if own else "labels from folder names or --labels"
            )
            raise fail(f"{what}: --from {from_} reads {source}; leave {'them' if len(given) > 1 else 'it'} out")
        if from_ != "mmfi" and (protocol, official_split) != ("protocol3", "random"):
            raise fail(f"--protocol and --official-split are MM-Fi's; --from {from_} takes neither")
        if from_ == "radhar" and axes != "x,y,z":
            raise fail("--axes: RadHAR's axes are fixed by its driver; leave it out")
        if (from_ == "ti-csv") != (frame_rate is not None):
            raise fail(
                "--frame-rate: --from ti-csv needs it (the CSV holds no times)"
                if frame_rate is None
                else f"--frame-rate: --from {from_} knows its frame rate; leave it out"
            )
        check_fractions(val_fraction, test_fraction)
        check_windows(window, stride)
        options = (
            {"protocol": protocol, "split": official_split, "axes": axes}
            if from_ == "mmfi"
            else {"frame_rate_hz": frame_rate, "labels_file": labels, "test_fraction": test_fraction, "axes": axes}
            if from_ == "ti-csv"
            else {}
        )
        options["angle"] = angle
        return _convert_public(from_, src, out, window, stride, val_fraction, seed, overwrite, options)
    if captions is None and labels is None:
        raise fail("give --captions FILE, --labels FILE, or both")
    if templates is not None and labels is None:
        raise fail("--templates renders captions from --labels; give --labels too")
    if classes is not None and labels is None:
        raise fail("--classes describes the classes of --labels; give --labels too")
    check_fractions(val_fraction, test_fraction)
    check_windows(window, stride)
    from radar_text_data import convert_folder, read_manifest

    left_out: list[str] | None = [] if skip_unlabelled else None
    with writing(out), user_errors(out):
        root = convert_folder(
            src,
            captions,
            out,
            val_fraction=val_fraction,
            test_fraction=test_fraction,
            seed=seed,
            overwrite=overwrite,
            labels_file=labels,
            templates_file=templates,
            classes_file=classes,
            unlabelled=left_out,
            window=window,
            stride=stride,
        )
    kept, skipped = len(read_manifest(root)), left_out or []
    first = f": {', '.join(skipped[:5])}{', ...' if len(skipped) > 5 else ''}" if skipped else ""
    console.print(
        escape(
            f"wrote {kept} clips to {root} ({len(skipped)} clip(s) without "
            f"{'captions' if captions else 'labelled frames'} left out{first}); check it with "
            f"`seqclip data check {root}`"
        ),
        highlight=False,
        soft_wrap=True,
    )


def _convert_public(
    name: str,
    src: Path,
    out: Path,
    window: int | None,
    stride: int | None,
    val_fraction: float,
    seed: int,
    overwrite: bool,
    options: dict,
) -> None:
    """``data convert --from NAME``: a public dataset's recordings, rendered as views, to the format (a
    wrong layout is named before any recording is read)."""
    from radar_text_data import read_manifest

    if name == "radhar":
        from radar_text_data.radhar import RADHAR_STRIDE as default_stride
        from radar_text_data.radhar import RADHAR_WINDOW as default_window
        from radar_text_data.radhar import convert_radhar as convert
    elif name == "ti-csv":
        from radar_text_data.ti_csv import TI_CSV_STRIDE as default_stride
        from radar_text_data.ti_csv import TI_CSV_WINDOW as default_window
        from radar_text_data.ti_csv import convert_ti_csv as convert
    else:
        from radar_text_data.mmfi import MMFI_STRIDE as default_stride
        from radar_text_data.mmfi import MMFI_WINDOW as default_window
        from radar_text_data.mmfi import convert_mmfi as convert
    window = window or default_window
    stride = stride or (default_stride if window == default_window else window)
    recordings = [0]  # how many the converter found (its progress says)
    with writing(out), user_errors(out), progress_bar(None, "rendering recordings") as advance:

        def step(done: int, total: int) -> None:
            recordings[0] = total
            advance(total=total)

        root = convert(
            src,
            out,
            window=window,
            stride=stride,
            val_fraction=val_fraction,
            seed=seed,
            overwrite=overwrite,
            progress=step,
            **options,
        )
    records = read_manifest(root)
    counts = {s: sum(r.split == s for r in records) for s in ("train", "val", "test")}
    console.print(
        escape(
            f"wrote {len(records)} clips from {recordings[0]} recordings to {root} "
            f"({', '.join(f'{n} {s}' for s, n in counts.items())}); check it with "
            f"`seqclip data check {root}`"
        ),
        highlight=False,
        soft_wrap=True,
    )
