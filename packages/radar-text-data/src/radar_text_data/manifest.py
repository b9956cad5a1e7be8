"""Reading and writing ``manifest.jsonl``: one JSON object per clip, sorted by id, keys sorted."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from radar_views import atomic_write

from .contract import MANIFEST
from .records import ClipRecord, RecordError

__all__ = ["read_manifest", "scan_manifest", "write_manifest", "manifest_text", "record_json"]


def record_json(record: ClipRecord) -> str:
    """One record as the manifest writes it (one line, keys sorted)."""
    return json.dumps(record.to_dict(), sort_keys=True)


def manifest_text(records: Iterable[ClipRecord]) -> str:
    """The manifest's bytes (as text) for ``records``: sorted by id, one line each."""
    return "".join(record_json(r) + "\n" for r in sorted(records, key=lambda r: r.id))


def write_manifest(root: str | os.PathLike, records: Iterable[ClipRecord]) -> Path:
    """Write ``root/manifest.jsonl`` atomically (a reader never sees half a manifest)."""
    path = Path(root) / MANIFEST
    atomic_write(path, manifest_text(records).encode("utf-8"))
    return path


def scan_manifest(root: str | os.PathLike) -> tuple[list[tuple[int, ClipRecord]], list[str]]:
    """Every valid record with its line number, and every problem as ``file:line: message``
    (bad JSON, bad fields, duplicate ids). Raises ``FileNotFoundError`` without a manifest."""
    path = Path(root) / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"no {MANIFEST} in {root}")
    records: list[tuple[int, ClipRecord]] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    with open(path, encoding="utf-8-sig") as f:  # as textfile.read_text: a byte-order mark is dropped
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                record = ClipRecord.from_dict(json.loads(line), where)
            except json.JSONDecodeError as err:
                problems.append(f"{where}: not valid JSON ({err.msg})")
                continue
            except RecordError as err:
                problems.append(str(err))
                continue
            if record.id in seen:
                problems.append(f"{where}: duplicate id {record.id!r} (first on line {seen[record.id]})")
                continue
            seen[record.id] = lineno
            records.append((lineno, record))
    return records, problems


def read_manifest(root: str | os.PathLike) -> list[ClipRecord]:
    """The records of ``root/manifest.jsonl``; the first problem raises ``RecordError`` naming the
    file, line and field."""
    records, problems = scan_manifest(root)
    if problems:
        more = f" (and {len(problems) - 1} more problem(s): check_dataset lists them all)" if len(problems) > 1 else ""
        raise RecordError(problems[0] + more)
    return [r for _, r in records]
