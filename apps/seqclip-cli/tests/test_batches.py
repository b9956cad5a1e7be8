"""batches.py and model/features.py: the dicts of a step hold their declared types. Every key the data
path and the model write is declared, and every required key is there, for plain batches, order
negatives, static shapes, the text cache and a batch whose clips were all skipped."""

import torch
from seqclip_fixtures import holds, order_dataset

from seq_similarity import SIMILARITIES
from seqclip import SeqClip, SeqClipConfig
from seqclip.batches import BadClip, Batch, Item
from seqclip.data import RadarTextDataset, collate
from seqclip.model.features import SIMILARITY_MEANS, Features, Losses, PreparedBatch, TextInputs


def test_every_similarity_component_has_its_mean_in_the_losses():
    assert set(SIMILARITY_MEANS) == set(SIMILARITIES) - {"combined"}
    assert set(SIMILARITY_MEANS.values()) <= Losses.__optional_keys__


def test_items_batches_and_what_the_model_makes_of_them_hold_their_types(tmp_path):
    ds = RadarTextDataset(order_dataset(tmp_path / "d"), "train", 48, train=True, order_negatives=True)
    items = [ds[i] for i in range(4)]
    for item in items:
        holds(item, Item)
    batch = collate(items)
    holds(batch, Batch)
    assert "captions_reversed" in batch  # the order negatives are part of what is checked
    holds(collate([None, None]), Batch)
    holds(collate([items[0], {"bad_clip": "clip.npz: not a clip"}]), Batch)
    holds(BadClip(bad_clip="x"), BadClip)

    torch.manual_seed(0)
    model = SeqClip(SeqClipConfig(similarity="combined", freeze_text=True, unfreeze_text_layers=1)).train()
    for static, cached in ((False, False), (True, False), (False, True)):
        model.static_shapes(16, 8) if static else model.static_shapes(None)
        model.cache_text(cached)
        prepared = model.prepare(batch)
        holds(prepared, PreparedBatch)
        holds(prepared["text"], TextInputs)
        assert ("reversed_text" in prepared) != static
        feats = model.features(prepared)
        holds(feats, Features)
        assert {"reversed_text", "reversed_text_seq", "radar_seq", "text_seq"} <= set(feats)
        losses = model(prepared)
        holds(losses, Losses)
        assert set(SIMILARITY_MEANS.values()) <= set(losses)


def test_the_type_check_looks_inside_nested_results():
    import pytest

    from seqclip.evaluation.results import RetrievalResult

    figures = {"R@1": 1.0, "R@5": 2.0, "R@10": 3.0, "median_rank": 4.0, "mean_rank": 4.0, "mAP": 5.0}
    result = {"text_to_radar": figures, "radar_to_text": figures, "protocol": {"name": "full", "clips": 3}}
    holds(result, RetrievalResult)
    with pytest.raises(AssertionError, match="RankMetrics lacks"):
        holds({**result, "radar_to_text": {k: v for k, v in figures.items() if k != "mAP"}}, RetrievalResult)
    with pytest.raises(AssertionError, match="RecallIntervals does not declare"):
        holds({**result, "text_to_radar": {**figures, "interval": {"R@1": [0, 1], "R@2": [0, 1]}}}, RetrievalResult)
