"""Label-only data (one action per clip, or timed segments, as public HAR recordings come): label
tables read from CSV or JSON, and captions rendered from them with templates. Standard library only.

A label file maps a clip id to one label, or to timed segments ``[label, start_frame, end_frame]``:

- JSON: ``{"clip_001": "walking", "clip_002": [["sit down", 0, 80], ["stand up", 80, 160]]}``;
- CSV with a header: ``id,label`` (one row a clip) or ``id,label,start_frame,end_frame`` (one row a
  segment; a clip's rows in any order, sorted by start).

Captions: each caption template holds one ``{}``, filled with the clip's segment labels in their
temporal order, joined by ``", then "``; a clip of two or more segments also gets the same captions
with the labels in reverse order (``captions_reversed``, for the order test and order negatives).
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import DataError
from .textfile import read_text

__all__ = [
    "LabelSegment",
    "read_labels",
    "segment_problems",
    "render_captions",
    "CAPTION_TEMPLATES",
    "CONNECTIVE",
    "label_phrase",
]

# one caption per template; {} is the clip's activity labels in order, joined by CONNECTIVE
CAPTION_TEMPLATES = ("{}.", "A person doing {}.", "A radar recording of {}.", "Someone performs {}.")
CONNECTIVE = ", then "


@dataclass(frozen=True)
class LabelSegment:
    """One labelled stretch of a clip; ``end_frame`` None: to the clip's end."""

    label: str
    start_frame: int = 0
    end_frame: int | None = None


def label_phrase(label: str) -> str:
    """How a label reads in a caption: underscores as spaces (``sit_down`` -> ``sit down``)."""
    return " ".join(label.replace("_", " ").split())


def read_labels(path: str | os.PathLike, overlaps: bool = True) -> dict[str, list[LabelSegment]]:
    """``{id: [segment, ...]}`` (segments sorted by start) from a CSV or JSON label file; errors
    name the file and the line or id. ``overlaps=False`` leaves overlapping segments to the caller
    (``segment_problems``, which also knows the clip's length)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"labels file not found: {path}")
    text = read_text(path)
    table = _from_json(text, path) if path.suffix == ".json" or text.lstrip().startswith("{") else _from_csv(text, path)
    for cid, segments in table.items():
        segments.sort(key=lambda s: s.start_frame)
        problems = segment_problems(segments) if overlaps else []
        if problems:
            raise DataError(f"{path}: clip {cid!r}: {problems[0]}")
    return table


def segment_problems(segments: list[LabelSegment], frames: int | None = None) -> list[str]:
    """Every problem of a clip's segments (sorted by start): overlaps, and with the clip's ``frames``
    known, segments that end after it."""
    out = [
        f"segments {a.label!r} ({a.start_frame}-{_end(a)}) and {b.label!r} ({b.start_frame}-{_end(b)}) overlap"
        for a, b in zip(segments, segments[1:], strict=False)
        if a.end_frame is None or a.end_frame > b.start_frame
    ]
    if frames is not None:
        out += [
            f"segment {s.label!r} ends at frame {s.end_frame}, after the clip's {frames} frames"
            for s in segments
            if s.end_frame is not None and s.end_frame > frames
        ]
    return out


def _end(segment: LabelSegment) -> str:
    return "end" if segment.end_frame is None else str(segment.end_frame)


def _segment(label, start, end, where: str) -> LabelSegment:
    if not isinstance(label, str) or not label.strip():
        raise DataError(f"{where}: expected a non-empty label, got {label!r}")
    try:
        start_frame = int(start)
        end_frame = None if end in (None, "") else int(end)
    except (TypeError, ValueError):
        raise DataError(f"{where}: start and end must be frame numbers, got {start!r}, {end!r}") from None
    if start_frame < 0 or (end_frame is not None and end_frame <= start_frame):
        raise DataError(f"{where}: a segment needs 0 <= start_frame < end_frame, got {start_frame}, {end_frame}")
    return LabelSegment(label.strip(), start_frame, end_frame)


def _from_json(text: str, path: Path) -> dict[str, list[LabelSegment]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected a JSON object {{id: label}} or {{id: [[label, start, end], ...]}}")
    out = {}
    for cid, value in data.items():
        where = f"{path}: clip {cid!r}"
        if isinstance(value, str):
            out[str(cid)] = [_segment(value, 0, None, where)]
        elif isinstance(value, list) and value and all(isinstance(s, list) and len(s) == 3 for s in value):
            out[str(cid)] = [_segment(s[0], s[1], s[2], where) for s in value]
        else:
            raise DataError(f"{where}: expected a label or a list of [label, start_frame, end_frame], got {value!r}")
    return out


def _from_csv(text: str, path: Path) -> dict[str, list[LabelSegment]]:
    rows = list(csv.reader(text.splitlines()))
    header = [h.strip() for h in rows[0]] if rows else []
    if header not in (["id", "label"], ["id", "label", "start_frame", "end_frame"]):
        raise DataError(f"{path}:1: expected the header id,label or id,label,start_frame,end_frame, got {header}")
    out: dict[str, list[LabelSegment]] = {}
    for lineno, row in enumerate(rows[1:], 2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise DataError(f"{path}:{lineno}: expected {len(header)} fields, got {len(row)}")
        cid = row[0].strip()
        start, end = (row[2], row[3]) if len(row) == 4 else (0, None)
        out.setdefault(cid, []).append(_segment(row[1], start, end, f"{path}:{lineno}"))
    if len(header) == 2:
        twice = [cid for cid, segs in out.items() if len(segs) > 1]
        if twice:
            raise DataError(f"{path}: clip {twice[0]!r} has several labels without start/end frames")
    return out


def render_captions(
    labels: list[str], templates: tuple[str, ...] = CAPTION_TEMPLATES
) -> tuple[list[str], list[str] | None]:
    """(captions, reversed captions or None when the order cannot be reversed): each template with the labels' phrases
    in order (and in reverse order), joined by ``CONNECTIVE``; the first letter is capitalised."""

    def fill(order: list[str]) -> list[str]:
        sequence = CONNECTIVE.join(label_phrase(x) for x in order)
        return [_capitalised(t.format(sequence)) for t in templates]

    if not labels:
        raise DataError("a clip needs at least one label")
    reverse = fill(labels[::-1]) if labels != labels[::-1] else None  # a palindrome has no other order
    return fill(labels), reverse


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]
