"""Draw every benchmark's plot again from its CSV (``docs/benchmarks/<name>.png``: each configuration's latest figures).
Run after adding results by hand; a bench script that records its results draws its own plot."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from results import RESULTS, plot  # noqa: E402

if __name__ == "__main__":
    for csv_file in sorted(RESULTS.glob("*.csv")):
        print(f"wrote {plot(csv_file.stem)}")
