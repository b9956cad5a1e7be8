"""The one embedding and scoring path of evaluation: a ``Scorer`` checks its similarity against the
model once, embeds a split's clips (``embed_clips``) and any captions (``embed_texts``), and scores
them as a matrix (``matrix``) or pair by pair (``pairs``). Validation during training, the final
test, every ``seqclip eval`` task and the zero-shot classifier score through it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.utils.data import DataLoader

from ..config import EVAL_BATCH, EVAL_SIMILARITIES, POOLED, TOTAL
from ..data import RadarTextDataset, check_angle_match, collate
from ..errors import UserError
from ..model.features import Embeddings
from ..model.losses import cat_padded
from ..model.seqclip import SeqClip

__all__ = ["Scorer", "ClipSet", "ScoreMatrix"]

ScoreMatrix = Callable[[Tensor, Tensor], Tensor]  # (clip rows [r], text rows [t]) -> scores [r, t]


@dataclass
class ClipSet:
    """A split's embedded clips and their captions: ``radar`` (pooled ``[N, d]``, with a sequence
    similarity also ``sequence [N, n, d]`` and ``mask [N, n]``), each clip's position in the split
    (``RadarTextDataset.record_at``), every caption of every clip, and ``caption_clip [M]``: the row
    of each caption's clip in ``radar``."""

    radar: Embeddings
    positions: list[int]
    captions: list[str]
    caption_clip: Tensor

    def __len__(self) -> int:
        return len(self.positions)


class Scorer:
    """Scores of ``model`` by one ``similarity`` (``config.EVAL_SIMILARITIES``): ``pooled`` is the cosine
    of the pooled features; a component of the model's sequence similarity scores the sequences;
    ``total`` adds the pooled score (times the logit scale) to ``seq_weight`` x the sequence
    similarity, as the training loss does. Checked once, here: a sequence score needs a model
    trained with one. Embedding runs in batches of ``batch_size``, without gradients."""

    def __init__(self, model: SeqClip, similarity: str = POOLED, batch_size: int = EVAL_BATCH) -> None:
        if similarity not in EVAL_SIMILARITIES:
            raise UserError(f"similarity: must be one of {' | '.join(EVAL_SIMILARITIES)}, got {similarity!r}")
        sim = model.seq_similarity
        if similarity != POOLED and sim is None:
            raise UserError(
                f"similarity: {similarity} needs the model's sequence similarity, and this model was trained "
                f"without sequence similarity; use {POOLED}"
            )
        if sim is not None and similarity not in (POOLED, TOTAL) and similarity not in sim.components:
            raise UserError(
                f"similarity: {similarity} is not the model's; its sequence similarity has {list(sim.components)}"
            )
        self.model, self.similarity, self.batch_size = model, similarity, batch_size
        self.sequence = similarity != POOLED  # the score needs the sequences

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @torch.no_grad()
    def embed_clips(self, dataset: RadarTextDataset) -> ClipSet:
        """Every usable clip of ``dataset`` (cropped from frame 0) and all its captions' places; clips
        whose third view holds another angle than the model's are refused (``check_angle_match``)."""
        check_angle_match(self.model.config.angle, dataset.angle, dataset.location.spec)
        self.model.eval()
        radar: list[Tensor] = []
        sequences: list[tuple[Tensor, Tensor]] = []
        captions: list[str] = []
        caption_clip: list[int] = []
        positions: list[int] = []
        for batch in DataLoader(dataset, batch_size=self.batch_size, shuffle=False, collate_fn=collate):
            if "captions" not in batch:  # every clip of the batch was skipped
                continue
            out = self.model.encode_radar(
                batch["range_time"].to(self.device),
                batch["doppler_time"].to(self.device),
                batch["azimuth_time"].to(self.device),
                batch["mask"].to(self.device),
                return_sequence=self.sequence,
            )
            radar.append(out.pooled.float().cpu())  # [b, d]
            if self.sequence:
                seq, mask = out.sequence_and_mask()
                sequences.append((seq.float().cpu(), mask.cpu()))  # [b, n, d], [b, n]
            for position in batch["positions"].tolist():
                for caption in dataset.record_at(position).captions:
                    captions.append(caption)
                    caption_clip.append(len(positions))
                positions.append(position)
        pooled = torch.cat(radar)  # [N, d]
        embeddings = Embeddings(pooled)
        if self.sequence:
            embeddings.sequence = torch.cat([s for s, _ in sequences])  # [N, n, d]
            embeddings.mask = torch.cat([m for _, m in sequences])  # [N, n]
        return ClipSet(embeddings, positions, captions, torch.tensor(caption_clip))

    @torch.no_grad()
    def embed_texts(self, captions: Sequence[str]) -> Embeddings:
        """Pooled text features ``[M, d]`` (on the CPU) and, for a sequence score, the token sequences
        ``[M, l, d]`` zero-padded to the longest batch (as ``cat_padded`` pads them) with their masks."""
        parts: list[dict[str, Tensor]] = []
        for i in range(0, len(captions), self.batch_size):
            out = self.model.encode_text(list(captions[i : i + self.batch_size]), return_sequence=self.sequence)
            parts.append({"pooled": out.pooled})
            if self.sequence:
                parts[-1]["text_seq"], parts[-1]["text_mask"] = out.sequence_and_mask()
        feats = cat_padded(parts)
        return Embeddings(feats["pooled"].float().cpu(), feats.get("text_seq"), feats.get("text_mask"))

    def matrix(self, clips: ClipSet, texts: Embeddings) -> ScoreMatrix:
        """A function ``(clip rows [r], text rows [t]) -> scores [r, t]`` (on the CPU, float32)."""
        radar, pooled = clips.radar.pooled.float(), texts.pooled.float()
        if self.similarity == POOLED:
            return lambda rows_r, rows_t: radar[rows_r] @ pooled[rows_t].T
        device, model, sim = self.device, self.model, self.model.seq_similarity
        if sim is None:
            raise ValueError(f"similarity {self.similarity} needs the model's sequence similarity")
        r_seq, r_mask = (t.to(device) for t in clips.radar.sequence_and_mask())  # [N, n, d], [N, n]
        t_seq, t_mask = texts.sequence_and_mask()  # [M, l, d], [M, l]

        @torch.no_grad()
        def scores(rows_r: Tensor, rows_t: Tensor) -> Tensor:
            parts = sim.similarities(r_seq[rows_r], t_seq[rows_t].to(device), r_mask[rows_r], t_mask[rows_t].to(device))
            if self.similarity != TOTAL:
                return parts[self.similarity].float().cpu()
            scaled = model.logit_scale().float().cpu() * radar[rows_r] @ pooled[rows_t].T
            return scaled + model.config.seq_weight * sim.combine(parts).float().cpu()

        return scores

    @staticmethod
    def pairs(matrix: ScoreMatrix, clips: Tensor, texts: Tensor, chunk: int = EVAL_BATCH) -> Tensor:
        """Scores of the pairs ``(clips[i], texts[i])`` ``[m]``: diagonals of ``chunk x chunk`` blocks."""
        out = [matrix(clips[i : i + chunk], texts[i : i + chunk]).diagonal() for i in range(0, len(clips), chunk)]
        return torch.cat(out) if out else torch.zeros(0)
