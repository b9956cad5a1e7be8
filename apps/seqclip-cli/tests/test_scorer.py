"""evaluation/scorer.py: the similarity checked once, one type per encoder call, pair scores equal to
the full matrix's entries."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from seqclip_fixtures import make_dataset

from seqclip import SeqClip, SeqClipConfig
from seqclip.data import RadarTextDataset
from seqclip.evaluation.scorer import Scorer
from seqclip.model.features import Embeddings


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    return RadarTextDataset(make_dataset(tmp_path_factory.mktemp("d") / "d"), "train", 48, train=False).subset(range(6))


def test_the_similarity_is_checked_once_against_the_model(model):
    pooled_only = SeqClip(SeqClipConfig(similarity="pooled"))
    with pytest.raises(ValueError, match="trained without sequence similarity"):
        Scorer(pooled_only, "temporal")
    with pytest.raises(ValueError, match="must be one of pooled"):
        Scorer(model, "dtw")
    temporal = SeqClip(SeqClipConfig(similarity="temporal"))
    with pytest.raises(ValueError, match=r"its sequence similarity has \['temporal'\]"):
        Scorer(temporal, "local")
    assert Scorer(model, "total").sequence and not Scorer(model).sequence


@settings(max_examples=3, deadline=None)
@given(n=st.integers(1, 3), sequence=st.booleans())
def test_encoders_return_one_type_whatever_is_asked(model, n, sequence):
    views = [torch.randn(n, b, 32) for b in (256, 128, 128)]
    with torch.no_grad():
        radar = model.encode_radar(*views, return_sequence=sequence)
        text = model.encode_text(["a person waves"] * n, return_sequence=sequence)
    for out, length in ((radar, 2), (text, None)):
        assert isinstance(out, Embeddings) and out.pooled.shape == (n, model.config.embed_dim)
        if not sequence:
            assert out.sequence is None and out.mask is None
            continue
        assert out.sequence.shape[:2] == out.mask.shape and out.sequence.shape[0] == n  # [b, n, d], [b, n]
        assert length is None or out.mask.shape[1] == length  # 32 frames: 2 time columns of 16


@settings(max_examples=6, deadline=None)
@given(similarity=st.sampled_from(["pooled", "temporal", "total"]), data=st.data())
def test_pair_scores_are_the_full_matrix_entries(model, split, similarity, data):
    scorer = Scorer(model, similarity, batch_size=4)
    clips = scorer.embed_clips(split)
    texts = scorer.embed_texts(clips.captions)
    rows = data.draw(st.lists(st.integers(0, len(clips) - 1), min_size=1, max_size=9))
    cols = data.draw(st.lists(st.integers(0, len(clips.captions) - 1), min_size=len(rows), max_size=len(rows)))
    matrix = scorer.matrix(clips, texts)
    full = matrix(torch.arange(len(clips)), torch.arange(len(clips.captions)))  # [N, M]
    got = scorer.pairs(matrix, torch.tensor(rows), torch.tensor(cols), chunk=data.draw(st.integers(1, 4)))
    torch.testing.assert_close(got, full[rows, cols], rtol=1e-4, atol=1e-5)
