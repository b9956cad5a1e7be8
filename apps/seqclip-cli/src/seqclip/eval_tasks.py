"""``seqclip eval`` tasks: retrieval (full gallery or in-batch), zero-shot recognition, and the two order
tests: order-swapped twins (hard negatives) and order-reversed captions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .config import SIMILARITIES
from .data import RadarTextDataset
from .evaluate import embed_split
from .model import SeqClip, cat_features
from .retrieval import metrics_from_scores, rank_metrics
from .runs import latest_checkpoint
from .stats import bootstrap_interval

__all__ = ["load_model", "eval_retrieval", "eval_zeroshot", "eval_hard_negatives", "eval_order",
           "preference_accuracy", "score_matrix", "pair_scores", "text_features", "ACTIVITY_PHRASES", "TEMPLATES"]

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
            return SeqClip.from_pretrained(candidate, map_location=device).to(device), None
    latest = latest_checkpoint(path)
    if latest is not None and _is_model_dir(latest / "model"):
        model = SeqClip.from_pretrained(latest / "model", map_location=device).to(device)
        return model, f"{path} has no best/ (no validation ran): using its latest checkpoint {latest.name}"
    raise FileNotFoundError(f"no SeqClip checkpoint at {path} (expected config.json + model.safetensors, "
                            f"or a run directory with best/ or checkpoints/)")


def _is_model_dir(path: Path) -> bool:
    return (path / "config.json").is_file() and (path / "model.safetensors").is_file()


def _check_score(model: SeqClip, score: str) -> None:
    if score not in SIMILARITIES:
        raise ValueError(f"--similarity must be one of {SIMILARITIES}, got {score!r}")
    sim = model.seq_similarity
    if score != "clip" and sim is None:
        raise ValueError(f"--similarity {score}: this model was trained without sequence similarity; use clip")
    if score not in ("clip", "combined") and score not in sim.components:
        raise ValueError(f"--similarity {score}: the model's sequence similarity has {list(sim.components)}")


@torch.no_grad()
def text_features(model: SeqClip, captions: list[str], sequence: bool, batch: int = 64) -> dict:
    """Pooled text features ``[M, d]`` and, with ``sequence``, token sequences ``[M, l, d]`` (zero-padded
    to the longest batch, as ``cat_features`` pads them) with their masks."""
    parts = []
    for i in range(0, len(captions), batch):
        out = model.encode_text(captions[i:i + batch], return_sequence=sequence)
        parts.append({"text_seq": out[1], "text_mask": out[2], "pooled": out[0]} if sequence else {"pooled": out})
    feats = cat_features(parts)
    feats["pooled"] = feats["pooled"].float().cpu()
    if sequence:
        feats["seq"], feats["mask"] = feats.pop("text_seq"), feats.pop("text_mask")
    return feats


def score_matrix(model: SeqClip, score: str, emb: dict, text: dict):
    """A function ``(clip rows [r], text rows [t]) -> scores [r, t]`` for one similarity: ``clip`` is
    the pooled cosine; a sequence similarity uses the token sequences; ``combined`` adds the
    scaled pooled score to the weighted sequence similarity (as the training loss does)."""
    _check_score(model, score)
    radar, texts = emb["radar"].float(), text["pooled"].float()
    if score == "clip":
        return lambda rows_r, rows_t: radar[rows_r] @ texts[rows_t].T
    device = next(model.parameters()).device
    r_seq = torch.cat([s for s, _ in emb["radar_seq"]]).to(device)
    r_mask = torch.cat([m for _, m in emb["radar_seq"]]).to(device)
    sim = model.seq_similarity

    @torch.no_grad()
    def scores(rows_r: torch.Tensor, rows_t: torch.Tensor) -> torch.Tensor:
        parts = sim.similarities(r_seq[rows_r], text["seq"][rows_t].to(device), r_mask[rows_r],
                                 text["mask"][rows_t].to(device))
        if score != "combined":
            return parts[score].float().cpu()
        pooled = model.logit_scale().float().cpu() * radar[rows_r] @ texts[rows_t].T
        return pooled + model.config.seq_weight * sim.combine(parts).float().cpu()

    return scores


def pair_scores(matrix, clips: torch.Tensor, texts: torch.Tensor, chunk: int = 64) -> torch.Tensor:
    """Scores of the pairs ``(clips[i], texts[i])`` ``[m]``: diagonals of ``chunk x chunk`` blocks."""
    out = [matrix(clips[i:i + chunk], texts[i:i + chunk]).diagonal() for i in range(0, len(clips), chunk)]
    return torch.cat(out) if out else torch.zeros(0)


def _intervals(per_clip_ranks: list[list[int]]) -> dict[str, list[float]]:
    """95 % bootstrap intervals of R@1/5/10 (percent), resampling clips."""
    return {f"R@{k}": list(bootstrap_interval([[100.0 * (r <= k) for r in ranks] for ranks in per_clip_ranks]))
            for k in (1, 5, 10)}


def eval_retrieval(model: SeqClip, dataset: RadarTextDataset, protocol: str = "full", batch_size: int = 64,
                   score: str = "clip", chunk: int = 256) -> dict:
    """Both directions, with 95 % bootstrap intervals (resampling clips); ``full``: every caption
    against every clip of the split; ``in-batch``: the reference code base's protocol (consecutive
    batches of ``batch_size`` clips, first caption each)."""
    _check_score(model, score)
    if protocol not in ("full", "in-batch"):
        raise ValueError(f"--protocol must be full or in-batch, got {protocol!r}")
    emb = embed_split(model, dataset, batch_size, return_sequence=score != "clip")
    scores = score_matrix(model, score, emb, {"pooled": emb["text"], **(
        {} if score == "clip" else text_features(model, emb["captions"], sequence=True))})
    n, m = emb["radar"].shape[0], len(emb["captions"])
    if protocol == "full":
        clips, caps = torch.arange(n), torch.arange(m)
        ranks = metrics_from_scores(lambda q: scores(clips, q).T, lambda q: scores(q, caps), n, emb["caption_clip"],
                                    chunk, return_ranks=True)
        t2r_by_clip = [[r for r, c in zip(ranks["t2r"], emb["caption_clip"].tolist(), strict=True) if c == i]
                       for i in range(n)]
        return {"text_to_radar": {**rank_metrics(ranks["t2r"]), "interval": _intervals(t2r_by_clip)},
                "radar_to_text": {**rank_metrics([min(r) for r in ranks["r2t"]], ranks["r2t"]),
                                  "interval": _intervals([[min(r)] for r in ranks["r2t"]])},
                "protocol": {"name": "full", "clips": n, "captions": m}}
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
    return {"text_to_radar": {**rank_metrics(t2r), "interval": _intervals([[r] for r in t2r])},
            "radar_to_text": {**rank_metrics([min(r) for r in r2t], r2t), "interval": _intervals([[min(r)] for r in r2t])},
            "protocol": {"name": "in-batch", "batch_size": batch_size, "clips": len(t2r)}}


@torch.no_grad()
def eval_zeroshot(model: SeqClip, dataset: RadarTextDataset, batch_size: int = 64,
                  confusion_png: str | Path | None = None) -> dict:
    """Clips whose segments are all one activity, against class prompts averaged over templates."""
    rows = [(i, r) for i, r in enumerate(dataset.records)
            if len(set(r.activities)) == 1 and r.activities[0] in ACTIVITY_PHRASES]
    if not rows:
        raise ValueError("zero-shot needs clips with a single activity in their segments (radar-synth format)")
    classes = sorted({r.activities[0] for _, r in rows} | set(ACTIVITY_PHRASES))
    prompts = [t.format(ACTIVITY_PHRASES[c]) for c in classes for t in TEMPLATES]
    text = model.encode_text(prompts).float().cpu().reshape(len(classes), len(TEMPLATES), -1).mean(1)
    text = torch.nn.functional.normalize(text, dim=-1)  # [C, d]
    emb = embed_split(model, dataset.subset([i for i, _ in rows]), batch_size)
    scores = emb["radar"] @ text.T  # [N, C]
    truth = torch.tensor([classes.index(r.activities[0]) for _, r in rows])
    order = scores.argsort(dim=1, descending=True, stable=True)
    hits = (order[:, 0] == truth).float()  # [N]
    top1 = float(hits.mean() * 100)
    interval = [100 * x for x in bootstrap_interval([[h] for h in hits.tolist()])]
    top5 = float((order[:, :5] == truth[:, None]).any(1).float().mean() * 100)
    confusion = np.zeros((len(classes), len(classes)), dtype=int)
    for t, p in zip(truth.tolist(), order[:, 0].tolist(), strict=True):
        confusion[t, p] += 1
    if confusion_png:
        from .plots import plot_confusion

        plot_confusion(confusion, classes, confusion_png)
    return {"top1": top1, "top1_interval": interval, "top5": top5, "clips": len(rows), "classes": classes,
            "confusion": confusion.tolist(),
            "chance_top1": 100 / len(classes)}


@torch.no_grad()
def preference_accuracy(model: SeqClip, dataset: RadarTextDataset, negatives: dict[int, list[str]],
                        batch_size: int = 64, score: str = "clip") -> dict:
    """For clip ``i`` and each ``k < len(negatives[i])``: is its own caption ``k`` scored above
    ``negatives[i][k]``? Accuracy (%), the number of comparisons and clips, a 95 % bootstrap
    interval resampling clips."""
    _check_score(model, score)
    idx = sorted(negatives)
    subset = dataset.subset(idx)
    emb = embed_split(model, subset, batch_size, return_sequence=score != "clip")
    pairs = [list(zip(record.captions, negatives[i], strict=False))  # the shorter list decides
             for i, record in zip(idx, subset.records, strict=True)]
    captions = [own for p in pairs for own, _ in p] + [neg for p in pairs for _, neg in p]
    text = text_features(model, captions, sequence=score != "clip", batch=batch_size)
    clips = torch.tensor([j for j, p in enumerate(pairs) for _ in p])  # [m]
    matrix = score_matrix(model, score, emb, text)
    m = len(clips)
    correct = (pair_scores(matrix, clips, torch.arange(m)) > pair_scores(matrix, clips, torch.arange(m, 2 * m)))
    per_clip = [correct[clips == j].float().tolist() for j in range(len(idx))]
    low, high = bootstrap_interval(per_clip)
    return {"accuracy": float(correct.float().mean() * 100), "interval": [100 * low, 100 * high],
            "comparisons": m, "clips": len(idx), "chance": 50.0, "similarity": score}


def eval_hard_negatives(model: SeqClip, dataset: RadarTextDataset, batch_size: int = 64, score: str = "clip") -> dict:
    """Twin test: each clip of an order-swapped twin pair, its caption ``k`` against the twin's caption
    ``k`` (every caption both clips have)."""
    by_id = {r.id: r for r in dataset.records}
    negatives = {i: list(by_id[r.hard_negative_of].captions[:len(r.captions)]) for i, r in enumerate(dataset.records)
                 if r.hard_negative_of in by_id}
    if not negatives:
        raise ValueError(_no_twins_message(dataset))
    return preference_accuracy(model, dataset, negatives, batch_size, score)


def _no_twins_message(dataset: RadarTextDataset) -> str:
    """Which splits of the dataset hold twin pairs, when the one asked for holds none."""
    from radar_text_data import SPLITS
    from radar_text_data.source import open_split

    holding = [s for s in SPLITS if s != dataset.split
               and any(r.hard_negative_of for r in open_split(dataset.location, s).records)]
    if holding:
        return (f"no order-swapped twin pairs in split {dataset.split!r}; this dataset has them in "
                f"{' and '.join(holding)} (choose with --split)")
    return (f"no order-swapped twin pairs in this dataset (radar-synth writes them with --twins; "
            f"split {dataset.split!r} was asked for)")


def eval_order(model: SeqClip, dataset: RadarTextDataset, batch_size: int = 64, score: str = "clip") -> dict:
    """Text-order test: each clip of two or more segments, its caption ``k`` against the same caption with
    the segments in reverse order and identical wording otherwise (``captions_reversed`` in the manifest)."""
    negatives = {i: list(r.captions_reversed) for i, r in enumerate(dataset.records) if r.captions_reversed}
    if not negatives:
        raise ValueError("no clip with captions_reversed in this split (radar-synth writes them for clips of 2 or 3 "
                         "activities)")
    return preference_accuracy(model, dataset, negatives, batch_size, score)
