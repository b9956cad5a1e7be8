"""``seqclip embed`` / ``index`` / ``search``: a trained model's vectors of a researcher's own
recordings, a faiss index of them, and queries against it (thin commands over ``seqclip.search``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from radar_text_data.contract import FRAME_MULTIPLE, SPLITS  # standard library only

from ..config import EVAL_BATCH
from .common import (
    CLIPS_HELP,
    Checkpoint,
    ClipSplit,
    DeviceChoice,
    LabelStride,
    Overwrite,
    SkipBad,
    Window,
    check_out,
    console,
    fail,
    interrupted,
    note,
    progress_bar,
    user_errors,
    writing,
)

__all__ = ["embed", "index", "search", "checked_rows", "load_model"]

INDEX_KINDS = ("auto", "flat", "hnsw", "ivfsq", "ivfpq")  # search.index.INDEX_KINDS (torch-free here)


def embed(
    data: Annotated[
        str | None,
        typer.Argument(help=CLIPS_HELP, show_default=False),
    ] = None,
    checkpoint: Checkpoint = ...,
    out: Annotated[Path, typer.Option(help="Embedding directory to write (the same command again resumes it).")] = ...,
    texts: Annotated[
        Path | None,
        typer.Option(help="A text file, one sentence a line, embedded instead of clips.", show_default=False),
    ] = None,
    split: ClipSplit = "all",
    window: Window = None,
    stride: LabelStride = None,
    captions: Annotated[
        bool,
        typer.Option(
            "--captions/--no-captions",
            help="Also embed every clip's captions (table texts; an index of them answers clip -> captions).",
        ),
    ] = True,
    sequences: Annotated[
        bool,
        typer.Option(
            "--sequences/--no-sequences", help="Store the sequences (float16) for `search --rerank temporal`."
        ),
    ] = True,
    batch_size: Annotated[int, typer.Option(help="Clips or sentences per forward.", min=1)] = EVAL_BATCH,
    skip_bad: SkipBad = False,
    device: DeviceChoice = "auto",
    overwrite: Overwrite = False,
) -> None:
    """Export a model's embeddings of clips, or of windows of long recordings (pooled vectors, sequences,
    ids, frames, splits, labels, captions), or of sentences, as Parquet parts plus float16 arrays: batched,
    streaming, resumable."""
    if (data is None) == (texts is None):
        raise fail("give DATA or --texts FILE (one of them)")
    if split not in (*SPLITS, "all"):
        raise fail(f"--split must be one of {' | '.join((*SPLITS, 'all'))}, got {split!r}")
    _check_window(window, stride)
    if window is not None and texts is not None:
        raise fail("--window cuts recordings: give DATA, not --texts")
    if not checkpoint.exists():
        raise fail(f"--checkpoint not found: {checkpoint}")
    with writing(out):
        try:
            meta, before = _embed(
                data,
                checkpoint,
                out,
                texts,
                split,
                window,
                stride,
                captions,
                sequences,
                batch_size,
                skip_bad,
                device,
                overwrite,
            )
        except KeyboardInterrupt:
            raise interrupted(f"the parts embedded so far are kept in {out}") from None
    counts = ", ".join(f"{v['rows']} {k}" for k, v in meta.tables.items())
    parts = sum(v["parts"] for v in meta.tables.values())
    resumed = (
        "nothing to do: every part was written before; "
        if before == parts
        else f"resumed: {before} of {parts} parts were written before; "
        if before
        else ""
    )
    console.print(
        f"{out}: {resumed}{counts} (model {meta.fingerprint}, dim {meta.dim}{', sequences' if meta.sequence else ''})",
        highlight=False,
        soft_wrap=True,
    )


def _embed(
    data, checkpoint, out, texts, split, window, stride, captions, sequences, batch_size, skip_bad, device, overwrite
):
    """``embed``'s work: the metadata written, and how many parts were already there."""
    from ..data import check_angle_match
    from ..search.embed import content_digest, embed_clips, embed_sentences, open_store
    from ..search.sources import open_clip_rows, read_sentences
    from ..search.store import TABLES, EmbeddingStore
    from ..search.windows import default_stride, embedding_plan

    with user_errors(out):
        if data is not None:
            rows, frames = checked_rows(open_clip_rows(data, split), skip_bad)
        else:
            sentences = read_sentences(texts)
        model = load_model(checkpoint, device)
        if data is not None:  # before the store is touched (--overwrite moves it)
            check_angle_match(model.config.angle, rows.angle, f"DATA: {data}")
        store = _fresh(EmbeddingStore(out), overwrite)
        sequence = sequences and model.seq_similarity is not None
        if data is None:
            meta = open_store(store, model, str(checkpoint), str(texts), sequence, content_digest(sentences))
            before = sum(len(store.parts(t)) for t in TABLES)
            with progress_bar(len(sentences), "embedding sentences") as advance:
                return embed_sentences(model, sentences, store, meta, batch_size, advance), before
        length = model.config.clip_length
        plan = embedding_plan(frames, length, window, stride)
        meta = open_store(
            store,
            model,
            str(checkpoint),
            data,
            sequence,
            content_digest(f"{rows.rows[i].id}\t{s}\t{e}" for i, s, e in plan),
            split=split,
            captions=captions,
            window=window,
            stride=(stride or default_stride(window)) if window else None,
        )
        before = sum(len(store.parts(t)) for t in TABLES)
        longer = sum(n > length for n in frames)
        if window is None and longer:
            note(
                f"{longer} of {len(frames)} clips are longer than the model's clip length {length} frames: each is "
                f"embedded from its first {length} frames (--window {length} embeds every window of them)"
            )
        with progress_bar(len(plan), "embedding clips") as advance:
            meta = embed_clips(model, rows, store, meta, batch_size, plan, advance)
        pairs = [(f"{r.id}#{j}", c) for r in rows.rows for j, c in enumerate(r.captions)] if captions else []
        if pairs:
            with progress_bar(len(pairs), "embedding captions") as advance:
                meta = embed_sentences(
                    model, [c for _, c in pairs], store, meta, batch_size, advance, ids=[i for i, _ in pairs]
                )
        return meta, before


def _check_window(window: int | None, stride: int | None) -> None:
    if window is not None and window % FRAME_MULTIPLE:
        raise fail(f"--window must be a multiple of {FRAME_MULTIPLE}, got {window}")
    if stride is not None and window is None:
        raise fail("--stride needs --window")


def checked_rows(rows, skip_bad: bool):
    """Every clip of ``rows`` read once before the model loads: ``(rows, frames)``, bad clips listed
    and refused, or with ``skip_bad`` left out (counted, the first named)."""
    from radar_text_data.check import format_problems

    from ..errors import UserError

    with progress_bar(len(rows), "checking clips") as advance:
        frames, problems = rows.check(advance)
    if problems and not skip_bad:
        raise UserError(
            f"{len(problems)} of {len(rows)} clips cannot be read; nothing was done (--skip-bad leaves "
            f"them out):\n{format_problems([p for _, p in problems])}"
        )
    if problems:
        note(f"--skip-bad: left out {len(problems)} of {len(rows)} clips that cannot be read, first: {problems[0][1]}")
        if len(problems) == len(rows):
            raise UserError("every clip was left out: nothing to do")
        bad = {i for i, _ in problems}
        rows, frames = rows.without(bad), [n for i, n in enumerate(frames) if i not in bad]
    return rows, frames


def load_model(checkpoint: Path, device: str):
    from ..distributed import resolve_device
    from ..model.seqclip import SeqClip

    return SeqClip.load_model(checkpoint, resolve_device(device))


def _fresh(store, overwrite: bool):
    """The store to write: an existing embedding directory is resumed (or moved aside with --overwrite);
    any other non-empty directory is refused."""
    from radar_views import move_aside

    from ..errors import UserError
    from ..search.store import META

    root = store.root
    if root.is_dir() and any(root.iterdir()):
        if overwrite:
            moved = move_aside(root)
            console.print(f"--overwrite: moved the previous {root} to {moved}", highlight=False)
        elif not (root / META).is_file():
            raise UserError(
                f"--out {root} exists and is not an embedding directory; choose another --out or "
                f"pass --overwrite to move it aside"
            )
    return store


def index(
    embeddings: Annotated[Path, typer.Argument(help="Embedding directory (seqclip embed).")],
    out: Annotated[Path, typer.Option(help="Index directory to write.")],
    table: Annotated[
        str, typer.Option(help="What to index: clips (search by text) | texts (clip -> captions).")
    ] = "clips",
    kind: Annotated[
        str,
        typer.Option(
            help=f"{' | '.join(INDEX_KINDS)} (auto: exact up to 200,000 vectors, "
            "then HNSW within --memory-mb, else IVF with 8-bit codes, else IVF-PQ)."
        ),
    ] = "auto",
    memory_mb: Annotated[
        float, typer.Option(help="Memory budget of the index, MiB (decides HNSW or IVF-PQ).", min=1)
    ] = 2048,
    overwrite: Overwrite = False,
) -> None:
    """Build a faiss index of an embedding directory, measuring its recall@10 against exact search."""
    if kind not in INDEX_KINDS:
        raise fail(f"--kind must be one of {' | '.join(INDEX_KINDS)}, got {kind!r}")
    if table not in ("clips", "texts"):
        raise fail(f"--table must be clips or texts, got {table!r}")
    with writing(out):
        from ..search.index import build_index

        with user_errors(out):
            info = build_index(embeddings, out, table, memory_mb, kind, overwrite=overwrite)
    console.print(
        f"{out}: {info.kind} index of {info.vectors:,} vectors of {table} (dim {info.dim}, "
        f"{info.bytes / 2**20:.1f} MiB, built in {info.build_seconds:.1f} s); recall@10 against exact "
        f"search {info.recall_at_10:.3f} on {info.queries} queries",
        highlight=False,
    )


def search(
    index_dir: Annotated[Path, typer.Argument(metavar="INDEX", help="Index directory (seqclip index).")],
    query: Annotated[str | None, typer.Argument(help="A sentence.", show_default=False)] = None,
    clip: Annotated[
        str | None,
        typer.Option(
            help="A stored clip's id (ID, or ID@START for one window of it) "
            "instead of a sentence; the clip itself is left out of its results.",
            show_default=False,
        ),
    ] = None,
    queries: Annotated[
        Path | None,
        typer.Option(
            help="A text file, one sentence a line: every line answered in one "
            "load of the model, as JSON lines {query, hits} (to --out, else "
            "standard output).",
            show_default=False,
        ),
    ] = None,
    k: Annotated[int, typer.Option("-k", "--k", help="Results.", min=1)] = 10,
    rerank: Annotated[
        str, typer.Option(help="none | temporal (re-score the top k x m by the temporal sequence similarity).")
    ] = "none",
    m: Annotated[int, typer.Option("-m", "--m", help="Candidates per result re-ranked.", min=1)] = 10,
    checkpoint: Annotated[
        Path | None, typer.Option(help="The model (default: the one the embeddings recorded).", show_default=False)
    ] = None,
    embeddings: Annotated[
        Path | None,
        typer.Option(
            help="The index's embedding directory, where it is no longer where the index recorded it.",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="JSON file of the results (JSON lines with --queries).", show_default=False)
    ] = None,
    sheet: Annotated[
        Path | None, typer.Option(help="PNG contact sheet of the hits' Doppler-time views.", show_default=False)
    ] = None,
) -> None:
    """Search an index by a sentence (or a stored clip, or a file of sentences): a table of rank, id,
    frames, score, labels, caption."""
    if sum(x is not None for x in (query, clip, queries)) != 1:
        raise fail("give a sentence, --clip ID or --queries FILE (one of them)")
    if query is not None and not query.strip():
        raise fail("the query is empty: give a sentence")
    if queries is not None and sheet is not None:
        raise fail("--sheet draws one query's hits: give a sentence or --clip, not --queries")
    check_out(out)
    check_out(sheet, "--sheet")
    from ..search.query import Searcher
    from ..search.sources import read_sentences

    with user_errors():
        sentences = read_sentences(queries, "--queries") if queries is not None else None
        searcher = Searcher(index_dir, checkpoint, embeddings=embeddings)  # read once, for the hits and the sheet
        if sentences is not None:
            found = searcher.query_many(sentences, k=k, rerank=rerank, m=m)
            _write_lines(sentences, found, out)
            return
        hits = searcher.query(query, clip=clip, k=k, rerank=rerank, m=m)
    _print_hits(hits, rerank)
    if out is not None:
        from dataclasses import asdict

        from ..files import write_text_atomic

        write_text_atomic(out, json.dumps([asdict(h) for h in hits], indent=1) + "\n")
    if sheet is not None:  # after the results: a sheet that cannot be drawn loses none of them
        from ..search.sheet import contact_sheet

        with user_errors():
            contact_sheet(searcher.store, searcher.info.table, hits, sheet, title=query or clip)
        console.print(f"wrote {sheet}", highlight=False)


def _write_lines(sentences: list[str], found: list, out: Path | None) -> None:
    from dataclasses import asdict

    lines = "".join(
        json.dumps({"query": q, "hits": [asdict(h) for h in hits]}) + "\n"
        for q, hits in zip(sentences, found, strict=True)
    )
    if out is None:
        typer.echo(lines, nl=False)
        return
    from ..files import write_text_atomic

    write_text_atomic(out, lines)
    console.print(f"wrote {len(sentences)} queries' results to {out}", highlight=False)


def _print_hits(hits, rerank: str) -> None:
    from rich.table import Table

    table = Table(
        "rank", "id", "frames", "temporal" if rerank == "temporal" else "score", "pooled", "labels", "caption / text"
    )
    for h in hits:
        frames = "" if h.start is None else f"{h.start}-{h.end}"
        table.add_row(str(h.rank), h.id, frames, f"{h.score:.3f}", f"{h.pooled:.3f}", " > ".join(h.labels), h.text)
    console.print(table)
