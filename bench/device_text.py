"""The default text tower for a GPU machine without network, within its 64 MiB carry: ``save`` here
writes MiniLM in float16 (about 45 MB) with its config and tokenizer to ``.bench_minilm/``;
``restore`` there writes it back in float32 to a directory ``--text-model`` takes.

    uv run python bench/device_text.py save                       # here, before the device call
    python3 bench/device_text.py restore /tmp/minilm              # there (bench/gpu_open_vocab.sh does it)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# bench/radar_synth.py shares its name with the package: import the package, not the script
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

CARRIED = Path(".bench_minilm")


def save() -> None:
    import torch

    from seqclip.model.text import load_text_encoder

    model, tokenizer = load_text_encoder("default")
    model.to(torch.float16).save_pretrained(CARRIED)
    tokenizer.save_pretrained(CARRIED)
    size = sum(p.stat().st_size for p in CARRIED.rglob("*") if p.is_file()) / 2**20
    print(f"wrote {CARRIED}/ ({size:.1f} MiB, float16)")


def restore(target: str) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    AutoModel.from_pretrained(CARRIED, torch_dtype=torch.float32).to(torch.float32).save_pretrained(target)
    AutoTokenizer.from_pretrained(CARRIED).save_pretrained(target)
    print(f"restored {CARRIED}/ to {target} in float32")


if __name__ == "__main__":
    if sys.argv[1:2] == ["save"]:
        save()
    elif sys.argv[1:2] == ["restore"] and len(sys.argv) == 3:
        restore(sys.argv[2])
    else:
        sys.exit(__doc__)
