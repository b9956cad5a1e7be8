"""How fast the ``seqclip`` command answers when it needs no model: help texts and user errors.

    uv run python bench/cli_latency.py

Each command runs 3 times in a fresh ``python -m seqclip`` process; the table gives the median
wall time (the issue's target: under 1.5 s on the 2-core machine).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import print_table

COMMANDS = [
    ["--help"],
    ["train", "--help"],
    ["eval", "--help"],
    ["data", "synth", "--help"],
    ["plot", "--help"],
    ["train", "--bogus"],
    ["train", "--data", "/missing"],
    ["train", "--resume", "latest", "--out", "/missing"],
    ["eval", "--checkpoint", "/missing", "--data", "/missing"],
    ["data", "check", "/missing"],
    # range checks (seqclip-cli 0.4.0): refused before torch is imported, naming the flag
    ["train", "--lr", "-1"],
    ["train", "--max-steps", "-1"],
    ["train", "--workers", "-1"],
    ["train", "--preset", "huge"],
    ["data", "synth", "--out", "/tmp/x", "--max-frames", "50"],
    ["eval", "--checkpoint", "/", "--data", "/", "--split", "dev"],
    # seqclip-cli 0.6.0: --version, the flags as typed, --out checked first, --unseen against the classes
    ["--version"],
    ["data", "synth", "--out", "/tmp/x", "--unseen", "moonwalk"],
    ["train", "--out", "/etc/hostname/run"],
    ["eval", "--checkpoint", "{tmp}", "--data", "{tmp}", "--task", "zeroshot", "--unseen", "moonwalk"],
]


def _dataset(root: Path) -> None:
    """A dataset directory with classes.json (what ``eval --unseen`` is checked against; no clip needed)."""
    (root / "manifest.jsonl").write_text("")
    (root / "classes.json").write_text(json.dumps({"walk": "walks", "kick": "kicks"}))


def main() -> None:
    rows = []
    tmp = Path(tempfile.mkdtemp())
    _dataset(tmp)
    for args in ([a.format(tmp=tmp) for a in c] for c in COMMANDS):
        times, code = [], None
        for _ in range(3):
            t0 = time.perf_counter()
            code = subprocess.run([sys.executable, "-m", "seqclip", *args], capture_output=True).returncode
            times.append(time.perf_counter() - t0)
        rows.append(["seqclip " + " ".join(args).replace(str(tmp), "TMP"), code, f"{statistics.median(times):.2f}"])
    print_table("seqclip answers without a model", ["command", "exit code", "s"], rows)


if __name__ == "__main__":
    main()
