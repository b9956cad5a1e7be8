"""The scores never make the host wait for the device (checks are device-side asserts) and the torch
soft-DTW traces into one compiled graph; bad input still gets its ValueError on the CPU."""

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from seq_similarity import SequenceSimilarity, soft_dtw

SYNCING = {torch.ops.aten._local_scalar_dense.default, torch.ops.aten.nonzero.default}


class _Syncs(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.count += func in SYNCING
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("similarity", ["global", "local", "attention", "temporal", "combined"])
def test_scores_and_gradients_need_no_host_read(similarity):
    torch.manual_seed(0)
    sim = SequenceSimilarity(8, similarity)
    x, y = torch.randn(3, 5, 8, requires_grad=True), torch.randn(4, 6, 8, requires_grad=True)
    mx, my = torch.rand(3, 5) > 0.3, torch.rand(4, 6) > 0.3
    mx[:, 0] = my[:, 0] = True
    with _Syncs() as syncs:
        sim(x, y, mx, my).sum().backward()
    assert syncs.count == 0


def test_checks_still_raise_value_errors():
    with pytest.raises(ValueError, match=r"lengths_x must lie in \[1, 4\], got values in \[0, 3\]"):
        soft_dtw(torch.rand(2, 4, 5), lengths_x=torch.tensor([0, 3]))
    with pytest.raises(ValueError, match="text_mask row 1 has no valid token"):
        SequenceSimilarity(8, "global")(
            torch.randn(2, 3, 8), torch.randn(2, 3, 8), None, torch.tensor([[True, False, False], [False] * 3])
        )


def test_the_torch_wavefront_is_one_graph():
    cost = torch.rand(6, 5, 7)
    explained = torch._dynamo.explain(lambda c: soft_dtw(c, 0.1, backend="torch"))(cost)
    assert (explained.graph_count, explained.graph_break_count) == (1, 0), explained.break_reasons
