"""Pictures of search results: a contact sheet of the hits' Doppler-time views (a PNG)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from radar_views import current_umask

from ..errors import UserError
from .index import IndexInfo
from .sources import open_clip_rows
from .store import EmbeddingStore

__all__ = ["contact_sheet"]


def contact_sheet(info: IndexInfo, hits: list, out: str | Path, title: str) -> Path:
    """One row: the query, then each hit's Doppler-time view titled with its rank, id and score, read
    from the data the embeddings of index ``info`` (``Searcher.info``) were made of; written beside
    ``out`` and renamed into place."""
    from ..plots import plot_retrieval_examples

    if info.table != "clips":
        raise UserError("--sheet shows clips: this index holds sentences")
    rows = open_clip_rows(EmbeddingStore(info.embeddings).read_meta().source)
    where = {r.id: i for i, r in enumerate(rows.rows)}
    found = [(rows.views(where[h.id])["doppler_time"], f"{h.rank}. {h.id} ({h.score:.2f})") for h in hits
             if h.id in where]
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
