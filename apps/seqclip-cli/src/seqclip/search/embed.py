"""``seqclip embed``: a model's pooled vectors (and sequences) of clips, or of their windows, or of
sentences, written part by part into an embedding directory (``store``): memory bounded by one part,
a part already written is kept when the same command runs again (resume), and the model's
fingerprint and every option that decides the rows are recorded."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from importlib.metadata import version

import numpy as np
import torch

from radar_views import VIEW_NAMES, crop_or_pad

from ..data import check_angle_match
from ..errors import UserError
from ..files import path_to_record
from ..model.pretrained import model_fingerprint
from .sources import ClipRows
from .store import META, EmbeddingStore, StoreMeta

__all__ = ["embed_clips", "embed_sentences", "PART_SIZE", "open_store", "content_digest"]

PART_SIZE = 4096  # rows per part: the memory bound, and the unit a resumed run skips


def content_digest(lines: Iterable[str]) -> str:
    """16 hex digits of a SHA-256 of the rows to embed (one line each): a resumed run must see the same."""
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode("utf-8") + b"\n")
    return digest.hexdigest()[:16]


def open_store(
    store: EmbeddingStore,
    model,
    checkpoint: str,
    source: str,
    sequence: bool,
    content: str,
    part_size: int = PART_SIZE,
    **options,
) -> StoreMeta:
    """The directory's metadata for this run, written at once: new, or that of the run being resumed
    (which must have the same model, source, rows and ``options``: ``split``, ``captions``, ``window``,
    ``stride``). ``checkpoint`` and ``source`` are recorded relative to the directory."""
    meta = StoreMeta(
        model_fingerprint(model),
        path_to_record(checkpoint, store.root),
        path_to_record(source, store.root),
        model.config.embed_dim,
        sequence,
        model.config.clip_length,
        part_size,
        version=version("seqclip-cli"),
        content=content,
        **options,
    )
    if (store.root / META).is_file():
        old = store.read_meta()
        if (diff := meta.same_run(old)) is not None:
            raise UserError(
                f"--out {store.root} holds other embeddings ({diff}); choose another --out or add --overwrite"
            )
        meta.tables = old.tables
    store.write_meta(meta)
    return meta


@torch.no_grad()
def embed_clips(
    model,
    rows: ClipRows,
    store: EmbeddingStore,
    meta: StoreMeta,
    batch_size: int,
    plan: Sequence[tuple[int, int, int]],
    advance: Callable[[int], None] = lambda n: None,
) -> StoreMeta:
    """A vector for each ``(clip, start, end)`` of ``plan`` (``windows.embedding_plan``: frames
    ``[start, end)`` padded to the window, or to the model's clip length) into table ``clips``; parts
    already whole are skipped; clips whose third view holds another angle than the model's are refused
    (``check_angle_match``). Returns the updated metadata (written)."""
    check_angle_match(model.config.angle, rows.angle, "the clips")
    model.eval()
    length = meta.window or meta.clip_length
    loaded: dict[int, dict] = {}  # the clip being cut into windows, read once
    for part, first, last in _todo(store, "clips", len(plan), meta.part_size, advance):
        pooled, seqs, masks = [], [], []
        for begin in range(first, last, batch_size):
            batch = []
            for i, start, end in plan[begin : min(begin + batch_size, last)]:
                if i not in loaded:
                    loaded = {i: rows.views(i)}
                batch.append(_cut(loaded[i], start, end, length))
            views = [torch.from_numpy(np.stack([b[0][k] for b in batch])) for k in VIEW_NAMES]  # [b, bins, L]
            out = model.encode_radar(
                *views, torch.from_numpy(np.stack([b[1] for b in batch])), return_sequence=meta.sequence
            )
            pooled.append(out.pooled.float().cpu().numpy())
            if meta.sequence:
                seqs.append(out.sequence.cpu().numpy())
                masks.append(out.mask.cpu().numpy())
            advance(len(batch))
        chosen = [(rows.rows[i], start, end) for i, start, end in plan[first:last]]
        store.write_part(
            "clips",
            part,
            {
                "row": np.arange(first, last),
                "id": [r.id for r, _, _ in chosen],
                "start": [s for _, s, _ in chosen],
                "end": [e for _, _, e in chosen],
                "split": [r.split for r, _, _ in chosen],
                "labels": [list(r.labels) for r, _, _ in chosen],
                "captions": [list(r.captions) for r, _, _ in chosen],
                "pooled": np.concatenate(pooled),
            },
            *_joined(seqs, masks, meta.sequence),
        )
    return _finish(store, meta, "clips", len(plan))


@torch.no_grad()
def embed_sentences(
    model,
    sentences: list[str],
    store: EmbeddingStore,
    meta: StoreMeta,
    batch_size: int,
    advance: Callable[[int], None] = lambda n: None,
    ids: list[str] | None = None,
) -> StoreMeta:
    """Every sentence into table ``texts`` (``id``: its line number, or ``ids``), parts as for clips."""
    model.eval()
    for part, first, last in _todo(store, "texts", len(sentences), meta.part_size, advance):
        pooled, seqs, masks = [], [], []
        for start in range(first, last, batch_size):
            chunk = sentences[start : min(start + batch_size, last)]
            out = model.encode_text(chunk, return_sequence=meta.sequence)
            pooled.append(out.pooled.float().cpu().numpy())
            if meta.sequence:  # padded to the model's longest caption: every part has one shape
                pad = model.config.max_text_length - out.sequence.shape[1]
                seqs.append(torch.nn.functional.pad(out.sequence, (0, 0, 0, pad)).cpu().numpy())
                masks.append(torch.nn.functional.pad(out.mask, (0, pad)).cpu().numpy())
            advance(len(chunk))
        chosen = (ids or [str(i + 1) for i in range(len(sentences))])[first:last]
        store.write_part(
            "texts",
            part,
            {
                "row": np.arange(first, last),
                "id": chosen,
                "text": sentences[first:last],
                "pooled": np.concatenate(pooled),
            },
            *_joined(seqs, masks, meta.sequence),
        )
    return _finish(store, meta, "texts", len(sentences))


def _todo(store: EmbeddingStore, table: str, total: int, size: int, advance: Callable[[int], None]):
    """``(part, first row, end row)`` of each part of ``table`` not yet written (written ones count as done)."""
    for part in range(-(-total // size)):
        first, last = part * size, min((part + 1) * size, total)
        if store.done(table, part):
            advance(last - first)
            continue
        yield part, first, last


def _cut(views: dict[str, np.ndarray], start: int, end: int, length: int) -> tuple[dict, np.ndarray]:
    """Frames ``[start, end)`` of each view, padded to ``length``, and their mask."""
    cut, mask = crop_or_pad({k: v[:, start:end] for k, v in views.items()}, length)
    return {k: getattr(cut, k) for k in VIEW_NAMES}, mask


def _joined(seqs: list, masks: list, sequence: bool) -> tuple:
    return (np.concatenate(seqs), np.concatenate(masks)) if sequence else (None, None)


def _finish(store: EmbeddingStore, meta: StoreMeta, table: str, rows: int) -> StoreMeta:
    meta.tables[table] = {"rows": rows, "parts": -(-rows // meta.part_size)}
    store.write_meta(meta)
    return meta
