"""The radar-text dataset format: typed records, the directory format (``manifest.jsonl`` +
``clips/<id>.npz``), WebDataset shards with an index, the clip loader and validator, the converters
for a user's own data and for public datasets (RadHAR, MM-Fi, TI Demo Visualizer CSV), and the shape contract every
package imports.

Submodules load on first use: ``radar_text_data.contract`` (and the CLI that reads it) needs only
the standard library.
"""

from __future__ import annotations

import importlib
from importlib.metadata import version

from .contract import (
    CLIP_DTYPE,
    DEFAULT_SHARD_SIZE,
    FRAME_MULTIPLE,
    INDEX,
    MANIFEST,
    MAX_FRAMES,
    SPLITS,
    VIEW_BINS,
    check_clip_length,
)

_LAZY = {
    "DataError": "errors",
    "ClipRecord": "records",
    "RecordError": "records",
    "sequence_id": "records",
    "views_angle": "records",
    "read_manifest": "manifest",
    "scan_manifest": "manifest",
    "write_manifest": "manifest",
    "manifest_text": "manifest",
    "record_json": "manifest",
    "BadClipError": "clips",
    "encode_clip": "clips",
    "write_clip": "clips",
    "decode_clip": "clips",
    "load_clip": "clips",
    "clip_header_problem": "clips",
    "check_headers": "clips",
    "clip_arrays": "clips",
    "clip_path": "clips",
    "check_dataset": "check",
    "describe_dataset": "check",
    "split_notes": "check",
    "reversal_problems": "check",
    "format_problems": "check",
    "SHOWN_PROBLEMS": "check",
    "view_problem": "clips",
    "convert_folder": "convert",
    "read_captions": "convert",
    "ConvertError": "convert",
    "split_by_fraction": "convert",
    "ShardWriter": "shards",
    "shard_directory": "shards",
    "ShardInfo": "shards",
    "RawSample": "shards",
    "read_index": "shards",
    "expand_urls": "shards",
    "iter_shard": "shards",
    "ShardError": "shards",
    "DataLocation": "source",
    "resolve_data": "source",
    "ClipSource": "source",
    "open_split": "source",
    "present_splits": "source",
    "DecodedCache": "cache",
    "Slot": "stream",
    "stream_slot": "stream",
    "rank_sizes": "stream",
    "worker_skip": "stream",
    "DEFAULT_SHUFFLE_BUFFER": "stream",
    "CLASSES": "classes",
    "UNSEEN": "classes",
    "ClassPrompts": "classes",
    "read_classes": "classes",
    "read_templates": "classes",
    "classes_json": "classes",
    "read_unseen": "classes",
    "parse_class_names": "classes",
    "ClassFileError": "classes",
    "bare_class": "classes",
    "clip_label": "vocabulary",
    "dataset_classes": "vocabulary",
    "resolve_unseen": "vocabulary",
    "NO_UNSEEN": "vocabulary",
    "read_text": "textfile",
    "TextFileError": "textfile",
    "BOM": "textfile",
    "LabelSegment": "labels",
    "read_labels": "labels",
    "render_captions": "labels",
    "CAPTION_TEMPLATES": "labels",
    "Recording": "recordings",
    "convert_point_clouds": "recordings",
    "carve_val": "recordings",
    "read_radhar_file": "radhar",
    "radhar_files": "radhar",
    "radhar_recordings": "radhar",
    "convert_radhar": "radhar",
    "RadHARFormatError": "radhar",
    "RADHAR_CLASSES": "radhar",
    "RADHAR_SENSOR": "radhar",
    "read_mmfi_sequence": "mmfi",
    "mmfi_recordings": "mmfi",
    "convert_mmfi": "mmfi",
    "MMFiFormatError": "mmfi",
    "MMFI_ACTIONS": "mmfi",
    "MMFI_PROTOCOLS": "mmfi",
    "read_ti_csv": "ti_csv",
    "ti_csv_recordings": "ti_csv",
    "convert_ti_csv": "ti_csv",
    "TICsvFormatError": "ti_csv",
}

__all__ = [
    "VIEW_BINS",
    "MAX_FRAMES",
    "FRAME_MULTIPLE",
    "SPLITS",
    "MANIFEST",
    "INDEX",
    "CLIP_DTYPE",
    "DEFAULT_SHARD_SIZE",
    "check_clip_length",
    *_LAZY,
]
__version__ = version("radar-text-data")


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
