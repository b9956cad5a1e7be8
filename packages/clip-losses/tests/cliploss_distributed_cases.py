"""Cases and the spawned worker of test_distributed (a plain module, so spawn can import it)."""

import os

import torch
import torch.distributed as dist
import torch.nn.functional as F

from clip_losses import ClipLoss, SigLipLoss

WORLD = 2
B, D_IN, D = 6, 5, 4  # global batch 6 -> 3 per rank


def _data():
    g = torch.Generator().manual_seed(0)
    x_r = torch.randn(B, D_IN, generator=g, dtype=torch.float64)
    x_t = torch.randn(B, D_IN, generator=g, dtype=torch.float64)
    ids = torch.tensor([0, 1, 2, 0, 3, 4])  # a positive pair that spans the two ranks
    return x_r, x_t, ids


def _encoders():
    torch.manual_seed(1)
    return torch.nn.Linear(D_IN, D).double(), torch.nn.Linear(D_IN, D).double()


def _run(loss_fn, enc_r, enc_t, x_r, x_t, ids, siglip):
    r = F.normalize(enc_r(x_r), dim=-1)
    t = F.normalize(enc_t(x_t), dim=-1)
    loss = loss_fn(r, t, 10.0, -5.0, ids) if siglip else loss_fn(r, t, 10.0, None, ids)
    loss.backward()
    grads = torch.cat([p.grad.flatten() for p in (*enc_r.parameters(), *enc_t.parameters())])
    return loss.detach(), grads


CASES = [  # (name, build, siglip, use ids, gradient factor after DDP averaging)
    ("clip", lambda: ClipLoss(), False, False, 1 / WORLD),
    ("clip-ids", lambda: ClipLoss(), False, True, 1 / WORLD),
    ("clip-gwg", lambda: ClipLoss(gather_with_grad=True), False, True, 1.0),
    ("clip-local-gwg", lambda: ClipLoss(local_loss=True, gather_with_grad=True), False, False, 1.0),
    ("clip-local-gwg-ids", lambda: ClipLoss(local_loss=True, gather_with_grad=True), False, True, 1.0),
    ("siglip", lambda: SigLipLoss(), True, False, 1.0),
    ("siglip-ids", lambda: SigLipLoss(), True, True, 1.0),
]
# documented approximation (as in OpenCLIP): right loss, gradients missing other ranks' terms
APPROXIMATE = [("clip-local", lambda: ClipLoss(local_loss=True), False, False, None)]


def _worker(rank, init_file, out_dir):
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=WORLD)
    try:
        x_r, x_t, ids = _data()
        sl = slice(rank * B // WORLD, (rank + 1) * B // WORLD)
        results = {}
        for name, build, siglip, use_ids, _ in CASES + APPROXIMATE:
            enc_r, enc_t = _encoders()
            loss, grads = _run(build(), enc_r, enc_t, x_r[sl], x_t[sl], ids[sl] if use_ids else None, siglip)
            dist.all_reduce(loss)
            dist.all_reduce(grads)
            results[name] = (loss / WORLD, grads / WORLD)  # rank-mean loss, DDP-mean gradients
        torch.save(results, os.path.join(out_dir, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()
