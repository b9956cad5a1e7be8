"""``ClipRecord``: one clip's manifest row, typed and validated. Errors name the file, line and
field; fields this package does not know are kept verbatim in ``extras`` and written back."""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .contract import SPLITS
from .errors import DataError
from .legacy import renamed_fields

__all__ = ["ClipRecord", "RecordError", "sequence_id", "views_angle"]

REQUIRED = ("id", "split", "file", "captions")
# written even when None / empty (every writer of this format always wrote them)
ALWAYS = ("segments", "frame_rate_hz", "num_frames", "radar")
OPTIONAL = ("captions_reversed", "twin_of")  # written only when present
DEFAULT_ANGLE = "azimuth"  # what a clip's third view holds when its record has no "angle"


class RecordError(DataError):
    """A manifest row that does not follow the format; the message names where and which field."""


@dataclass(frozen=True)
class ClipRecord:
    """One clip: ``id``; ``split`` (train | val | test); ``file`` (path relative to the dataset
    root); ``captions``; ``segments`` ([{activity, start_frame, end_frame, params}]);
    ``frame_rate_hz``, ``num_frames`` and ``radar`` (RadarConfig fields), None when unknown;
    ``captions_reversed`` (each caption with its activities in reverse order); ``twin_of``
    (the id of the order-swapped twin; ``hard_negative_of`` in files of radar-text-data <= 0.2); ``extras`` (any other
    fields, kept verbatim)."""

    id: str
    split: str
    file: str
    captions: tuple[str, ...]
    segments: tuple[dict, ...] = ()
    frame_rate_hz: float | None = None
    num_frames: int | None = None
    radar: dict | None = None
    captions_reversed: tuple[str, ...] | None = None
    twin_of: str | None = None
    extras: dict = field(default_factory=dict)
    absent: frozenset[str] = field(default=frozenset(), repr=False, compare=False)  # ALWAYS fields not in the input

    @property
    def activities(self) -> tuple[str, ...]:
        """The clip's activity sequence (empty when it has no segments)."""
        return tuple(str(s.get("activity")) for s in self.segments)

    @property
    def angle(self) -> str:
        """What the clip's third view holds (``radar_views.ANGLES``): its record's ``angle``, azimuth
        when it has none."""
        return str(self.extras.get("angle", DEFAULT_ANGLE))

    @classmethod
    def from_dict(cls, row: Any, where: str = "record") -> ClipRecord:
        """Validate and type one manifest row; ``where`` (``file:line``) prefixes every error."""
        if not isinstance(row, dict):
            raise RecordError(f"{where}: expected a JSON object, got {type(row).__name__}")
        row = renamed_fields(row, where, RecordError)
        missing = [k for k in REQUIRED if k not in row]
        if missing:
            raise RecordError(f"{where}: missing field(s) {missing}")
        known = {*REQUIRED, *ALWAYS, *OPTIONAL}
        return cls(
            id=_text(row, "id", where),
            split=_split(row, where),
            file=_path(row, where),
            captions=_captions(row, "captions", where),
            segments=_segments(row, where),
            frame_rate_hz=_number(row, "frame_rate_hz", where, float),
            num_frames=_number(row, "num_frames", where, int),
            radar=_object(row, "radar", where),
            captions_reversed=_captions(row, "captions_reversed", where) if "captions_reversed" in row else None,
            twin_of=_text(row, "twin_of", where) if "twin_of" in row else None,
            extras={k: v for k, v in row.items() if k not in known},
            absent=frozenset(k for k in ALWAYS if k not in row),
        )

    def to_dict(self) -> dict:
        """The manifest row: what ``from_dict`` read gives back the same JSON."""
        row = {
            "id": self.id,
            "split": self.split,
            "file": self.file,
            "captions": list(self.captions),
            "segments": [dict(s) for s in self.segments],
            "frame_rate_hz": self.frame_rate_hz,
            "num_frames": self.num_frames,
            "radar": self.radar,
        }
        for k in self.absent:
            row.pop(k)
        if self.captions_reversed is not None:
            row["captions_reversed"] = list(self.captions_reversed)
        if self.twin_of is not None:
            row["twin_of"] = self.twin_of
        return {**self.extras, **row}


def views_angle(records: Iterable[ClipRecord], where: str) -> str | None:
    """The one angle the third view of every clip of ``records`` holds (``ClipRecord.angle``), None
    when there are no records; clips of different angles raise ``DataError`` naming ``where`` and a
    clip of each."""
    first: dict[str, str] = {}  # angle -> the first clip holding it
    for record in records:
        first.setdefault(record.angle, record.id)
    if len(first) > 1:
        held = ", ".join(f"{angle} (clip {clip!r})" for angle, clip in first.items())
        raise DataError(f"{where}: the clips' third views hold different angles: {held}; a dataset holds one")
    return next(iter(first), None)


def sequence_id(activities: tuple[str, ...]) -> int:
    """A stable integer per activity sequence (the same in every split, shard and process)."""
    return zlib.crc32("\x1f".join(activities).encode("utf-8"))


def _text(row: dict, key: str, where: str) -> str:
    value = row[key]
    if not isinstance(value, str) or not value.strip():
        raise RecordError(f"{where}: field {key!r}: expected a non-empty string, got {value!r}")
    return value


def _split(row: dict, where: str) -> str:
    if row["split"] not in SPLITS:
        raise RecordError(f"{where}: field 'split': {row['split']!r} is not one of {SPLITS}")
    return row["split"]


def _path(row: dict, where: str) -> str:
    value = _text(row, "file", where)
    if value.startswith(("/", "\\")) or ".." in value.replace("\\", "/").split("/"):
        raise RecordError(f"{where}: field 'file': {value!r} must be a path inside the dataset directory")
    return value


def _captions(row: dict, key: str, where: str) -> tuple[str, ...]:
    caps = row[key]
    if not isinstance(caps, list) or not caps or any(not isinstance(c, str) or not c.strip() for c in caps):
        raise RecordError(f"{where}: field {key!r}: expected a non-empty list of non-empty strings, got {caps!r}")
    return tuple(caps)


def _segments(row: dict, where: str) -> tuple[dict, ...]:
    segs = row.get("segments") or []
    if not isinstance(segs, list) or any(not isinstance(s, dict) or "activity" not in s for s in segs):
        raise RecordError(f"{where}: field 'segments': expected a list of objects with an 'activity', got {segs!r}")
    return tuple(segs)


def _number(row: dict, key: str, where: str, kind: type) -> Any:
    value = row.get(key)
    if value is None:
        return None
    ok = isinstance(value, (int, float)) if kind is float else isinstance(value, int)
    if isinstance(value, bool) or not ok or value < 0:
        raise RecordError(f"{where}: field {key!r}: expected a non-negative {kind.__name__}, got {value!r}")
    return value


def _object(row: dict, key: str, where: str) -> dict | None:
    value = row.get(key)
    if value is not None and not isinstance(value, dict):
        raise RecordError(f"{where}: field {key!r}: expected an object or null, got {value!r}")
    return value
