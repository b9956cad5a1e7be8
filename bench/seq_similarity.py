"""Benchmark seq-similarity: every strategy against a per-pair loop, soft_dtw against pysdtw, and
``pair_similarities`` (the hard-negative sequence loss's pairs) scored from the whole grid against
gathered pairs.

    uv run python bench/seq_similarity.py            # CPU here; CUDA when present
    BENCH_DEVICE=cpu uv run python bench/seq_similarity.py

The per-pair reference evaluates the same module on one (radar i, text j) pair at a time, which
is the same math without batching. Its time is measured on ``REF_PAIRS`` sampled pairs and
scaled to the full grid (stated in the table).
"""

from __future__ import annotations

import os
import sys
import time

import torch

# this script shares its name with the package: import the package, not the script
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE] + [_HERE]
from benchlib import device_from_env, measure, print_table, sync  # noqa: E402

import seq_similarity.similarity as similarity_module  # noqa: E402
from seq_similarity import SequenceSimilarity, soft_dtw  # noqa: E402

REF_PAIRS = int(os.environ.get("REF_PAIRS", "32"))
D = 256


def grid_case(device, kind, b, lr, lt):
    torch.manual_seed(0)
    sim = SequenceSimilarity(embed_dim=D, similarity=kind).to(device)
    r = torch.randn(b, lr, D, device=device, requires_grad=True)
    t = torch.randn(b, lt, D, device=device, requires_grad=True)
    rm = torch.ones(b, lr, dtype=torch.bool, device=device)
    rm[: b // 2, lr // 2 :] = False  # half the radar clips padded to half length
    tm = torch.ones(b, lt, dtype=torch.bool, device=device)
    tm[:, lt * 3 // 4 :] = False

    def fast():
        sim(r, t, rm, tm).sum().backward()

    pairs = torch.randint(0, b, (REF_PAIRS, 2), generator=torch.Generator().manual_seed(0)).tolist()

    def reference():
        out = [sim(r[i : i + 1], t[j : j + 1], rm[i : i + 1], tm[j : j + 1]) for i, j in pairs]
        torch.stack(out).sum().backward()

    t_fast, mem_fast = measure(fast, device)
    t_ref, mem_ref = measure(reference, device, repeats=1, warmup=1)
    t_ref_full = t_ref * (b * b) / REF_PAIRS
    return [kind, f"{b}x{b}, Lr={lr}, Lt={lt}", t_fast * 1e3, mem_fast, t_ref_full * 1e3, t_ref_full / t_fast]


def sdtw_case(device):
    torch.manual_seed(0)
    cost = torch.rand(4096, 31, 32, device=device, requires_grad=True)

    rows = []
    # the fused Triton kernel is the default on CUDA; the torch wavefront is the CPU path and the reference
    for backend in ("torch", "triton") if device.type == "cuda" else ("torch",):

        def ours(backend=backend):
            soft_dtw(cost, 0.1, backend=backend).sum().backward()

        t_ours, m_ours = measure(ours, device, repeats=5)
        rows.append([f"seq_similarity.soft_dtw ({backend})", t_ours * 1e3, m_ours])
    try:
        import pysdtw
    except ImportError:
        rows.append(["pysdtw (not installed)", float("nan"), float("nan")])
        return rows
    sd = pysdtw.SoftDTW(gamma=0.1, dist_func=lambda x, y: x, use_cuda=device.type == "cuda")
    dummy = torch.empty(4096, 32, 32, device=device)

    def theirs():
        sd(cost, dummy).sum().backward()

    try:
        t_theirs, m_theirs = measure(theirs, device, repeats=5, warmup=2)  # warm-up includes numba JIT
    except Exception as err:  # noqa: BLE001 - e.g. numba-cuda incompatible with the installed numpy
        rows.append([f"pysdtw {pysdtw.__version__} failed here: {type(err).__name__}: {str(err)[:80]}", "", ""])
        return rows
    rows.append([f"pysdtw {pysdtw.__version__}", t_theirs * 1e3, m_theirs])
    with torch.no_grad():
        err = float((soft_dtw(cost, 0.1) - sd(cost, dummy)).abs().max())
    rows.append(["max |ours - pysdtw|", err, ""])
    return rows


def hard_pair_cases(device, hard_negatives=8, lr=16, lt=48):
    """``pair_logits`` forward+backward on the pairs a hard-negative loss scores (each row's own
    caption and ``hard_negatives`` others, both ways: ``2 b (k + 1)`` pairs), with the pairs' token
    dots taken from the whole grid, from gathered pairs, and as ``grid_pays`` chooses."""
    rows, default = [], similarity_module.PAIR_GRID_RATIO
    for kind in ("temporal", "combined"):
        for b in (16, 32, 64, 128):
            torch.manual_seed(0)
            sim = SequenceSimilarity(embed_dim=D, similarity=kind).to(device)
            r = torch.randn(b, lr, D, device=device, requires_grad=True)
            t = torch.randn(b, lt, D, device=device, requires_grad=True)
            own = torch.arange(b, device=device).repeat_interleave(hard_negatives + 1)
            other = torch.randint(0, b, own.shape, device=device)
            i, j = torch.cat([own, other]), torch.cat([other, own])
            ms = {}
            for name, ratio in (("grid", float("inf")), ("gathered", 0.0), ("chosen", default)):
                similarity_module.PAIR_GRID_RATIO = ratio

                def step(sim=sim, r=r, t=t, i=i, j=j):
                    sim.pair_logits(r, t, i, j).sum().backward()

                ms[name] = measure(step, device, repeats=5)[0] * 1e3
            similarity_module.PAIR_GRID_RATIO = default
            chosen = "grid" if similarity_module.grid_pays(b, b, len(i), lr * lt, 1 << 62) else "gathered"
            rows.append([kind, b, len(i), b * b / len(i), ms["grid"], ms["gathered"], chosen, ms["chosen"]])
    return rows


def large_grid(device):
    """One forward+backward; memory: the process's peak RSS growth on CPU (this runs last and is the
    largest case), the allocator's peak on CUDA."""
    import resource

    sim = SequenceSimilarity(embed_dim=D, similarity="combined").to(device)
    r = torch.randn(256, 248, D, device=device, requires_grad=True)
    t = torch.randn(256, 32, D, device=device, requires_grad=True)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
    t0 = time.perf_counter()
    sim(r, t).sum().backward()
    sync(device)
    sec = time.perf_counter() - t0
    if device.type == "cuda":
        mem = (torch.cuda.max_memory_allocated(device) - base) / 2**20
    else:
        mem = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024  # KiB -> MiB
    return [["combined", "256x256, Lr=248, Lt=32", sec, mem]]


def main():
    device = device_from_env()
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"device: {name}; torch {torch.__version__}")
    rows = []
    for lr in (248, 31):
        for kind in ("global", "local", "attention", "temporal", "combined"):
            rows.append(grid_case(device, kind, 64, lr, 32))
            sync(device)
    print_table(
        f"SequenceSimilarity forward+backward, d={D} (reference timed on {REF_PAIRS} pairs, scaled)",
        ["strategy", "grid", "batched ms", "batched peak MiB", "per-pair ref ms", "speed-up"],
        rows,
    )
    print_table(
        "soft_dtw forward+backward, 4096 pairs of 31x32 costs, gamma=0.1",
        ["implementation", "ms", "peak MiB"],
        sdtw_case(device),
    )
    print_table(
        "pair_logits forward+backward on hard-negative pairs (k = 8 a row, both ways), Lr=16, Lt=48",
        ["strategy", "batch", "pairs", "grid / pairs", "grid ms", "gathered ms", "chosen", "chosen ms"],
        hard_pair_cases(device),
    )
    print_table(
        "Large grid, forward+backward (chunked, bounded memory)",
        ["strategy", "grid", "s", "peak MiB"],
        large_grid(device),
    )


if __name__ == "__main__":
    main()
