"""The random state a checkpoint saves and gradient accumulation replays (CPU and every CUDA device)."""

from __future__ import annotations

import torch

__all__ = ["rng_state", "set_rng_state"]


def rng_state() -> dict:
    state: dict[str, object] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
