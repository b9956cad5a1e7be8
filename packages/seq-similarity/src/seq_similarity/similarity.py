"""``SequenceSimilarity``: pairwise sequence-level logits between radar and text sequences.

Every strategy maps ``radar_seq [Br, Lr, d]`` and ``text_seq [Bt, Lt, d]`` to a logit matrix
``[Br, Bt]`` whose entry (i, j) depends on radar i and text j only. Grids are evaluated in
chunks of radar rows with batched tensor operations (no loop over pairs); under autograd each
chunk is checkpointed, so memory stays bounded by the chunk in training as well.
``pair_similarities`` gives the same entries for a list of pairs only (re-scoring candidates,
hard negatives): its cost grows with the pairs, not with ``Br x Bt``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from .masking import check_sequence, masked_mean, pack_valid, window_means
from .names import DEFAULT_WEIGHTS, SIMILARITIES
from .soft_dtw import soft_dtw

__all__ = ["SequenceSimilarity", "SIMILARITIES", "DEFAULT_WEIGHTS", "chunk_elements", "DEFAULT_CHUNK_ELEMENTS"]


def _chunked_rows(fn: Callable[..., Tensor], rows: tuple[Tensor, ...], cols: tuple[Tensor, ...], chunk: int) -> Tensor:
    """Evaluate ``fn(*row_chunk, *cols) -> [c, Bt]`` over chunks of the radar rows."""
    total = rows[0].shape[0]
    if chunk >= total:
        return fn(*rows, *cols)
    out = []
    for start in range(0, total, chunk):
        part = tuple(r[start : start + chunk] for r in rows)
        if torch.is_grad_enabled():  # recompute in backward: memory bounded by one chunk
            out.append(checkpoint(fn, *part, *cols, use_reentrant=False))
        else:
            out.append(fn(*part, *cols))
    return torch.cat(out, dim=0)


def _chunked_pairs(fn: Callable[[Tensor, Tensor], Tensor], rows: Tensor, cols: Tensor, chunk: int) -> Tensor:
    """Evaluate ``fn(rows_chunk, cols_chunk) -> [c]`` over chunks of the pairs (checkpointed under autograd)."""
    if chunk >= rows.shape[0]:
        return fn(rows, cols)
    out = []
    for start in range(0, rows.shape[0], chunk):
        part = (rows[start : start + chunk], cols[start : start + chunk])
        out.append(checkpoint(fn, *part, use_reentrant=False) if torch.is_grad_enabled() else fn(*part))
    return torch.cat(out)


def token_dots(a: Tensor, b: Tensor) -> Tensor:
    """All token dot products ``a [c, La, d] x b [Bt, Lb, d] -> [c, Bt, La, Lb]``.

    One 2-D GEMM (forward and backward), which is several times faster than the batched
    matmuls that ``einsum`` picks for this pattern's backward pass.
    """
    c, la, d = a.shape
    bt, lb, _ = b.shape
    dots = a.reshape(c * la, d) @ b.reshape(bt * lb, d).T  # [c*La, Bt*Lb]
    return dots.reshape(c, la, bt, lb).transpose(1, 2)


def pair_token_dots(a: Tensor, b: Tensor, i: Tensor, j: Tensor, grid: bool) -> Tensor:
    """Token dot products of the pairs ``(a[i[p]], b[j[p]])``: ``a [Ba, La, d]``, ``b [Bb, Lb, d]``
    -> ``[P, La, Lb]``.

    Args:
        a, b: the two sides' token sequences.
        i, j: the pairs' indices into ``a`` and ``b`` ``[P]``.
        grid: score every ``(a, b)`` pair in one GEMM (``token_dots``) and pick the pairs from it;
            else gather each pair's tokens and multiply pair by pair. ``grid_pays`` says which is
            cheaper.
    """
    if grid:
        ba, la, _ = a.shape
        bb, lb, _ = b.shape
        dots = token_dots(a, b).reshape(ba * bb, la, lb)  # [Ba*Bb, La, Lb]
        return dots.index_select(0, i * bb + j)  # [P, La, Lb]
    return a[i] @ b[j].transpose(1, 2)  # [P, La, Lb]


PAIR_GRID_RATIO = 4  # the whole grid is scored when it holds at most this many times the pairs


def grid_pays(ba: int, bb: int, pairs: int, elements_per_pair: int, budget: int) -> bool:
    """Whether ``pair_token_dots`` should score the whole ``[ba, bb]`` grid for ``pairs`` pairs: the
    grid is at most ``PAIR_GRID_RATIO`` times the pairs and fits ``budget`` elements. The pairs'
    gathers copy whole sequences, and their backward scatters them back: at batch 32 with 18 pairs a
    row, ``pair_logits``' forward and backward is 2.2x faster from the grid on a CPU
    (``bench/seq_similarity.py``)."""
    return ba * bb <= PAIR_GRID_RATIO * pairs and ba * bb * elements_per_pair <= budget


def _cheaper_pair_token_dots(a: Tensor, b: Tensor, i: Tensor, j: Tensor, budget: int) -> Tensor:
    """``pair_token_dots`` the way ``grid_pays`` chooses for ``budget`` elements: ``[P, La, Lb]``."""
    grid = grid_pays(a.shape[0], b.shape[0], i.shape[0], a.shape[1] * b.shape[1], budget)
    return pair_token_dots(a, b, i, j, grid)


def _chunk(elements_per_row: int, budget: int) -> int:
    """Rows (or pairs) a chunk of ``budget`` elements holds at ``elements_per_row`` each."""
    return max(1, budget // max(1, elements_per_row))


DEFAULT_CHUNK_ELEMENTS = 1 << 24  # 64 MiB of float32 per intermediate on CPU


def chunk_elements(device: torch.device) -> int:
    """Elements one chunk's largest intermediate may hold on ``device``: a sixteenth of the free
    CUDA memory in float32 elements (at least ``DEFAULT_CHUNK_ELEMENTS``), else the CPU default."""
    if device.type != "cuda":
        return DEFAULT_CHUNK_ELEMENTS
    free, _ = torch.cuda.mem_get_info(device)
    return max(DEFAULT_CHUNK_ELEMENTS, free // 16 // 4)


class SequenceSimilarity(nn.Module):
    """Global, local, attention, temporal (soft-DTW) and combined sequence similarity.

    Args mirror the design document; ``max_chunk_elements`` bounds the largest intermediate
    tensor of one chunk (pairs x per-pair work), which sets peak memory on large grids; None
    (default) chooses it per call: ``DEFAULT_CHUNK_ELEMENTS`` on CPU, and on CUDA a sixteenth of the
    device's free memory in float32 elements (so the chunk's few live intermediates fit).
    """

    def __init__(
        self,
        embed_dim: int = 256,
        similarity: str = "combined",
        temperature: float = 0.07,
        window_size: int = 16,
        window_stride: int | None = None,
        num_heads: int = 8,
        gamma: float = 0.1,
        weights: Mapping[str, float] | None = None,
        max_chunk_elements: int | None = None,
    ) -> None:
        super().__init__()
        if similarity not in SIMILARITIES:
            raise ValueError(f"similarity must be one of {SIMILARITIES}, got {similarity!r}")
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        if window_size < 1 or (window_stride is not None and window_stride < 1):
            raise ValueError(f"window_size and window_stride must be >= 1, got {window_size}, {window_stride}")
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim {embed_dim} must be divisible by num_heads {num_heads}")
        weights = dict(DEFAULT_WEIGHTS if weights is None else weights)
        unknown = set(weights) - set(DEFAULT_WEIGHTS)
        if unknown:
            raise ValueError(f"unknown weights keys {sorted(unknown)}; expected a subset of {list(DEFAULT_WEIGHTS)}")
        self.embed_dim = embed_dim
        self.similarity = similarity
        self.temperature = float(temperature)
        self.window_size = window_size
        self.window_stride = window_stride or max(1, window_size // 2)
        self.gamma = float(gamma)
        self.weights = weights
        self.max_chunk_elements = None if max_chunk_elements is None else int(max_chunk_elements)
        self.components = tuple(weights) if similarity == "combined" else (similarity,)
        # one projection per strategy, shared by both modalities (they already share a space)
        if "global" in self.components:
            self.global_proj = nn.Linear(embed_dim, embed_dim)
        if "local" in self.components:
            self.local_proj = nn.Linear(embed_dim, embed_dim)
        if "attention" in self.components:
            self.attention = nn.MultiheadAttention(embed_dim, num_heads, batch_first=True)
        if "temporal" in self.components:
            self.temporal_proj = nn.Linear(embed_dim, embed_dim)

    def extra_repr(self) -> str:
        return (
            f"similarity={self.similarity}, temperature={self.temperature}, window={self.window_size}/"
            f"{self.window_stride}, gamma={self.gamma}, weights={self.weights}"
        )

    # ------------------------------------------------------------------ public API
    def forward(
        self, radar_seq: Tensor, text_seq: Tensor, radar_mask: Tensor | None = None, text_mask: Tensor | None = None
    ) -> Tensor:
        """Logits ``[Br, Bt]``: the chosen strategy, or the weighted sum for "combined"."""
        return self.combine(self.similarities(radar_seq, text_seq, radar_mask, text_mask))

    def combine(self, parts: Mapping[str, Tensor]) -> Tensor:
        """The logits of ``forward`` from the components of ``similarities`` (no recomputation)."""
        if self.similarity != "combined":
            return parts[self.similarity]
        first, *rest = self.components
        total = self.weights[first] * parts[first]
        for k in rest:
            total = total + self.weights[k] * parts[k]
        return total

    def similarities(
        self, radar_seq: Tensor, text_seq: Tensor, radar_mask: Tensor | None = None, text_mask: Tensor | None = None
    ) -> dict[str, Tensor]:
        """Every component's logits ``{name: [Br, Bt]}`` (one entry unless "combined")."""
        r, rm = check_sequence(radar_seq, radar_mask, "radar")
        t, tm = check_sequence(text_seq, text_mask, "text")
        if r.shape[-1] != self.embed_dim or t.shape[-1] != self.embed_dim:
            raise ValueError(
                f"feature dim must be embed_dim={self.embed_dim}, got radar {r.shape[-1]}, text {t.shape[-1]}"
            )
        fns = {
            "global": self.global_similarity,
            "local": self.local_similarity,
            "attention": self.attention_similarity,
            "temporal": self.temporal_similarity,
        }
        return {k: fns[k](r, t, rm, tm) for k in self.components}

    def pair_similarities(
        self,
        radar_seq: Tensor,
        text_seq: Tensor,
        rows: Tensor,
        cols: Tensor,
        radar_mask: Tensor | None = None,
        text_mask: Tensor | None = None,
    ) -> dict[str, Tensor]:
        """Every component's logit of the pairs ``(radar rows[p], text cols[p])`` only: ``{name: [P]}``,
        the entries ``similarities(...)[name][rows, cols]`` up to float rounding."""
        r, rm = check_sequence(radar_seq, radar_mask, "radar")
        t, tm = check_sequence(text_seq, text_mask, "text")
        if r.shape[-1] != self.embed_dim or t.shape[-1] != self.embed_dim:
            raise ValueError(
                f"feature dim must be embed_dim={self.embed_dim}, got radar {r.shape[-1]}, text {t.shape[-1]}"
            )
        if rows.dim() != 1 or rows.shape != cols.shape:
            raise ValueError(f"rows and cols must be 1-D of one length, got {tuple(rows.shape)}, {tuple(cols.shape)}")
        rows, cols = rows.to(r.device).long(), cols.to(r.device).long()
        fns = {
            "global": self._global_pairs,
            "local": self._local_pairs,
            "attention": self._attention_pairs,
            "temporal": self._temporal_pairs,
        }
        return {k: fns[k](r, t, rm, tm, rows, cols) for k in self.components}

    def pair_logits(
        self,
        radar_seq: Tensor,
        text_seq: Tensor,
        rows: Tensor,
        cols: Tensor,
        radar_mask: Tensor | None = None,
        text_mask: Tensor | None = None,
    ) -> Tensor:
        """``forward``'s logits of the pairs ``(rows[p], cols[p])`` only ``[P]``."""
        return self.combine(self.pair_similarities(radar_seq, text_seq, rows, cols, radar_mask, text_mask))

    # ------------------------------------------------------------------ strategies
    def global_similarity(self, r: Tensor, t: Tensor, rm: Tensor, tm: Tensor) -> Tensor:
        """Masked mean -> projection -> L2-normalise -> cosine / temperature."""
        rg = F.normalize(self.global_proj(masked_mean(r, rm)).float(), dim=-1)  # [Br, d]
        tg = F.normalize(self.global_proj(masked_mean(t, tm)).float(), dim=-1)  # [Bt, d]
        return rg @ tg.T / self.temperature  # [Br, Bt]

    def local_similarity(self, r: Tensor, t: Tensor, rm: Tensor, tm: Tensor) -> Tensor:
        """Max over valid window pairs of the cosine of projected window means / temperature."""
        rw, rv = self._windows(r, rm)  # [Br, Wr, d], [Br, Wr]
        tw, tv = self._windows(t, tm)  # [Bt, Wt, d], [Bt, Wt]
        per_pair = rw.shape[1] * tw.shape[1] * 2
        chunk = _chunk(per_pair * tw.shape[0], self._budget(tw.device))

        def block(rw_c: Tensor, rv_c: Tensor, tw_: Tensor, tv_: Tensor) -> Tensor:
            cos = token_dots(rw_c, tw_)  # [c, Bt, Wr, Wt]
            valid = rv_c[:, None, :, None] & tv_[None, :, None, :]
            return cos.masked_fill(~valid, float("-inf")).amax(dim=(2, 3)) / self.temperature

        return _chunked_rows(block, (rw, rv), (tw, tv), chunk)

    def attention_similarity(self, r: Tensor, t: Tensor, rm: Tensor, tm: Tensor) -> Tensor:
        """Self-attention per sequence; each radar token attends over text j's valid tokens;
        cosine(mean radar_i, mean attended text) / temperature."""
        ra = self._self_attend(r, rm)  # [Br, Lr, d]
        ta = self._self_attend(t, tm)  # [Bt, Lt, d]
        r_mean = F.normalize(masked_mean(ra, rm), dim=-1)  # [Br, d]
        r_weight = rm.float() / rm.sum(dim=1, keepdim=True)  # [Br, Lr]: mean over valid tokens
        per_pair = ra.shape[1] * ta.shape[1] * 3
        chunk = _chunk(per_pair * ta.shape[0], self._budget(ta.device))
        scale = 1.0 / math.sqrt(self.embed_dim)

        def block(ra_c: Tensor, rw_c: Tensor, rmean_c: Tensor, ta_: Tensor, tm_: Tensor) -> Tensor:
            scores = token_dots(ra_c, ta_) * scale  # [c, Bt, Lr, Lt]
            scores = scores.masked_fill(~tm_[None, :, None, :], float("-inf"))
            attn = scores.softmax(dim=-1)
            mean_attn = torch.einsum("ijrt,ir->ijt", attn, rw_c)  # [c, Bt, Lt]
            attended = torch.einsum("ijt,jtd->ijd", mean_attn, ta_)  # [c, Bt, d]
            cos = torch.einsum("id,ijd->ij", rmean_c, F.normalize(attended, dim=-1))
            return cos / self.temperature

        return _chunked_rows(block, (ra, r_weight, r_mean), (ta, tm), chunk)

    def temporal_similarity(self, r: Tensor, t: Tensor, rm: Tensor, tm: Tensor) -> Tensor:
        """Soft-DTW over cost 1 - cos(r_a, t_b), ending at the true lengths, normalised by the
        shortest path length max(len_r, len_t); logit = -value / temperature."""
        rp, rl = pack_valid(F.normalize(self.temporal_proj(r).float(), dim=-1), rm)  # [Br, Lr, d]
        tp, tl = pack_valid(F.normalize(self.temporal_proj(t).float(), dim=-1), tm)  # [Bt, Lt, d]
        n, m = rp.shape[1], tp.shape[1]
        per_pair = (n + m + 1) * (min(n, m) + 2) * 6
        chunk = _chunk(per_pair * tp.shape[0], self._budget(tp.device))

        def block(rp_c: Tensor, rl_c: Tensor, tp_: Tensor, tl_: Tensor) -> Tensor:
            c, bt = rp_c.shape[0], tp_.shape[0]
            cost = 1.0 - token_dots(rp_c, tp_)  # [c, Bt, Lr, Lt]
            lx = rl_c[:, None].expand(c, bt)
            ly = tl_[None, :].expand(c, bt)
            value = soft_dtw(cost, self.gamma, lx, ly)  # [c, Bt]
            return -value / torch.maximum(lx, ly).to(value.dtype) / self.temperature

        return _chunked_rows(block, (rp, rl), (tp, tl), chunk)

    # ------------------------------------------------------------------ the same strategies, pair by pair
    def _global_pairs(self, r, t, rm, tm, rows, cols) -> Tensor:
        rg = F.normalize(self.global_proj(masked_mean(r, rm)).float(), dim=-1)  # [Br, d]
        tg = F.normalize(self.global_proj(masked_mean(t, tm)).float(), dim=-1)  # [Bt, d]
        return (rg[rows] * tg[cols]).sum(-1) / self.temperature  # [P]

    def _local_pairs(self, r, t, rm, tm, rows, cols) -> Tensor:
        rw, rv = self._windows(r, rm)  # [Br, Wr, d], [Br, Wr]
        tw, tv = self._windows(t, tm)  # [Bt, Wt, d], [Bt, Wt]
        budget = self._budget(rw.device)

        def block(i: Tensor, j: Tensor) -> Tensor:
            cos = _cheaper_pair_token_dots(rw, tw, i, j, budget)  # [c, Wr, Wt]
            valid = rv[i][:, :, None] & tv[j][:, None, :]
            return cos.masked_fill(~valid, float("-inf")).amax(dim=(1, 2)) / self.temperature

        return _chunked_pairs(block, rows, cols, _chunk(rw.shape[1] * tw.shape[1] * 2, budget))

    def _attention_pairs(self, r, t, rm, tm, rows, cols) -> Tensor:
        ra, ta = self._self_attend(r, rm), self._self_attend(t, tm)  # [Br, Lr, d], [Bt, Lt, d]
        r_mean = F.normalize(masked_mean(ra, rm), dim=-1)  # [Br, d]
        r_weight = rm.float() / rm.sum(dim=1, keepdim=True)  # [Br, Lr]
        scale = 1.0 / math.sqrt(self.embed_dim)
        budget = self._budget(ra.device)

        def block(i: Tensor, j: Tensor) -> Tensor:
            scores = _cheaper_pair_token_dots(ra, ta, i, j, budget) * scale  # [c, Lr, Lt]
            attn = scores.masked_fill(~tm[j][:, None, :], float("-inf")).softmax(dim=-1)
            mean_attn = torch.einsum("crt,cr->ct", attn, r_weight[i])  # [c, Lt]
            attended = F.normalize(torch.einsum("ct,ctd->cd", mean_attn, ta[j]), dim=-1)  # [c, d]
            return (r_mean[i] * attended).sum(-1) / self.temperature

        return _chunked_pairs(block, rows, cols, _chunk(ra.shape[1] * ta.shape[1] * 3, budget))

    def _temporal_pairs(self, r, t, rm, tm, rows, cols) -> Tensor:
        rp, rl = pack_valid(F.normalize(self.temporal_proj(r).float(), dim=-1), rm)  # [Br, Lr, d]
        tp, tl = pack_valid(F.normalize(self.temporal_proj(t).float(), dim=-1), tm)  # [Bt, Lt, d]
        n, m = rp.shape[1], tp.shape[1]
        budget = self._budget(rp.device)

        def block(i: Tensor, j: Tensor) -> Tensor:
            cost = 1.0 - _cheaper_pair_token_dots(rp, tp, i, j, budget)  # [c, Lr, Lt]
            lx, ly = rl[i], tl[j]
            value = soft_dtw(cost, self.gamma, lx, ly)  # [c]
            return -value / torch.maximum(lx, ly).to(value.dtype) / self.temperature

        return _chunked_pairs(block, rows, cols, _chunk((n + m + 1) * (min(n, m) + 2) * 6, budget))

    # ------------------------------------------------------------------ helpers
    def _budget(self, device: torch.device) -> int:
        """Elements a chunk's largest intermediate may hold on ``device``."""
        return chunk_elements(device) if self.max_chunk_elements is None else self.max_chunk_elements

    def _windows(self, x: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        packed, lengths = pack_valid(x, mask)
        means, valid = window_means(packed, lengths, self.window_size, self.window_stride)
        return F.normalize(self.local_proj(means).float(), dim=-1), valid

    def _self_attend(self, x: Tensor, mask: Tensor) -> Tensor:
        out, _ = self.attention(x, x, x, key_padding_mask=~mask, need_weights=False)
        return out.float().masked_fill(~mask[..., None], 0.0)
