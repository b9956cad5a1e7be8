"""``seqclip eval`` tasks: retrieval (full gallery or in-batch), zero-shot recognition, hard negatives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .config import SIMILARITIES
from .data import RadarTextDataset
from .evaluate import embed_split
from .model import SeqClip
from .retrieval import metrics_from_scores, rank_metrics
from .runs import latest_checkpoint

__all__ = ["load_model", "eval_retrieval", "eval_zeroshot", "eval_hard_negatives", "ACTIVITY_PHRASES",
           "TEMPLATES"]

TEMPLATES = ("a person {}.", "someone {}.", "a radar recording of a person who {}.", "the subject {}.")
ACTIVITY_PHRASES = {
    "walk": "walks", "run": "runs", "stand": "stands still", "wave": "waves", "clap": "claps", "jump": "jumps",
    "squat": "squats down", "sit_down": "sits down", "stand_up": "stands up", "fall": "falls",
    "bend_pick_up": "bends down to pick something up", "turn_around": "turns around", "kick": "kicks",
    "punch": "throws punches", "jog_in_place": "jogs in place",
}


def load_model(checkpoint: str | Path, device: torch.device) -> tuple[SeqClip, str | None]:
    """A ``save_pretrained`` directory, a run directory (its ``best/``, else its latest checkpoint) or
    a checkpoint (its ``model/``). Returns the model and a note when it fell back to the latest checkpoint."""
    path = Path(checkpoint)
    for candidate in (path, path / "best", path / "model"):
        if _is_model_dir(candidate):
            return SeqClip.from_pretrained(candidate, map_location=device).to(device).eval(), None
    latest = latest_checkpoint(path)
    if latest is not None and _is_model_dir(latest / "model"):
        model = SeqClip.from_pretrained(latest / "model", map_location=device).to(device).eval()
        return model, f"{path} has no best/ (no validation ran): using its latest checkpoint {latest.name}"
    raise FileNotFoundError(f"no SeqClip checkpoint at {path} (expected config.json + model.safetensors, "
                            f"or a run directory with best/ or checkpoints/)")


def _is_model_dir(path: Path) -> bool:
    return (path / "config.json").is_file() and (path / "model.safetensors").is_file()


def _score_fn(model: SeqClip, score: str, emb: dict, text_seq: dict):
    """A function (query rows, gallery) -> scores for the chosen similarity; text->radar flips it."""
    if score == "clip":
        return None
    sim = model.seq_similarity
    if sim is None:
        raise ValueError(f"--similarity {score}: this model was trained without sequence similarity; use clip")
    if score != "combined" and score not in sim.components:
        raise ValueError(f"--similarity {score}: the model's sequence similarity has {list(sim.components)}")
    device = next(model.parameters()).device
    r_seq = torch.cat([s for s, _ in emb["radar_seq"]]).to(device)
    r_mask = torch.cat([m for _, m in emb["radar_seq"]]).to(device)

    @torch.no_grad()
    def pair_scores(rows_r: torch.Tensor, rows_t: torch.Tensor) -> torch.Tensor:
        parts = sim.similarities(r_seq[rows_r], text_seq["seq"][rows_t], r_mask[rows_r], text_seq["mask"][rows_t])
        if score == "combined":
            seq = sim.combine(parts)
            clip = model.logit_scale() * emb["radar"][rows_r.cpu()].to(device) @ emb["text"][rows_t.cpu()].to(device).T
            return (clip + model.config.seq_weight * seq).float().cpu()
        return parts[score].float().cpu()

    return pair_scores


@torch.no_grad()
def _text_sequences(model: SeqClip, captions: list[str], batch: int = 64) -> dict:
    seqs, masks = [], []
    for i in range(0, len(captions), batch):
        _, s, m = model.encode_text(captions[i:i + batch], return_sequence=True)
        seqs.append(s)
        masks.append(m)
    length = max(s.shape[1] for s in seqs)
    seq = torch.cat([torch.nn.functional.pad(s, (0, 0, 0, length - s.shape[1])) for s in seqs])
    mask = torch.cat([torch.nn.functional.pad(m, (0, length - m.shape[1])) for m in masks])
    return {"seq": seq, "mask": mask}


def eval_retrieval(model: SeqClip, dataset: RadarTextDataset, protocol: str = "full", batch_size: int = 64,
                   score: str = "clip", chunk: int = 256) -> dict:
    """Both directions; ``full``: every caption against every clip of the split; ``in-batch``: the
    reference code base's protocol (consecutive batches of ``batch_size`` clips, first caption each)."""
    if score not in SIMILARITIES:
        raise ValueError(f"--similarity must be one of {SIMILARITIES}, got {score!r}")
    if protocol not in ("full", "in-batch"):
        raise ValueError(f"--protocol must be full or in-batch, got {protocol!r}")
    emb = embed_split(model, dataset, batch_size, return_sequence=score != "clip")
    text_seq = _text_sequences(model, emb["captions"]) if score != "clip" else None
    pair = _score_fn(model, score, emb, text_seq)
    n, m = emb["radar"].shape[0], len(emb["captions"])

    def scores(clips: torch.Tensor, caps: torch.Tensor) -> torch.Tensor:  # [clips, captions]
        return pair(clips, caps) if pair else emb["radar"][clips] @ emb["text"][caps].T

    if protocol == "full":
        clips, caps = torch.arange(n), torch.arange(m)
        out = metrics_from_scores(lambda q: scores(clips, q).T, lambda q: scores(q, caps), n, emb["caption_clip"], chunk)
        out["protocol"] = {"name": "full", "clips": n, "captions": m}
        return out
    first = torch.stack([(emb["caption_clip"] == i).nonzero()[0, 0] for i in range(n)])  # caption 0 of each clip
    t2r, r2t = [], []
    for start in range(0, n, batch_size):
        clips = torch.arange(start, min(start + batch_size, n))
        if len(clips) < batch_size and start > 0:
            break  # the reference protocol drops the last incomplete batch
        caps = first[clips]
        ranks = metrics_from_scores(lambda q, c=clips, t=caps: scores(c, t[q]).T,
                                    lambda q, c=clips, t=caps: scores(c[q], t), len(clips),
                                    torch.arange(len(clips)), chunk, return_ranks=True)
        t2r += ranks["t2r"]
        r2t += ranks["r2t"]
    return {"text_to_radar": rank_metrics(t2r), "radar_to_text": rank_metrics([min(r) for r in r2t], r2t),
            "protocol": {"name": "in-batch", "batch_size": batch_size, "clips": len(t2r)}}


@torch.no_grad()
def eval_zeroshot(model: SeqClip, dataset: RadarTextDataset, batch_size: int = 64,
                  confusion_png: str | Path | None = None) -> dict:
    """Clips whose segments are all one activity, against class prompts averaged over templates."""
    rows = [(i, r) for i, r in enumerate(dataset.rows) if r.get("segments")
            and len({s["activity"] for s in r["segments"]}) == 1 and r["segments"][0]["activity"] in ACTIVITY_PHRASES]
    if not rows:
        raise ValueError("zero-shot needs clips with a single activity in their segments (radar-synth format)")
    classes = sorted({r["segments"][0]["activity"] for _, r in rows} | set(ACTIVITY_PHRASES))
    prompts = [t.format(ACTIVITY_PHRASES[c]) for c in classes for t in TEMPLATES]
    text = model.encode_text(prompts).float().cpu().reshape(len(classes), len(TEMPLATES), -1).mean(1)
    text = torch.nn.functional.normalize(text, dim=-1)  # [C, d]
    emb = embed_split(model, dataset.subset([i for i, _ in rows]), batch_size)
    scores = emb["radar"] @ text.T  # [N, C]
    truth = torch.tensor([classes.index(r["segments"][0]["activity"]) for _, r in rows])
    order = scores.argsort(dim=1, descending=True, stable=True)
    top1 = float((order[:, 0] == truth).float().mean() * 100)
    top5 = float((order[:, :5] == truth[:, None]).any(1).float().mean() * 100)
    confusion = np.zeros((len(classes), len(classes)), dtype=int)
    for t, p in zip(truth.tolist(), order[:, 0].tolist(), strict=True):
        confusion[t, p] += 1
    if confusion_png:
        from .plots import plot_confusion

        plot_confusion(confusion, classes, confusion_png)
    return {"top1": top1, "top5": top5, "clips": len(rows), "classes": classes, "confusion": confusion.tolist(),
            "chance_top1": 100 / len(classes)}


@torch.no_grad()
def eval_hard_negatives(model: SeqClip, dataset: RadarTextDataset, batch_size: int = 64) -> dict:
    """For each clip with an order-swapped twin: is its own caption scored above the twin's?"""
    by_id = {r["id"]: r for r in dataset.rows}
    idx = [i for i, r in enumerate(dataset.rows) if r.get("hard_negative_of") in by_id]
    if not idx:
        raise ValueError("no hard-negative pairs in this split (radar-synth writes them to the test split)")
    subset = dataset.subset(idx)
    emb = embed_split(model, subset, batch_size)
    own, twin = [], []
    for row in subset.rows:
        own.append(row["captions"][0])
        twin.append(by_id[row["hard_negative_of"]]["captions"][0])
    t_own, t_twin = model.encode_text(own).float().cpu(), model.encode_text(twin).float().cpu()
    correct = ((emb["radar"] * t_own).sum(1) > (emb["radar"] * t_twin).sum(1)).float()
    return {"accuracy": float(correct.mean() * 100), "clips": len(idx), "chance": 50.0}
