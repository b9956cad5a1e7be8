"""Two gloo processes on CPU: losses and gradients against one process on the concatenated batch.

Each rank owns half of a global batch and the same linear "encoder"; after backward the
parameter gradients are averaged over ranks, which is what DDP does.
"""

import os
import tempfile

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from cliploss_distributed_cases import CASES, WORLD, _data, _encoders, _run, _worker

from clip_losses import ClipLoss


@pytest.fixture(scope="module")
def distributed_results():
    if not dist.is_available() or not dist.is_gloo_available():
        pytest.skip("torch.distributed with gloo is not available")
    with tempfile.TemporaryDirectory() as tmp:
        mp.spawn(_worker, args=(os.path.join(tmp, "init"), tmp), nprocs=WORLD, join=True)
        return [torch.load(os.path.join(tmp, f"rank{r}.pt")) for r in range(WORLD)]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_matches_single_process_on_concatenated_batch(distributed_results, case):
    name, build, siglip, use_ids, factor = case
    x_r, x_t, ids = _data()
    enc_r, enc_t = _encoders()
    ref_loss, ref_grads = _run(build(), enc_r, enc_t, x_r, x_t, ids if use_ids else None, siglip)
    for rank_results in distributed_results:
        loss, grads = rank_results[name]
        torch.testing.assert_close(loss, ref_loss, atol=1e-10, rtol=1e-9)
        torch.testing.assert_close(grads, factor * ref_grads, atol=1e-10, rtol=1e-9)


def test_local_loss_without_gather_grad_is_only_approximate(distributed_results):
    x_r, x_t, _ = _data()
    enc_r, enc_t = _encoders()
    ref_loss, ref_grads = _run(ClipLoss(), enc_r, enc_t, x_r, x_t, None, False)
    for rank_results in distributed_results:
        loss, grads = rank_results["clip-local"]
        torch.testing.assert_close(loss, ref_loss, atol=1e-10, rtol=1e-9)
        for factor in (1.0, 1 / WORLD):
            assert not torch.allclose(grads, factor * ref_grads, atol=1e-6)
