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
        plain = seqclip_losses(model, {k: v for k, v in feats.items() if not k.startswith("reversed_")}, batch["sample_ids"])
        # a negative that describes a row's own activity sequence is pushed out of that row's loss
        same = dict(feats, sequence_ids=torch.full((4,), 7), reversed_sequence_ids=torch.full((4,), 7))
        masked = seqclip_losses(model, same, batch["sample_ids"])
    assert with_neg["loss_pooled"] > plain["loss_pooled"] and with_neg["loss_seq"] > plain["loss_seq"]
    assert masked["loss_pooled"] == pytest.approx(float(plain["loss_pooled"]), abs=1e-6)
    assert masked["loss_seq"] == pytest.approx(float(plain["loss_seq"]), abs=1e-6)
