"""``seqclip predict``: zero-shot labels of a researcher's own recordings, clip by clip or window by
window (a thin command over ``seqclip.search.predict``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from radar_text_data.contract import SPLITS  # standard library only

from ..recognition import DEFAULT_PROMPTS, PROMPT_CHOICES, descriptions_problem
from .common import (
    CLIPS_HELP,
    Checkpoint,
    ClipSplit,
    DeviceChoice,
    LabelStride,
    PromptTemplates,
    SkipBad,
    Window,
    check_out,
    choice,
    console,
    fail,
    progress_bar,
    user_errors,
)
from .search import checked_rows, load_model

__all__ = ["predict", "strip_names"]


def predict(
    data: Annotated[str, typer.Argument(help=CLIPS_HELP)],
    checkpoint: Checkpoint = ...,
    classes: Annotated[
        Path,
        typer.Option(
            help="Candidate classes: a text file (one a line) or JSON {class: phrase} / "
            "{class: [prompt, ...]}, as `seqclip eval --task zeroshot` takes them."
        ),
    ] = ...,
    templates: PromptTemplates = None,
    k: Annotated[int, typer.Option("-k", "--k", help="Labels per clip or window.", min=1)] = 3,
    window: Window = None,
    stride: LabelStride = None,
    unseen: Annotated[
        str | None,
        typer.Option(
            help="Classes never seen in training, comma-separated, among the "
            "candidates: --gamma is subtracted from the others' scores.",
            show_default=False,
        ),
    ] = None,
    gamma: Annotated[
        float, typer.Option(help="Calibrated stacking: subtracted from seen classes' scores (needs --unseen).")
    ] = 0.0,
    prompts: Annotated[
        str,
        typer.Option(
            help=f"Prompts from the class {' | '.join(PROMPT_CHOICES)}, as `seqclip eval "
            "--task zeroshot --prompts` takes them.",
            callback=choice("prompts", PROMPT_CHOICES),
        ),
    ] = DEFAULT_PROMPTS,
    split: ClipSplit = "all",
    out: Annotated[
        Path | None,
        typer.Option(help="Results: .json or .csv (id, start, end, label, score, ...).", show_default=False),
    ] = None,
    strips: Annotated[
        Path | None,
        typer.Option(
            help="With --window: a directory for one PNG per recording (its "
            "labels over its Doppler-time view, named as its id's path).",
            show_default=False,
        ),
    ] = None,
    skip_bad: SkipBad = False,
    device: DeviceChoice = "auto",
) -> None:
    """Zero-shot labels (top k with scores) for unlabelled clips, or a timeline per long recording."""
    from radar_text_data.contract import FRAME_MULTIPLE

    if window is not None and window % FRAME_MULTIPLE:
        raise fail(f"--window must be a multiple of {FRAME_MULTIPLE}, got {window}")
    if (stride is not None or strips is not None) and window is None:
        raise fail("--stride and --strips need --window")
    if split not in (*SPLITS, "all"):
        raise fail(f"--split must be one of {' | '.join((*SPLITS, 'all'))}, got {split!r}")
    if out is not None and out.suffix not in (".json", ".csv"):
        raise fail(f"--out {out}: give a .json or .csv file")
    if gamma and unseen is None:
        raise fail("--gamma is subtracted from the seen classes' scores: name the unseen ones with --unseen")
    check_out(out)
    if strips is not None:
        from ..files import check_writable

        with user_errors():
            check_writable(strips, "--strips", directory=True)
    if not checkpoint.exists():
        raise fail(f"--checkpoint not found: {checkpoint}")
    from radar_text_data.classes import parse_class_names, read_classes, read_templates

    from ..search.predict import predict as run_predict
    from ..search.sources import open_clip_rows

    with user_errors():
        cands, temps = read_classes(classes), read_templates(templates) if templates else None
        names = parse_class_names(unseen, "--unseen") if unseen else []
        known = [c.name for c in cands]
        if wrong := [n for n in names if n not in known]:
            raise fail(f"--unseen: {', '.join(wrong)} not among the candidates of {classes} ({', '.join(known)})")
        problem = descriptions_problem(prompts, cands, str(classes))
        if problem:
            raise fail(problem)
        rows, _ = checked_rows(open_clip_rows(data, split), skip_bad)
        model = load_model(checkpoint, device)
        with progress_bar(len(rows), "predicting") as advance:
            found = run_predict(
                model, rows, cands, temps, k, window, stride, names, gamma, advance=advance, prompts=prompts
            )
    _report(found, out)
    if strips is not None:
        _strips(rows, found, strips)


def strip_names(ids: list[str]) -> list[Path]:
    """Each recording's strip file, relative to the strips directory: its id's path (``a/b`` ->
    ``a/b.png``), each part cut to safe characters; a name two ids would share gets ``-2``, ``-3``."""
    taken: set[str] = set()
    out = []
    for rid in ids:
        parts = [
            "".join(c if c.isalnum() or c in "-_." else "_" for c in p).lstrip(".") or "_"
            for p in rid.split("/")
            if p not in ("", ".", "..")
        ] or ["_"]
        base, n = "/".join(parts), 1
        name = f"{base}.png"
        while name.lower() in taken:  # case-insensitive file systems too
            n += 1
            name = f"{base}-{n}.png"
        taken.add(name.lower())
        out.append(Path(name))
    return out


def _strips(rows, found, directory: Path) -> None:
    from ..plots import plot_timeline
    from ..search.windows import timeline_spans

    by_id: dict[str, list] = {}
    for w in found:
        by_id.setdefault(w.id, []).append((w.start, w.end, w.labels[0], w.scores[0]))
    for i, (row, name) in enumerate(zip(rows.rows, strip_names([r.id for r in rows.rows]), strict=True)):
        plot_timeline(rows.views(i)["doppler_time"], timeline_spans(by_id[row.id]), row.id, directory / name)
    console.print(f"wrote {len(rows)} strips to {directory}", highlight=False)


def _report(found, out: Path | None) -> None:
    from rich.table import Table

    table = Table("id", "frames", "labels (scores)")
    for w in found[:50]:
        table.add_row(
            w.id, f"{w.start}-{w.end}", ", ".join(f"{lab} ({s:.3f})" for lab, s in zip(w.labels, w.scores, strict=True))
        )
    console.print(table)
    if len(found) > 50:
        console.print(f"... {len(found) - 50} more rows{'' if out else ' (--out writes them all)'}")
    if out is None:
        return
    from ..files import write_text_atomic

    rows = [
        {
            "id": w.id,
            "start": w.start,
            "end": w.end,
            "label": w.labels[0],
            "score": w.scores[0],
            "labels": w.labels,
            "scores": w.scores,
        }
        for w in found
    ]
    if out.suffix == ".json":
        write_text_atomic(out, json.dumps(rows, indent=1) + "\n")
    else:
        import csv
        import io

        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["id", "start", "end", "label", "score", "labels", "scores"])
        for r in rows:
            writer.writerow(
                [
                    r["id"],
                    r["start"],
                    r["end"],
                    r["label"],
                    f"{r['score']:.6f}",
                    "|".join(r["labels"]),
                    "|".join(f"{s:.6f}" for s in r["scores"]),
                ]
            )
        write_text_atomic(out, buf.getvalue())
    console.print(f"wrote {out}")
