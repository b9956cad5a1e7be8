"""Timing and peak-memory helpers shared by the bench scripts (not a package).

Peak memory is what PyTorch allocates above the level at the start of one call: on CUDA the
allocator's ``max_memory_allocated``; on CPU the running sum of the profiler's allocation and
free events (``profile_memory=True``), in time order. Timing runs without the profiler.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

import torch
from torch.profiler import ProfilerActivity, profile

__all__ = ["measure", "device_from_env", "print_table", "sync"]


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _cpu_peak_bytes(fn: Callable[[], object]) -> int:
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = sorted(prof.events(), key=lambda e: e.time_range.start)
    current = peak = 0
    for e in events:  # ops carry their net own allocations; "[memory]" events are frees
        current += e.cpu_memory_usage if e.name == "[memory]" else e.self_cpu_memory_usage
        peak = max(peak, current)
    return peak


def measure(fn: Callable[[], object], device: torch.device, repeats: int = 3, warmup: int = 1) -> tuple[float, float]:
    """Median seconds per call of ``fn`` and peak extra memory in MiB during one call."""
    for _ in range(warmup):
        fn()
    sync(device)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - t0)
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        fn()
        sync(device)
        peak = torch.cuda.max_memory_allocated(device) - base
    else:
        peak = _cpu_peak_bytes(fn)
    return statistics.median(times), peak / 2**20


def device_from_env() -> torch.device:
    """``BENCH_DEVICE`` (cpu|cuda), else CUDA when present."""
    name = os.environ.get("BENCH_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def print_table(title: str, header: list[str], rows: list[list[object]]) -> None:
    """Print a Markdown table (so it can be pasted into a README as is)."""
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        cells = [f"{c:.3g}" if isinstance(c, float) else str(c) for c in row]
        print("| " + " | ".join(cells) + " |")
