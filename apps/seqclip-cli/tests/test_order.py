"""Order: twin batching, order negatives in the model's losses, bootstrap intervals, and the
order-aware evaluation tasks."""

import json

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from seqclip_fixtures import make_dataset
from typer.testing import CliRunner

from seqclip.cli import app
from seqclip.data import EpochSampler, RadarTextDataset, collate
from seqclip.stats import bootstrap_interval


@given(size=st.integers(2, 60), pairs=st.integers(0, 20), batch=st.integers(1, 9), seed=st.integers(0, 99),
       epoch=st.integers(0, 3))
def test_twin_batching_keeps_the_sample_set_is_deterministic_and_keeps_pairs_together(size, pairs, batch, seed, epoch):
    perm = np.random.default_rng(seed).permutation(size)
    twins = [(int(perm[2 * k]), int(perm[2 * k + 1])) for k in range(min(pairs, size // 2))]
    sampler = EpochSampler(size, seed, twins=twins, batch=batch)
    sampler.set_epoch(epoch)
    order = sampler.order()
    assert sorted(order) == list(range(size))
    again = EpochSampler(size, seed, twins=twins, batch=batch)
    again.set_epoch(epoch)
    assert again.order() == order
    where = {i: p for p, i in enumerate(order)}
    paired = {i for p in twins for i in p}
    for a, b in twins:
        first, second = sorted((where[a], where[b]))
        assert second == first + 1  # next to each other
        if first // batch != second // batch:  # straddles: only when no single clip was left to fill the gap
            assert all(i in paired for i in order[second:])
    sampler.set_epoch(epoch, start=batch)
    assert list(sampler) == [(epoch, i) for i in order[batch:]]  # resumes part-way, epoch attached


def test_bootstrap_intervals_cover_the_true_rate_about_95_percent_of_the_time():
    rng = np.random.default_rng(0)
    hits = 0
    trials = 200
    for t in range(trials):
        per_clip = [list((rng.random(3) < 0.7).astype(float)) for _ in range(80)]  # 80 clips x 3 comparisons
        low, high = bootstrap_interval(per_clip, samples=1000, seed=t)
        hits += low <= 0.7 <= high
    assert 0.89 <= hits / trials <= 0.99, hits / trials
    with pytest.raises(ValueError):
        bootstrap_interval([])


def _order_dataset(root):
    """The fixture dataset with segments, reversed captions and one twin pair in the test split."""
    data = make_dataset(root, n=24, splits=["train"] * 12 + ["val"] * 4 + ["test"] * 8)
    rows = [json.loads(x) for x in (data / "manifest.jsonl").read_text().splitlines()]
    acts = ["wave", "clap", "jump", "kick"]
    for i, r in enumerate(rows):
        a, b = acts[i % 4], acts[(i + 1) % 4]
        r["segments"] = [{"activity": a, "start_frame": 0, "end_frame": 24, "params": {}},
                         {"activity": b, "start_frame": 24, "end_frame": 48, "params": {}}]
        r["captions"] = [f"A person {a}s, then {b}s.", f"Someone {a}s and afterwards {b}s."]
        r["captions_reversed"] = [f"A person {b}s, then {a}s.", f"Someone {b}s and afterwards {a}s."]
    rows[-1]["twin_of"], rows[-2]["twin_of"] = rows[-2]["id"], rows[-1]["id"]
    (data / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return data


def test_order_negatives_enter_the_batch_and_the_loss_only_as_radar_to_text_negatives(tmp_path):
    from seqclip import SeqClip, SeqClipConfig
    from seqclip.losses import seqclip_losses

    data = _order_dataset(tmp_path / "d")
    ds = RadarTextDataset(data, "train", 48, train=True, order_negatives=True)
    batch = collate([ds[i] for i in range(4)])
    assert len(batch["captions_reversed"]) == 4 and len(batch["captions"]) == 4  # never queries
    assert all(n not in batch["captions"] for n in batch["captions_reversed"])
    torch.manual_seed(0)
    model = SeqClip(SeqClipConfig()).eval()
    with torch.no_grad():
        feats = model.features(batch)
        with_neg = seqclip_losses(model, feats, batch["sample_ids"])
        plain = seqclip_losses(model, {k: v for k, v in feats.items() if not k.startswith("reversed_")}, batch["sample_ids"])
        # a negative that describes a row's own activity sequence is pushed out of that row's loss
        same = dict(feats, sequence_ids=torch.full((4,), 7), reversed_sequence_ids=torch.full((4,), 7))
        masked = seqclip_losses(model, same, batch["sample_ids"])
    assert with_neg["loss_clip"] > plain["loss_clip"] and with_neg["loss_seq"] > plain["loss_seq"]
    assert masked["loss_clip"] == pytest.approx(float(plain["loss_clip"]), abs=1e-6)
    assert masked["loss_seq"] == pytest.approx(float(plain["loss_seq"]), abs=1e-6)


def test_eval_scores_order_with_every_similarity_and_reports_intervals(tmp_path):
    from seqclip import SeqClip, SeqClipConfig

    data = _order_dataset(tmp_path / "d")
    torch.manual_seed(0)
    SeqClip(SeqClipConfig(clip_length=48)).save_pretrained(tmp_path / "model")
    base = ["eval", "--checkpoint", str(tmp_path / "model"), "--data", str(data)]
    for task, clips in (("order", 8), ("twins", 2)):
        for score in ("clip", "temporal", "combined"):
            out = tmp_path / f"{task}-{score}.json"
            result = CliRunner().invoke(app, [*base, "--task", task, "--similarity", score, "--out", str(out)])
            assert result.exit_code == 0, result.output
            m = json.loads(out.read_text())
            assert m["clips"] == clips and m["comparisons"] == 2 * clips and m["similarity"] == score
            assert m["interval"][0] <= m["accuracy"] <= m["interval"][1]
    out = tmp_path / "r.json"
    assert CliRunner().invoke(app, [*base, "--out", str(out)]).exit_code == 0
    t2r = json.loads(out.read_text())["text_to_radar"]
    assert t2r["interval"]["R@1"][0] <= t2r["R@1"] <= t2r["interval"]["R@1"][1]


def test_training_with_order_negatives_twin_batches_and_activity_positives(tmp_path):
    from seqclip.config import TrainConfig
    from seqclip.train import train

    data = _order_dataset(tmp_path / "d")
    summary = train(TrainConfig(data=str(data), out=str(tmp_path / "run"), epochs=1, batch_size=4, clip_length=32,
                                warmup_steps=1, eval_test=False, order_negatives=True, twin_batches=True,
                                positives="activities", accum_steps=2))
    assert summary["steps"] == 1
    rows = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert all(np.isfinite(r["loss_total"]) for r in rows if "loss_total" in r)
