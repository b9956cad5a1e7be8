import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from radar_views import NORMALIZATIONS, RadarViews, crop_or_pad, normalize_view


def views(t, seed=0):
    rng = np.random.default_rng(seed)
    return RadarViews(*(rng.random((b, t), dtype=np.float32) for b in (256, 128, 128)))


@given(t=st.integers(16, 700), length=st.sampled_from([16, 64, 496]))
def test_crop_or_pad_contract(t, length):
    v = views(t)
    out, mask = crop_or_pad(v, length=length, multiple=16)
    keep = min(t, length) // 16 * 16
    assert mask.shape == (length,) and mask.dtype == bool
    assert mask[:keep].all() and not mask[keep:].any()
    for name in ("range_time", "doppler_time", "azimuth_time"):
        a = getattr(out, name)
        assert a.shape[1] == length and a.dtype == np.float32
        np.testing.assert_array_equal(a[:, :keep], getattr(v, name)[:, :keep])
        assert not a[:, keep:].any()


def test_crop_with_start_and_mapping_input():
    v = views(100)
    out, mask = crop_or_pad(v.as_dict(), length=64, start=10)
    np.testing.assert_array_equal(out.range_time, v.range_time[:, 10:74])
    assert mask.all()


@pytest.mark.parametrize(
    "mutate,match",
    [
        (lambda d: d.update(range_time=d["range_time"][None]), "2-D"),
        (lambda d: d.update(doppler_time=d["doppler_time"][:64]), "128 bins"),
        (lambda d: d["azimuth_time"].__setitem__((0, 0), np.nan), "NaN"),
        (lambda d: d.update(range_time=d["range_time"][:, :40]), "disagree"),
        (
            lambda d: d.update(
                range_time=d["range_time"][:, :8],
                doppler_time=d["doppler_time"][:, :8],
                azimuth_time=d["azimuth_time"][:, :8],
            ),
            "at least 16 frames",
        ),
    ],
)
def test_crop_or_pad_bad_inputs(mutate, match):
    d = {k: v.copy() for k, v in views(50).as_dict().items()}
    mutate(d)
    with pytest.raises(ValueError, match=match):
        crop_or_pad(d)


def test_normalizations():
    rng = np.random.default_rng(3)
    p = rng.random((128, 40)) ** 8 * 1e6
    p[:, 5] = 0.0
    for mode in NORMALIZATIONS:
        out = normalize_view(p, mode)
        assert out.dtype == np.float32 and np.isfinite(out).all()
    db = normalize_view(p, "db", dynamic_range_db=30.0)
    assert db.min() >= 0 and db.max() == pytest.approx(1.0)
    top = 10 * np.log10(p.max())
    assert np.all(db[10 * np.log10(p + 1e-30) < top - 30] == 0)
    per = normalize_view(p, "per_frame")
    live = [c for c in range(40) if c != 5]
    np.testing.assert_allclose(per[:, live].max(0), 1.0)
    np.testing.assert_allclose(per[:, live].min(0), 0.0)
    assert not per[:, 5].any()  # a constant frame maps to zeros, not NaN
    ref = normalize_view(p, "reference_log")
    want = np.log10(p / p.max() + 1e-6)
    np.testing.assert_allclose(ref, (want - want.min()) / (want.max() - want.min()), rtol=1e-5)
    np.testing.assert_array_equal(normalize_view(p, "none"), p.astype(np.float32))
    with pytest.raises(ValueError, match="normalize"):
        normalize_view(p, "log")
