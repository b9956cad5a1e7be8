"""Which part of the text tower trains (``FrozenText``, a ``SeqClip`` mixin): all of it, none of it
(LiT-style), or its top layers only; and the cache of the frozen part's output, computed once per
caption, with the trainable top layers running on it at every step."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import Tensor

from ..config import SeqClipConfig
from ..errors import UserError
from .features import TextInputs
from .text import TextCache, bucket_length, layer_mask, run_layers, stem_hidden, text_layers

__all__ = ["FrozenText"]


class FrozenText:
    """Freezing and the frozen-output cache of ``SeqClip``'s text encoder (``text_encoder``, ``config``,
    ``tokenize``, ``_encode_tokens``, ``_text_cache`` and ``text_bucket`` are the model's)."""

    # the model's, declared for the type checker
    text_encoder: Any  # a Hugging Face BERT-like encoder
    config: SeqClipConfig
    text_bucket: int | None
    _text_cache: TextCache | None

    if TYPE_CHECKING:

        def tokenize(self, texts: list[str], device: torch.device | None = None) -> TextInputs: ...

        def _encode_tokens(self, tok: TextInputs) -> tuple[Tensor, Tensor, Tensor]: ...

    def set_text_trainable(self, trainable: bool, top_layers: int = 0) -> None:
        """Freeze / unfreeze the text encoder; when frozen, keep its top ``top_layers`` layers trainable
        (as many as it has, or more: all of it, the embeddings too)."""
        for p in self.text_encoder.parameters():
            p.requires_grad_(trainable)
        if not trainable and top_layers > 0:
            self.unfreeze_text_layers(top_layers)

    def freeze_text(self) -> None:
        self.set_text_trainable(False)

    def unfreeze_text_layers(self, n: int) -> None:
        """The top ``n`` layers train; ``n`` at least the layer count: every layer and the embeddings."""
        layers = list(text_layers(self.text_encoder))
        for part in [self.text_encoder] if n >= len(layers) else layers[-n:]:
            for p in part.parameters():
                p.requires_grad_(True)

    def frozen_text_depth(self) -> int | None:
        """How many of the text encoder's lower layers are frozen with its embeddings (all of them for a
        fully frozen encoder); None when the embeddings train."""
        if any(p.requires_grad for p in self.text_encoder.embeddings.parameters()):
            return None
        depth = 0
        for layer in text_layers(self.text_encoder):
            if any(p.requires_grad for p in layer.parameters()):
                break
            depth += 1
        return depth

    def keep_frozen_text_in_eval(self) -> None:
        """The frozen part of the text encoder (all of it, or its embeddings and lower layers) in eval
        mode: no dropout, so its output is a function of the caption, as its cache holds it."""
        trainable = [p.requires_grad for p in self.text_encoder.parameters()]
        if all(trainable):
            return
        if not any(trainable):
            self.text_encoder.eval()
            return
        for part in (self.text_encoder.embeddings, *text_layers(self.text_encoder)):
            if not any(p.requires_grad for p in part.parameters()):
                part.eval()

    def cache_text(self, enabled: bool = True, max_bytes: int | None = None) -> None:
        """Keep each caption's output of the frozen part of the text encoder once computed (``text.TextCache``,
        at most ``max_bytes``): of the whole encoder when it is frozen (LiT-style), else of its embeddings
        and frozen lower layers, the trainable top layers running on it at every step. A cached caption's
        features equal a fresh forward's up to float rounding (its batch padding may differ)."""
        if enabled and self.frozen_text_depth() is None:
            raise UserError(
                "the text cache needs a frozen text encoder, or its frozen embeddings and lower layers "
                "(freeze_text, unfreeze_text_layers)"
            )
        self._text_cache = TextCache(max_bytes) if enabled else None

    @property
    def text_cache(self) -> TextCache | None:
        """The cache of the frozen part's output (``cache_text``), or None."""
        return self._text_cache

    def _cache_and_depth(self) -> tuple[TextCache, int]:
        """The text cache and how many lower layers it holds the output of (``cache_text`` first)."""
        cache, depth = self._text_cache, self.frozen_text_depth()
        assert cache is not None and depth is not None, "cache_text() first"
        return cache, depth

    def fill_text_cache(
        self, texts: list[str], batch_size: int = 64, advance: Callable[[int], None] = lambda n: None
    ) -> int:
        """The frozen part's output of each of ``texts`` not yet cached, computed ``batch_size`` at a time
        (shortest first: little padding) while the cache has room; returns how many captions it holds."""
        cache, depth = self._cache_and_depth()
        todo = sorted({t for t in texts if t not in cache.entries}, key=lambda t: (len(t), t))
        with torch.no_grad():
            for begin in range(0, len(todo), batch_size):
                if cache.max_bytes is not None and cache.bytes >= cache.max_bytes:
                    break
                chunk = todo[begin : begin + batch_size]
                cache(chunk, lambda t: self._encode_stem(self.tokenize(t), depth))
                advance(len(chunk))
        return len(cache)

    def _text_hidden(self, texts: list[str]) -> tuple[Tensor, Tensor, Tensor]:
        """The text encoder's output ``[b, l, h]``, the attention mask and the special-token mask ``[b, l]``."""
        if self._text_cache is None:
            return self._encode_tokens(self.tokenize(texts))
        hidden, attn, special = self.cached_text(texts)
        return self.text_top(hidden, attn), attn, special

    def cached_text(self, texts: list[str]) -> tuple[Tensor, Tensor, Tensor]:
        """The frozen part's cached output ``[b, l, h]`` (computed for captions not yet cached) and the
        attention and special-token masks ``[b, l]``, padded to the batch's longest caption (or its bucket)."""
        cache, depth = self._cache_and_depth()
        hidden, attn, special = cache(texts, lambda t: self._encode_stem(self.tokenize(t), depth))
        if self.text_bucket:
            length = bucket_length(hidden.shape[1], self.text_bucket, self.config.max_text_length)
            hidden, attn, special = (
                F.pad(hidden, (0, 0, 0, length - hidden.shape[1])),
                F.pad(attn, (0, length - attn.shape[1])),
                F.pad(special, (0, length - special.shape[1])),
            )
        return hidden, attn, special

    def text_top(self, hidden: Tensor, attn: Tensor) -> Tensor:
        """The trainable top layers on the frozen part's output ``hidden [b, l, h]`` (none: unchanged)."""
        layers = list(text_layers(self.text_encoder))
        depth = self.frozen_text_depth()
        if depth is None or depth == len(layers):
            return hidden
        return run_layers(layers[depth:], hidden, layer_mask(self.text_encoder, hidden, attn))

    def _encode_stem(self, tok: TextInputs, depth: int) -> tuple[Tensor, Tensor, Tensor]:
        """``_encode_tokens`` of the embeddings and first ``depth`` layers only (all: the full forward)."""
        if depth == len(text_layers(self.text_encoder)):
            return self._encode_tokens(tok)
        return (
            stem_hidden(self.text_encoder, tok, depth),
            tok["attention_mask"].bool(),
            tok["special_tokens_mask"].bool(),
        )
