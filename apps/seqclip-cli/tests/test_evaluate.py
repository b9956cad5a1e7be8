"""evaluation.scorer and evaluation.retrieval: the one embedding and scoring path, against a naive reference."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from seqclip_fixtures import make_dataset

from seqclip.evaluation.retrieval import retrieval_metrics


def naive(radar, text, caption_clip):
    """Full similarity matrix, stable sort (ties: lower index first), ranks read off directly."""
    sim = (text @ radar.T).numpy()
    t2r = []
    for j in range(sim.shape[0]):
        order = np.argsort(-sim[j], kind="stable")
        t2r.append(int(np.where(order == int(caption_clip[j]))[0][0]) + 1)
    r2t_first, aps = [], []
    for i in range(radar.shape[0]):
        order = np.argsort(-sim[:, i], kind="stable")
        hits = sorted(int(np.where(order == j)[0][0]) + 1 for j in np.flatnonzero(caption_clip.numpy() == i))
        r2t_first.append(hits[0])
        aps.append(np.mean([(k + 1) / r for k, r in enumerate(hits)]))

    def summary(r):
        r = np.asarray(r)
        return {
            "R@1": (r <= 1).mean() * 100,
            "R@5": (r <= 5).mean() * 100,
            "R@10": (r <= 10).mean() * 100,
            "median_rank": float(np.median(r)),
            "mean_rank": r.mean(),
        }

    return summary(t2r), {**summary(r2t_first), "mAP": np.mean(aps) * 100}


@given(
    n=st.integers(1, 12),
    per=st.integers(1, 3),
    d=st.integers(2, 6),
    seed=st.integers(0, 1000),
    ties=st.booleans(),
    chunk=st.sampled_from([1, 3, 1024]),
)
def test_metrics_match_a_naive_full_matrix_reference(n, per, d, seed, ties, chunk):
    g = torch.Generator().manual_seed(seed)
    radar = torch.randn(n, d, generator=g)
    text = torch.randn(n * per, d, generator=g)
    if ties:  # exact ties: rank by index, deterministically
        radar = radar.round()
        text = text.round()
    caption_clip = torch.arange(n).repeat_interleave(per)
    got = retrieval_metrics(radar, text, caption_clip, chunk=chunk)
    want_t2r, want_r2t = naive(radar, text, caption_clip)
    for k, v in want_t2r.items():
        assert got["text_to_radar"][k] == pytest.approx(v), k
    for k, v in want_r2t.items():
        assert got["radar_to_text"][k] == pytest.approx(v), k


def test_embeddings_of_a_subset_keep_clips_and_captions_aligned(tmp_path):
    from seqclip import SeqClip, SeqClipConfig
    from seqclip.data import RadarTextDataset
    from seqclip.evaluation.scorer import Scorer

    ds = RadarTextDataset(make_dataset(tmp_path / "d"), "train", 48, train=False)
    sub = ds.subset([5, 2, 7])
    torch.manual_seed(0)
    model = SeqClip(SeqClipConfig())
    clips = Scorer(model, batch_size=2).embed_clips(sub)
    assert clips.positions == [5, 2, 7]
    assert clips.captions == [c for r in (ds.records[5], ds.records[2], ds.records[7]) for c in r.captions]
    with torch.no_grad():
        alone = model.encode_radar(*(ds[2][k][None] for k in ("range_time", "doppler_time", "azimuth_time", "mask")))
    torch.testing.assert_close(clips.radar.pooled[1:2], alone.pooled, atol=1e-5, rtol=1e-5)
