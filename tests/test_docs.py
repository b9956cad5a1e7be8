"""The documentation holds: READMEs short enough to read, every relative link resolving, no sentence
about how the project was developed, and the Python API guide's examples running as written."""

import re
import shlex
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
READMES = [ROOT / "README.md", *sorted(ROOT.glob("packages/*/README.md")), *sorted(ROOT.glob("apps/*/README.md"))]
DOCS = sorted((ROOT / "docs").rglob("*.md"))
CHANGELOGS = [*sorted(ROOT.glob("packages/*/CHANGELOG.md")), *sorted(ROOT.glob("apps/*/CHANGELOG.md"))]
CODE = [
    p
    for top in ("packages", "apps", "bench", "scripts", "tests", ".ci")
    for p in sorted((ROOT / top).rglob("*"))
    if p.suffix in (".py", ".sh", ".toml", "") and p.is_file() and "__pycache__" not in p.parts
]
MAX_README_LINES = 150
MAX_BULLET_CHARS = 240  # a CHANGELOG entry: what changed, in about two lines
CHANGELOG_HEADINGS = {"Breaking", "Added", "Changed", "Fixed", "Removed", "Deprecated", "Security"}
# words that tell how the project was made rather than what it does
TELLTALE = re.compile(
    r"\bissues? #?\d+|\bsessions?\b|\blent\b|\bno GPU was\b|\bclosing note\b|\bthe brief\b", re.IGNORECASE
)
LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("readme", READMES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_readme_is_at_most_150_lines(readme):
    assert len(readme.read_text(encoding="utf-8").splitlines()) <= MAX_README_LINES


@pytest.mark.parametrize("changelog", CHANGELOGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_readme_table_and_the_changelog_give_each_package_its_version(changelog):
    """The root README's package table and the CHANGELOG's newest entry name the version in pyproject."""
    folder = changelog.parent
    version = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    top = next(line for line in changelog.read_text(encoding="utf-8").splitlines() if line.startswith("## "))
    assert top.split()[1] == version, (top, version)
    row = next(
        line
        for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
        if f"]({folder.parent.name}/{folder.name})" in line
    )
    assert row.rstrip(" |").rsplit("|", 1)[1].strip() == version, (row, version)


@pytest.mark.parametrize("changelog", CHANGELOGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_changelog_is_keep_a_changelog_in_short_bullets(changelog):
    lines = changelog.read_text(encoding="utf-8").splitlines()
    headings = {line[4:] for line in lines if line.startswith("### ")}
    assert headings <= CHANGELOG_HEADINGS, headings - CHANGELOG_HEADINGS
    bullets: list[str] = []
    stray = []  # text outside a bullet or a heading
    for line in lines:
        if line.startswith("- "):
            bullets.append(line[2:])
        elif line.startswith("  ") and bullets:
            bullets[-1] += " " + line.strip()
        elif line.strip() and not line.startswith("#"):
            stray.append(line[:80])
    long = [b[:60] for b in bullets if len(b) > MAX_BULLET_CHARS]
    assert stray == [] and long == []


def test_no_text_speaks_of_how_the_project_was_developed():
    found = []
    for path in [*READMES, *DOCS, *CHANGELOGS, *CODE]:
        if path == Path(__file__).resolve():
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if TELLTALE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()[:100]}")
    assert found == []


def _slug(heading: str) -> str:
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    return {_slug(m.group(1)) for m in re.finditer(r"^#+ (.+)$", text, re.M)}


def test_every_relative_link_resolves():
    broken = []
    for path in [*READMES, *DOCS, *CHANGELOGS]:
        text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
        for target in LINK.findall(text):
            if re.match(r"^[a-z]+:", target):
                continue  # https:, mailto:
            file, _, anchor = target.partition("#")
            dest = (path.parent / file).resolve() if file else path
            if not dest.exists():
                broken.append(f"{path.relative_to(ROOT)}: {target}")
            elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
                broken.append(f"{path.relative_to(ROOT)}: {target} (no such heading)")
    assert broken == []


def test_the_python_api_guides_examples_run_as_written(tmp_path, monkeypatch):
    """Every ```python block of docs/python-api.md in order in one namespace, and its ```bash lines
    (``seqclip ...``) through the app, in one empty directory."""
    from typer.testing import CliRunner

    from seqclip.cli import app

    monkeypatch.chdir(tmp_path)
    text = (ROOT / "docs" / "python-api.md").read_text(encoding="utf-8")
    namespace: dict = {}
    blocks = re.findall(r"```(python|bash)\n(.*?)```", text, re.S)
    assert [kind for kind, _ in blocks].count("python") >= 4
    for kind, code in blocks:
        if kind == "python":
            exec(compile(code, "docs/python-api.md", "exec"), namespace)
            continue
        for line in filter(None, code.splitlines()):
            args = shlex.split(line)
            assert args[0] == "seqclip", line
            result = CliRunner().invoke(app, args[1:])
            assert result.exit_code == 0, (line, result.output)
