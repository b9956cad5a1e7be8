"""The run's metrics: ``metrics.jsonl`` (strict JSON, one line per log step) and TensorBoard."""

from __future__ import annotations

import json
import math
from pathlib import Path

from ..rundir import METRICS, TENSORBOARD

__all__ = ["MetricsLogger"]


class MetricsLogger:
    """metrics.jsonl + TensorBoard event files, rank 0 only. On resume, lines logged after the
    checkpoint's step (by the interrupted run) are dropped, so the log reads as one run."""

    def __init__(self, run: Path | None, resumed_step: int | None = None) -> None:
        self.enabled = run is not None
        if not self.enabled:
            return
        from torch.utils.tensorboard import SummaryWriter

        path = run / METRICS
        if resumed_step is not None and path.is_file():  # (0.3.x wrote NaN: json reads it)
            from ..files import write_text_atomic

            keep = [
                x
                for x in path.read_text(encoding="utf-8").splitlines(keepends=True)
                if x.strip() and json.loads(x)["step"] <= resumed_step
            ]
            write_text_atomic(path, "".join(keep))
        self.file = open(path, "a", encoding="utf-8")  # noqa: SIM115
        purge = None if resumed_step is None else resumed_step + 1
        self.tb = SummaryWriter(str(run / TENSORBOARD), purge_step=purge)

    def log(self, step: int, values: dict) -> None:
        if not self.enabled:
            return
        strict = {k: v if not isinstance(v, float) or math.isfinite(v) else None for k, v in values.items()}
        self.file.write(json.dumps({"step": step, **strict}, allow_nan=False) + "\n")  # strict JSON: NaN -> null
        self.file.flush()
        for k, v in values.items():
            if isinstance(v, (int, float)) and math.isfinite(v) and k not in ("epoch",):
                self.tb.add_scalar(k, v, step)

    def close(self) -> None:
        if self.enabled:
            self.file.close()
            self.tb.close()
