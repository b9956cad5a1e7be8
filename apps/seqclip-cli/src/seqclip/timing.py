"""Where a training step's time goes: ``phase(name)`` marks a part of the step (loading, text,
radar, similarity, backward, optimizer). Off by default (a no-op); ``PhaseTimer`` switches it on
for a benchmark, synchronising CUDA at each boundary so that device time lands in its phase."""

from __future__ import annotations

import time
from collections import defaultdict
from contextlib import contextmanager, nullcontext

import torch

__all__ = ["phase", "PhaseTimer", "PHASES"]

PHASES = ("loading", "text", "radar", "similarity", "backward", "optimizer")
_active: PhaseTimer | None = None


def phase(name: str):
    """A context that adds its wall time to ``name`` while a ``PhaseTimer`` is active."""
    return nullcontext() if _active is None else _active.time(name)


class PhaseTimer:
    """Seconds per phase over the steps run inside ``with PhaseTimer() as t:`` (``t.seconds``)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self._depth = 0

    @contextmanager
    def time(self, name: str):
        if self._depth:  # nested phases count toward the outer one
            yield
            return
        self._depth += 1
        _sync()
        t0 = time.perf_counter()
        try:
            yield
        finally:
            _sync()
            self.seconds[name] += time.perf_counter() - t0
            self._depth -= 1

    def __enter__(self) -> PhaseTimer:
        global _active
        _active = self
        return self

    def __exit__(self, *exc) -> None:
        global _active
        _active = None


def _sync() -> None:
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()
