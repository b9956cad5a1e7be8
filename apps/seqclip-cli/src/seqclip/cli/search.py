"""``seqclip embed`` / ``index`` / ``search`` / ``predict``: a trained model on a researcher's own
recordings (thin commands over ``seqclip.search``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from radar_text_data.contract import SPLITS  # standard library only

from ..config import EVAL_BATCH, Device
from ..recognition import DEFAULT_PROMPTS, PROMPT_CHOICES, descriptions_problem
from .common import Overwrite, check_out, choice, console, fail, progress_bar, user_errors, writing

__all__ = ["embed", "index", "search", "predict"]

INDEX_KINDS = ("auto", "flat", "hnsw", "ivfsq", "ivfpq")  # search.index.INDEX_KINDS (torch-free here)
Checkpoint = Annotated[Path, typer.Option(help="Run directory (best/, else its latest checkpoint) or a saved model "
                                          "directory.")]


def embed(
    data: Annotated[str | None, typer.Argument(help="Dataset directory, shard spec, or a folder of .npz view files.",
                                               show_default=False)] = None,
    checkpoint: Checkpoint = ...,
    out: Annotated[Path, typer.Option(help="Embedding directory to write (the same command again resumes it).")] = ...,
    texts: Annotated[Path | None, typer.Option(help="A text file, one sentence a line, embedded instead of clips.",
                                               show_default=False)] = None,
    split: Annotated[str, typer.Option(help=f"Dataset split: {' | '.join(SPLITS)} | all.")] = "all",
    captions: Annotated[bool, typer.Option("--captions/--no-captions", help="Also embed every clip's captions "
                                           "(table texts; an index of them answers clip -> captions).")] = True,
    sequences: Annotated[bool, typer.Option("--sequences/--no-sequences", help="Store the sequences (float16) for "
                                            "`search --rerank temporal`.")] = True,
    batch_size: Annotated[int, typer.Option(help="Clips or sentences per forward.", min=1)] = EVAL_BATCH,
    device: Annotated[Device, typer.Option(help="Device.")] = "auto",
    overwrite: Overwrite = False,
) -> None:
    """Export a model's embeddings of clips (pooled vectors, sequences, ids, splits, labels, captions) or
    of sentences, as Parquet parts plus float16 arrays: batched, streaming, resumable."""
    if (data is None) == (texts is None):
        raise fail("give DATA or --texts FILE (one of them)")
    if split not in (*SPLITS, "all"):
        raise fail(f"--split must be one of {' | '.join((*SPLITS, 'all'))}, got {split!r}")
    if not checkpoint.exists():
        raise fail(f"--checkpoint not found: {checkpoint}")
    with writing(out):
        from ..search.embed import embed_clips, embed_sentences, open_store
        from ..search.sources import open_clip_rows, read_sentences
        from ..search.store import EmbeddingStore

        with user_errors(out):
            rows = open_clip_rows(data, split) if data is not None else None
            sentences = read_sentences(texts) if texts is not None else None
            model = _load(checkpoint, device)
            store = _fresh(EmbeddingStore(out), overwrite)
            meta = open_store(store, model, str(checkpoint), str(data or texts), sequences and model.seq_similarity is not None)
            batch = batch_size
            if rows is not None:
                with progress_bar(len(rows), "embedding clips") as advance:
                    meta = embed_clips(model, rows, store, meta, batch, advance)
                if captions:
                    pairs = [(f"{r.id}#{j}", c) for r in rows.rows for j, c in enumerate(r.captions)]
                    if pairs:
                        with progress_bar(len(pairs), "embedding captions") as advance:
                            meta = embed_sentences(model, [c for _, c in pairs], store, meta, batch, advance,
                                                   ids=[i for i, _ in pairs])
            else:
                with progress_bar(len(sentences), "embedding sentences") as advance:
                    meta = embed_sentences(model, sentences, store, meta, batch, advance)
    counts = ", ".join(f"{v['rows']} {k}" for k, v in meta.tables.items())
    console.print(f"{out}: {counts} (model {meta.fingerprint}, dim {meta.dim}"
                  f"{', sequences' if meta.sequence else ''})", highlight=False)


def _load(checkpoint: Path, device: str):
    from ..distributed import resolve_device
    from ..model.seqclip import SeqClip

    return SeqClip.load_model(checkpoint, resolve_device(device))


def _fresh(store, overwrite: bool):
    """The store to write: an existing embedding directory is resumed (or moved aside with --overwrite);
    any other non-empty directory is refused."""
    from radar_views import move_aside

    from ..errors import UserError

    root = store.root
    if root.is_dir() and any(root.iterdir()):
        if overwrite:
            moved = move_aside(root)
            console.print(f"--overwrite: moved the previous {root} to {moved}", highlight=False)
        elif not (root / "embeddings.json").is_file():
            raise UserError(f"--out {root} exists and is not an embedding directory; choose another --out or "
                            f"pass --overwrite to move it aside")
    return store


def index(
    embeddings: Annotated[Path, typer.Argument(help="Embedding directory (seqclip embed).")],
    out: Annotated[Path, typer.Option(help="Index directory to write.")],
    table: Annotated[str, typer.Option(help="What to index: clips (search by text) | texts (clip -> captions).")
                     ] = "clips",
    kind: Annotated[str, typer.Option(help=f"{' | '.join(INDEX_KINDS)} (auto: exact up to 200,000 vectors, "
                                      "then HNSW within --memory-mb, else IVF with 8-bit codes, else IVF-PQ).")
                    ] = "auto",
    memory_mb: Annotated[float, typer.Option(help="Memory budget of the index, MiB (decides HNSW or IVF-PQ).",
                                             min=1)] = 2048,
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
    console.print(f"{out}: {info.kind} index of {info.vectors:,} vectors of {table} (dim {info.dim}, "
                  f"{info.bytes / 2**20:.1f} MiB, built in {info.build_seconds:.1f} s); recall@10 against exact "
                  f"search {info.recall_at_10:.3f} on {info.queries} queries", highlight=False)


def search(
    index_dir: Annotated[Path, typer.Argument(metavar="INDEX", help="Index directory (seqclip index).")],
    query: Annotated[str | None, typer.Argument(help="A sentence.", show_default=False)] = None,
    clip: Annotated[str | None, typer.Option(help="A stored clip's id instead of a sentence.", show_default=False)
                    ] = None,
    k: Annotated[int, typer.Option("-k", "--k", help="Results.", min=1)] = 10,
    rerank: Annotated[str, typer.Option(help="none | temporal (re-score the top k x m by the temporal sequence "
                                        "similarity).")] = "none",
    m: Annotated[int, typer.Option(help="Candidates per result re-ranked.", min=1)] = 10,
    checkpoint: Annotated[Path | None, typer.Option(help="The model (default: the one the embeddings recorded).",
                                                    show_default=False)] = None,
    out: Annotated[Path | None, typer.Option(help="JSON file of the results.", show_default=False)] = None,
    sheet: Annotated[Path | None, typer.Option(help="PNG contact sheet of the hits' Doppler-time views.",
                                               show_default=False)] = None,
) -> None:
    """Search an index by a sentence (or a stored clip): a table of rank, id, score, labels, caption."""
    check_out(out)
    check_out(sheet, "--sheet")
    from ..search.query import Searcher

    with user_errors():
        searcher = Searcher(index_dir, checkpoint)  # the index is read once, for the hits and the sheet
        hits = searcher.query(query, clip, k, rerank, m)
        if sheet is not None:
            from ..search.sheet import contact_sheet

            contact_sheet(searcher.info, hits, sheet, title=query or clip)
    _print_hits(hits, rerank)
    if out is not None:
        from dataclasses import asdict

        from radar_views import atomic_write

        atomic_write(out, (json.dumps([asdict(h) for h in hits], indent=1) + "\n").encode())


def _print_hits(hits, rerank: str) -> None:
    from rich.table import Table

    table = Table("rank", "id", "temporal" if rerank == "temporal" else "score", "pooled", "labels", "caption / text")
    for h in hits:
        table.add_row(str(h.rank), h.id, f"{h.score:.3f}", f"{h.pooled:.3f}", " > ".join(h.labels), h.text)
    console.print(table)


def predict(
    data: Annotated[str, typer.Argument(help="Dataset directory, shard spec, or a folder of .npz view files.")],
    checkpoint: Checkpoint = ...,
    classes: Annotated[Path, typer.Option(help="Candidate classes: a text file (one a line) or JSON {class: phrase} / "
                                          "{class: [prompt, ...]}, as `seqclip eval --task zeroshot` takes them.")] = ...,
    templates: Annotated[Path | None, typer.Option(help="Prompt templates, one a line with {} for the class phrase.",
                                                   show_default=False)] = None,
    k: Annotated[int, typer.Option("-k", "--k", help="Labels per clip or window.", min=1)] = 3,
    window: Annotated[int | None, typer.Option(help="Label long recordings window by window: frames per window "
                                               "(a multiple of 16). [default: one label set per clip]",
                                               show_default=False)] = None,
    stride: Annotated[int | None, typer.Option(help="With --window: frames between window starts. [default: half "
                                               "the window]", show_default=False, min=1)] = None,
    unseen: Annotated[str | None, typer.Option(help="Classes never seen in training, comma-separated: --gamma is "
                                               "subtracted from the others' scores.", show_default=False)] = None,
    gamma: Annotated[float, typer.Option(help="Calibrated stacking: subtracted from seen classes' scores.")] = 0.0,
    prompts: Annotated[str, typer.Option(help=f"Prompts from the class {' | '.join(PROMPT_CHOICES)}, as `seqclip eval "
                                         "--task zeroshot --prompts` takes them.",
                                         callback=choice("prompts", PROMPT_CHOICES))] = DEFAULT_PROMPTS,
    split: Annotated[str, typer.Option(help=f"Dataset split: {' | '.join(SPLITS)} | all.")] = "all",
    out: Annotated[Path | None, typer.Option(help="Results: .json or .csv (id, start, end, label, score, ...).",
                                             show_default=False)] = None,
    strips: Annotated[Path | None, typer.Option(help="With --window: a directory for one PNG per recording (its "
                                                "labels over its Doppler-time view).", show_default=False)] = None,
    device: Annotated[Device, typer.Option(help="Device.")] = "auto",
) -> None:
    """Zero-shot labels (top k with scores) for unlabelled clips, or a timeline per long recording."""
    from radar_text_data.contract import FRAME_MULTIPLE

    if window is not None and window % FRAME_MULTIPLE:
        raise fail(f"--window must be a multiple of {FRAME_MULTIPLE}, got {window}")
    if (stride is not None or strips is not None) and window is None:
        raise fail("--stride and --strips need --window")
    if out is not None and out.suffix not in (".json", ".csv"):
        raise fail(f"--out {out}: give a .json or .csv file")
    check_out(out)
    if not checkpoint.exists():
        raise fail(f"--checkpoint not found: {checkpoint}")
    from radar_text_data.classes import parse_class_names, read_classes, read_templates

    from ..search.predict import predict as run_predict
    from ..search.sources import open_clip_rows

    with user_errors():
        cands, temps = read_classes(classes), read_templates(templates) if templates else None
        names = parse_class_names(unseen, "--unseen") if unseen else []
        problem = descriptions_problem(prompts, cands, str(classes))
        if problem:
            raise fail(problem)
        rows = open_clip_rows(data, split)
        model = _load(checkpoint, device)
        with progress_bar(len(rows), "predicting") as advance:
            found = run_predict(model, rows, cands, temps, k, window, stride, names, gamma, advance=advance,
                                prompts=prompts)
        if strips is not None:
            _strips(rows, found, strips)
    _report(found, out)


def _strips(rows, found, directory: Path) -> None:
    from ..plots import plot_timeline

    by_id: dict[str, list] = {}
    for w in found:
        by_id.setdefault(w.id, []).append((w.start, w.end, w.labels[0], w.scores[0]))
    for i, row in enumerate(rows.rows):
        name = row.id.replace("/", "_")
        plot_timeline(rows.views(i)["doppler_time"], by_id[row.id], row.id, directory / f"{name}.png")


def _report(found, out: Path | None) -> None:
    from rich.table import Table

    table = Table("id", "frames", "labels (scores)")
    for w in found[:50]:
        table.add_row(w.id, f"{w.start}-{w.end}", ", ".join(f"{lab} ({s:.3f})" for lab, s in zip(w.labels, w.scores,
                                                                                                   strict=True)))
    console.print(table)
    if len(found) > 50:
        console.print(f"... {len(found) - 50} more rows{'' if out else ' (--out writes them all)'}")
    if out is None:
        return
    from ..files import write_text_atomic

    rows = [{"id": w.id, "start": w.start, "end": w.end, "label": w.labels[0], "score": w.scores[0],
             "labels": w.labels, "scores": w.scores} for w in found]
    if out.suffix == ".json":
        write_text_atomic(out, json.dumps(rows, indent=1) + "\n")
    else:
        import csv
        import io

        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["id", "start", "end", "label", "score", "labels", "scores"])
        for r in rows:
            writer.writerow([r["id"], r["start"], r["end"], r["label"], f"{r['score']:.6f}", "|".join(r["labels"]),
                             "|".join(f"{s:.6f}" for s in r["scores"])])
        write_text_atomic(out, buf.getvalue())
    console.print(f"wrote {out}")
