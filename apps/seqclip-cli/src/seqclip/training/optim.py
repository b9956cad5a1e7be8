"""AdamW parameter groups and the warmup + cosine schedule."""

from __future__ import annotations

import math

from torch import nn

__all__ = ["param_groups", "warmup_cosine", "NO_DECAY_NAMES"]

NO_DECAY_NAMES = ("pos_embed", "eot_token", "log_scale", "logit_bias")


def param_groups(model: nn.Module, lr: float, weight_decay: float, text_lr_mult: float) -> list[dict]:
    """Four groups: (radar side | text encoder) x (decay | no decay). No weight decay on norms,
    biases, the logit scale / bias, the EOT token and positional embeddings."""
    groups: dict[tuple[bool, bool], list[nn.Parameter]] = {
        (text, decay): [] for text in (False, True) for decay in (False, True)
    }
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        no_decay = p.ndim <= 1 or any(name.endswith(n) for n in NO_DECAY_NAMES)
        groups[(name.startswith("text_encoder."), not no_decay)].append(p)
    out = []
    for (text, decay), params in groups.items():
        if params:
            out.append(
                {
                    "params": params,
                    "lr": lr * (text_lr_mult if text else 1.0),
                    "weight_decay": weight_decay if decay else 0.0,
                    "name": f"{'text' if text else 'radar'}_{'decay' if decay else 'no_decay'}",
                }
            )
    return out


def warmup_cosine(warmup_steps: int, total_steps: int, min_ratio: float = 0.0):
    """Multiplier for ``LambdaLR``: linear warmup, then cosine to ``min_ratio``."""

    def fn(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / max(1, warmup_steps)
        progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
        return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))

    return fn
