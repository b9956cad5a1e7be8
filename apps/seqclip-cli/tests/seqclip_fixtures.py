"""Test helpers: tiny datasets written directly in the seqclip format (random views: fast, no
simulation), a tiny local text model, a free port for torchrun."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np

from radar_text_data import write_clip

WORDS = ["walks toward the radar", "waves twice", "falls forward", "claps three times", "jumps once",
         "sits down", "kicks with the left leg", "turns around"]


def make_dataset(root: Path, n: int = 16, frames: int = 48, splits=None, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    splits = splits or (["train"] * (n - 4) + ["val"] * 2 + ["test"] * 2)
    rows = []
    for i in range(n):
        cid = f"c{i:03d}"
        views = {"range_time": rng.random((256, frames)), "doppler_time": rng.random((128, frames)),
                 "azimuth_time": rng.random((128, frames))}
        write_clip(root / "clips" / f"{cid}.npz", {k: v.astype(np.float16) for k, v in views.items()})
        caps = [f"A person {WORDS[i % len(WORDS)]}.", f"Someone {WORDS[i % len(WORDS)]}."]
        rows.append({"id": cid, "split": splits[i], "file": f"clips/{cid}.npz", "captions": caps, "segments": [],
                     "frame_rate_hz": 50.0, "num_frames": frames, "radar": None})
    (root / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


def tiny_text_model(root: Path) -> str:
    """A 2-layer, 32-wide BERT with random (seeded) weights and the default MiniLM's tokenizer, saved
    as a local text model: the subprocess tests of resume and DDP exercise the same code path as
    with MiniLM at a fraction of its step time and checkpoint size (22.7 M -> 1 M weights)."""
    import torch
    from transformers import BertConfig, BertModel

    from seqclip.text import load_text_encoder

    if not (root / "config.json").is_file():
        _, tokenizer = load_text_encoder("default")
        torch.manual_seed(0)
        config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                            num_attention_heads=2, intermediate_size=64, max_position_embeddings=64)
        BertModel(config).save_pretrained(str(root))
        tokenizer.save_pretrained(str(root))
    return str(root)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now (for torchrun's rendezvous)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
