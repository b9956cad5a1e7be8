"""``check_dataset``: every problem of a dataset (directory or shards), each naming the file and
line (or shard and key) and the field, so a user can fix them all in one go."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from .clips import BadClipError, decode_clip, load_clip
from .contract import MANIFEST, SPLITS
from .errors import DataError
from .manifest import scan_manifest
from .records import ClipRecord, RecordError, views_angle
from .shards import iter_shard
from .source import DataLocation, present_splits

__all__ = ["check_dataset", "describe_dataset", "split_notes", "reversal_problems", "format_problems", "SHOWN_PROBLEMS"]

SHOWN_PROBLEMS = 20  # problems listed in one message; the rest are counted
TRAINING_SPLITS = ("train", "val")  # a dataset with either empty cannot train (it can still evaluate)


def format_problems(problems: Sequence[str], limit: int = SHOWN_PROBLEMS) -> str:
    """At most ``limit`` problems, one per line, then how many more."""
    lines = [f"  {p}" for p in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"  ... and {len(problems) - limit} more")
    return "\n".join(lines)


def check_dataset(location: DataLocation) -> list[str]:
    """Problems found (empty when the dataset is usable): bad records, duplicate ids, clips that are
    missing, unreadable, of the wrong shape or not finite, ``num_frames`` that disagree with the
    clip, order-reversed captions that do not reverse their captions (``reversal_problems``), a
    clip file listed in two splits (leakage), clips whose third views hold different angles
    (``views_angle``), and a dataset without a single clip. An empty split is
    no problem (an evaluation-only dataset holds a test split alone): ``split_notes`` says what it means."""
    if location.kind == "directory":
        return _check_directory(location)
    return _check_shards(location)


def _check_directory(location: DataLocation) -> list[str]:
    root = location.root
    assert root is not None  # a directory dataset has its root
    try:
        records, problems = scan_manifest(root)
    except FileNotFoundError as err:
        return [str(err)]
    where = str(root / MANIFEST)
    files_by_split: dict[str, set[str]] = {}
    for lineno, record in records:
        files_by_split.setdefault(record.file, set()).add(record.split)
        problems.extend(f"{where}:{lineno}: {p}" for p in reversal_problems(record))
        try:
            frames = load_clip(root, record)["range_time"].shape[-1]
        except BadClipError as err:
            problems.append(f"{where}:{lineno}: {err}")
            continue
        if record.num_frames not in (None, frames):
            problems.append(f"{where}:{lineno}: num_frames {record.num_frames} but {root / record.file} has {frames}")
    for file, splits in sorted(files_by_split.items()):
        if len(splits) > 1:
            problems.append(f"{where}: split leakage: {file} is in {sorted(splits)}")
    problems += _angle_problems([record for _, record in records], where)
    if not records and not problems:
        problems.append(f"{where}: no clip")
    return problems


def describe_dataset(location: DataLocation) -> str:
    """What a dataset that passed ``check_dataset`` holds, in one line: its clips by split and, for a
    directory, what their third view holds (``ClipRecord.angle``) and the sensors and datasets its
    records name (``sensor``, ``dataset``); a shard pattern without an index: its pattern only."""
    if location.kind == "directory":
        assert location.root is not None  # a directory dataset has its root
        records, _ = scan_manifest(location.root)
        counts = Counter(record.split for _, record in records)
        parts = [f"third view: {views_angle((r for _, r in records), location.spec)}"]
        for field in ("sensor", "dataset"):
            named = sorted({str(r.extras[field]) for _, r in records if field in r.extras})
            parts += [f"{field}: {', '.join(named)}"] if named else []
    elif location.indexed:
        counts = Counter({s: sum(shard.samples or 0 for shard in location.shards(s)) for s in SPLITS})
        parts = []
    else:
        return f"shards {location.spec} (no index: clips not counted)"
    by_split = ", ".join(f"{split} {counts[split]:,}" for split in SPLITS if counts[split])
    return "; ".join([f"{sum(counts.values()):,} clips ({by_split})", *parts])


def split_notes(location: DataLocation) -> list[str]:
    """What a dataset's empty splits mean for its use: none when train and val both hold clips; else
    which are empty and that the dataset serves evaluation of the splits it has (``seqclip eval``), not
    training. Empty when the dataset holds no clip at all (``check_dataset`` reports that)."""
    present = present_splits(location)
    empty = [s for s in TRAINING_SPLITS if s not in present]
    if not present or not empty:
        return []
    held = ", ".join(s for s in SPLITS if s in present)
    return [
        f"{' and '.join(empty)} split{'s are' if len(empty) > 1 else ' is'} empty: `seqclip train` needs clips "
        f"in train and val; the dataset serves evaluation of its {held} split{'s' if ',' in held else ''} "
        f"(`seqclip eval --split {next(s for s in reversed(SPLITS) if s in present)}`)"
    ]


def _check_shards(location: DataLocation) -> list[str]:
    problems: list[str] = []
    seen: dict[str, str] = {}
    records: list[ClipRecord] = []
    splits = [(s, location.shards(s)) for s in SPLITS] if location.indexed else [(None, location.pattern)]
    for split, shards in splits:
        for shard in shards:
            count = 0
            try:
                for sample in iter_shard(shard.url, split):
                    count += 1
                    records.append(sample.record)
                    problems.extend(_check_sample(sample, seen))
            except (RecordError, OSError, ValueError) as err:
                problems.append(f"{shard.url}: {err}")
            if shard.samples is not None and count != shard.samples:
                problems.append(f"{shard.url}: the index says {shard.samples} samples, the shard holds {count}")
    problems += _angle_problems(records, location.spec)
    if location.indexed and not any(shards for _, shards in splits):
        problems.append(f"{location.spec}: no clip")
    return problems


def _angle_problems(records: Sequence[ClipRecord], where: str) -> list[str]:
    try:
        views_angle(records, where)
    except DataError as err:
        return [str(err)]
    return []


def _check_sample(sample, seen: dict[str, str]) -> list[str]:
    out, record = [], sample.record
    if record.id in seen:
        out.append(f"{sample.where}: duplicate id {record.id!r} (first at {seen[record.id]})")
    seen.setdefault(record.id, sample.where)
    out.extend(f"{sample.where}: {p}" for p in reversal_problems(record))
    try:
        frames = decode_clip(sample.npz, f"{sample.where}.npz")["range_time"].shape[-1]
    except BadClipError as err:
        return [*out, str(err)]
    if record.num_frames not in (None, frames):
        out.append(f"{sample.where}: num_frames {record.num_frames} but the clip has {frames}")
    return out


def _words(text: str) -> Counter:
    return Counter(re.findall(r"[\w']+", text.lower()))


def reversal_problems(record: ClipRecord) -> list[str]:
    """Why a record's ``captions_reversed`` cannot be the order reversal of its captions: a clip of
    fewer than two segments, more reversed captions than captions, or a reversed caption that does
    not reorder the words of its caption (a reversal changes the order of the activities, never
    which activities are named or how they are worded)."""
    reverse = record.captions_reversed
    if reverse is None:
        return []
    out = []
    if record.segments and len(record.segments) < 2:
        out.append(f"captions_reversed given for a clip of {len(record.segments)} segment (needs 2 or more)")
    if len(reverse) > len(record.captions):
        out.append(f"captions_reversed holds {len(reverse)} captions for {len(record.captions)} captions")
    for k, (caption, reversed_) in enumerate(zip(record.captions, reverse, strict=False)):
        if _words(caption) != _words(reversed_):
            out.append(
                f"captions_reversed[{k}] does not reverse captions[{k}]: the words differ "
                f"({reversed_!r} vs {caption!r})"
            )
    return out
