"""A NaN or Inf loss stops the run without a host sync in every step: ``NonFiniteGuard`` marks the
first bad step on the device and makes it, and every step after it, leave the weights and the
optimizer state as they were (fused AdamW's ``found_inf``). ``check`` — at log steps, before a
checkpoint and before validation — reads that one flag; after a bad step it puts the run back where
the last good step left it (step, batch position, schedule, random state) and raises
``NonFiniteLoss`` naming the step: the stop a check in every step gave, found later."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ..errors import DivergedError
from .rng import rng_state, set_rng_state

__all__ = ["NonFiniteLoss", "NonFiniteGuard"]


class NonFiniteLoss(DivergedError):
    """The loss became NaN or Inf (the run stops; its last good weights are kept)."""


@dataclass
class _Before:
    """The host's side of a run just before an optimizer step (what ``check`` restores)."""

    step: int  # the step about to be taken (1-based)
    epoch: int
    batch_in_epoch: int
    scheduler: dict
    rng: dict


class NonFiniteGuard:
    """Watches the losses of the steps since the last ``check``, on the device."""

    def __init__(self, device: torch.device) -> None:
        self.first_bad = torch.zeros((), dtype=torch.long, device=device)  # the first bad step; 0: none
        self.bad_loss = torch.zeros((), device=device)
        self.unchecked: list[_Before] = []

    def arm(self, r, loss: Tensor) -> None:
        """After the backward of step ``r.state.global_step + 1``: record its loss and tell the
        optimizer (``found_inf``) to skip its update if this or an earlier step was bad."""
        step = r.state.global_step + 1
        self.unchecked.append(
            _Before(step, r.state.epoch, r.state.batch_in_epoch, r.scheduler.state_dict(), rng_state())
        )
        new = (self.first_bad == 0) & ~torch.isfinite(loss.detach())
        self.first_bad = torch.where(new, step, self.first_bad)
        self.bad_loss = torch.where(new, loss.detach().float(), self.bad_loss)
        r.optimizer.found_inf = (self.first_bad > 0).float()  # 1: the fused kernel leaves everything as it was

    def check(self, r) -> None:
        """Raise ``NonFiniteLoss`` (the run put back before its first bad step) if a step since the
        last check had a NaN or Inf loss; the one host read of the flag."""
        if not self.unchecked:
            return
        bad = int(self.first_bad)
        unchecked, self.unchecked = self.unchecked, []
        if not bad:
            return
        before = next(b for b in unchecked if b.step == bad)
        r.state.global_step, r.state.epoch, r.state.batch_in_epoch = bad - 1, before.epoch, before.batch_in_epoch
        r.scheduler.load_state_dict(before.scheduler)
        set_rng_state(before.rng)
        raise NonFiniteLoss(f"loss became {float(self.bad_loss)} at step {bad} (epoch {before.epoch})")
