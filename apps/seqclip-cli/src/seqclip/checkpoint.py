"""Run-directory checkpoints: written atomically, rotated, resumable exactly.

``RUN/checkpoints/step_0000123/`` holds the model (``save_pretrained`` layout) and
``trainer_state.pt`` (optimizer, scheduler, scaler, RNG, data position; loaded with
``weights_only=True``). ``RUN/checkpoints/latest`` names the newest complete one.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import torch

from .files import make_temp_dir, write_text_atomic
from .model import CheckpointError, SeqClip

__all__ = ["save_checkpoint", "load_checkpoint"]


def save_checkpoint(run: Path, model: SeqClip, trainer_state: dict, keep_last: int) -> Path:
    ckpts = run / "checkpoints"
    ckpts.mkdir(parents=True, exist_ok=True)
    name = f"step_{trainer_state['state']['global_step']:07d}"
    tmp = make_temp_dir(ckpts, prefix=f".{name}.")
    try:
        model.save_pretrained(tmp / "model")
        torch.save(trainer_state, tmp / "trainer_state.pt")
        final = ckpts / name
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    write_text_atomic(ckpts / "latest", name + "\n")
    done = sorted(p for p in ckpts.glob("step_*") if p.is_dir())
    for old in done[:-keep_last] if keep_last > 0 else []:
        shutil.rmtree(old, ignore_errors=True)
    return final


def load_checkpoint(path: Path, map_location="cpu") -> tuple[dict, dict]:
    """(model state dict, trainer state) of a checkpoint."""
    from safetensors.torch import load_file

    try:
        state = torch.load(path / "trainer_state.pt", map_location=map_location, weights_only=True)
    except Exception as err:  # noqa: BLE001 - a truncated or foreign file raises many types
        raise CheckpointError(f"{path / 'trainer_state.pt'}: unreadable ({type(err).__name__})") from None
    try:
        weights = load_file(str(path / "model" / "model.safetensors"), device=str(map_location))
    except Exception as err:  # noqa: BLE001 - safetensors raises its own error types
        raise CheckpointError(f"{path / 'model' / 'model.safetensors'}: unreadable ({type(err).__name__})") from None
    return weights, state
