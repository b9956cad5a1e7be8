"""torchrun with 2 gloo processes on CPU against one process at the same global batch.

Documented tolerance: loss_total per step within 1e-4 relative, in fp32 (bf16, the default on a CPU
with native bf16, rounds differently at different batch sizes). The comparison uses a frozen
text encoder (kept in eval mode: no dropout, whose masks would differ between the runs) and no
sequence loss (the sequence similarity is computed per rank on its local batch)."""

import json

import pytest
import torch
from seqclip_fixtures import make_dataset, tiny_text_model, torchrun, train_cli


def _losses(run):
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    return [r["loss_total"] for r in rows if "loss_total" in r and "val_loss_total" not in r]


OPTIONS = (
    'similarity = "pooled"\nfreeze_text = true\nclip_length = 32\nlog_every = 1\nepochs = 2\n'
    'warmup_steps = 1\neval_test = false\ndevice = "cpu"\nseed = 3\nprecision = "fp32"\n'
)


def _train(config, *args, nproc: int = 1) -> None:
    """``seqclip train --config CONFIG ARGS`` in this process with one thread (as each rank has), or
    under torchrun with ``nproc`` gloo processes."""
    if nproc > 1:
        torchrun("-m", "seqclip", "train", "--config", str(config), *args, nproc=nproc)
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = train_cli("--config", str(config), *args)
    finally:
        torch.set_num_threads(threads)
    assert result.exit_code == 0, result.output[-3000:]


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory):
    """The run's config and one uninterrupted 2-process run (batch 4 per rank, 2 epochs) that both
    tests below compare with: 24 train clips -> 3 global batches of 8 per epoch, 6 steps."""
    root = tmp_path_factory.mktemp("ddp")
    data = make_dataset(root / "d", n=28)
    config = root / "run.toml"
    config.write_text(f'[train]\ndata = "{data}"\ntext_model = "{tiny_text_model(root / "text")}"\n{OPTIONS}')
    _train(config, "--batch-size", "4", "--out", str(root / "whole"), nproc=2)
    return config, root / "whole"


def test_two_gloo_processes_match_one_process_at_the_same_global_batch(ddp_run, tmp_path):
    config, whole = ddp_run
    _train(config, "--batch-size", "8", "--out", str(tmp_path / "single"))
    single, multi = _losses(tmp_path / "single"), _losses(whole)
    assert len(single) == len(multi) == 6
    for a, b in zip(single, multi, strict=True):
        assert abs(a - b) <= 1e-4 * abs(a), (single, multi)
    assert (whole / "checkpoints" / "latest").is_file()  # rank 0 checkpointed


def test_ddp_run_stopped_mid_epoch_resumes_exactly(ddp_run, tmp_path):
    """Two gloo processes: a run stopped by --max-steps mid-epoch and resumed from its checkpoint
    logs the same losses and ends with the same weights as an uninterrupted run."""
    from safetensors.torch import load_file

    config, whole = ddp_run
    split = tmp_path / "split"
    _train(config, "--batch-size", "4", "--out", str(split), "--max-steps", "2", nproc=2)  # stops inside epoch 0
    assert (split / "checkpoints" / "latest").read_text().strip() == "step_0000002"
    _train(config, "--batch-size", "4", "--out", str(split), "--resume", "latest", nproc=2)
    assert len(_losses(whole)) == len(_losses(split)) == 6
    assert _losses(whole) == _losses(split)
    final = "checkpoints/step_0000006/model/model.safetensors"
    a, b = load_file(str(whole / final)), load_file(str(split / final))
    for k in a:
        assert (a[k] == b[k]).all(), k


def test_skip_bad_under_ddp_keeps_every_rank_batch_equal(tmp_path):
    """Two gloo processes with --skip-bad: a missing clip is left out before training; NaN clips
    (found only when loaded) shrink one rank's micro-batch, and every rank cuts to the smallest, so
    the feature gather (equal sizes only) never fails."""
    import numpy as np

    from radar_text_data import write_clip

    data = make_dataset(tmp_path / "d", n=28)
    (data / "clips" / "c000.npz").unlink()
    for i in (1, 2, 3, 5, 7):
        bad = {
            k: np.full((b, 48), np.nan, np.float16)
            for k, b in (("range_time", 256), ("doppler_time", 128), ("azimuth_time", 128))
        }
        write_clip(data / "clips" / f"c{i:03d}.npz", bad)
    (tmp_path / "run.toml").write_text(
        f'[train]\ndata = "{data}"\ntext_model = "{tiny_text_model(tmp_path / "text")}"\nsimilarity = "pooled"\nclip_length = 32\nlog_every = 1\nepochs = 2\n'  # noqa: E501
        'warmup_steps = 1\neval_test = false\ndevice = "cpu"\nseed = 3\nbatch_size = 4\nskip_bad = true\n'
    )
    proc = torchrun("-m", "seqclip", "train", "--config", str(tmp_path / "run.toml"), "--out", str(tmp_path / "run"))
    assert "left out 1 bad clip(s)" in proc.stdout
    assert "clip(s) that failed to load" in proc.stdout  # some NaN clip was met, and training went on
    assert len(_losses(tmp_path / "run")) == 4  # 23 usable train clips: 2 global batches of 8 per epoch
