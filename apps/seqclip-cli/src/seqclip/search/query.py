"""``seqclip search`` / ``seqclip.search``: a sentence (or a stored clip) against an index; with
``rerank="temporal"`` the top ``k x m`` candidates are re-scored by the model's temporal sequence
similarity against the stored sequences (no forward of the radar side), which tells "walks, then
sits" from "sits, then walks" where a pooled vector cannot."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..errors import UserError
from ..model.pretrained import model_fingerprint
from .index import load_index
from .store import EmbeddingStore

__all__ = ["Hit", "search", "RERANKS", "load_search_model"]

RERANKS = ("none", "temporal")


@dataclass
class Hit:
    """One result: its rank, the stored row's ``id``, the score that ranked it (``pooled`` cosine, or the
    temporal score after re-ranking, with the pooled one kept), and the row's metadata."""

    rank: int
    id: str
    score: float
    pooled: float
    row: int
    split: str = ""
    labels: list = field(default_factory=list)
    text: str = ""  # the clip's first caption, or the sentence


def load_search_model(info, checkpoint: str | Path | None):
    """The model that embedded the index's vectors (``checkpoint`` or the one recorded), checked by fingerprint."""
    from ..model.seqclip import SeqClip

    store = EmbeddingStore(info.embeddings)
    path = checkpoint or store.read_meta().model
    try:
        model = SeqClip.from_pretrained(path)
    except (FileNotFoundError, ValueError) as err:
        raise UserError(f"--checkpoint: {err}") from None
    if model_fingerprint(model) != info.fingerprint:
        raise UserError(f"--checkpoint {path}: another model than the one whose embeddings the index holds "
                        f"(fingerprint {model_fingerprint(model)} != {info.fingerprint}); embed and index again")
    return model


@torch.no_grad()
def search(index: str | Path, query: str | None = None, clip: str | None = None, k: int = 10,
           rerank: str = "none", m: int = 10, checkpoint: str | Path | None = None, model=None) -> list[Hit]:
    """The ``k`` best rows of the index for a sentence ``query`` or a stored clip's id ``clip``."""
    if (query is None) == (clip is None):
        raise UserError("give a sentence or --clip ID (one of them)")
    if rerank not in RERANKS:
        raise UserError(f"--rerank must be one of {' | '.join(RERANKS)}, got {rerank!r}")
    faiss_index, info = load_index(index)
    store = EmbeddingStore(info.embeddings)
    if query is not None:
        model = model or load_search_model(info, checkpoint)
        text = model.encode_text([query], return_sequence=rerank != "none")
        vector = text.pooled.float().numpy()  # [1, d]
    else:
        vector, text = _clip_vector(store, clip), None
        if rerank != "none":
            raise UserError("--rerank temporal re-scores clips against a sentence; a --clip query has none")
    wanted = min(info.vectors, k * m if rerank != "none" else k)
    scores, rows = faiss_index.search(np.ascontiguousarray(vector, dtype=np.float32), wanted)
    rows, scores = rows[0][rows[0] >= 0], scores[0][rows[0] >= 0]
    final = scores
    if rerank == "temporal":
        final = _temporal(model, store, info.table, rows, text)
    order = np.argsort(-final, kind="stable")[:k]
    return _hits(store, info.table, rows[order], final[order], scores[order])


def _clip_vector(store: EmbeddingStore, clip: str) -> np.ndarray:
    ids = store.table("clips", ["id"]).column("id").to_pylist()
    if clip not in ids:
        raise UserError(f"--clip {clip}: no such id in {store.root}")
    return store.pooled("clips")[ids.index(clip)][None]  # [1, d]


def _temporal(model, store: EmbeddingStore, table: str, rows: np.ndarray, text) -> np.ndarray:
    """The temporal score of the query's token sequence against each candidate's stored sequence."""
    sim = model.seq_similarity
    if table != "clips":
        raise UserError("--rerank temporal ranks clips: this index holds sentences")
    if sim is None or "temporal" not in sim.components:
        raise UserError("--rerank temporal: the model has no temporal sequence similarity (train with "
                        "--similarity temporal or combined)")
    seq, mask = store.sequences(table, rows)  # [c, n, d] float16, [c, n]
    c = len(rows)
    parts = sim.pair_similarities(torch.from_numpy(seq.astype(np.float32)), text.sequence.float(),
                                  torch.arange(c), torch.zeros(c, dtype=torch.long), torch.from_numpy(mask), text.mask)
    return parts["temporal"].float().numpy()


def _hits(store: EmbeddingStore, table: str, rows: np.ndarray, scores: np.ndarray, pooled: np.ndarray) -> list[Hit]:
    columns = ["row", "id", "split", "labels", "captions"] if table == "clips" else ["row", "id", "text"]
    meta = store.table(table, columns).to_pydict()
    hits = []
    for rank, (row, score, cos) in enumerate(zip(rows, scores, pooled, strict=True), 1):
        i = int(row)
        text = (meta["captions"][i] or [""])[0] if table == "clips" else meta["text"][i]
        hits.append(Hit(rank, meta["id"][i], float(score), float(cos), i, meta.get("split", [""] * (i + 1))[i],
                        list(meta.get("labels", [[]] * (i + 1))[i]), text))
    return hits
