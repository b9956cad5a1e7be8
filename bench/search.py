"""Search at scale and search that knows order.

    uv run python bench/search.py                       # (a): 1,000,000 vectors, 2 threads
    BENCH_SIZES=100000 uv run python bench/search.py    # a smaller (a)
    uv run python bench/search.py --model RUN --data DATA   # (b) too: a trained model on a held-out split

(a) Vectors of the model's dimension (256) drawn to resemble embeddings: unit vectors around 2,000
cluster centres of uneven spread (not uniform), the queries held back from the index and shifted
by one common offset (the gap between text and radar embeddings). For each index ``seqclip index``
can build: build seconds, size, single-query latency p50 / p99 (one query at a time, the way a user
searches), and recall@10 against exact search. Target: recall@10 >= 0.95 at p99 <= 20 ms.
(b) ``seqclip embed`` + ``seqclip index`` of the split, then every caption as a query: text->radar
R@1 / R@10 with the exact index, the approximate one and the approximate one re-ranked by the
temporal score; and on the order-swapped twin pairs, the share of queries whose own clip ranks above
its twin, pooled score against re-ranked, with 95 % bootstrap intervals.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# bench/ holds scripts named like the packages: import the packages, not the scripts
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE] + [_HERE]
from benchlib import print_table  # noqa: E402

D, CENTRES, QUERIES = 256, 2000, 500


def clustered(n: int, seed: int, shift: np.ndarray | None = None) -> np.ndarray:
    """``n`` unit vectors around ``CENTRES`` fixed centres (spread 0.2-0.6), optionally shifted."""
    g = np.random.default_rng(seed)
    centres = np.random.default_rng(0).standard_normal((CENTRES, D)).astype(np.float32)
    spread = np.random.default_rng(1).uniform(0.2, 0.6, CENTRES).astype(np.float32)
    which = g.integers(0, CENTRES, n)
    x = centres[which] / np.sqrt(D) + spread[which, None] * g.standard_normal((n, D), dtype=np.float32) / np.sqrt(D)
    if shift is not None:
        x += shift
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def part_a(sizes: list[int]) -> None:
    import faiss

    from seqclip.search.index import _make, _params, recall_at

    faiss.omp_set_num_threads(2)
    shift = np.random.default_rng(7).standard_normal(D).astype(np.float32) * 0.3 / np.sqrt(D)
    rows = []
    for n in sizes:
        vectors, queries = clustered(n, 2), clustered(QUERIES, 3, shift)
        for kind in ("flat", "hnsw", "ivfsq", "ivfpq"):
            t0 = time.perf_counter()
            index = _make(kind, _params(kind, n, D), vectors)
            build = time.perf_counter() - t0
            size = faiss.serialize_index(index).nbytes
            times = []
            for q in queries:
                t0 = time.perf_counter()
                index.search(q[None], 10)
                times.append(time.perf_counter() - t0)
            recall = recall_at(index, vectors, queries)
            p50, p99 = np.percentile(times, [50, 99]) * 1e3
            ok = "yes" if recall >= 0.95 and p99 <= 20 else "no"
            rows.append(
                [f"{n:,}", kind, f"{build:.1f}", f"{size / 2**20:.0f}", f"{p50:.2f}", f"{p99:.2f}", f"{recall:.3f}", ok]
            )
            print(rows[-1], flush=True)
    print(f"\n{os.cpu_count()} CPUs, faiss {faiss.__version__} with 2 threads; {QUERIES} held-back queries; d = {D}")
    print_table(
        "(a) index kinds: build, size, single-query latency, recall@10 against exact",
        ["vectors", "index", "build s", "MiB", "p50 ms", "p99 ms", "recall@10", "target met"],
        rows,
    )


def part_b(model: str, data: str, split: str) -> None:
    from typer.testing import CliRunner

    from seqclip.cli import app

    with tempfile.TemporaryDirectory() as tmp:
        emb, exact, approx = Path(tmp) / "emb", Path(tmp) / "exact", Path(tmp) / "approx"
        for args in (
            ["embed", data, "--checkpoint", model, "--out", emb, "--split", split, "--no-captions"],
            ["index", emb, "--out", exact, "--kind", "flat"],
            ["index", emb, "--out", approx, "--kind", "hnsw"],
        ):
            result = CliRunner().invoke(app, [str(a) for a in args])
            assert result.exit_code == 0, result.output
        _score_queries(model, emb, exact, approx, split)


def _score_queries(model_path: str, emb: Path, exact: Path, approx: Path, split: str) -> None:
    from seqclip import SeqClip
    from seqclip.evaluation.stats import bootstrap_statistic
    from seqclip.search import EmbeddingStore, Searcher

    model = SeqClip.from_pretrained(model_path)
    searchers = {"exact": Searcher(exact, model=model), "approximate": Searcher(approx, model=model)}
    table = EmbeddingStore(emb).table("clips", ["id", "captions"]).to_pydict()
    ids, n = table["id"], len(table["id"])
    queries = [(i, c) for i, caps in enumerate(table["captions"]) for c in caps]
    ranks = {"exact": [], "approximate": [], "approximate + temporal re-rank": []}
    t0 = time.perf_counter()
    for row, caption in queries:
        for name, index, rerank in (
            ("exact", "exact", "none"),
            ("approximate", "approximate", "none"),
            ("approximate + temporal re-rank", "approximate", "temporal"),
        ):
            hits = searchers[index].query(caption, k=10, rerank=rerank, m=10)
            found = [h.row for h in hits]
            ranks[name].append(found.index(row) + 1 if row in found else 11)
    seconds = (time.perf_counter() - t0) / len(queries) / 3
    rows = []
    for name, r in ranks.items():
        r = np.array(r)
        cells = []
        for k in (1, 10):
            hit = (r <= k).astype(float)
            lo, hi = bootstrap_statistic(len(hit), lambda idx, hit=hit: hit[idx].mean())
            cells.append(f"{100 * hit.mean():.1f} [{100 * lo:.1f}, {100 * hi:.1f}]")
        rows.append([name, *cells])
    print(f"\n{n} clips, {len(queries)} caption queries, {seconds * 1e3:.0f} ms per search (model included)")
    print_table("(b) text -> radar on the held-out split", ["search", "R@1 %", "R@10 %"], rows)
    _twins(searchers["exact"], emb, ids, split)


def _twins(searcher, emb: Path, ids: list[str], split: str) -> None:
    from seqclip.evaluation.stats import bootstrap_statistic
    from seqclip.search import EmbeddingStore

    meta = EmbeddingStore(emb).read_meta()
    from radar_text_data.source import open_split, resolve_data

    records = {r.id: r for r in open_split(resolve_data(meta.source), split).records}
    pairs = [(r.id, r.twin_of) for r in records.values() if r.twin_of in records and r.id in ids]
    won = {"pooled": [], "temporal re-rank": []}
    everyone = len(ids)
    for own, twin in pairs:
        for caption in records[own].captions:
            for name, rerank in (("pooled", "none"), ("temporal re-rank", "temporal")):
                hits = searcher.query(caption, k=everyone, rerank=rerank, m=1)
                order = [h.id for h in hits]
                won[name].append(float(order.index(own) < order.index(twin)))
    rows = []
    for name, w in won.items():
        w = np.array(w)
        lo, hi = bootstrap_statistic(len(w), lambda idx, w=w: w[idx].mean())
        rows.append([name, len(w), f"{100 * w.mean():.1f} [{100 * lo:.1f}, {100 * hi:.1f}]"])
    print_table(
        "(b) the clip in the asked order above its order-swapped twin (target >= 85 % re-ranked)",
        ["score", "queries", "share %"],
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a trained model (run or model directory) for part (b)")
    parser.add_argument("--data", help="its held-out data for part (b)")
    parser.add_argument("--split", default="test")
    parser.add_argument("--skip-a", action="store_true")
    args = parser.parse_args()
    if not args.skip_a:
        part_a([int(s) for s in os.environ.get("BENCH_SIZES", "1000000").split(",")])
    if args.model and args.data:
        part_b(args.model, args.data, args.split)


if __name__ == "__main__":
    main()
