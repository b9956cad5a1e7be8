"""Benchmark the check ``seqclip train`` runs before its first step: every clip's ``.npz`` header
(file present, arrays present, shapes, dtype), read without decompressing the views.

    uv run python bench/data_check.py            # BENCH_CLIPS=2000 clips of 256 frames

The clips are written once into a temporary directory (float16, deflated, as radar-synth writes
them) and timed warm (in the page cache), with 1 and 2 threads; the median of 3 runs.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from benchlib import print_table

# bench/radar_synth.py shares its name with the package: import the package, not the script
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

from radar_text_data import VIEW_BINS, ClipRecord, check_headers, write_clip  # noqa: E402


def make_clips(root: Path, n: int, frames: int = 256) -> list[dict]:
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n):
        views = {k: rng.random((bins, frames)).astype(np.float16) for k, bins in VIEW_BINS.items()}
        write_clip(root / "clips" / f"c{i:06d}.npz", views)
        rows.append(ClipRecord(f"c{i:06d}", "train", f"clips/c{i:06d}.npz", ("a person walks.",)))
    return rows


def main() -> None:
    n = int(os.environ.get("BENCH_CLIPS", "2000"))
    with tempfile.TemporaryDirectory() as tmp:
        rows = make_clips(Path(tmp), n)
        check_headers(tmp, rows)  # warm the page cache
        table = []
        for workers in (1, 2):
            times = []
            for _ in range(3):
                t0 = time.perf_counter()
                bad = check_headers(tmp, rows, workers=workers)
                times.append(time.perf_counter() - t0)
            assert not bad
            sec = statistics.median(times)
            table.append([n, workers, f"{sec * 1000:.0f}", f"{n / sec:,.0f}"])
    print_table(f"header check before training ({os.cpu_count()} CPUs)", ["clips", "threads", "ms", "clips/s"], table)


if __name__ == "__main__":
    main()
