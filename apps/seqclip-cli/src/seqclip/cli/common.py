"""What every command group shares: the consoles, the one user-error context (``user_errors``), the
checks that answer before any work, one writer per output (``writing``), a progress bar, and the
option declarations used by more than one command. Standard library, Typer and Rich only."""

from __future__ import annotations

import math
import sys
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.markup import escape

from radar_text_data.contract import FORMATS, FRAME_MULTIPLE, MAX_FRAMES, SPLITS  # standard library only

from ..config import Device, option_help
from ..errors import UserError
from ..recognition import NAME_TEMPLATES, PHRASE_TEMPLATES

__all__ = [
    "console",
    "err_console",
    "fail",
    "note",
    "user_errors",
    "choice",
    "as_typed",
    "LIBRARY_FIELDS",
    "check_out",
    "writing",
    "check_spec",
    "check_fractions",
    "interrupted",
    "check_windows",
    "progress_bar",
    "Engine",
    "RayAddress",
    "Overwrite",
    "ShardSize",
    "Format",
    "Stride",
    "LabelStride",
    "field_option",
    "Checkpoint",
    "SkipBad",
    "Window",
    "DeviceChoice",
    "ClipSplit",
    "DATASET_HELP",
    "CLIPS_HELP",
    "PromptTemplates",
    "listed",
    "user_error_types",
]

console = Console()
err_console = Console(stderr=True)
# the libraries' exception families: raised for an input they cannot use as given (a user's mistake)
LIBRARY_ERRORS = (
    ("radar_views.errors", "RadarViewsError"),
    ("radar_text_data.errors", "DataError"),
    ("radar_synth.errors", "SynthError"),
)


def user_error_types() -> tuple[type[BaseException], ...]:
    """The exceptions that are a user's mistake (exit 2, one line): ``UserError``, a missing or existing
    file, and the exception family of every seqclip library already imported (one not imported cannot
    have raised, so none is imported here: ``--help`` stays free of numpy and torch). Anything else is a bug."""
    found = [UserError, FileNotFoundError, FileExistsError]
    for module, name in LIBRARY_ERRORS:
        if module in sys.modules:
            found.append(getattr(sys.modules[module], name))
    return tuple(found)


# ---------------------------------------------------------------------- options of several commands
Overwrite = Annotated[
    bool,
    typer.Option(
        "--overwrite", help="Replace an existing --out, moving it aside to OUT.old-<date>-<time> (never deleted)."
    ),
]
ShardSize = Annotated[int, typer.Option(help="Samples per shard (--format wds).", min=1)]
DataFormat = Literal[FORMATS]  # type: ignore[valid-type]  # directory | wds
Format = Annotated[
    DataFormat, typer.Option(help="directory (manifest.jsonl + clips/) or wds (WebDataset shards + index.json).")
]
Engine = Annotated[
    Literal["local", "ray"],
    typer.Option(
        help="local: a process pool here; ray: Ray tasks on "
        "--ray-address (pip install 'radar-synth[ray]'); the same bytes."
    ),
]
RayAddress = Annotated[
    str,
    typer.Option(
        help="With --engine ray: auto (a running cluster, else a local Ray for "
        "this run), local, or a cluster's address (HOST:PORT, ray://...)."
    ),
]
Stride = Annotated[
    int | None,
    typer.Option(
        help="With --window: frames between window starts. [default: the "
        "window: no overlap, so no frame is in two training clips]",
        min=1,
        show_default=False,
    ),
]


Angle = Annotated[
    str,
    typer.Option(
        help="What the views' third rows hold for point clouds: azimuth | elevation (each point's "
        "elevation sine, z / |p|, for sensors with elevated antennas such as RadHAR's IWR1443). "
        "A model records the angle it was trained on and refuses clips of the other."
    ),
]


def check_angle(angle: str, point_clouds: bool, needs: str) -> None:
    """``--angle`` before any work: one of ``radar_views.ANGLES``, and other than azimuth only where
    point clouds are rendered (``point_clouds``; else ``needs`` names the flag that would)."""
    from radar_views import ANGLES  # numpy: only once a command runs

    if angle not in ANGLES:
        raise fail(f"--angle: {angle!r} is not one of {' | '.join(ANGLES)}")
    if angle != "azimuth" and not point_clouds:
        raise fail(f"--angle {angle}: only point clouds are rendered with it; give {needs}")


def listed(templates: tuple[str, ...]) -> str:
    """Templates as a help text shows them: ``'a person {}.' | 'someone {}.'``."""
    return " | ".join(repr(t) for t in templates)


PromptTemplates = Annotated[
    Path | None,
    typer.Option(
        "--templates",
        help="Zero-shot prompt templates, one a line with {} for the class phrase. [default: "
        + listed(PHRASE_TEMPLATES)
        + " for a phrase, "
        + listed(NAME_TEMPLATES)
        + " for a bare class name]",
        show_default=False,
    ),
]
LabelStride = Annotated[
    int | None,
    typer.Option(
        help="With --window: frames between window starts. [default: half "
        "the window (at least 16 frames), so an activity cut by one "
        "window's edge lies whole in the next]",
        min=1,
        show_default=False,
    ),
]

Checkpoint = Annotated[
    Path, typer.Option(help="Run directory (best/, else its latest checkpoint) or a saved model directory.")
]
SkipBad = Annotated[
    bool,
    typer.Option(
        "--skip-bad",
        help="Leave out clips that cannot be read (counted, the first "
        "named) instead of stopping; every clip is read once before the model loads.",
    ),
]
Window = Annotated[
    int | None,
    typer.Option(
        help=f"Frames per window of long recordings (a multiple of "
        f"{FRAME_MULTIPLE}); a recording no longer than it is one window. "
        "[default: one per clip, its first clip-length frames]",
        min=FRAME_MULTIPLE,
        max=MAX_FRAMES,
        show_default=False,
    ),
]
DeviceChoice = Annotated[Device, typer.Option(help="Device.")]
ClipSplit = Annotated[str, typer.Option(help=f"Dataset split: {' | '.join(SPLITS)} | all.")]
DATASET_HELP = "Dataset directory, shard directory or shard pattern."  # a dataset, as eval and data take it
CLIPS_HELP = "Dataset directory, shard spec, or a folder of .npz view files."  # clips, as embed and predict take them


def field_option(name: str, *decls: str, config: type | None = None, **options: Any) -> Any:
    """The ``typer.Option`` of field ``name`` of ``config`` (``TrainConfig`` unless given, ``EvalOptions``),
    its help text read from the field (``config.option_help``)."""
    return typer.Option(*decls, help=option_help(name, config), **options)


def fail(message: str, code: int = 2) -> typer.Exit:
    """One ``error:`` line on stderr; raise the returned ``typer.Exit``."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def interrupted(kept: str) -> typer.Exit:
    """Ctrl-C during a generator: where its work is kept; exit 130."""
    err_console.print(
        escape(f"interrupted: {kept}; run the same command again to continue"), highlight=False, soft_wrap=True
    )
    return typer.Exit(130)


def note(message: str) -> None:
    err_console.print(f"note: {escape(message)}", highlight=False, soft_wrap=True)


@contextmanager
def user_errors(out: Path | None = None, flag: str = "--out", rename=None):
    """A user's mistake inside ends the command with one line and exit 2: an existing ``out`` (with
    how to go on), any of ``user_error_types()`` (``rename(message)`` first). Any other exception is a
    bug and keeps its traceback."""
    try:
        yield
    except FileExistsError as err:
        if out is None:
            raise fail(str(err)) from None
        raise fail(
            f"{flag} {out}: {err}; choose another {flag}, or pass --overwrite to move it aside to "
            f"{out.name}.old-<date>-<time> (never deleted)"
        ) from None
    except user_error_types() as err:
        message = as_typed(str(err), LIBRARY_FIELDS)  # a library's "field: problem" as the flag typed
        raise fail(rename(message) if rename else message) from None


def choice(name: str, choices: tuple[str, ...]):
    """A Typer callback for option ``--name``: one of ``choices``."""

    def check(value: str | None) -> str | None:
        if value is None:
            return value
        if value not in choices:
            raise typer.BadParameter(f"{value!r} is not one of {' | '.join(choices)}")
        return value

    return check


# fields the libraries name in their messages (``similarity: ...``) that are flags of some command
LIBRARY_FIELDS = frozenset(
    ("similarity", "prompts", "calibration", "protocol", "task", "rerank", "clip", "sheet", "unseen", "gamma", "device")
)


def as_typed(message: str, options) -> str:
    """A library's ``field: problem`` message with the field as the flag the user typed
    (``held_out_wording: ...`` -> ``--held-out-wording: ...``) when ``field`` is one of ``options``."""
    from ..config import flag

    field, sep, rest = message.partition(": ")
    return f"{flag(field)}: {rest}" if sep and field in options else message


def check_out(out: Path | None, flag: str = "--out") -> None:
    """``out`` (a file to write) can be written, answered before any work."""
    from ..files import check_writable

    with user_errors():
        check_writable(out, flag)


@contextmanager
def writing(out: Path, flag: str = "--out", lock: bool = True):
    """One writer per output: ``out`` (a directory) checked as ``check_out`` checks a file, then
    locked (``radar_views.output_lock``) until the command ends; a second command on it exits 2 at
    once, naming the holder. Before any loading: standard library and radar-views only."""
    from radar_views import OutputLockedError, output_lock

    from ..files import check_writable

    with ExitStack() as stack:
        try:
            check_writable(out, flag, directory=True)
            if lock:
                stack.enter_context(output_lock(out))
        except UserError as err:
            raise fail(str(err)) from None
        except OutputLockedError as err:
            raise fail(f"{flag} {err}") from None
        except OSError as err:  # the lock file cannot be made (read-only file system, permissions)
            raise fail(f"{flag} {out}: {err.strerror or err}") from None
        yield


def check_spec(data: str) -> None:
    """A missing dataset answers before numpy and the format package load."""
    from ..files import check_data_spec

    with user_errors():
        check_data_spec(data)


def check_fractions(val_fraction: float, test_fraction: float) -> None:
    """The split shares add up to at most 1 (exactly 1: an evaluation-only dataset, no train split)."""
    if val_fraction + test_fraction > 1.0 and not math.isclose(val_fraction + test_fraction, 1.0):
        raise fail(
            f"--val-fraction {val_fraction} + --test-fraction {test_fraction} add up to more than 1 (1 makes "
            f"an evaluation-only dataset)"
        )


def check_windows(window: int | None, stride: int | None, longest: int | None = None) -> None:
    if stride is not None and window is None:
        raise fail("--stride needs --window")
    if window is not None and longest is not None and window > longest:
        raise fail(f"--window {window} is longer than --max-frames {longest}")


@contextmanager
def progress_bar(total: int | None, what: str):
    """A Rich progress bar of ``total`` items (None: not known yet); yields ``advance(n=1, total=None)``,
    whose ``total`` sets the bar's length once it is known."""
    from rich.progress import Progress

    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(what, total=total)

        def advance(n: int = 1, total: int | None = None) -> None:
            progress.update(task, advance=n, **({"total": total} if total is not None else {}))

        yield advance
