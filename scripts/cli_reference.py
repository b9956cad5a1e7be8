"""Write docs/cli.md, the command-line reference, from the Typer app: every command's usage, help and
options with their defaults, in command order. ``tests/test_cli_reference.py`` fails when the file
is stale; run ``uv run python scripts/cli_reference.py`` after changing a command."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from seqclip.cli import app

__all__ = ["cli_markdown", "OUT"]

OUT = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
HEADER = """# Command-line reference

Every `seqclip` command with its options and defaults, generated from the app by
`scripts/cli_reference.py` (do not edit by hand). `seqclip COMMAND --help` prints the same.
Errors in what you give a command (a flag, a file, a dataset) end it with one `error:` line and exit
code 2; a diverged run exits with 1; Ctrl-C exits with 130 and says how to resume.
"""


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _commands(group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield (*prefix, name), command
            yield from _commands(command, (*prefix, name))
        else:
            yield (*prefix, name), command


def _section(path: tuple[str, ...], command) -> list[str]:
    name = " ".join(("seqclip", *path))
    ctx = command.context_class(command, info_name=name)
    usage = " ".join([name, *command.collect_usage_pieces(ctx)])
    lines = [f"## `{name}`", "", f"```\n{usage}\n```", ""]
    if command.help:
        lines += [" ".join(p.split()) + "\n" for p in command.help.split("\n\n")]
    if hasattr(command, "commands"):
        lines += ["| Command | What it does |", "|---|---|"]
        for sub, c in command.commands.items():
            lines.append(f"| `{name} {sub}` | {_cell(c.get_short_help_str(limit=200))} |")
        return [*lines, ""]
    records = [p.get_help_record(ctx) for p in command.params if not getattr(p, "hidden", False)]
    records = [r for r in records if r]
    if records:
        lines += ["| Argument or option | Description |", "|---|---|"]
        lines += [f"| `{_cell(opts)}` | {_cell(text)} |" for opts, text in records]
    return [*lines, ""]


def cli_markdown() -> str:
    """The reference as Markdown."""
    root = typer.main.get_command(app)
    lines = [HEADER]
    for path, command in _commands(root):
        lines += _section(path, command)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    text = cli_markdown()
    if sys.argv[1:] == ["--check"]:
        sys.exit(0 if OUT.is_file() and OUT.read_text(encoding="utf-8") == text else 1)
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")
