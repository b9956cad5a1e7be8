"""``convert_folder``: a user's own clips with captions or labels to the directory format, validated first."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

from radar_views import VIEW_NAMES, check_new_output, staged_directory

from .check import format_problems
from .classes import CLASSES, ClassPrompts, class_entry, classes_json, read_classes, read_templates
from .clips import clip_arrays, view_problem, write_clip
from .contract import FRAME_MULTIPLE, SPLIT_FRACTIONS
from .errors import DataError
from .labels import CAPTION_TEMPLATES, LabelSegment, read_labels, render_captions, segment_problems
from .manifest import write_manifest
from .records import ClipRecord, RecordError
from .textfile import read_text

__all__ = ["convert_folder", "read_captions", "ConvertError", "split_by_fraction", "source_ids"]


class ConvertError(DataError):
    """The source cannot be converted; the message lists every problem found (nothing was written)."""


def convert_folder(
    src: str | os.PathLike,
    captions_file: str | os.PathLike | None,
    out: str | os.PathLike,
    val_fraction: float = SPLIT_FRACTIONS[1],
    test_fraction: float = SPLIT_FRACTIONS[2],
    seed: int = 0,
    overwrite: bool = False,
    labels_file: str | os.PathLike | None = None,
    templates_file: str | os.PathLike | None = None,
    unlabelled: list[str] | None = None,
    window: int | None = None,
    stride: int | None = None,
    classes_file: str | os.PathLike | None = None,
) -> Path:
    """Convert a folder of per-clip ``<id>.npz`` (with range_time, doppler_time, azimuth_time) or
    ``<id>/{range_time,doppler_time,azimuth_time}.npy`` plus a captions file (JSON object
    ``{id: [caption, ...]}`` or JSON lines ``{"id": ..., "captions": [...]}``) and/or a label file
    (``labels.read_labels``: one label a clip, or timed segments) to the directory format, with a
    seeded random train / val / test split.

    With labels, each clip's segments are its labels, its captions (when no captions file gives
    them) are rendered from ``templates_file`` (one template a line, ``{}`` for the labels in
    order; default ``labels.CAPTION_TEMPLATES``), clips of several segments get their reversed
    captions, and the dataset's ``classes.json`` lists each label with its one-label captions, or
    with what ``classes_file`` (``classes.read_classes``) gives for it: a phrase or prompts, and
    descriptions of what the body does (zero-shot prompts from descriptions); a class there that
    is no label is a problem.

    Every clip is validated first as ``check_dataset`` validates a dataset (the views' bins and
    frames, finite values as stored in float16, non-empty captions, segments inside the clip): any
    problem raises ``ConvertError`` listing them and nothing is written. The dataset is assembled
    beside ``out`` and renamed into place; an existing non-empty ``out`` is refused unless
    ``overwrite`` (then it is moved aside to ``OUT.old-<date>-<time>``).

    Clips in ``src`` that the captions (or, without captions, the labels) do not mention raise
    ``ConvertError`` listing them; with an ``unlabelled`` list they are left out and their ids
    appended to it.

    ``window`` (at least ``FRAME_MULTIPLE``): a recording longer than this many frames becomes clips of
    ``window`` frames starting every ``stride`` frames (default: ``window``, no overlap, so no frame
    is in two training clips; a shorter tail is left out), ids ``<id>_w000``, ...,
    each with the recording's captions, or with the labelled segments that overlap it (cut to it). All
    windows of a recording share its split. A window without a labelled frame counts as unlabelled."""
    src, out = Path(src), Path(out)
    if not src.is_dir():
        raise FileNotFoundError(f"source folder not found: {src}")
    if captions_file is None and labels_file is None:
        raise DataError("give a captions file, a labels file, or both")
    if window is not None and (window < FRAME_MULTIPLE or (stride is not None and stride < 1)):
        raise DataError(
            f"window must be at least {FRAME_MULTIPLE} frames (the shortest clip a dataset holds) and "
            f"stride at least 1, got {window}, {stride}"
        )
    captions = read_captions(Path(captions_file)) if captions_file is not None else None
    labels = read_labels(labels_file, overlaps=False) if labels_file is not None else None  # checked per clip
    templates = read_templates(templates_file) if templates_file is not None else CAPTION_TEMPLATES
    given = {c.name: c for c in read_classes(classes_file)} if classes_file is not None else {}
    check_new_output(out, overwrite)
    ids = sorted(captions if captions is not None else labels or {})
    where = str(captions_file if captions_file is not None else labels_file)
    missing = sorted(set(source_ids(src)) - set(ids))
    if missing and unlabelled is None:
        what = "captions" if captions is not None else "labels"
        raise ConvertError(
            f"{len(missing)} clip(s) in {src} have no {what} in {where}; nothing was written "
            f"(--skip-unlabelled leaves them out):\n{format_problems(missing)}"
        )
    if unlabelled is not None:
        unlabelled += missing
    split = split_by_fraction(ids, val_fraction, test_fraction, seed)
    cuts = (window, stride or window) if window is not None else None
    records, problems, blank = _validated_records(src, ids, split, where, captions, labels, templates, cuts)
    if blank and unlabelled is None:
        raise ConvertError(
            f"{len(blank)} clip(s) or window(s) hold no labelled frame; nothing was written "
            f"(--skip-unlabelled "
            f"leaves them out):\n{format_problems(blank)}"
        )
    if unlabelled is not None:
        unlabelled += blank
    if labels is not None and captions is not None:
        problems += [f"{labels_file}: no labels for clip {cid!r}" for cid in ids if cid not in labels]
        problems += [
            f"{labels_file}: labels for clip {cid!r}, which {captions_file} lacks"
            for cid in sorted(set(labels) - set(ids))
        ]
    found = {a for r in records for a in r.activities}
    problems += [f"{classes_file}: class {n!r} is not among the labels" for n in given if n not in found]
    if problems:
        raise ConvertError(
            f"{len(problems)} problem(s) in {src} with {where}; nothing was written:\n{format_problems(problems)}"
        )
    with staged_directory(out, overwrite) as staged:
        for cid, pieces in _by_recording(records).items():
            arrays = _read_views(src, cid)  # once per recording, whatever its windows
            for record, (first, last) in pieces:
                write_clip(staged / record.file, clip_arrays({k: v[..., first:last] for k, v in arrays.items()}))
        write_manifest(staged, records)
        if labels is not None:
            (staged / CLASSES).write_text(_classes_text(found, templates, given), encoding="utf-8")
    return out


def _classes_text(labels: set[str], templates: tuple[str, ...], given: dict[str, ClassPrompts]) -> str:
    """``classes.json``: every label with the captions a clip of that label alone gets, or with its
    entry in the user's class file (``given``: phrase or prompts, and descriptions)."""
    out: dict = {}
    for n in labels:
        own = render_captions([n], templates)[0]
        c = given.get(n)
        if c is None:
            out[n] = own
        else:  # a descriptions-only entry keeps the rendered captions as the name prompts
            out[n] = class_entry(c if not c.bare else ClassPrompts(n, prompts=tuple(own), descriptions=c.descriptions))
    return classes_json(out)


def split_by_fraction(
    ids: list[str], val_fraction: float, test_fraction: float, seed: int, what: str = "clips"
) -> dict[str, str]:
    """``{id: split}`` by a seeded permutation: ``round(test_fraction * n)`` test, then val, the rest
    train; a split with a share above 0 gets at least one id, and too few ids for that (train keeps
    at least one too) raise ``ValueError``. Fractions that add up to 1 make an evaluation-only split:
    no train, every id in val or test."""
    for name, share in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0.0 <= share <= 1.0:
            raise DataError(f"{name} must lie in [0, 1], got {share}")
    evaluation_only = math.isclose(val_fraction + test_fraction, 1.0)
    if val_fraction + test_fraction > 1.0 and not evaluation_only:
        raise DataError(
            f"val_fraction + test_fraction must be at most 1 (1: an evaluation-only dataset), got "
            f"{val_fraction} + {test_fraction}"
        )
    order = np.random.default_rng(seed).permutation(len(ids))
    n_test, n_val = (max(int(share > 0), int(round(share * len(ids)))) for share in (test_fraction, val_fraction))
    if evaluation_only:  # val takes what test leaves
        n_val = len(ids) - n_test if val_fraction > 0 else 0
        n_test = len(ids) - n_val
        if (test_fraction > 0 and n_test < 1) or (val_fraction > 0 and n_val < 1):
            raise DataError(
                f"{len(ids)} {what} cannot fill {n_val} val and {n_test} test (val_fraction "
                f"{val_fraction}, test_fraction {test_fraction}): add data or leave one split out"
            )
    elif n_test + n_val >= len(ids):
        raise DataError(
            f"{len(ids)} {what} cannot fill train plus {n_val} val and {n_test} test (val_fraction "
            f"{val_fraction}, test_fraction {test_fraction}): add data or lower the fractions, or "
            f"make them add up to 1 for an evaluation-only dataset"
        )
    return {
        ids[i]: "test" if rank < n_test else "val" if rank < n_test + n_val else "train" for rank, i in enumerate(order)
    }


def _validated_records(
    src: Path,
    ids: list[str],
    split: dict[str, str],
    where: str,
    captions: dict[str, list[str]] | None,
    labels: dict[str, list[LabelSegment]] | None,
    templates: tuple[str, ...],
    cuts: tuple[int, int] | None,
) -> tuple[list[ClipRecord], list[str], list[str]]:
    """The records of every clip (or window), every problem found reading and checking the clips,
    and the ids of windows without a labelled frame (left out)."""
    records, problems, blank = [], [], []
    for cid in ids:
        try:
            arrays = _read_views(src, cid)
        except (OSError, ValueError) as err:
            problems.append(str(err))
            continue
        problem = view_problem(clip_arrays(arrays))  # as stored: float16
        if problem:
            problems.append(f"{_view_source(src, cid)}: {problem}")
            continue
        frames = int(arrays["range_time"].shape[-1])
        segments = labels.get(cid) if labels is not None else None
        if segments is not None:
            found = segment_problems(segments, frames)  # every one at once: overlaps and beyond the clip
            if found:
                problems.append(f"{where}: clip {cid!r}: {'; '.join(found)}")
                continue
        for piece, (first, last) in _pieces(cid, frames, cuts):
            row: dict[str, object] = {
                "id": piece,
                "split": split[cid],
                "file": f"clips/{piece}.npz",
                "segments": [],
                "frame_rate_hz": None,
                "num_frames": last - first,
                "radar": None,
            }
            if piece != cid:
                row["source"] = {"clip": cid, "start_frame": first, "end_frame": last}
            if segments is not None:
                inside = _cut_segments(segments, frames, first, last)
                if not inside and captions is None:
                    blank.append(piece)
                    continue
                _add_labels(row, inside, templates)
            if captions is not None:  # the user's captions win; reversed ones would not match their words
                row["captions"] = captions.get(cid, [])
                row.pop("captions_reversed", None)
            try:
                records.append(ClipRecord.from_dict(row, f"{where}: clip {piece!r}"))
            except RecordError as err:
                problems.append(str(err))
    return records, problems, blank


def _pieces(cid: str, frames: int, cuts: tuple[int, int] | None) -> list[tuple[str, tuple[int, int]]]:
    """``(id, (first, last))`` of each clip a recording gives: itself, or its windows."""
    if cuts is None or frames <= cuts[0]:
        return [(cid, (0, frames))]
    window, stride = cuts
    return [
        (f"{cid}_w{k:03d}", (first, first + window)) for k, first in enumerate(range(0, frames - window + 1, stride))
    ]


def _by_recording(records: list[ClipRecord]) -> dict[str, list[tuple[ClipRecord, tuple[int, int]]]]:
    """Each source clip's records (itself, or its windows) with their frame ranges."""
    out: dict[str, list] = {}
    for r in records:
        source = r.extras.get("source")
        cid, span = (source["clip"], (source["start_frame"], source["end_frame"])) if source else (r.id, (0, None))
        out.setdefault(cid, []).append((r, span))
    return out


def _cut_segments(segments: list[LabelSegment], frames: int, first: int, last: int) -> list[LabelSegment]:
    """The segments that overlap frames ``[first, last)``, cut to them and counted from ``first``."""
    ends = [frames if s.end_frame is None else s.end_frame for s in segments]
    return [
        LabelSegment(s.label, max(s.start_frame, first) - first, min(end, last) - first)
        for s, end in zip(segments, ends, strict=True)
        if s.start_frame < last and end > first
    ]


def _add_labels(row: dict, segments: list[LabelSegment], templates: tuple[str, ...]) -> None:
    """Segments (cut to the clip: ``_cut_segments``) and their rendered captions into a manifest row."""
    row["segments"] = [
        {"activity": s.label, "start_frame": s.start_frame, "end_frame": s.end_frame, "params": {}} for s in segments
    ]
    row["captions"], reverse = render_captions([s.label for s in segments], templates)
    if reverse is not None:
        row["captions_reversed"] = reverse


def source_ids(src: Path) -> list[str]:
    """The clips of a source folder: each ``<id>.npz`` and each ``<id>/`` holding a view's ``.npy``."""
    folders = {p.name for p in src.iterdir() if p.is_dir() and any((p / f"{k}.npy").is_file() for k in VIEW_NAMES)}
    return sorted({p.stem for p in src.glob("*.npz")} | folders)


def _view_source(src: Path, cid: str) -> Path:
    return src / f"{cid}.npz" if (src / f"{cid}.npz").is_file() else src / cid


def _read_views(src: Path, cid: str) -> dict[str, np.ndarray]:
    path = _view_source(src, cid)
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: np.asarray(z[k]) for k in VIEW_NAMES if k in z}
        else:
            arrays = {
                k: np.load(path / f"{k}.npy", allow_pickle=False) for k in VIEW_NAMES if (path / f"{k}.npy").is_file()
            }
    except (OSError, ValueError, EOFError) as err:
        raise DataError(f"{path}: unreadable ({type(err).__name__}: {err})") from None
    missing = [k for k in VIEW_NAMES if k not in arrays]
    if missing:
        raise FileNotFoundError(f"{src}: clip {cid!r} lacks {missing} (expected {cid}.npz or {cid}/<view>.npy)")
    return arrays


def read_captions(path: Path) -> dict[str, list[str]]:
    """``{id: [caption, ...]}`` from a JSON object or JSON lines, told apart by content: a document
    that is one object with ``id`` and a ``captions`` list is a JSON-lines record (a file of one clip),
    any other single object maps ids to captions. Errors name the file and line."""
    if not path.is_file():
        raise FileNotFoundError(f"captions file not found: {path}")
    text = read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = None
    if isinstance(data, dict) and not _is_record(data):
        return {str(k): [v] if isinstance(v, str) else v for k, v in data.items()}  # checked per record
    out = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                obj = json.loads(line)
                out[str(obj["id"])] = list(obj["captions"])
            except (json.JSONDecodeError, KeyError, TypeError):
                raise DataError(f'{path}:{lineno}: expected {{"id": ..., "captions": [...]}}') from None
    return out


def _is_record(obj: dict) -> bool:
    """A JSON-lines record ``{"id": ..., "captions": [...]}`` (not an ``{id: captions}`` object)."""
    return "id" in obj and isinstance(obj.get("captions"), list) and isinstance(obj["id"], (str, int))
