"""Resumable outputs: a run keeps each finished clip (its ``.npz``, then its record) in
``.OUT.<kind>-partial`` beside the output, so that an interrupted run started again with the same
options continues there; only the finished dataset is published to the output (moved into place, or
sharded there), and the partial directory is then removed."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from importlib.metadata import version
from pathlib import Path

from radar_text_data import ClipRecord, write_manifest
from radar_views import atomic_write, replace_directory

from .errors import SynthError

__all__ = [
    "partial_dir",
    "open_partial",
    "record_path",
    "read_record",
    "write_record",
    "finished",
    "publish",
    "DATASET",
]

DATASET = "dataset"  # in a partial directory: the dataset being assembled (clips/, then manifest.jsonl)
RECORDS = "records"  # in a partial directory: one finished clip's record per file
RUN = "run.json"  # in a partial directory: the digest of the options and inputs it was started with


def partial_dir(out: str | os.PathLike, kind: str = "simulate") -> Path:
    """Where a run of ``kind`` (``simulate``, ``synth``) into ``out`` keeps its finished clips."""
    out = Path(out)
    return out.parent / f".{out.name}.{kind}-partial"


def open_partial(out: Path, kind: str, stamp: str, inputs: str = "inputs") -> Path:
    """The partial directory of a run whose options and inputs serialise to ``stamp``: new, or the
    one an interrupted run with the same ``stamp`` and radar-synth version left (one with another is
    refused: another version may render the same clip otherwise)."""
    work = partial_dir(out, kind)
    digest = hashlib.sha256(json.dumps([version("radar-synth"), stamp]).encode()).hexdigest()
    if work.is_dir():
        found = (work / RUN).read_text(encoding="utf-8") if (work / RUN).is_file() else ""
        if json.loads(found or "{}").get("digest") != digest:
            raise SynthError(
                f"{work} holds an interrupted run with other options or {inputs}, or of another radar-synth "
                "version: start it again with the same ones to finish it, or remove that directory"
            )
    else:
        (work / RECORDS).mkdir(parents=True)
        (work / DATASET / "clips").mkdir(parents=True)
        atomic_write(work / RUN, json.dumps({"digest": digest}).encode())
    return work


def record_path(work: str | os.PathLike, clip_id: str) -> Path:
    return Path(work) / RECORDS / f"{clip_id}.json"


def read_record(work: str | os.PathLike, clip_id: str) -> dict | None:
    """A finished clip's record row, or None when the clip is not finished."""
    path = record_path(work, clip_id)
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def write_record(work: str | os.PathLike, row: dict) -> None:
    """Mark a clip finished: written last, after its clip file, so a record means a whole clip."""
    atomic_write(record_path(work, row["id"]), json.dumps(row, sort_keys=True).encode())


def finished(work: Path) -> int:
    return len(list((work / RECORDS).glob("*.json")))


def publish(
    work: Path, out: Path, records: list[ClipRecord], format: str, shard_size: int | None, overwrite: bool
) -> None:
    """Write the manifest and move the dataset to ``out`` (or shard it there); drop the partial directory."""
    dataset = work / DATASET
    for stray in (dataset / "clips").glob(".*"):  # a temporary file of a write that was interrupted
        stray.unlink()
    write_manifest(dataset, records)
    if format == "wds":
        from radar_text_data import DEFAULT_SHARD_SIZE, shard_directory

        shard_directory(dataset, out, shard_size or DEFAULT_SHARD_SIZE, overwrite=overwrite)
    else:
        replace_directory(dataset, out, overwrite)
    shutil.rmtree(work)
