"""Wall time from typing ``seqclip train`` to its first optimizer step, and where it goes.

    uv run python bench/time_to_first_step.py [extra train options]

Runs ``seqclip train`` (the built-in dataset unless ``--data`` is given; it is generated first if
missing, and that is not counted) in a fresh process with ``--max-steps 1`` into a temporary run
directory. The child stamps the time when each start-up phase ends; the table prints them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import print_table

CHILD = """
import json, sys, time
stamps, stamps_path = {"python started": time.time()}, sys.argv[1]
import seqclip.cli as cli
stamps["CLI imported"] = time.time()
import seqclip.training.setup as m, seqclip.training.loop as t
stamps["torch, timm, transformers imported"] = time.time()
orig_check, orig_model, orig_step = m._check_data, m.SeqClip, t.optimizer_step
def check(*a, **k):
    out = orig_check(*a, **k); stamps["data checked"] = time.time(); return out
def model(*a, **k):
    out = orig_model(*a, **k); stamps["model built (text encoder loaded)"] = time.time(); return out
def step(*a, **k):
    out = orig_step(*a, **k)
    stamps.setdefault("first optimizer step done", time.time())
    open(stamps_path, "w").write(json.dumps(stamps))
    return out
m._check_data, m.SeqClip, t.optimizer_step = check, model, step
sys.argv = ["seqclip", *sys.argv[2:]]
cli.main()
"""


def main() -> None:
    extra = sys.argv[1:]
    with tempfile.TemporaryDirectory() as tmp:
        prep = [sys.executable, "-m", "seqclip", "train", "--max-steps", "1", "--out", f"{tmp}/warm", *extra]
        subprocess.run(prep, check=True, capture_output=True)  # builds the dataset cache if missing
        stamps_file = Path(tmp) / "stamps.json"
        t0 = time.time()
        subprocess.run(
            [sys.executable, "-c", CHILD, str(stamps_file), "train", "--max-steps", "1", "--out", f"{tmp}/run", *extra],
            check=True,
            capture_output=True,
        )
        stamps = json.loads(stamps_file.read_text())
    rows, last = [], t0
    for name, at in sorted(stamps.items(), key=lambda kv: kv[1]):
        rows.append([name, f"{at - last:.2f}", f"{at - t0:.2f}"])
        last = at
    print_table("seqclip train: start-up to the first optimizer step", ["phase ends", "s", "since launch (s)"], rows)


if __name__ == "__main__":
    main()
