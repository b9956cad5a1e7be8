"""What the processor can do for training: native bf16 arithmetic on a CPU (AVX512-BF16 or AMX),
read from the CPU's flags. Standard library only."""

from __future__ import annotations

from functools import cache
from pathlib import Path

__all__ = ["native_bf16", "BF16_FLAGS", "precision_note"]

BF16_FLAGS = ("amx_bf16", "avx512_bf16")  # Linux /proc/cpuinfo flags of native bf16 matrix arithmetic


@cache
def native_bf16(cpuinfo: str = "/proc/cpuinfo") -> str | None:
    """The first of ``BF16_FLAGS`` this CPU has, or None (no such flag, or no ``/proc/cpuinfo``: not Linux)."""
    try:
        text = Path(cpuinfo).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    flags = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags.update(line.partition(":")[2].split())
    return next((f for f in BF16_FLAGS if f in flags), None)


def precision_note(device_type: str, precision: str) -> str | None:
    """One line for a CPU run's log: the precision it trains in and what the CPU offers for bf16."""
    if device_type != "cpu":
        return None
    found = native_bf16()
    if found is None:
        return (
            f"precision {precision}: this CPU has no native bf16 ({' or '.join(BF16_FLAGS)}), so bf16 autocast "
            f"would be emulated"
        )
    return f"precision {precision}: this CPU has native bf16 ({found}), the default precision here"
