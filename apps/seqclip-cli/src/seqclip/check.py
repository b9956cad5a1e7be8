"""How problems found in a dataset are shown: at most ``SHOWN_PROBLEMS`` lines, then a count.
(The checks themselves are radar-text-data's ``check_headers`` and ``check_dataset``.)"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["format_problems", "SHOWN_PROBLEMS"]

SHOWN_PROBLEMS = 20  # problems listed in one message; the rest are counted


def format_problems(problems: Sequence[str], limit: int = SHOWN_PROBLEMS) -> str:
    """At most ``limit`` problems, one per line, then how many more."""
    lines = [f"  {p}" for p in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"  ... and {len(problems) - limit} more")
    return "\n".join(lines)
