"""``seqclip search`` / ``seqclip.search``: sentences (or a stored clip) against an index; with
``rerank="temporal"`` the top ``k x m`` candidates are re-scored by the model's temporal sequence
similarity against the stored sequences (no forward of the radar side), which tells "walks, then
sits" from "sits, then walks" where a pooled vector cannot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..errors import UserError
from ..files import recorded_path
from ..model.pretrained import model_fingerprint
from .index import INFO_FILE, load_index
from .store import META, EmbeddingStore

__all__ = ["Hit", "Searcher", "search", "RERANKS", "load_search_model", "QUERY_BATCH"]

RERANKS = ("none", "temporal")
QUERY_BATCH = 64  # sentences per text forward of ``Searcher.query_many``


@dataclass
class Hit:
    """One result: its rank, the stored row's ``id``, the score that ranked it (``pooled`` cosine, or the
    temporal score after re-ranking, with the pooled one kept), the row's metadata and, for a clip,
    the frames ``[start, end)`` its vector covers (a window of a longer recording, or its start)."""

    rank: int
    id: str
    score: float
    pooled: float
    row: int
    split: str = ""
    labels: list = field(default_factory=list)
    text: str = ""  # the clip's first caption, or the sentence
    start: int | None = None
    end: int | None = None


def load_search_model(store: EmbeddingStore, fingerprint: str, checkpoint: str | Path | None):
    """The model that embedded ``store`` (``checkpoint``, else the one it recorded), checked by fingerprint."""
    from ..model.seqclip import SeqClip

    if checkpoint is None:
        stored = store.read_meta().model
        path = recorded_path(stored, store.root)
        if not Path(path).exists():
            raise UserError(
                f"the model recorded in {store.root / META} ({stored!r}, that is {path}) is missing; "
                f"pass --checkpoint where it is now"
            )
        flag = f"the model recorded in {store.root / META}"
    else:
        path, flag = checkpoint, "--checkpoint"
    try:
        model = SeqClip.from_pretrained(path)
    except (FileNotFoundError, UserError) as err:
        raise UserError(f"{flag}: {err}") from None
    if model_fingerprint(model) != fingerprint:
        raise UserError(
            f"{flag} {path}: another model than the one whose embeddings the index holds "
            f"(fingerprint {model_fingerprint(model)} != {fingerprint}); embed and index again"
        )
    return model


class Searcher:
    """An index opened once for many queries (clip-retrieval's back end): the index, its embeddings'
    metadata and the model, checked once by fingerprint (``model`` given or loaded from ``checkpoint``,
    else from the checkpoint the embeddings recorded; loaded only for sentence queries). ``embeddings``:
    the embedding directory, where it is no longer where the index recorded it."""

    def __init__(
        self,
        index: str | Path,
        checkpoint: str | Path | None = None,
        model=None,
        *,
        embeddings: str | Path | None = None,
    ) -> None:
        self.index, self.info = load_index(index)
        self.store = _embeddings(Path(index), self.info, embeddings)
        self.checkpoint, self._model = checkpoint, model
        if model is not None and model_fingerprint(model) != self.info.fingerprint:
            raise UserError(
                f"the model is not the one whose embeddings the index holds (fingerprint "
                f"{model_fingerprint(model)} != {self.info.fingerprint}); embed and index again"
            )
        clips = self.info.table == "clips"
        have = set(self.store.columns(self.info.table))
        wanted = ["row", "id", "split", "labels", "captions", "start", "end"] if clips else ["row", "id", "text"]
        self.meta = self.store.table(self.info.table, [c for c in wanted if c in have]).to_pydict()

    @property
    def model(self):
        if self._model is None:
            self._model = load_search_model(self.store, self.info.fingerprint, self.checkpoint)
        return self._model

    def query(
        self, text: str | None = None, *, clip: str | None = None, k: int = 10, rerank: str = "none", m: int = 10
    ) -> list[Hit]:
        """The ``k`` best rows for a sentence ``text`` or a stored clip's id ``clip`` (``ID``, or
        ``ID@START`` for one window of it; the query's own row is left out of its results)."""
        if (text is None) == (clip is None):
            raise UserError("give a sentence or a clip id (one of them)")
        _check(k, rerank, m)
        if text is not None:
            return self.query_many([text], k=k, rerank=rerank, m=m)[0]
        if rerank != "none":
            raise UserError("rerank: temporal re-scores clips against a sentence, and a clip query has none")
        own = self.info.table == "clips"  # else a captions index: clip -> captions
        clips = self.meta if own else self.store.table("clips", ["id", *_start(self.store)]).to_pydict()
        row = _clip_row(clip, clips["id"], clips.get("start"), self.store.root)
        vector = self.store.pooled("clips")[row][None]  # [1, d]
        hits = self._ranked(vector, k + own, rerank, m, None)[0]
        return _renumbered([h for h in hits if not (own and h.row == row)][:k])

    @torch.no_grad()
    def query_many(
        self, texts: Sequence[str], *, k: int = 10, rerank: str = "none", m: int = 10, batch_size: int = QUERY_BATCH
    ) -> list[list[Hit]]:
        """The ``k`` best rows for each sentence of ``texts``: the model loads once, the sentences are
        embedded ``batch_size`` at a time and searched together."""
        _check(k, rerank, m)
        empty = [i + 1 for i, t in enumerate(texts) if not t.strip()]
        if empty or not texts:
            raise UserError(f"empty query (sentence {empty[0]}): give a sentence" if empty else "no query given")
        out: list[list[Hit]] = []
        for begin in range(0, len(texts), batch_size):
            embedded = self.model.encode_text(list(texts[begin : begin + batch_size]), return_sequence=rerank != "none")
            out += self._ranked(embedded.pooled.float().numpy(), k, rerank, m, embedded)
        return out

    def _ranked(self, vectors: np.ndarray, k: int, rerank: str, m: int, embedded) -> list[list[Hit]]:
        """Each query's hits: its ``k`` (``k x m`` before re-ranking) nearest rows, ranked."""
        wanted = min(self.info.vectors, k * m if rerank != "none" else k)
        scores, rows = self._nearest(np.ascontiguousarray(vectors, dtype=np.float32), wanted)
        out = []
        for q, (s, r) in enumerate(zip(scores, rows, strict=True)):
            r, s = r[r >= 0], s[r >= 0]
            final = s
            if rerank == "temporal":
                final = _temporal(self.model, self.store, self.info.table, r, embedded, q)
            order = np.argsort(-final, kind="stable")[:k]
            out.append(self._hits(r[order], final[order], s[order]))
        return out

    def _nearest(self, vectors: np.ndarray, wanted: int) -> tuple[np.ndarray, np.ndarray]:
        """faiss's ``wanted`` nearest of each query, as many as the index holds up to ``wanted``: HNSW
        searches at least ``wanted`` deep, and an IVF index probes more lists while a query comes back short."""
        kind, params = self.info.kind, self.info.params
        if kind == "hnsw":
            self.index.hnsw.efSearch = max(params["efSearch"], wanted)
        scores, rows = self.index.search(vectors, wanted)
        if kind in ("ivfsq", "ivfpq"):
            while (rows >= 0).sum(axis=1).min() < wanted and self.index.nprobe < params["nlist"]:
                self.index.nprobe = min(params["nlist"], 2 * self.index.nprobe)
                scores, rows = self.index.search(vectors, wanted)
            self.index.nprobe = params["nprobe"]
        return scores, rows

    def _hits(self, rows: np.ndarray, scores: np.ndarray, pooled: np.ndarray) -> list[Hit]:
        meta, clips = self.meta, self.info.table == "clips"
        starts, ends = meta.get("start"), meta.get("end")
        return [
            Hit(
                rank,
                meta["id"][i],
                float(score),
                float(cos),
                i,
                meta["split"][i] if clips else "",
                list(meta["labels"][i]) if clips else [],
                (meta["captions"][i] or [""])[0] if clips else meta["text"][i],
                starts[i] if starts else None,
                ends[i] if ends else None,
            )
            for rank, (i, score, cos) in enumerate(zip(rows.tolist(), scores, pooled, strict=True), 1)
        ]


def search(
    index: str | Path,
    query: str | None = None,
    *,
    clip: str | None = None,
    k: int = 10,
    rerank: str = "none",
    m: int = 10,
    checkpoint: str | Path | None = None,
    model=None,
) -> list[Hit]:
    """One query (see ``Searcher.query``); open a ``Searcher`` for many."""
    return Searcher(index, checkpoint, model).query(query, clip=clip, k=k, rerank=rerank, m=m)


def _clip_row(clip: str, ids: list[str], starts: list[int] | None, root: Path) -> int:
    """The row of ``ID`` (a clip embedded as one vector) or ``ID@START`` (one window of it)."""
    starts = starts or [None] * len(ids)
    name, at, start = clip.rpartition("@") if "@" in clip and clip not in ids else (clip, "", "")
    found = [i for i, (x, s) in enumerate(zip(ids, starts, strict=True)) if x == name and (not at or str(s) == start)]
    if not found:
        raise UserError(f"clip: no id {clip!r} in {root}")
    if len(found) > 1:
        raise UserError(
            f"--clip {clip}: embedded as {len(found)} windows; name one as {name}@START (starts: "
            f"{', '.join(str(starts[i]) for i in found[:8])}{', ...' if len(found) > 8 else ''})"
        )
    return found[0]


def _start(store: EmbeddingStore) -> list[str]:
    """``["start"]`` where the clips table has window starts."""
    return [c for c in ("start",) if c in store.columns("clips")]


def _check(k: int, rerank: str, m: int) -> None:
    if rerank not in RERANKS:
        raise UserError(f"rerank: must be one of {' | '.join(RERANKS)}, got {rerank!r}")
    if k < 1 or m < 1:
        raise UserError(f"-k and -m must be at least 1, got {k} and {m}")


def _renumbered(hits: list[Hit]) -> list[Hit]:
    for rank, h in enumerate(hits, 1):
        h.rank = rank
    return hits


def _embeddings(index: Path, info, given: str | Path | None) -> EmbeddingStore:
    """The index's embedding directory: ``given``, else where the index recorded it; a missing one
    names the stored path, and one that is not the index's (model, rows) is refused."""
    if given is None and not Path(info.embeddings).is_dir():
        raise UserError(
            f"INDEX: the embeddings that {index / INFO_FILE} records ({info.embeddings}) are missing; "
            f"pass --embeddings DIR where they are now"
        )
    store = EmbeddingStore(given if given is not None else info.embeddings)
    meta = store.read_meta()
    rows = meta.tables.get(info.table, {}).get("rows")
    if given is not None and (meta.fingerprint != info.fingerprint or rows != info.vectors):
        raise UserError(
            f"--embeddings {given}: not the embeddings of this index (model {meta.fingerprint}, {rows} "
            f"{info.table}; the index: model {info.fingerprint}, {info.vectors})"
        )
    return store


def _temporal(model, store: EmbeddingStore, table: str, rows: np.ndarray, text, q: int) -> np.ndarray:
    """The temporal score of query ``q``'s token sequence against each candidate's stored sequence."""
    sim = model.seq_similarity
    if table != "clips":
        raise UserError("rerank: temporal ranks clips, and this index holds sentences")
    if sim is None or "temporal" not in sim.components:
        raise UserError(
            "--rerank temporal: the model has no temporal sequence similarity (train with "
            "--similarity temporal or combined)"
        )
    seq, mask = store.sequences(table, rows)  # [c, n, d] float16, [c, n]
    end = int(text.mask[q].nonzero().max()) + 1  # the query's own tokens: its batch's padding cut off
    c = len(rows)
    parts = sim.pair_similarities(
        torch.from_numpy(seq.astype(np.float32)),
        text.sequence[q : q + 1, :end].float(),
        torch.arange(c),
        torch.zeros(c, dtype=torch.long),
        torch.from_numpy(mask),
        text.mask[q : q + 1, :end],
    )
    return parts["temporal"].float().numpy()
