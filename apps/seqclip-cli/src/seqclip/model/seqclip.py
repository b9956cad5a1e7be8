"""``SeqClip``: radar encoder + text encoder + projections + logit scale + sequence similarity.

The losses are assembled in ``losses.py``; saving and loading are in ``pretrained.py``."""

from __future__ import annotations

from typing import Literal, cast, overload

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from clip_losses import ClipLoss, LogitScale, SigLipLoss
from radar_encoder import RadarEncoder
from seq_similarity import SequenceSimilarity

from ..batches import Batch
from ..config import SeqClipConfig
from ..errors import UserError
from ..timing import phase
from .features import Embeddings, Features, Losses, PreparedBatch, TextInputs
from .frozen_text import FrozenText
from .inputs import prepare
from .losses import seqclip_losses
from .pretrained import PretrainedModel
from .text import TEXT_BUCKET, TextCache, TokenCache, bucket_length, load_text_encoder, pad_tokens

__all__ = ["SeqClip"]


class SeqClip(PretrainedModel, FrozenText, nn.Module):
    """CLIP-style radar-text model with an optional sequence-level similarity loss (Sequence CLIP);
    ``save_pretrained`` / ``from_pretrained`` / ``load_model`` come from ``pretrained.PretrainedModel``."""

    config_class = SeqClipConfig

    def __init__(self, config: SeqClipConfig | None = None, _text=None) -> None:
        super().__init__()
        self.config = cfg = config or SeqClipConfig()
        self.radar_encoder = RadarEncoder(cfg.encoder_config())
        self.text_encoder, self.tokenizer = _text if _text is not None else load_text_encoder(cfg.text_model)
        if getattr(self.text_encoder, "pooler", None) is not None:
            self.text_encoder.pooler = None  # unused (mean pooling): would never receive a gradient
        hidden = self.text_encoder.config.hidden_size
        positions = getattr(self.text_encoder.config, "max_position_embeddings", None)
        if positions is not None and cfg.max_text_length > positions:
            raise UserError(
                f"max_text_length {cfg.max_text_length} exceeds the {positions} positions of text model "
                f"{cfg.text_model!r}"
            )
        enc = self.radar_encoder.config
        self.radar_proj = nn.Linear(enc.output_dim, cfg.embed_dim, bias=False)  # pooled -> shared space
        self.text_proj = nn.Linear(hidden, cfg.embed_dim, bias=False)
        # sequence projections exist only with the sequence loss (otherwise they would never learn)
        self.radar_seq_proj = nn.Linear(enc.embed_dim, cfg.embed_dim) if cfg.use_sequence_similarity else None
        self.text_seq_proj = nn.Linear(hidden, cfg.embed_dim) if cfg.use_sequence_similarity else None
        siglip = cfg.loss == "siglip"
        self.logit_scale = LogitScale(init=10.0 if siglip else 1 / cfg.init_temperature)
        self.logit_bias = nn.Parameter(torch.tensor(-10.0)) if siglip else None
        self.seq_similarity = (
            SequenceSimilarity(cfg.embed_dim, cfg.similarity, cfg.seq_temperature, window_size=cfg.window_size)
            if cfg.use_sequence_similarity
            else None
        )
        # gather_with_grad: under DDP the averaged gradients equal one process on the global batch
        self.loss_fn = SigLipLoss() if siglip else ClipLoss(gather_with_grad=True)
        self.set_text_trainable(not cfg.freeze_text, cfg.unfreeze_text_layers)
        self._text_cache: TextCache | None = None  # see cache_text
        self._token_cache: TokenCache | None = None  # see cache_tokens
        self.text_bucket, self.static_negatives = None, 0  # see static_shapes

    def train(self, mode: bool = True) -> SeqClip:
        """As ``nn.Module.train``, but the frozen part of the text encoder stays in eval mode
        (``FrozenText.keep_frozen_text_in_eval``)."""
        super().train(mode)
        if mode:
            self.keep_frozen_text_in_eval()
        return self

    def compile_parts(self) -> None:
        """``torch.compile`` the radar encoder and the sequence similarity in place (parameter
        names, and so checkpoints, are unchanged). The text encoder stays eager: its input length
        varies from batch to batch."""
        self.radar_encoder.compile(dynamic=False)
        if self.seq_similarity is not None:
            self.seq_similarity.compile(dynamic=True)

    # ------------------------------------------------------------------ encoders
    def encode_radar(
        self, range_time, doppler_time, azimuth_time, mask=None, return_sequence: bool = False, normalize: bool = True
    ) -> Embeddings:
        """``Embeddings``: pooled ``[b, d]`` (L2-normalised); with ``return_sequence`` also the projected
        sequence ``[b, n, d]`` and its mask (time or token granularity). The views are tensors or
        numpy arrays ``[b, bins, T]`` (or one clip's ``[bins, T]``) of any float dtype (float16 as
        stored on disk) and any length up to the encoder's ``max_frames``; ``mask [b, T]`` marks real
        frames. They are moved to the model's device and dtype and padded to the patch grid here."""
        views, mask = self._radar_inputs((range_time, doppler_time, azimuth_time), mask)
        out = self.radar_encoder(*views, mask=mask, return_sequence=True)
        pooled = self.radar_proj(out.pooled)  # [b, d]
        pooled = F.normalize(pooled, dim=-1) if normalize else pooled
        if not return_sequence:
            return Embeddings(pooled)
        if self.radar_seq_proj is None:
            raise ValueError("this model has no sequence projections (similarity='pooled')")
        if self.config.granularity == "time":
            seq, seq_mask = out.time_sequence, out.time_mask  # [b, T/16, d_enc]
        else:
            seq, seq_mask = out.sequence, out.sequence_mask  # [b, 8 T/16, d_enc]
        return Embeddings(pooled, self.radar_seq_proj(seq), seq_mask)  # [b, n, d]

    def _radar_inputs(self, views, mask) -> tuple[list[Tensor], Tensor | None]:
        """Views ``[b, bins, T]`` and mask ``[b, T]`` as the encoder takes them: on the model's device
        and dtype, with a batch axis, ``T`` padded up to a multiple of the patch width (mask False there).
        The mask stays ``None`` when there is no padding (SDPA's flash kernel takes no mask)."""
        weight = self.radar_proj.weight
        views = [torch.as_tensor(v).to(device=weight.device, dtype=weight.dtype) for v in views]
        one = views[0].dim() == 2
        views = [v[None] if one else v for v in views]  # [b, bins, T]
        b, frames = views[0].shape[0], views[0].shape[-1]
        pad = -frames % self.radar_encoder.config.patch_time
        if mask is None and not pad:
            return views, None
        if mask is None:
            mask = torch.ones(b, frames, dtype=torch.bool, device=weight.device)
        mask = torch.as_tensor(mask).to(device=weight.device, dtype=torch.bool)
        mask = mask[None] if one and mask.dim() == 1 else mask  # [b, T]
        if pad:
            views = [F.pad(v, (0, pad)) for v in views]
            mask = F.pad(mask, (0, pad), value=False)
        return views, mask

    def tokenize(self, texts: list[str], device: torch.device | None = None) -> TextInputs:
        """The tokenizer's tensors ``[b, l]`` (padded to the longest caption, cut at ``max_text_length``,
        then to a multiple of ``text_bucket`` when set), from the token cache when one is on
        (``cache_tokens``: the same tensors)."""
        _check_captions(texts)
        if self._token_cache is not None:
            tok = self._token_cache(list(texts))
        else:
            tok = self.tokenizer(
                list(texts),
                padding=True,
                truncation=True,
                max_length=self.config.max_text_length,
                return_tensors="pt",
                return_special_tokens_mask=True,
            )
        if self.text_bucket:
            tok = pad_tokens(
                tok,
                self.tokenizer,
                bucket_length(tok["input_ids"].shape[1], self.text_bucket, self.config.max_text_length),
            )
        device = device or next(self.parameters()).device
        return cast(TextInputs, {k: v.to(device) for k, v in tok.items()})

    def static_shapes(self, text_bucket: int | None = TEXT_BUCKET, negatives: int = 0) -> None:
        """Shapes a compiled training step can keep (``prepare``): token tensors padded to a multiple of
        ``text_bucket`` (capped at ``max_text_length``), and order negatives padded to ``negatives``
        rows (left out of the loss) and tokenised with the captions as one text batch. Padding is
        masked: the losses are those without it. ``text_bucket=None`` switches it off."""
        self.text_bucket, self.static_negatives = text_bucket, negatives if text_bucket else 0

    def cache_tokens(self, enabled: bool = True) -> None:
        """Tokenise each caption once (``text.TokenCache``); batches get the same tensors as without."""
        self._token_cache = TokenCache(self.tokenizer, self.config.max_text_length) if enabled else None

    def _encode_tokens(self, tok: TextInputs) -> tuple[Tensor, Tensor, Tensor]:
        """Token tensors -> (hidden ``[b, l, h]``, attention, special-token masks ``[b, l]``). SDPA gets the
        padding mask as ``[b, 1, 1, l]``, so that transformers does not test it on the host."""
        attn = tok["attention_mask"].bool()
        sdpa = getattr(self.text_encoder.config, "_attn_implementation", None) == "sdpa"
        extra = {k: v for k, v in tok.items() if k not in ("input_ids", "attention_mask", "special_tokens_mask")}
        hidden = self.text_encoder(
            input_ids=tok["input_ids"], attention_mask=attn[:, None, None, :] if sdpa else attn, **extra
        ).last_hidden_state  # [b, l, h]
        return hidden, attn, tok["special_tokens_mask"].bool()

    def encode_text(self, texts: list[str], return_sequence: bool = False, normalize: bool = True) -> Embeddings:
        """``Embeddings``: pooled ``[b, d]`` (mean over real tokens, projected, L2-normalised); with
        ``return_sequence`` also ``[b, l, d]`` and a mask that excludes padding, [CLS] and [SEP]."""
        _check_captions(texts)  # cached captions skip the tokenizer and its check
        return self._text_embeddings(*self._text_hidden(texts), return_sequence, normalize)

    def _text_embeddings(
        self, hidden: Tensor, attn: Tensor, special: Tensor, return_sequence: bool, normalize: bool = True
    ) -> Embeddings:
        mean = (hidden * attn[..., None]).sum(1) / attn.sum(1, keepdim=True).clamp_min(
            1
        )  # sentence-transformers pooling
        pooled = self.text_proj(mean)
        pooled = F.normalize(pooled, dim=-1) if normalize else pooled
        if not return_sequence:
            return Embeddings(pooled)
        if self.text_seq_proj is None:
            raise ValueError("this model has no sequence projections (similarity='pooled')")
        words = attn & ~special
        words = torch.where(words.any(1, keepdim=True), words, attn)  # an empty caption keeps its specials
        return Embeddings(pooled, self.text_seq_proj(hidden), words)  # [b, l, d]

    get_radar_features = encode_radar
    get_text_features = encode_text

    # ------------------------------------------------------------------ training forward
    def prepare(self, batch: Batch) -> PreparedBatch:
        """The host's half of a training forward (``inputs.prepare``): captions as token tensors, all on
        the model's device. ``features`` / ``forward`` on the result never read the host."""
        return prepare(self, batch)

    def features(self, batch: Batch | PreparedBatch) -> Features:
        """``Features`` of a batch: pooled ``radar`` / ``text`` ``[b, d]``; with a sequence loss the
        projected sequences and their masks; with order negatives in the batch, their text features
        under ``reversed_`` and the ids that say which negative describes which row.
        ``batch``: a ``prepare``d batch (one of the data path is prepared here)."""
        if "text" not in batch:
            batch = self.prepare(batch)
        need_seq = self.seq_similarity is not None
        with phase("radar"):
            radar = self.encode_radar(
                batch["range_time"],
                batch["doppler_time"],
                batch["azimuth_time"],
                batch.get("mask"),
                return_sequence=need_seq,
            )
        text = self._encode_inputs(batch["text"])  # [b (+ m), d]
        b = radar.pooled.shape[0]
        negatives = None
        if "reversed_valid" in batch:  # static shapes: the order negatives follow the captions
            text, negatives = _rows(text, slice(None, b)), _rows(text, slice(b, None))
        feats: Features = {"radar": radar.pooled, "text": text.pooled}
        if text.sequence is not None and text.mask is not None:
            feats["text_seq"], feats["text_mask"] = text.sequence, text.mask
        if radar.sequence is not None and radar.mask is not None:
            feats["radar_seq"], feats["radar_mask"] = radar.sequence, radar.mask
        if "sequence_ids" in batch:
            feats["sequence_ids"] = batch["sequence_ids"]
        if "reversed_valid" in batch:
            feats["reversed_valid"] = batch["reversed_valid"]
        if "reversed_text" in batch:
            negatives = self._encode_inputs(batch["reversed_text"])  # [m, d]
        if negatives is not None:
            feats["reversed_text"] = negatives.pooled
            if negatives.sequence is not None and negatives.mask is not None:
                feats["reversed_text_seq"], feats["reversed_text_mask"] = negatives.sequence, negatives.mask
            feats["reversed_sequence_ids"] = batch["reversed_sequence_ids"]
        return feats

    def _encode_inputs(self, tokens: TextInputs) -> Embeddings:
        """``encode_text`` of captions already tokenised (or run through the text cache: ``hidden``)."""
        with phase("text"):
            if "hidden" in tokens:
                attn = tokens["attention_mask"]
                hidden = (self.text_top(tokens["hidden"], attn), attn, tokens["special_tokens_mask"])
            else:
                hidden = self._encode_tokens(tokens)
            return self._text_embeddings(*hidden, return_sequence=self.seq_similarity is not None)

    @overload
    def forward(self, batch: Batch | PreparedBatch, return_features: Literal[False] = False) -> Losses: ...

    @overload
    def forward(self, batch: Batch | PreparedBatch, return_features: Literal[True]) -> Features: ...

    def forward(self, batch: Batch | PreparedBatch, return_features: bool = False) -> Losses | Features:
        """``Losses`` of a batch (see ``losses``; ``batch`` raw or ``prepare``d); ``return_features``: the
        ``features`` alone (gradient accumulation runs them through the DDP wrapper and computes the
        loss on the whole group)."""
        if "text" not in batch:
            batch = self.prepare(batch)
        feats = self.features(batch)
        return feats if return_features else seqclip_losses(self, feats, batch.get("sample_ids"))

    def extra_repr(self) -> str:
        n = sum(p.numel() for p in self.parameters())
        return f"params={n / 1e6:.1f}M, loss={self.config.loss}, similarity={self.config.similarity}"


def _rows(e: Embeddings, rows: slice) -> Embeddings:
    """The ``rows`` of each of ``e``'s tensors."""
    return Embeddings(
        e.pooled[rows], None if e.sequence is None else e.sequence[rows], None if e.mask is None else e.mask[rows]
    )


def _check_captions(texts: list[str]) -> None:
    if not texts or any(not isinstance(t, str) or not t.strip() for t in texts):
        raise ValueError("captions must be a non-empty list of non-empty strings")
