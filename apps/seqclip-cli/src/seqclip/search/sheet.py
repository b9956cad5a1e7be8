"""Pictures of search results: a contact sheet of the hits' Doppler-time views (a PNG)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from radar_views import current_umask

from ..errors import UserError
from ..files import is_pattern, recorded_path
from .sources import open_clip_rows
from .store import META, EmbeddingStore

__all__ = ["contact_sheet"]


def contact_sheet(store: EmbeddingStore, table: str, hits: list, out: str | Path, title: str) -> Path:
    """One row: the query, then each hit's Doppler-time view (the frames its vector covers) titled
    with its rank, id and score, read from the data that ``store`` (a ``Searcher``'s embeddings, of
    index table ``table``) was made of; written beside ``out`` and renamed into place."""
    from ..plots import plot_retrieval_examples

    if table != "clips":
        raise UserError("sheet: a contact sheet shows clips, and this index holds sentences")
    meta = store.read_meta()
    source = recorded_path(meta.source, store.root)
    if not is_pattern(source) and not Path(source).exists():
        raise UserError(
            f"--sheet: the data recorded in {store.root / META} ({meta.source!r}, that is {source}) are missing"
        )
    rows = open_clip_rows(source)
    where = {r.id: i for i, r in enumerate(rows.rows)}
    found = [
        (rows.views(where[h.id])["doppler_time"][:, h.start or 0 : h.end], f"{h.rank}. {_name(h)} ({h.score:.2f})")
        for h in hits
        if h.id in where
    ]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".png")
    os.close(fd)
    try:
        plot_retrieval_examples([(title, found)], tmp)
        os.chmod(tmp, 0o666 & ~current_umask())  # the mode a plain open gives (mkstemp makes 0600)
        os.replace(tmp, out)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return out


def _name(hit) -> str:
    """A hit's id, with the frames its vector covers where the embeddings record them."""
    return hit.id if hit.start is None else f"{hit.id} [{hit.start}-{hit.end})"
