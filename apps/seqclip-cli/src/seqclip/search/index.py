"""``seqclip index``: a faiss index of an embedding table's pooled vectors (inner product of unit
vectors: cosine). Exact (``IndexFlatIP``) up to ``FLAT_LIMIT`` vectors; above, HNSW when its graph and
the vectors fit the memory budget, else IVF with 8-bit scalar codes, else IVF-PQ. Recall@10 against exact search is
measured on
queries drawn from the embeddings at build time. Written beside and renamed into place."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from radar_views import staged_directory

from ..errors import UserError
from ..files import path_to_record, recorded_path
from .store import EmbeddingStore

__all__ = [
    "IndexInfo",
    "build_index",
    "load_index",
    "FLAT_LIMIT",
    "INDEX_FILE",
    "INFO_FILE",
    "recall_at",
    "INDEX_KINDS",
]

INDEX_KINDS = ("auto", "flat", "hnsw", "ivfsq", "ivfpq")

FLAT_LIMIT = 200_000  # exact search answers a query in ~10 ms on 2 cores up to about here (bench/search.py)
HNSW_M = 32  # graph neighbours per vector (each link 4 bytes, two layers' worth on average)
INDEX_FILE, INFO_FILE = "index.faiss", "index.json"


@dataclass
class IndexInfo:
    """What an index directory holds: its kind and parameters, the embeddings it points to (their
    directory and the model's fingerprint), and the recall measured when it was built."""

    kind: str  # flat | hnsw | ivfsq | ivfpq
    params: dict
    table: str  # clips | texts
    embeddings: str  # the embedding directory, relative to the index directory (as loaded: a usable path)
    fingerprint: str
    vectors: int
    dim: int
    recall_at_10: float  # against exact search (1.0 for flat)
    queries: int
    build_seconds: float
    bytes: int


def _choose(n: int, d: int, memory_mb: float) -> str:
    """flat up to ``FLAT_LIMIT``; above, HNSW when the vectors and graph fit ``memory_mb``, else IVF with
    8-bit scalar codes (d bytes a vector) when they fit, else IVF-PQ (d / 4 bytes)."""
    budget = memory_mb * 2**20
    if n <= FLAT_LIMIT:
        return "flat"
    if n * (4 * d + 2 * 4 * HNSW_M) <= budget:
        return "hnsw"
    return "ivfsq" if n * d <= budget else "ivfpq"


def _params(kind: str, n: int, d: int) -> dict:
    if kind == "hnsw":
        return {"M": HNSW_M, "efConstruction": 80, "efSearch": 128}
    if kind == "ivfsq":
        nlist = max(1, int(4 * np.sqrt(n)))
        return {"nlist": nlist, "nprobe": max(16, nlist // 32)}
    if kind == "ivfpq":
        nlist = max(1, int(4 * np.sqrt(n)))
        m = next(m for m in (d // 4, d // 8, 8, 4, 2, 1) if m >= 1 and d % m == 0)  # 4-byte codes per 16 dims
        return {"nlist": nlist, "m": m, "nbits": 8, "nprobe": max(16, nlist // 32)}
    return {}


def _fewest(kind: str, params: dict) -> int:
    """The fewest vectors ``kind`` trains on: one per inverted list, and for IVF-PQ one per code of
    each sub-quantizer (2 ** nbits)."""
    if kind == "ivfpq":
        return max(params["nlist"], 2 ** params["nbits"])
    return params["nlist"] if kind == "ivfsq" else 1


def _make(kind: str, params: dict, vectors: np.ndarray):
    import faiss

    d = vectors.shape[1]
    if kind == "flat":
        index = faiss.IndexFlatIP(d)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(d, params["M"], faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = params["efConstruction"]
        index.hnsw.efSearch = params["efSearch"]
    else:
        quantizer = faiss.IndexFlatIP(d)
        index = (
            faiss.IndexIVFScalarQuantizer(
                quantizer, d, params["nlist"], faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
            )
            if kind == "ivfsq"
            else faiss.IndexIVFPQ(
                quantizer, d, params["nlist"], params["m"], params["nbits"], faiss.METRIC_INNER_PRODUCT
            )
        )
        index.train(vectors[np.random.default_rng(0).permutation(len(vectors))[: 64 * params["nlist"]]])
        index.nprobe = params["nprobe"]
    index.add(vectors)
    return index


def recall_at(index, vectors: np.ndarray, queries: np.ndarray, k: int = 10) -> float:
    """Share of each query's exact top ``k`` (inner product over ``vectors``) that ``index`` returns."""
    import faiss

    _, exact = faiss.knn(queries, vectors, k, metric=faiss.METRIC_INNER_PRODUCT)  # blocked: no [q, N] matrix
    _, found = index.search(queries, k)
    return float(np.mean([len(set(a) & set(b)) / k for a, b in zip(exact, found, strict=True)]))


def build_index(
    embeddings: str | Path,
    out: str | Path,
    table: str = "clips",
    memory_mb: float = 2048,
    kind: str = "auto",
    queries: int = 1000,
    overwrite: bool = False,
) -> IndexInfo:
    """Build, measure and write the index of ``table`` in the embedding directory ``embeddings``."""
    import faiss

    store = EmbeddingStore(embeddings)
    meta = store.read_meta()
    done = meta.tables.get(table, {}).get("parts")
    if done is None or store.parts(table) != list(range(done)):
        raise UserError(
            f"{store.root}: the {table} embeddings are not finished (an interrupted `seqclip embed`: "
            f"the same command completes them)"
            if store.parts(table)
            else f"{store.root}: no {table} embeddings"
        )
    vectors = np.ascontiguousarray(store.pooled(table))  # [N, d], unit norm
    t0 = time.perf_counter()
    chosen = _choose(len(vectors), vectors.shape[1], memory_mb) if kind == "auto" else kind
    params = _params(chosen, len(vectors), vectors.shape[1])
    if len(vectors) < (least := _fewest(chosen, params)):
        raise UserError(
            f"--kind {chosen}: {len(vectors)} vectors are too few to train its "
            f"{'codebooks' if chosen == 'ivfpq' else 'lists'} (it needs at least {least}); --kind flat "
            f"searches them exactly (auto chooses it up to {FLAT_LIMIT:,} vectors)"
        )
    index = _make(chosen, params, vectors)
    seconds = time.perf_counter() - t0
    probe = _queries(store, table, vectors, queries)
    recall = 1.0 if chosen == "flat" else recall_at(index, vectors, probe)
    data = faiss.serialize_index(index)
    info = IndexInfo(
        chosen,
        params,
        table,
        path_to_record(store.root, out),
        meta.fingerprint,
        len(vectors),
        vectors.shape[1],
        recall,
        len(probe),
        seconds,
        int(data.nbytes),
    )
    with staged_directory(out, overwrite=overwrite) as tmp:
        (tmp / INDEX_FILE).write_bytes(data.tobytes())
        (tmp / INFO_FILE).write_text(json.dumps(asdict(info), indent=1) + "\n")
    return replace(info, embeddings=str(store.root))


def _queries(store: EmbeddingStore, table: str, vectors: np.ndarray, count: int) -> np.ndarray:
    """Up to ``count`` query vectors: the other modality's when the directory has it (text -> radar is
    the search users run, and the modality gap is what approximate indexes miss), else the vectors'."""
    other = "texts" if table == "clips" else "clips"
    pool = store.pooled(other) if store.parts(other) else vectors
    pick = np.random.default_rng(0).permutation(len(pool))[:count]
    return np.ascontiguousarray(pool[pick])


def load_index(path: str | Path) -> tuple[object, IndexInfo]:
    """``(faiss index, IndexInfo)`` of an index directory (``IndexInfo.embeddings`` resolved against it);
    a missing or corrupt one is a ``UserError``."""
    import faiss

    root = Path(path)
    if not (root / INFO_FILE).is_file() or not (root / INDEX_FILE).is_file():
        raise UserError(f"INDEX: {root} is not an index directory (make one with `seqclip index`)")
    try:
        info = IndexInfo(**json.loads((root / INFO_FILE).read_text()))
        index = faiss.deserialize_index(np.frombuffer((root / INDEX_FILE).read_bytes(), dtype=np.uint8))
    except Exception as err:  # noqa: BLE001 - faiss raises RuntimeError with C++ text
        raise UserError(f"INDEX: {root / INDEX_FILE}: unreadable ({str(err).splitlines()[0][:200]})") from None
    if index.ntotal != info.vectors or index.d != info.dim:
        raise UserError(
            f"INDEX: {root / INDEX_FILE} holds {index.ntotal} x {index.d}, {INFO_FILE} says {info.vectors} x {info.dim}"
        )
    info = replace(info, embeddings=recorded_path(info.embeddings, root))
    if info.kind == "hnsw":
        index.hnsw.efSearch = info.params["efSearch"]
    elif info.kind in ("ivfsq", "ivfpq"):
        index.nprobe = info.params["nprobe"]
    return index, info
