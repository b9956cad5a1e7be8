"""Patch planning: per-view patch sizes that give every view the same token grid."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PatchPlan", "plan_patches"]


@dataclass(frozen=True)
class PatchPlan:
    patch_sizes: tuple[tuple[int, int], ...]  # (height, time) per view
    rows: int  # token rows, equal for every view
    cols: int  # token columns (time), equal for every view

    @property
    def num_tokens(self) -> int:
        return self.rows * self.cols


def plan_patches(
    view_heights: tuple[int, ...] = (256, 128, 128), num_frames: int = 496, token_rows: int = 8, patch_time: int = 16
) -> PatchPlan:
    """Patch height ``h / token_rows`` per view and width ``patch_time``: every view then yields a
    ``token_rows x num_frames/patch_time`` grid (range 32x16, Doppler and azimuth 16x16 -> 8 x 31
    = 248 tokens at 496 frames)."""
    if token_rows < 1 or patch_time < 1:
        raise ValueError(f"token_rows and patch_time must be >= 1, got {token_rows}, {patch_time}")
    bad = [h for h in view_heights if h < token_rows or h % token_rows]
    if bad:
        raise ValueError(
            f"view heights {bad} are not multiples of token_rows={token_rows}; "
            f"every view height must divide into {token_rows} token rows"
        )
    if num_frames < patch_time or num_frames % patch_time:
        raise ValueError(
            f"num_frames={num_frames} is not a positive multiple of patch_time={patch_time}; "
            f"crop or pad the clip (radar_views.crop_or_pad)"
        )
    sizes = tuple((h // token_rows, patch_time) for h in view_heights)
    return PatchPlan(sizes, token_rows, num_frames // patch_time)
