"""model/losses.py: order negatives enter the loss as radar->text negatives only."""

import pytest
import torch
from seqclip_fixtures import order_dataset

from seqclip.data import RadarTextDataset, collate


def test_order_negatives_enter_the_batch_and_the_loss_only_as_radar_to_text_negatives(tmp_path):
    from seqclip import SeqClip, SeqClipConfig
    from seqclip.model.losses import seqclip_losses

    data = order_dataset(tmp_path / "d")
    ds = RadarTextDataset(data, "train", 48, train=True, order_negatives=True)
    batch = collate([ds[i] for i in range(4)])
    assert len(batch["captions_reversed"]) == 4 and len(batch["captions"]) == 4  # never queries
    assert all(n not in batch["captions"] for n in batch["captions_reversed"])
    torch.manual_seed(0)
    model = SeqClip(SeqClipConfig()).eval()
    with torch.no_grad():
        feats = model.features(batch)
        with_neg = seqclip_losses(model, feats, batch["sample_ids"])
        plain = seqclip_losses(
            model, {k: v for k, v in feats.items() if not k.startswith("reversed_")}, batch["sample_ids"]
        )
        # a negative that describes a row's own activity sequence is pushed out of that row's loss
        same = dict(feats, sequence_ids=torch.full((4,), 7), reversed_sequence_ids=torch.full((4,), 7))
        masked = seqclip_losses(model, same, batch["sample_ids"])
    assert with_neg["loss_pooled"] > plain["loss_pooled"] and with_neg["loss_seq"] > plain["loss_seq"]
    assert masked["loss_pooled"] == pytest.approx(float(plain["loss_pooled"]), abs=1e-6)
    assert masked["loss_seq"] == pytest.approx(float(plain["loss_seq"]), abs=1e-6)


def _group(tmp_path, n=6):
    data = order_dataset(tmp_path / "d")
    ds = RadarTextDataset(data, "train", 48, train=True, order_negatives=True, positives="same_activities")
    return collate([ds[i] for i in range(n)])


@pytest.mark.parametrize("loss", ["infonce", "siglip"])
def test_hard_negatives_of_every_pair_are_the_dense_sequence_loss(tmp_path, loss):
    """The sparse path scoring all pairs (K = b - 1) gives the dense loss and gradients; with
    ``seq_hard_negatives >= b - 1`` the model takes the dense path itself (exactly today's loss)."""
    from seqclip import SeqClip, SeqClipConfig
    from seqclip.model.losses import hard_pairs, seqclip_losses, sequence_parts

    batch = _group(tmp_path)
    b = len(batch["captions"])
    results = []
    for k in (0, b - 1, b + 3):
        torch.manual_seed(0)
        model = SeqClip(SeqClipConfig(similarity="combined", loss=loss, seq_hard_negatives=k)).train()
        torch.manual_seed(1)
        out = model(batch)
        out["loss_seq"].backward()
        results.append((out["loss_seq"].detach(), model.radar_seq_proj.weight.grad.clone()))
    assert all(torch.equal(r[0], results[0][0]) and torch.equal(r[1], results[0][1]) for r in results[1:])
    torch.manual_seed(0)
    model = SeqClip(SeqClipConfig(similarity="combined", loss=loss)).train()
    torch.manual_seed(1)
    feats = model.features(batch)
    pooled = seqclip_losses(model, feats, batch["sample_ids"])["logits_per_radar"]
    parts, present = sequence_parts(model.seq_similarity, feats, hard_pairs(pooled, batch["sample_ids"], b - 1))
    dense = model.seq_similarity.similarities(
        feats["radar_seq"], feats["text_seq"], feats["radar_mask"], feats["text_mask"]
    )
    assert bool(present.all())
    for name in dense:
        torch.testing.assert_close(parts[name], dense[name], rtol=1e-5, atol=1e-5)
    sim = model.seq_similarity
    sparse_grad = torch.autograd.grad(sim.combine(parts).sum(), model.radar_seq_proj.weight, retain_graph=True)[0]
    dense_grad = torch.autograd.grad(sim.combine(dense).sum(), model.radar_seq_proj.weight)[0]
    torch.testing.assert_close(sparse_grad, dense_grad, rtol=1e-4, atol=1e-5)


def test_k_hard_negatives_score_2b_k_plus_1_pairs_and_keep_every_positive(tmp_path, monkeypatch):
    from seqclip import SeqClip, SeqClipConfig

    batch = _group(tmp_path)
    b, k = len(batch["captions"]), 1
    torch.manual_seed(0)
    model = SeqClip(SeqClipConfig(similarity="temporal", seq_hard_negatives=k)).train()
    scored = []
    original = type(model.seq_similarity).pair_similarities

    def spy(self, radar_seq, text_seq, rows, cols, *masks):
        scored.append((rows, cols))
        return original(self, radar_seq, text_seq, rows, cols, *masks)

    monkeypatch.setattr(type(model.seq_similarity), "pair_similarities", spy)
    out = model(batch)
    ((rows, cols),) = scored
    assert len(rows) == 2 * b * (k + 1)  # not b * b: the cost grows with K
    assert set(zip(rows.tolist(), cols.tolist(), strict=True)) >= {(i, i) for i in range(b)}
    assert torch.isfinite(out["loss_seq"]) and torch.isfinite(out["sim_temporal"])
    out["loss_total"].backward()
    assert model.radar_seq_proj.weight.grad.abs().sum() > 0
