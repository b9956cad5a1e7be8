"""The ``seqclip`` command line: thin Typer command groups (fastapi-cli's pattern) over plain
functions, one module per group: ``data`` (create, check, inspect datasets), ``train``, ``eval``
(and ``plot``); ``common`` holds what they share.

User mistakes (missing files, unknown options, bad TOML keys, values out of range, data that cannot
be read: ``common.user_error_types``) end with one line and exit code 2; a diverged run exits with 1;
Ctrl-C exits with 130 and says how to resume. Any other exception is a bug: it keeps its traceback,
and the command says how to report it. Only the standard library, Typer and Rich are imported here: torch, timm and
transformers load inside the commands that need them, so ``--help`` answers at once. Help texts
are printed as written (no Rich markup), so every bracket in them shows.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ..config import WORKSPACE_PACKAGES
from .common import console, err_console, note
from .data import data_app
from .eval import eval_cmd, plot
from .predict import predict
from .search import embed, index, search
from .train import train

__all__ = ["app", "data_app", "main", "BUG_REPORT"]

BUG_REPORT = (
    "This is a bug in seqclip, not a mistake in what you gave it: please report it with the traceback "
    "above, the command you ran and the output of `seqclip --version`."
)

app = typer.Typer(
    help="Train and evaluate CLIP-style radar-text models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
app.add_typer(data_app, name="data")
app.command("train")(train)
app.command("eval")(eval_cmd)
app.command("plot")(plot)
app.command("embed")(embed)
app.command("index")(index)
app.command("search")(search)
app.command("predict")(predict)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        for name in WORKSPACE_PACKAGES:
            try:
                found = version(name)
            except PackageNotFoundError:
                found = "not installed"
            console.print(f"{name} {found}", highlight=False)
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version of every seqclip package and exit."
        ),
    ] = False,
) -> None:
    """Train and evaluate CLIP-style radar-text models."""


def main() -> None:
    """The ``seqclip`` entry point: a renamed value or field (a ``FutureWarning``) is one ``note:`` line."""
    import warnings

    shown = warnings.showwarning

    def show(message, category, *args, **kwargs) -> None:
        if issubclass(category, FutureWarning):
            note(str(message))
        else:
            shown(message, category, *args, **kwargs)

    warnings.showwarning = show
    try:
        app()
    except Exception:  # a user's mistake ended the command with one line inside; this is a bug
        err_console.print(BUG_REPORT, highlight=False, soft_wrap=True)
        raise


if __name__ == "__main__":
    main()
