"""Mask handling shared by every strategy: validation, masked means, packing, windows.

Masks are boolean with ``True`` = a real token (the Hugging Face ``attention_mask``
convention). Every helper here guarantees that padded positions cannot change a result,
whatever values they hold (NaN included).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

__all__ = ["check_sequence", "masked_mean", "pack_valid", "window_means", "require"]


def require(cond: Tensor, message: Callable[[], str]) -> None:
    """Raise ``ValueError(message())`` unless the bool tensor ``cond`` holds, without a host round-trip:
    ``torch._assert_async`` fails at once on the CPU and as a device-side assert elsewhere (so a
    training step never waits for the device to validate its own masks)."""
    try:
        torch._assert_async(cond, "seq-similarity: invalid input (see the ValueError on the CPU)")
    except RuntimeError:
        raise ValueError(message()) from None


def check_sequence(x: Tensor, mask: Tensor | None, side: str) -> tuple[Tensor, Tensor]:
    """Validate ``{side}_seq`` [B, L, d] and ``{side}_mask`` [B, L]; return (x with padding zeroed, bool mask)."""
    name = f"{side}_seq"
    if not isinstance(x, Tensor) or x.dim() != 3:
        raise ValueError(f"{name} must be a tensor [batch, length, dim], got shape {tuple(getattr(x, 'shape', ()))}")
    b, length, _ = x.shape
    if length == 0:
        raise ValueError(f"{name} has length 0; every sequence needs at least one token")
    if mask is None:
        mask = torch.ones(b, length, dtype=torch.bool, device=x.device)
    else:
        if not isinstance(mask, Tensor) or mask.shape != (b, length):
            raise ValueError(
                f"{side}_mask must have shape {(b, length)} to match {name}, got {tuple(getattr(mask, 'shape', ()))}"
            )
        mask = mask.to(device=x.device).bool()
        rows = mask.any(dim=1)  # [B]
        require(rows.all(), lambda: f"{side}_mask row {int((~rows).nonzero()[0])} has no valid token (all False)")
    x = x.masked_fill(~mask[..., None], 0.0)  # padding can hold anything, even NaN
    return x, mask


def masked_mean(x: Tensor, mask: Tensor) -> Tensor:
    """Mean over valid tokens: x [B, L, d], mask [B, L] -> [B, d] (x already zero at padding)."""
    count = mask.sum(dim=1, keepdim=True).clamp_min(1).to(x.dtype)  # [B, 1]
    return x.sum(dim=1) / count


def pack_valid(x: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    """Move valid tokens to the front, keeping their order: -> (x [B, L, d], lengths [B]).

    After packing, token ``k < lengths[b]`` is the k-th valid token of row ``b``, so order-
    dependent strategies (windows, alignment) see the same sequence wherever the padding was.
    """
    length = mask.shape[1]
    # stable sort on "is padding" keeps valid tokens in their original order
    order = torch.sort((~mask).to(torch.uint8), dim=1, stable=True).indices  # [B, L]
    packed = torch.gather(x, 1, order[..., None].expand(-1, -1, x.shape[-1]))
    lengths = mask.sum(dim=1)
    valid = torch.arange(length, device=x.device)[None, :] < lengths[:, None]
    return packed.masked_fill(~valid[..., None], 0.0), lengths


def window_means(x: Tensor, lengths: Tensor, size: int, stride: int) -> tuple[Tensor, Tensor]:
    """Means of sliding windows over packed sequences: -> (means [B, W, d], valid [B, W]).

    Window ``k`` covers tokens ``[k*stride, k*stride + size)`` clipped to the sequence. Which
    windows exist depends on the valid length only: the first window always; then every window
    that fits entirely; then one last window that starts inside the sequence to cover a tail
    the previous windows missed. A sequence shorter than ``size`` gives one window.
    """
    b, length, d = x.shape
    num = max(1, -(-max(length - size, 0) // stride) + 1)  # windows needed to span length
    span = (num - 1) * stride + size
    valid_tok = torch.arange(length, device=x.device)[None, :] < lengths[:, None]  # [B, L]
    xp = torch.nn.functional.pad(x, (0, 0, 0, span - length))  # [B, span, d]
    mp = torch.nn.functional.pad(valid_tok, (0, span - length)).to(x.dtype)  # [B, span]
    sums = xp.unfold(1, size, stride).sum(dim=-1)  # [B, W, d]
    counts = mp.unfold(1, size, stride).sum(dim=-1)  # [B, W]
    starts = torch.arange(num, device=x.device)[None, :] * stride  # [1, W]
    ends = starts + size
    n = lengths[:, None]
    # exists iff it starts inside the sequence and is the first, fits, or covers a missed tail
    valid = (starts < n) & ((starts == 0) | (ends <= n) | (ends - stride < n))
    means = sums / counts.clamp_min(1)[..., None]
    return means, valid
