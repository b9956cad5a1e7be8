"""Benchmark results kept as CSV rows stamped with the date, version, commit and machine of the run
(``docs/benchmarks/<name>.csv``), and the plot of each file's current figures (``<name>.png`` beside
it: the last row of each configuration and metric). A bench script calls ``record`` at its end with
what it measured; older runs stay in the CSV.
``uv run python scripts/benchmark_plots.py`` draws every plot again from the CSVs.

Standard library only, matplotlib inside ``plot``."""

from __future__ import annotations

import csv
import datetime
import os
import platform
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

__all__ = ["FIELDS", "RESULTS", "RESULT_FILES", "stamp", "row", "record", "read", "latest", "plot"]

# version: seqclip-cli's, or "<package> <version>" for a package's own benchmark
FIELDS = ("date", "version", "commit", "machine", "configuration", "metric", "value", "lo", "hi", "unit")
STAMP = ("date", "version", "commit", "machine")
ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "benchmarks"


# results files that benchmarks write: a run after another one's results is still a run of the commit
RESULT_FILES = tuple(f"{RESULTS.relative_to(ROOT).as_posix()}/*.{ext}" for ext in ("csv", "png"))


def _commit(root: Path = ROOT) -> str:
    """The short commit of ``root``'s checkout, with ``+changes`` when a tracked file other than the
    ``RESULT_FILES`` differs from it; ``unknown`` outside a git checkout."""
    excluded = [f":(top,exclude){pattern}" for pattern in RESULT_FILES]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ":/", *excluded],
            cwd=root,
            capture_output=True,
        )
    except OSError:
        return "unknown"
    if head.returncode:
        return "unknown"
    return head.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    text = f"{os.cpu_count()}-core {cpu}"
    try:  # the CPU's native bf16 decides seqclip's default precision there
        from seqclip.hardware import native_bf16

        bf16 = native_bf16()
        if bf16:
            text += f", {bf16}"
    except ImportError:
        pass
    try:
        import torch

        if torch.cuda.is_available():
            text += f", {torch.cuda.get_device_name(0)}"
    except ImportError:
        pass
    return text


def stamp() -> dict[str, str]:
    """This run's date (UTC), seqclip-cli version, commit (``+changes``: uncommitted edits, results files
    aside) and machine."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("seqclip-cli")
    except PackageNotFoundError:
        found = "unknown"
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    return {"date": today, "version": found, "commit": _commit(), "machine": _machine()}


def row(
    configuration: str, metric: str, value: float, interval: Sequence[float] | None = None, unit: str = "%"
) -> dict[str, object]:
    """One result row for ``record``: the value and its interval (``lo``, ``hi``) rounded to 2 places."""
    out: dict[str, object] = {"configuration": configuration, "metric": metric, "value": round(value, 2), "unit": unit}
    if interval is not None:
        out["lo"], out["hi"] = round(interval[0], 2), round(interval[1], 2)
    return out


def record(
    name: str, rows: Iterable[Mapping[str, object]], when: Mapping[str, str] | None = None, root: Path = RESULTS
) -> Path:
    """Append ``rows`` (``configuration``, ``metric``, ``value``; optional ``lo``, ``hi``, ``unit``) to
    ``root/<name>.csv`` under one stamp (``when``: ``stamp()`` taken when the run started, so that the
    commit is the code that ran; default: now); returns the file."""
    when = dict(when or stamp())
    path = root / f"{name}.csv"
    new = not path.is_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, FIELDS)
        if new:
            writer.writeheader()
        for row in rows:
            unknown = set(row) - set(FIELDS)
            if unknown:
                raise ValueError(f"{name}: unknown result fields {sorted(unknown)}")
            writer.writerow({**{k: "" for k in FIELDS}, **{k: when[k] for k in STAMP}, **row})
    return path


def _version(version: str) -> str:
    """A row's version as the plot names it: seqclip-cli's, unless the row names its package."""
    return version if " " in version else f"seqclip-cli {version}"


def read(name: str, root: Path = RESULTS) -> list[dict[str, str]]:
    with open(root / f"{name}.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def latest(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The current figures: the last row of each (configuration, metric), in the order they first appear."""
    last: dict[tuple[str, str], dict[str, str]] = {}
    for r in rows:
        last[(r["configuration"], r["metric"])] = r
    order = list(dict.fromkeys((r["configuration"], r["metric"]) for r in rows))
    return [last[k] for k in order]


def plot(name: str, root: Path = RESULTS) -> Path:
    """``root/<name>.png``: the current figures (``latest``), one panel per metric, a bar per
    configuration with its interval where the CSV has one; the runs they come from in the title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = latest(read(name, root))
    if not rows:
        raise ValueError(f"{root / name}.csv holds no result")
    metrics = list(dict.fromkeys(r["metric"] for r in rows))
    configs = list(dict.fromkeys(r["configuration"] for r in rows))
    cols = min(3, len(metrics))
    grid = -(-len(metrics) // cols)  # rows of panels
    height = grid * (0.9 + 0.32 * len(configs))
    labels = 0.075 * max(len(c) for c in configs)  # inches for the configuration names
    fig, axes = plt.subplots(grid, cols, figsize=(3.6 * cols + labels, height), squeeze=False, sharey=True)
    for ax in axes.flat[len(metrics) :]:
        ax.set_visible(False)
    for ax, metric in zip(axes.flat, metrics, strict=False):
        shown = {r["configuration"]: r for r in rows if r["metric"] == metric}
        ys = [i for i, c in enumerate(configs) if c in shown]
        values = [float(shown[configs[i]]["value"]) for i in ys]
        lo = [float(shown[configs[i]]["lo"] or shown[configs[i]]["value"]) for i in ys]
        hi = [float(shown[configs[i]]["hi"] or shown[configs[i]]["value"]) for i in ys]
        errors = [[v - a for v, a in zip(values, lo, strict=True)], [b - v for v, b in zip(values, hi, strict=True)]]
        ax.barh(ys, values, xerr=errors, color="#4c72b0", ecolor="#333333", capsize=2)
        unit = next((shown[c]["unit"] for c in shown if shown[c]["unit"]), "")
        ax.set_title(f"{metric}" + (f" ({unit})" if unit else ""), fontsize=9)
        ax.tick_params(labelsize=8)
    for row in axes:
        row[0].set_yticks(range(len(configs)), configs)
    axes[0][0].invert_yaxis()
    runs = dict.fromkeys(f"{_version(r['version'])} ({r['commit']}, {r['date']})" for r in rows)
    machines = ", ".join(dict.fromkeys(r["machine"] for r in rows))
    fig.suptitle(f"{name}: {'; '.join(runs)}; {machines}", fontsize=8)
    fig.tight_layout()
    out = root / f"{name}.png"
    fig.savefig(out, dpi=80, bbox_inches="tight")
    plt.close(fig)
    return out
