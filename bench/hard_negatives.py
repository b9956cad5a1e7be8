"""The sequence loss's cost against the batch, every pair against ``--seq-hard-negatives K``: forward
and backward of the default recipe's temporal sequence loss (``model.losses``' own code) on random
features of the tiny preset's shapes (radar 16 time columns, captions 24 tokens, d = 256).

    uv run python bench/hard_negatives.py                    # CPU: batch 64, 128, 256
    BENCH_BATCHES=256,1024 BENCH_K=0,8,32 uv run python bench/hard_negatives.py   # on a GPU

Every pair costs b^2 soft-DTW alignments; K hard negatives cost 2 b (K + 1).
"""

from __future__ import annotations

import os
import sys
import time

import torch

# bench/ holds scripts named like the packages: import the packages, not the scripts
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE] + [_HERE]
from benchlib import print_table  # noqa: E402

from clip_losses import loss_from_logits  # noqa: E402
from seq_similarity import SequenceSimilarity  # noqa: E402
from seqclip.model.losses import hard_pairs, sequence_parts  # noqa: E402

D, RADAR, TEXT = 256, 16, 24


def _features(b: int, device: torch.device) -> dict:
    g = torch.Generator(device="cpu").manual_seed(0)
    feats = {
        "radar_seq": torch.randn(b, RADAR, D, generator=g),
        "text_seq": torch.randn(b, TEXT, D, generator=g),
        "radar_mask": torch.ones(b, RADAR, dtype=torch.bool),
        "text_mask": torch.rand(b, TEXT, generator=g) > 0.3,
        "pooled": torch.randn(b, b, generator=g),
    }
    feats["text_mask"][:, :4] = True
    return {k: v.to(device).requires_grad_(v.is_floating_point() and k != "pooled") for k, v in feats.items()}


def _loss(sim: SequenceSimilarity, feats: dict, k: int) -> torch.Tensor:
    b = feats["radar_seq"].shape[0]
    if 0 < k < b - 1:
        parts, present = sequence_parts(sim, feats, hard_pairs(feats["pooled"], None, k))
    else:
        parts, present = (
            sim.similarities(feats["radar_seq"], feats["text_seq"], feats["radar_mask"], feats["text_mask"]),
            None,
        )
    return loss_from_logits(sim.combine(parts), present=present)


def seconds(b: int, k: int, device: torch.device, repeats: int) -> float:
    sim = SequenceSimilarity(D, "temporal").to(device)
    feats = _features(b, device)
    _loss(sim, feats, k).backward()  # warm-up
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    t0 = time.perf_counter()
    for _ in range(repeats):
        _loss(sim, feats, k).backward()
    sync()
    return (time.perf_counter() - t0) / repeats


def main() -> None:
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    batches = [int(b) for b in os.environ.get("BENCH_BATCHES", "64,128,256").split(",")]
    ks = [int(k) for k in os.environ.get("BENCH_K", "0,8,32").split(",")]
    repeats = int(os.environ.get("BENCH_REPEATS", "3"))
    rows = []
    for b in batches:
        full = seconds(b, 0, device, repeats)
        for k in ks:
            s = full if k == 0 or k >= b - 1 else seconds(b, k, device, repeats)
            pairs = b * b if k == 0 or k >= b - 1 else 2 * b * (k + 1)
            rows.append([b, k or "all", pairs, f"{1e3 * s:.1f}", f"{full / s:.1f}x"])
    print(
        f"device: {torch.cuda.get_device_name() if device.type == 'cuda' else 'CPU'}; torch {torch.__version__}; "
        f"temporal sequence loss, forward + backward, radar {RADAR} x text {TEXT} tokens, d {D}"
    )
    print_table(
        "the sequence loss: every pair against K hard negatives", ["batch", "K", "pairs scored", "ms", "speed-up"], rows
    )


if __name__ == "__main__":
    main()
