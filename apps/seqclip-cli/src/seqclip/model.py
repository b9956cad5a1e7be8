"""``SeqClip``: radar encoder + text encoder + projections + logit scale + sequence similarity + losses."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from clip_losses import ClipLoss, LogitScale, SigLipLoss, pair_logits, sequence_loss
from radar_encoder import RadarEncoder
from radar_views import VIEW_NAMES, current_umask
from seq_similarity import SequenceSimilarity

from .config import SeqClipConfig
from .files import make_temp_dir
from .text import load_text_encoder
from .timing import phase

__all__ = ["SeqClip", "RadarBatch", "cat_features", "CheckpointError"]


class CheckpointError(ValueError):
    """A saved model that cannot be read (corrupt or foreign files); the message names the file."""

RadarBatch = dict  # keys: range_time, doppler_time, azimuth_time [b, bins, T], mask [b, T], captions, sample_ids


class SeqClip(nn.Module):
    """CLIP-style radar-text model with an optional sequence-level similarity loss (Sequence CLIP)."""

    def __init__(self, config: SeqClipConfig | None = None, _text=None) -> None:
        super().__init__()
        self.config = cfg = config or SeqClipConfig()
        self.radar_encoder = RadarEncoder(cfg.encoder_config())
        self.text_encoder, self.tokenizer = _text if _text is not None else load_text_encoder(cfg.text_model)
        if getattr(self.text_encoder, "pooler", None) is not None:
            self.text_encoder.pooler = None  # unused (mean pooling): would never receive a gradient
        hidden = self.text_encoder.config.hidden_size
        enc = self.radar_encoder.config
        self.radar_proj = nn.Linear(enc.output_dim, cfg.embed_dim, bias=False)  # pooled -> shared space
        self.text_proj = nn.Linear(hidden, cfg.embed_dim, bias=False)
        # sequence projections exist only with the sequence loss (otherwise they would never learn)
        self.radar_seq_proj = nn.Linear(enc.embed_dim, cfg.embed_dim) if cfg.use_sequence_similarity else None
        self.text_seq_proj = nn.Linear(hidden, cfg.embed_dim) if cfg.use_sequence_similarity else None
        siglip = cfg.loss == "siglip"
        self.logit_scale = LogitScale(init=10.0 if siglip else 1 / cfg.init_temperature)
        self.logit_bias = nn.Parameter(torch.tensor(-10.0)) if siglip else None
        self.seq_similarity = (SequenceSimilarity(cfg.embed_dim, cfg.similarity, cfg.seq_temperature,
                                                  window_size=cfg.window_size)
                               if cfg.use_sequence_similarity else None)
        # gather_with_grad: under DDP the averaged gradients equal one process on the global batch
        self.loss_fn = SigLipLoss() if siglip else ClipLoss(gather_with_grad=True)
        self.set_text_trainable(not cfg.freeze_text, cfg.unfreeze_text_layers)
        self._text_cache: dict[str, tuple[Tensor, Tensor]] | None = None  # see cache_text

    # ------------------------------------------------------------------ text encoder freezing
    def set_text_trainable(self, trainable: bool, top_layers: int = 0) -> None:
        """Freeze / unfreeze the text encoder; when frozen, keep its top ``top_layers`` layers trainable."""
        for p in self.text_encoder.parameters():
            p.requires_grad_(trainable)
        if not trainable and top_layers > 0:
            self.unfreeze_text_layers(top_layers)

    def train(self, mode: bool = True) -> SeqClip:
        """As ``nn.Module.train``, but a fully frozen text encoder stays in eval mode (no dropout)."""
        super().train(mode)
        if mode and not any(p.requires_grad for p in self.text_encoder.parameters()):
            self.text_encoder.eval()
        return self

    def freeze_text(self) -> None:
        self.set_text_trainable(False)

    def unfreeze_text_layers(self, n: int) -> None:
        layers = getattr(getattr(self.text_encoder, "encoder", None), "layer", None)
        if layers is None:
            raise ValueError(f"cannot find transformer layers in {type(self.text_encoder).__name__}")
        for layer in list(layers)[-n:]:
            for p in layer.parameters():
                p.requires_grad_(True)

    def compile_parts(self) -> None:
        """``torch.compile`` the radar encoder and the sequence similarity in place (parameter
        names, and so checkpoints, are unchanged). The text encoder stays eager: its input length
        varies from batch to batch."""
        self.radar_encoder.compile(dynamic=False)
        if self.seq_similarity is not None:
            self.seq_similarity.compile(dynamic=True)

    # ------------------------------------------------------------------ encoders
    def encode_radar(self, range_time: Tensor, doppler_time: Tensor, azimuth_time: Tensor,
                     mask: Tensor | None = None, return_sequence: bool = False, normalize: bool = True):
        """Pooled features ``[b, d]`` (L2-normalised); with ``return_sequence`` also the projected
        sequence ``[b, n, d]`` and its mask (time or token granularity)."""
        out = self.radar_encoder(range_time, doppler_time, azimuth_time, mask=mask, return_sequence=True)
        pooled = self.radar_proj(out.pooled)  # [b, d]
        pooled = F.normalize(pooled, dim=-1) if normalize else pooled
        if not return_sequence:
            return pooled
        if self.radar_seq_proj is None:
            raise ValueError("this model has no sequence projections (similarity='clip')")
        if self.config.granularity == "time":
            seq, seq_mask = out.time_sequence, out.time_mask  # [b, T/16, d_enc]
        else:
            seq, seq_mask = out.sequence, out.sequence_mask  # [b, 8 T/16, d_enc]
        return pooled, self.radar_seq_proj(seq), seq_mask

    def tokenize(self, texts: list[str], device: torch.device | None = None) -> dict[str, Tensor]:
        _check_captions(texts)
        tok = self.tokenizer(list(texts), padding=True, truncation=True, max_length=self.config.max_text_length,
                             return_tensors="pt", return_special_tokens_mask=True)
        device = device or next(self.parameters()).device
        return {k: v.to(device) for k, v in tok.items()}

    def cache_text(self, enabled: bool = True) -> None:
        """LiT-style training: with the text encoder fully frozen (so in eval mode: no dropout), keep
        each caption's encoder output once computed (on the model's device, about 30 KB per caption
        for MiniLM); the projections still learn. A cached caption's features equal a fresh forward's
        up to float rounding (its batch padding may differ)."""
        if enabled and any(p.requires_grad for p in self.text_encoder.parameters()):
            raise ValueError("the text cache needs a fully frozen text encoder (freeze_text, no unfrozen layers)")
        self._text_cache = {} if enabled else None

    def _text_hidden(self, texts: list[str]) -> tuple[Tensor, Tensor, Tensor]:
        """The text encoder's output ``[b, l, h]``, the attention mask and the special-token mask ``[b, l]``."""
        cache = self._text_cache
        if cache is None:
            return self._encode_tokens(texts)
        missing = sorted({t for t in texts if t not in cache})
        if missing:
            with torch.no_grad():
                hidden, attn, special = self._encode_tokens(missing)
            for i, t in enumerate(missing):
                n = int(attn[i].sum())  # right padding: the first n positions are real
                cache[t] = (hidden[i, :n].clone(), special[i, :n].clone())
        length = max(cache[t][0].shape[0] for t in texts)
        hidden = torch.stack([F.pad(cache[t][0], (0, 0, 0, length - cache[t][0].shape[0])) for t in texts])
        special = torch.stack([F.pad(cache[t][1], (0, length - cache[t][1].shape[0])) for t in texts])
        attn = torch.arange(length, device=hidden.device)[None, :] < torch.tensor(
            [cache[t][0].shape[0] for t in texts], device=hidden.device)[:, None]
        return hidden, attn, special

    def _encode_tokens(self, texts: list[str]) -> tuple[Tensor, Tensor, Tensor]:
        tok = self.tokenize(texts)
        hidden = self.text_encoder(input_ids=tok["input_ids"], attention_mask=tok["attention_mask"]
                                   ).last_hidden_state  # [b, l, h]
        return hidden, tok["attention_mask"].bool(), tok["special_tokens_mask"].bool()

    def encode_text(self, texts: list[str], return_sequence: bool = False, normalize: bool = True):
        """Pooled features ``[b, d]`` (mean over real tokens, projected, L2-normalised); with
        ``return_sequence`` also ``[b, l, d]`` and a mask that excludes padding, [CLS] and [SEP]."""
        _check_captions(texts)  # cached captions skip the tokenizer and its check
        hidden, attn, special = self._text_hidden(texts)  # [b, l, h], [b, l], [b, l]
        mean = (hidden * attn[..., None]).sum(1) / attn.sum(1, keepdim=True).clamp_min(1)  # sentence-transformers pooling
        pooled = self.text_proj(mean)
        pooled = F.normalize(pooled, dim=-1) if normalize else pooled
        if not return_sequence:
            return pooled
        if self.text_seq_proj is None:
            raise ValueError("this model has no sequence projections (similarity='clip')")
        words = attn & ~special
        words = torch.where(words.any(1, keepdim=True), words, attn)  # an empty caption keeps its specials
        return pooled, self.text_seq_proj(hidden), words

    get_radar_features = encode_radar
    get_text_features = encode_text

    # ------------------------------------------------------------------ training forward
    def features(self, batch: RadarBatch) -> dict[str, Tensor]:
        """Pooled features ``radar`` / ``text`` ``[b, d]``; with a sequence loss, ``radar_seq [b, n, d]``,
        ``radar_mask [b, n]``, ``text_seq [b, l, d]``, ``text_mask [b, l]``; with order negatives in
        the batch, the same for them under ``neg_`` (``neg_text [m, d]``, ...), and the id tensors
        ``sequence_ids [b]`` / ``neg_sequence_ids [m]`` that say which negative describes which row."""
        need_seq = self.seq_similarity is not None
        with phase("radar"):
            radar = self.encode_radar(*(batch[k] for k in VIEW_NAMES), batch.get("mask"), return_sequence=need_seq)
        feats = self._text_features("", batch["captions"])
        feats.update({"radar": radar[0], "radar_seq": radar[1], "radar_mask": radar[2]} if need_seq
                     else {"radar": radar})
        if "sequence_ids" in batch:
            feats["sequence_ids"] = batch["sequence_ids"]
        if batch.get("negative_captions"):
            feats.update(self._text_features("neg_", batch["negative_captions"]))
            feats["neg_sequence_ids"] = batch["negative_sequence_ids"]
        return feats

    def _text_features(self, prefix: str, captions: list[str]) -> dict[str, Tensor]:
        with phase("text"):
            if self.seq_similarity is None:
                return {f"{prefix}text": self.encode_text(captions)}
            pooled, seq, mask = self.encode_text(captions, return_sequence=True)
        return {f"{prefix}text": pooled, f"{prefix}text_seq": seq, f"{prefix}text_mask": mask}

    def losses(self, feats: dict[str, Tensor], sample_ids: Tensor | None = None) -> dict[str, Tensor]:
        """Losses (``loss_clip``, ``loss_seq``, ``loss_total``), logits and similarity components of
        ``features`` output. Training: the CLIP loss sees the global batch across ranks. Order
        negatives (``neg_*``) are extra texts for the radar->text direction of both losses, except
        for rows whose activity sequence they describe."""
        with phase("similarity"):
            return self._losses(feats, sample_ids)

    def _losses(self, feats: dict[str, Tensor], sample_ids: Tensor | None) -> dict[str, Tensor]:
        r_pooled, t_pooled = feats["radar"], feats["text"]
        scale = self.logit_scale()
        negative = None
        if "neg_text" in feats:  # [b, m]
            negative = self._negative_logits(feats, pair_logits(r_pooled, feats["neg_text"], scale))
        if self.training:  # global batch across ranks
            loss_clip = self.loss_fn(r_pooled, t_pooled, scale, self.logit_bias, sample_ids=sample_ids,
                                     negative_logits=negative)
        else:  # evaluation is per process (validation runs on rank 0 alone)
            loss_clip = sequence_loss(pair_logits(r_pooled, t_pooled, scale), self.config.loss,
                                      logit_bias=self.logit_bias, sample_ids=sample_ids, negative_logits=negative)
        out = {"loss_clip": loss_clip, "logit_scale": scale.detach(),
               "logits_per_radar": (scale * r_pooled.float() @ t_pooled.float().T).detach()}
        if self.seq_similarity is None:
            out["loss_seq"] = torch.zeros((), device=loss_clip.device)
            out["loss_total"] = loss_clip
            return out
        sim = self.seq_similarity
        parts = sim.similarities(feats["radar_seq"], feats["text_seq"], feats["radar_mask"], feats["text_mask"])
        seq_logits = sim.combine(parts)
        seq_negative = None
        if "neg_text" in feats:
            seq_negative = self._negative_logits(feats, sim.combine(sim.similarities(
                feats["radar_seq"], feats["neg_text_seq"], feats["radar_mask"], feats["neg_text_mask"])))
        loss_seq = sequence_loss(seq_logits, self.config.loss, logit_bias=self.logit_bias, sample_ids=sample_ids,
                                 negative_logits=seq_negative)
        out.update(loss_seq=loss_seq, seq_logits=seq_logits.detach(),
                   loss_total=loss_clip + self.config.seq_weight * loss_seq)
        out.update({f"sim_{k}": v.detach().diagonal().mean() for k, v in parts.items()})
        return out

    @staticmethod
    def _negative_logits(feats: dict[str, Tensor], logits: Tensor) -> Tensor:
        """``[b, m]`` negative logits, with a negative that describes a row's own activity sequence
        (a twin's reversed caption is the other twin's story) pushed out of that row's loss."""
        same = feats["sequence_ids"][:, None] == feats["neg_sequence_ids"][None, :]  # [b, m]
        return logits.float().masked_fill(same, -1e9)

    def loss_parameters(self) -> list[nn.Parameter]:
        """Parameters that ``losses`` uses directly (not through ``features``): logit scale and bias and
        the sequence similarity's own projections."""
        modules = [m for m in (self.logit_scale, self.seq_similarity) if m is not None]
        extra = [self.logit_bias] if self.logit_bias is not None else []
        return [p for m in modules for p in m.parameters()] + extra

    def forward(self, batch: RadarBatch, return_features: bool = False) -> dict[str, Tensor]:
        """Losses of a batch (see ``losses``); ``return_features``: the ``features`` alone (gradient
        accumulation runs them through the DDP wrapper and computes the loss on the whole group)."""
        feats = self.features(batch)
        return feats if return_features else self.losses(feats, batch.get("sample_ids"))

    # ------------------------------------------------------------------ persistence
    def save_pretrained(self, directory: str | os.PathLike) -> Path:
        """``config.json`` + ``model.safetensors`` + ``tokenizer/`` + ``text_encoder/`` (its config),
        written to a temporary directory and renamed into place (atomic)."""
        from safetensors.torch import save_file

        target = Path(directory)
        tmp = make_temp_dir(target.parent, prefix=f".{target.name}.")
        try:
            state = {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}
            save_file(state, str(tmp / "model.safetensors"), metadata={"format": "pt"})
            os.chmod(tmp / "model.safetensors", 0o666 & ~current_umask())  # safetensors writes 0600
            (tmp / "config.json").write_text(json.dumps(self.config.to_dict(), indent=2) + "\n")
            self.tokenizer.save_pretrained(str(tmp / "tokenizer"))
            self.text_encoder.config.save_pretrained(str(tmp / "text_encoder"))
            if target.exists():
                old = target.with_name(f".{target.name}.old")
                shutil.rmtree(old, ignore_errors=True)
                os.replace(target, old)
                os.replace(tmp, target)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return target

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike, map_location: str | torch.device = "cpu") -> SeqClip:
        """Rebuild from ``save_pretrained`` output without the original text-model files, in eval
        mode (no dropout: the same input embeds to the same vector), as Hugging Face's
        ``from_pretrained`` does; call ``.train()`` to fine-tune. Unreadable files raise
        ``CheckpointError`` naming the file."""
        from safetensors.torch import load_file
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        root = Path(directory)
        for name in ("config.json", "model.safetensors", "tokenizer", "text_encoder"):
            if not (root / name).exists():
                raise FileNotFoundError(f"{root} is not a SeqClip checkpoint: missing {name}")
        cfg = _read_config(root / "config.json")
        try:
            text_model = AutoModel.from_config(AutoConfig.from_pretrained(str(root / "text_encoder")))
            tokenizer = AutoTokenizer.from_pretrained(str(root / "tokenizer"))
        except (OSError, ValueError, KeyError) as err:
            raise CheckpointError(f"{root}: unreadable text encoder files ({type(err).__name__}: {err})") from None
        model = cls(cfg, _text=(text_model, tokenizer))
        try:
            state = load_file(str(root / "model.safetensors"), device=str(map_location))
        except Exception as err:  # noqa: BLE001 - safetensors raises its own error types
            raise CheckpointError(f"{root / 'model.safetensors'}: unreadable ({type(err).__name__}: "
                                  f"{_first_line(err)})") from None
        missing, unexpected = model.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise CheckpointError(f"{root}: checkpoint does not match the model (missing {missing[:3]}, "
                                  f"unexpected {unexpected[:3]})")
        return model.eval()

    def extra_repr(self) -> str:
        n = sum(p.numel() for p in self.parameters())
        return f"params={n / 1e6:.1f}M, loss={self.config.loss}, similarity={self.config.similarity}"


def _first_line(err: BaseException) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def _read_config(path: Path) -> SeqClipConfig:
    """``config.json`` as a ``SeqClipConfig``; errors name the file."""
    try:
        return SeqClipConfig.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{path}: not valid JSON ({err})") from None
    except (ValueError, TypeError) as err:
        raise CheckpointError(f"{path}: {err}") from None


def _check_captions(texts: list[str]) -> None:
    if not texts or any(not isinstance(t, str) or not t.strip() for t in texts):
        raise ValueError("captions must be a non-empty list of non-empty strings")


def cat_features(parts: list[dict[str, Tensor]]) -> dict[str, Tensor]:
    """Concatenate ``SeqClip.features`` of several micro-batches along the batch axis; text sequences
    are zero-padded (and masked) to the longest tokenisation; order negatives (present in some
    micro-batches only) are concatenated from those that have them."""
    out = {}
    for key in dict.fromkeys(k for p in parts for k in p):
        tensors = [p[key] for p in parts if key in p]
        if key.endswith(("text_seq", "text_mask")):
            length = max(t.shape[1] for t in tensors)
            tail = (0, 0) if key.endswith("text_seq") else ()  # text_seq [b, l, d], text_mask [b, l]
            tensors = [F.pad(t, (*tail, 0, length - t.shape[1])) for t in tensors]
        out[key] = torch.cat(tensors)  # [sum b, ...]
    return out
