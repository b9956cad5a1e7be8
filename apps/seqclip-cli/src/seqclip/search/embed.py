"""``seqclip embed``: a model's pooled vectors (and sequences) of clips or sentences, written part by
part into an embedding directory (``store``): memory bounded by one part, a part already written is
kept when the same command runs again (resume), and the model's fingerprint is recorded."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import version

import numpy as np
import torch

from radar_text_data.contract import VIEW_BINS
from radar_views import VIEW_NAMES, crop_or_pad

from ..errors import UserError
from ..model.pretrained import model_fingerprint
from .sources import ClipRows
from .store import EmbeddingStore, StoreMeta

__all__ = ["embed_clips", "embed_sentences", "PART_SIZE", "open_store"]

PART_SIZE = 4096  # rows per part: the memory bound, and the unit a resumed run skips


def open_store(store: EmbeddingStore, model, checkpoint: str, source: str, sequence: bool,
               part_size: int = PART_SIZE) -> StoreMeta:
    """The directory's metadata for this run, written at once: new, or that of the run being resumed
    (which must have the same model, source and options)."""
    meta = StoreMeta(model_fingerprint(model), checkpoint, source, model.config.embed_dim, sequence,
                     model.config.clip_length, part_size, version=version("seqclip-cli"))
    if (store.root / "embeddings.json").is_file():
        old = store.read_meta()
        if (diff := meta.same_run(old)) is not None:
            raise UserError(f"--out {store.root} holds other embeddings ({diff}); choose another --out or add "
                            f"--overwrite")
        meta.tables = old.tables
    store.write_meta(meta)
    return meta


@torch.no_grad()
def embed_clips(model, rows: ClipRows, store: EmbeddingStore, meta: StoreMeta, batch_size: int,
                advance: Callable[[int], None] = lambda n: None) -> StoreMeta:
    """Every clip of ``rows`` (cropped or padded to the model's clip length from frame 0) into table
    ``clips``; parts already whole are skipped. Returns the updated metadata (written)."""
    model.eval()
    for part, first, last in _todo(store, "clips", len(rows), meta.part_size, advance):
        pooled, seqs, masks = [], [], []
        for start in range(first, last, batch_size):
            batch = [_clip(rows, i, meta.clip_length) for i in range(start, min(start + batch_size, last))]
            views = [torch.from_numpy(np.stack([b[0][k] for b in batch])) for k in VIEW_NAMES]  # [b, bins, L]
            out = model.encode_radar(*views, torch.from_numpy(np.stack([b[1] for b in batch])),
                                     return_sequence=meta.sequence)
            pooled.append(out.pooled.float().cpu().numpy())
            if meta.sequence:
                seqs.append(out.sequence.cpu().numpy())
                masks.append(out.mask.cpu().numpy())
            advance(len(batch))
        chosen = rows.rows[first:last]
        store.write_part("clips", part, {"row": np.arange(first, last), "id": [r.id for r in chosen],
                                         "split": [r.split for r in chosen], "labels": [list(r.labels) for r in chosen],
                                         "captions": [list(r.captions) for r in chosen], "pooled": np.concatenate(pooled)},
                         *_joined(seqs, masks, meta.sequence))
    return _finish(store, meta, "clips", len(rows))


@torch.no_grad()
def embed_sentences(model, sentences: list[str], store: EmbeddingStore, meta: StoreMeta, batch_size: int,
                    advance: Callable[[int], None] = lambda n: None, ids: list[str] | None = None) -> StoreMeta:
    """Every sentence into table ``texts`` (``id``: its line number, or ``ids``), parts as for clips."""
    model.eval()
    for part, first, last in _todo(store, "texts", len(sentences), meta.part_size, advance):
        pooled, seqs, masks = [], [], []
        for start in range(first, last, batch_size):
            chunk = sentences[start:min(start + batch_size, last)]
            out = model.encode_text(chunk, return_sequence=meta.sequence)
            pooled.append(out.pooled.float().cpu().numpy())
            if meta.sequence:  # padded to the model's longest caption: every part has one shape
                pad = model.config.max_text_length - out.sequence.shape[1]
                seqs.append(torch.nn.functional.pad(out.sequence, (0, 0, 0, pad)).cpu().numpy())
                masks.append(torch.nn.functional.pad(out.mask, (0, pad)).cpu().numpy())
            advance(len(chunk))
        chosen = (ids or [str(i + 1) for i in range(len(sentences))])[first:last]
        store.write_part("texts", part, {"row": np.arange(first, last), "id": chosen, "text": sentences[first:last],
                                         "pooled": np.concatenate(pooled)}, *_joined(seqs, masks, meta.sequence))
    return _finish(store, meta, "texts", len(sentences))


def _todo(store: EmbeddingStore, table: str, total: int, size: int, advance: Callable[[int], None]):
    """``(part, first row, end row)`` of each part of ``table`` not yet written (written ones count as done)."""
    for part in range(-(-total // size)):
        first, last = part * size, min((part + 1) * size, total)
        if store.done(table, part):
            advance(last - first)
            continue
        yield part, first, last


def _clip(rows: ClipRows, i: int, length: int) -> tuple[dict, np.ndarray]:
    views, mask = crop_or_pad(rows.views(i), length, bins=tuple(VIEW_BINS.values()))
    return {k: getattr(views, k) for k in VIEW_NAMES}, mask


def _joined(seqs: list, masks: list, sequence: bool) -> tuple:
    return (np.concatenate(seqs), np.concatenate(masks)) if sequence else (None, None)


def _finish(store: EmbeddingStore, meta: StoreMeta, table: str, rows: int) -> StoreMeta:
    meta.tables[table] = {"rows": rows, "parts": -(-rows // meta.part_size)}
    store.write_meta(meta)
    return meta
