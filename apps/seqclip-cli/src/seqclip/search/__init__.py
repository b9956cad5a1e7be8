"""Using a trained model on one's own recordings: ``embed`` (vectors and sequences of clips or
sentences into an embedding directory), ``build_index`` (faiss, exact or approximate, its recall
measured), ``search`` (a sentence against the index, re-ranked by the temporal sequence score) and
``predict`` (zero-shot labels, over time for long recordings)."""

from .._lazy import lazy_exports

__all__ = [
    "embed_clips",
    "embed_sentences",
    "EmbeddingStore",
    "build_index",
    "load_index",
    "IndexInfo",
    "search",
    "Searcher",
    "Hit",
    "open_clip_rows",
    "contact_sheet",
]

_WHERE = {
    "embed_clips": "embed",
    "embed_sentences": "embed",
    "EmbeddingStore": "store",
    "build_index": "index",
    "load_index": "index",
    "IndexInfo": "index",
    "search": "query",
    "Searcher": "query",
    "Hit": "query",
    "open_clip_rows": "sources",
    "contact_sheet": "sheet",
}
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
