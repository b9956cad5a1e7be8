"""docs/cli.md is the command-line reference generated from the app: it fails here when a command
changed and the file was not generated again."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "cli_reference.py"


def _script():
    spec = importlib.util.spec_from_file_location("cli_reference", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_cli_reference_is_current():
    script = _script()
    text = script.cli_markdown()
    assert script.OUT.read_text(encoding="utf-8") == text, (
        "docs/cli.md is stale: uv run python scripts/cli_reference.py"
    )


def test_the_cli_reference_lists_every_command_and_option():
    import typer

    from seqclip.cli import app

    script = _script()
    text = script.cli_markdown()
    commands = list(script._commands(typer.main.get_command(app)))
    assert {" ".join(path) for path, _ in commands} >= {"train", "eval", "search", "data convert", "data synth"}
    for path, command in commands:
        section = text.split(f"## `seqclip {' '.join(path)}`\n", 1)[1].split("\n## ", 1)[0]
        for param in getattr(command, "params", []):
            for opt in param.opts:
                if opt.startswith("--"):
                    assert f"`{opt}" in section or f" {opt}" in section, (path, opt)
