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

__all__ = ["Hit", "Searcher", "search", "RERANKS", "load_search_model"]

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


class Searcher:
    """An index opened once for many queries (clip-retrieval's back end): the index, its embeddings'
    metadata and the model, checked once by fingerprint (``model`` given or loaded from ``checkpoint``,
    else from the checkpoint the embeddings recorded; loaded only for sentence queries)."""

    def __init__(self, index: str | Path, checkpoint: str | Path | None = None, model=None) -> None:
        self.index, self.info = load_index(index)
        self.store = EmbeddingStore(self.info.embeddings)
        self.checkpoint, self._model = checkpoint, model
        if model is not None and model_fingerprint(model) != self.info.fingerprint:
            raise UserError(f"the model is not the one whose embeddings the index holds (fingerprint "
                            f"{model_fingerprint(model)} != {self.info.fingerprint}); embed and index again")
        columns = ["row", "id", "split", "labels", "captions"] if self.info.table == "clips" else ["row", "id", "text"]
        self.meta = self.store.table(self.info.table, columns).to_pydict()

    @property
    def model(self):
        if self._model is None:
            self._model = load_search_model(self.info, self.checkpoint)
        return self._model

    @torch.no_grad()
    def query(self, text: str | None = None, clip: str | None = None, k: int = 10, rerank: str = "none",
              m: int = 10) -> list[Hit]:
        """The ``k`` best rows for a sentence ``text`` or a stored clip's id ``clip``."""
        if (text is None) == (clip is None):
            raise UserError("give a sentence or --clip ID (one of them)")
        if rerank not in RERANKS:
            raise UserError(f"--rerank must be one of {' | '.join(RERANKS)}, got {rerank!r}")
        if clip is not None and rerank != "none":
            raise UserError("--rerank temporal re-scores clips against a sentence; a --clip query has none")
        embedded = self.model.encode_text([text], return_sequence=rerank != "none") if text is not None else None
        vector = embedded.pooled.float().numpy() if embedded is not None else _clip_vector(self.store, clip)
        wanted = min(self.info.vectors, k * m if rerank != "none" else k)
        scores, rows = self.index.search(np.ascontiguousarray(vector, dtype=np.float32), wanted)
        rows, scores = rows[0][rows[0] >= 0], scores[0][rows[0] >= 0]
        final = _temporal(self.model, self.store, self.info.table, rows, embedded) if rerank == "temporal" else scores
        order = np.argsort(-final, kind="stable")[:k]
        return self._hits(rows[order], final[order], scores[order])

    def _hits(self, rows: np.ndarray, scores: np.ndarray, pooled: np.ndarray) -> list[Hit]:
        meta, clips = self.meta, self.info.table == "clips"
        return [Hit(rank, meta["id"][i], float(score), float(cos), i, meta["split"][i] if clips else "",
                    list(meta["labels"][i]) if clips else [], (meta["captions"][i] or [""])[0] if clips else meta["text"][i])
                for rank, (i, score, cos) in enumerate(zip(rows.tolist(), scores, pooled, strict=True), 1)]


def search(index: str | Path, query: str | None = None, clip: str | None = None, k: int = 10,
           rerank: str = "none", m: int = 10, checkpoint: str | Path | None = None, model=None) -> list[Hit]:
    """One query (see ``Searcher.query``); open a ``Searcher`` for many."""
    return Searcher(index, checkpoint, model).query(query, clip, k, rerank, m)


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
