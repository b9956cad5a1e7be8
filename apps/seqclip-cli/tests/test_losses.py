"""losses.py: order negatives enter the loss as radar->text negatives only."""

import json

import pytest
import torch
from seqclip_fixtures import make_dataset

from seqclip.data import RadarTextDataset, collate


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
    assert with_neg["loss_pooled"] > plain["loss_pooled"] and with_neg["loss_seq"] > plain["loss_seq"]
    assert masked["loss_pooled"] == pytest.approx(float(plain["loss_pooled"]), abs=1e-6)
    assert masked["loss_seq"] == pytest.approx(float(plain["loss_seq"]), abs=1e-6)
