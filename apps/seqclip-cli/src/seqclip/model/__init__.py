"""The model: ``SeqClip`` and what it returns, its losses, the text side and its saved files."""

from .._lazy import lazy_exports

__all__ = [
    "SeqClip",
    "Embeddings",
    "PreparedBatch",
    "Features",
    "Losses",
    "seqclip_losses",
    "PretrainedModel",
    "load_text_encoder",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "SeqClip": "seqclip",
        "Embeddings": "features",
        "PreparedBatch": "features",
        "Features": "features",
        "Losses": "features",
        "seqclip_losses": "losses",
        "PretrainedModel": "pretrained",
        "load_text_encoder": "text",
    },
)
