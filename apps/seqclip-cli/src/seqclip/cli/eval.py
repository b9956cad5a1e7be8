"""``seqclip eval`` (every task of the registry, answered before the model loads where it can) and
``seqclip plot``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from radar_text_data.contract import FRAME_MULTIPLE, MAX_FRAMES, SPLITS  # standard library only

from ..config import EVAL_SIMILARITIES, EVAL_TASKS
from ..evaluation.options import DEFAULT_OPTIONS, EvalOptions, Protocol  # torch-free
from ..recognition import CALIBRATIONS, PROMPT_CHOICES, descriptions_problem
from .common import (
    DATASET_HELP,
    Checkpoint,
    DeviceChoice,
    PromptTemplates,
    check_out,
    check_spec,
    choice,
    console,
    fail,
    field_option,
    note,
    user_error_types,
    user_errors,
)

__all__ = ["eval_cmd", "plot"]

Split = Literal[SPLITS]  # type: ignore[valid-type]  # train | val | test


def _check_clip_length(length: int | None) -> None:
    from radar_text_data.contract import check_clip_length

    with user_errors(rename=lambda message: f"--clip-length: {message}"):
        if length is not None:
            check_clip_length(length)


def eval_cmd(
    checkpoint: Checkpoint,
    data: Annotated[str, typer.Option(help=DATASET_HELP)],
    task: Annotated[
        str, typer.Option(help=f"What to evaluate: {' | '.join(EVAL_TASKS)}.", callback=choice("task", EVAL_TASKS))
    ] = "retrieval",
    split: Annotated[Split, typer.Option(help="Dataset split.")] = "test",
    protocol: Annotated[Protocol, field_option("protocol", config=EvalOptions)] = DEFAULT_OPTIONS.protocol,
    batch_size: Annotated[int, field_option("batch_size", config=EvalOptions, min=1)] = DEFAULT_OPTIONS.batch_size,
    similarity: Annotated[
        str, field_option("similarity", config=EvalOptions, callback=choice("similarity", EVAL_SIMILARITIES))
    ] = DEFAULT_OPTIONS.similarity,
    clip_length: Annotated[
        int | None,
        typer.Option(
            help=f"Frames per clip after crop/pad (a multiple of {FRAME_MULTIPLE}, at most "
            f"{MAX_FRAMES}). [default: the model's training clip length]",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="JSON file for the metrics (missing directories are created).", show_default=False),
    ] = None,
    device: DeviceChoice = "auto",
    classes: Annotated[Path | None, field_option("classes", config=EvalOptions, show_default=False)] = None,
    templates: PromptTemplates = None,
    unseen: Annotated[str | None, field_option("unseen", config=EvalOptions, show_default=False)] = None,
    prompts: Annotated[
        str, field_option("prompts", config=EvalOptions, callback=choice("prompts", PROMPT_CHOICES))
    ] = DEFAULT_OPTIONS.prompts,
    calibration: Annotated[
        str, field_option("calibration", config=EvalOptions, callback=choice("calibration", tuple(CALIBRATIONS)))
    ] = DEFAULT_OPTIONS.calibration,
    card: Annotated[
        bool,
        typer.Option(
            "--card/--no-card",
            help="Append the result to the model's card (README.md of the model directory the checkpoint resolves to).",
        ),
    ] = False,
) -> None:
    """Evaluate a checkpoint: retrieval (both directions), zero-shot recognition, or order: twins
    (own caption vs the order-swapped twin's) and order (own caption vs its order-reversed
    wording). Scores carry 95 % bootstrap intervals over clips."""
    if not checkpoint.exists():
        raise fail(f"checkpoint not found: {checkpoint}")
    check_spec(data)
    _check_clip_length(clip_length)
    png = _confusion_png(task, out, checkpoint, data, split)
    check_out(png, "--out" if out else "--checkpoint")
    check_out(out)
    zero_shot = _zero_shot_options(classes, templates, unseen, data, task == "zeroshot", prompts)
    from ..evaluation.tasks import evaluate_checkpoint

    with user_errors():
        options = EvalOptions(
            similarity=similarity,
            protocol=protocol,
            batch_size=batch_size,
            prompts=prompts,
            calibration=calibration,
            **zero_shot,
        )
        result, notes = evaluate_checkpoint(checkpoint, data, task, split, options, clip_length, device)
    for line in notes:
        note(line)
    if png is not None and result["task"] == "zeroshot":
        from ..plots import plot_confusion

        result["confusion_png"] = str(plot_confusion(result["confusion"], result["classes"], png))
    from ..evaluation.report import print_eval

    print_eval(console, result)
    if out:
        import json

        from ..files import write_text_atomic

        write_text_atomic(out, json.dumps(result, indent=2) + "\n")
        console.print(f"wrote {out}")
    if card:
        from ..model.card import append_to_card
        from ..model.pretrained import find_model_dir

        root, _ = find_model_dir(checkpoint)
        path = append_to_card(
            root,
            f"seqclip eval --task {result['task']} --split {split} on {data} (score: {result['similarity']})",
            result,
        )
        console.print(f"appended to {path}")


def _zero_shot_options(
    classes: Path | None, templates: Path | None, unseen: str | None, data: str, zero_shot: bool, prompts: str = "names"
) -> dict:
    """The zero-shot files and names, read and checked before the model loads (no torch): with
    ``zero_shot``, ``--unseen`` against the candidate classes, and the dataset's recorded unseen
    classes narrowed to them (``--unseen none`` or ``""``: none); prompts from descriptions need a
    description for every candidate."""
    from radar_text_data.classes import parse_class_names, read_classes, read_templates
    from radar_text_data.vocabulary import NO_UNSEEN

    def names(text: str) -> tuple[str, ...]:
        return (NO_UNSEEN,) if text.strip().lower() in ("", NO_UNSEEN) else tuple(parse_class_names(text, "--unseen"))

    out: dict = {"classes": None, "templates": None, "unseen": None}
    for name, given, read in (
        ("classes", classes, lambda p: tuple(read_classes(p))),
        ("templates", templates, read_templates),
        ("unseen", unseen, names),
    ):
        try:
            out[name] = read(given) if given is not None else None
        except user_error_types() as err:
            message = str(err)
            raise fail(message if message.startswith(f"--{name}") else f"--{name}: {message}") from None
    if zero_shot:
        out["unseen"] = _candidate_unseen(data, out["classes"], out["unseen"], prompts, classes)
    return out


def _candidate_unseen(
    data: str, classes, unseen: tuple[str, ...] | None, prompts: str = "names", classes_file: Path | None = None
) -> tuple[str, ...]:
    """The unseen classes a zero-shot evaluation will report: checked against the candidates (and
    the candidates' descriptions, when the prompts come from them)."""
    from radar_text_data import resolve_data
    from radar_text_data.vocabulary import dataset_classes, resolve_unseen

    try:
        location = resolve_data(data)
        candidates = classes or dataset_classes(location)
    except user_error_types() as err:
        raise fail(f"--data {data}: {err}") from None
    names = [c.name for c in candidates]
    problem = descriptions_problem(prompts, candidates, str(classes_file or f"{data}'s classes"))
    if problem:
        raise fail(problem)
    try:
        return resolve_unseen(location, names, unseen)
    except user_error_types() as err:
        raise fail(f"--unseen: {err}") from None


def _confusion_png(task: str, out: Path | None, checkpoint: Path, data: str, split: str) -> Path | None:
    """Where zero-shot's confusion matrix goes: beside --out, else in the run's eval/, named by task,
    dataset and split (``zeroshot_<dataset>_<split>_confusion.png``)."""
    if task != "zeroshot":
        return None
    from ..rundir import EVAL

    if out:
        return out.with_suffix(".confusion.png")
    dataset = "".join(c if c.isalnum() or c in "-_." else "_" for c in Path(data.rstrip("/")).name) or "data"
    return checkpoint / EVAL / f"zeroshot_{dataset}_{split}_confusion.png"


def plot(
    run: Annotated[Path, typer.Argument(help="Run directory.")],
    data: Annotated[str | None, typer.Option(help="Dataset (default: the run's).")] = None,
) -> None:
    """Loss curves, learning rate, logit scale, a validation similarity heatmap and retrieval examples."""
    from ..evaluation.figures import run_figures

    with user_errors():
        for path in run_figures(run, data):
            console.print(f"wrote {path}")
