"""Which frames of a recording a vector or a label covers: sliding windows (``windows``), the plan
of every vector ``seqclip embed`` writes (``embedding_plan``), and the frames each of overlapping
windows stands for on a timeline (``timeline_spans``). Standard library only."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import UserError

__all__ = ["windows", "default_stride", "embedding_plan", "check_window", "timeline_spans"]


def check_window(window: int, stride: int | None = None) -> None:
    """``ValueError`` unless ``window`` is a clip length the encoder takes (a multiple of the frame
    multiple, at most the longest clip) and ``stride`` (when given) is at least one frame."""
    from radar_text_data.contract import check_clip_length

    try:
        check_clip_length(window)
    except ValueError as err:
        raise UserError(f"window: {err}") from None
    if stride is not None and stride < 1:
        raise UserError(f"stride must be at least 1 frame, got {stride}")


def default_stride(window: int) -> int:
    """Half the window (at least the frame multiple): an activity cut by one window's edge lies whole
    in the next."""
    from radar_text_data.contract import FRAME_MULTIPLE

    return max(FRAME_MULTIPLE, window // 2)


def windows(frames: int, window: int, stride: int) -> list[int]:
    """Window starts covering ``frames``: every ``stride`` frames, plus one ending at the last frame;
    a recording no longer than the window is one window from frame 0."""
    if frames <= window:
        return [0]
    starts = list(range(0, frames - window + 1, stride))
    if starts[-1] + window < frames:
        starts.append(frames - window)
    return starts


def embedding_plan(
    frames: Sequence[int], clip_length: int, window: int | None = None, stride: int | None = None
) -> list[tuple[int, int, int]]:
    """``(clip index, start, end)`` of every vector to embed, in order: without ``window``, each clip's
    first ``clip_length`` frames (all of a shorter clip); with it, each window of each clip
    (``windows``; ``stride`` default ``default_stride``), the last ending at the clip's end."""
    if window is None:
        return [(i, 0, min(n, clip_length)) for i, n in enumerate(frames)]
    step = stride or default_stride(window)
    return [(i, start, min(start + window, n)) for i, n in enumerate(frames) for start in windows(n, window, step)]


def timeline_spans(labelled: Sequence[tuple[int, int, str, float]]) -> list[tuple[int, int, str, float]]:
    """Overlapping windows ``(start, end, label, score)`` as disjoint spans for a timeline: each window
    keeps the frames of its own that lie nearer its centre than the next window's (the boundary is
    the midpoint of the two centres), so every frame shows the label of the nearest-centred window that
    covers it; frames between windows that do not overlap stay uncovered."""
    ordered = sorted(labelled, key=lambda w: (w[0], w[1]))
    out, begin = [], None
    for i, (start, end, label, score) in enumerate(ordered):
        stop = end
        if i + 1 < len(ordered):
            nxt = ordered[i + 1]
            stop = min(end, max(nxt[0], (start + end + nxt[0] + nxt[1]) // 4))
        first = start if begin is None else max(start, begin)
        if first < stop:
            out.append((first, stop, label, score))
        begin = stop
    return out
