import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from radarviews_targets import point_target_cube, range_at_frame_middle

from radar_views import RadarConfig, RadarViews, compute_views, iter_views
from radar_views.processing import range_doppler_spectrum, window

CFG = RadarConfig()


def test_default_profile_derived_quantities():
    assert abs(CFG.range_resolution_m - 0.0436) < 2e-4
    assert abs(CFG.max_range_m - 11.17) < 0.05
    assert CFG.virtual_positions[:, 0].tolist() == list(range(8))
    assert 0.10 < CFG.velocity_resolution_mps < 0.13
    assert CFG.frame_rate_hz == 50
    assert RadarConfig.from_dict(CFG.to_dict()) == CFG
    with pytest.raises(ValueError, match="unknown RadarConfig fields"):
        RadarConfig.from_dict({"num_sample": 3})
    with pytest.raises(ValueError, match="exceed frame_period_s"):
        RadarConfig(frame_period_s=0.01)


@given(
    r0=st.floats(0.8, 10.0),
    speed=st.floats(0.5, 6.0),
    receding=st.booleans(),
    theta=st.floats(-60.0, 60.0),
)
def test_moving_point_target_peaks_where_the_conventions_say(r0, speed, receding, theta):
    v = speed if receding else -speed
    frames = 2
    views = compute_views(point_target_cube(CFG, frames, r0, v, theta), CFG, normalize="none")
    for f in range(frames):
        want_r = round(range_at_frame_middle(CFG, f, r0, v) / CFG.range_resolution_m)
        want_d = 64 + round(v / CFG.velocity_resolution_mps)
        want_a = 64 + round(64 * np.sin(np.radians(theta)))
        assert abs(int(views.range_time[:, f].argmax()) - want_r) <= 1
        assert abs(int(views.doppler_time[:, f].argmax()) - want_d) <= 1
        assert abs(int(views.azimuth_time[:, f].argmax()) - want_a) <= 1
    if receding:
        assert views.doppler_time[:, 0].argmax() > 64


def test_static_clutter_removal():
    cube = point_target_cube(CFG, 2, 3.0, 0.0, 20.0)
    kept = compute_views(cube, CFG, clutter_removal=False, normalize="none")
    removed = compute_views(cube, CFG, clutter_removal=True, normalize="none")
    for name in ("range_time", "doppler_time", "azimuth_time"):
        assert getattr(removed, name).sum() < 1e-6 * getattr(kept, name).sum()
    assert abs(int(kept.doppler_time[:, 0].argmax()) - 64) == 0


def reference_spectrum(x, clutter_removal):
    """The chain written plainly: window, range FFT, subtract the loop mean, window, Doppler FFT."""
    w_n = window(x.shape[-1]).astype(np.float64)
    w_l = window(x.shape[1]).astype(np.float64)[:, None, None, None]
    z = np.fft.fft(x.astype(np.complex128) * w_n, axis=-1)
    if clutter_removal:
        z = z - z.mean(axis=1, keepdims=True)
    return np.fft.fft(z * w_l, axis=1)


@pytest.mark.parametrize("clutter_removal", [True, False])
def test_spectrum_matches_plain_reference_and_is_linear(clutter_removal):
    rng = np.random.default_rng(0)
    shape = (2, *CFG.frame_shape)
    x = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)
    y = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)
    fast = range_doppler_spectrum(x, clutter_removal)
    ref = reference_spectrum(x, clutter_removal)
    np.testing.assert_allclose(fast, ref, atol=1e-5 * np.abs(ref).max())
    a, b = 2.0 - 1.0j, 0.5j
    lhs = range_doppler_spectrum((a * x + b * y).astype(np.complex64), clutter_removal)
    rhs = a * fast + b * range_doppler_spectrum(y, clutter_removal)
    np.testing.assert_allclose(lhs, rhs, atol=1e-5 * np.abs(rhs).max())


def test_parseval_energy_relations():
    """Doppler-time column = L * sum_l w_l^2 |z_l - mean|^2 (DFT over loops) = range-time column
    sum; azimuth-time column = 128 x Doppler-time column (128 uniform sin-theta bins, integer
    half-wavelength array)."""
    rng = np.random.default_rng(1)
    shape = (3, *CFG.frame_shape)
    cube = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(np.complex64)
    views = compute_views(cube, CFG, clutter_removal=True, normalize="none")
    z = np.fft.fft(cube.astype(np.complex128) * window(CFG.num_samples), axis=-1)
    z -= z.mean(axis=1, keepdims=True)
    w = window(CFG.num_loops).astype(np.float64)
    want_doppler = CFG.num_loops * np.einsum("l,flxyr->f", w**2, np.abs(z) ** 2)
    np.testing.assert_allclose(views.doppler_time.sum(0), want_doppler, rtol=1e-3)
    np.testing.assert_allclose(views.range_time.sum(0), want_doppler, rtol=1e-3)
    np.testing.assert_allclose(views.azimuth_time.sum(0), 128 * views.doppler_time.sum(0), rtol=1e-3)


def test_tdm_compensation_keeps_the_azimuth_peak_still():
    theta = 25.0
    want = 64 + round(64 * np.sin(np.radians(theta)))
    peaks = {}
    for comp in (True, False):
        for v in (0.6, -5.5, 5.5):
            views = compute_views(
                point_target_cube(CFG, 1, 4.0, v, theta), CFG, normalize="none", tdm_compensation=comp
            )
            peaks[comp, v] = int(views.azimuth_time[:, 0].argmax())
    assert all(abs(peaks[True, v] - want) <= 1 for v in (0.6, -5.5, 5.5))
    assert abs(peaks[False, 5.5] - peaks[False, -5.5]) >= 3  # uncompensated: moves with speed


def test_capon_peaks_too():
    views = compute_views(point_target_cube(CFG, 1, 5.0, 1.5, -30.0), CFG, azimuth="capon", normalize="none")
    assert abs(int(views.azimuth_time[:, 0].argmax()) - (64 - 32)) <= 1


def test_iter_views_equals_compute_views():
    cube = point_target_cube(CFG, 5, 2.0, 1.2, 10.0) + point_target_cube(CFG, 5, 6.0, -2.0, -40.0)
    whole = compute_views(cube, CFG, normalize="none", chunk_size=5)
    blocks = list(iter_views([cube[:2], cube[2:3], cube[3:]], CFG))
    assert [b.num_frames for b in blocks] == [2, 1, 2]
    from radar_views import RadarViews

    joined = RadarViews.concat(blocks)
    for name in ("range_time", "doppler_time", "azimuth_time"):
        np.testing.assert_allclose(getattr(joined, name), getattr(whole, name), rtol=1e-5)
    db = compute_views(cube, CFG, normalize="db", chunk_size=2)
    np.testing.assert_allclose(joined.normalized("db").doppler_time, db.doppler_time, atol=1e-5)


def test_bad_cubes():
    with pytest.raises(ValueError, match="expected shape"):
        list(iter_views([np.zeros((1, 4, 2, 4, 256), np.complex64)], CFG))
    with pytest.raises(ValueError, match="complex"):
        list(iter_views([np.zeros((1, *CFG.frame_shape), np.float32)], CFG))
    bad = np.zeros((1, *CFG.frame_shape), np.complex64)
    bad[0, 0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        list(iter_views([bad], CFG))
    with pytest.raises(ValueError, match="normalize"):
        compute_views(bad, CFG, normalize="log")
    with pytest.raises(ValueError, match="azimuth"):
        list(iter_views([bad], CFG, azimuth="music"))


def test_range_domain_input_equals_adc_input():
    from radar_views.processing import range_fft

    cube = point_target_cube(CFG, 3, 2.5, 1.5, 15.0) + point_target_cube(CFG, 3, 7.0, 0.0, -30.0)
    profiles = range_fft(cube.copy())
    for clutter in (True, False):
        adc = RadarViews.concat(iter_views([cube], CFG, clutter_removal=clutter))
        rng = RadarViews.concat(iter_views([profiles], CFG, clutter_removal=clutter, input_domain="range"))
        for name in ("range_time", "doppler_time", "azimuth_time"):
            np.testing.assert_allclose(
                getattr(rng, name), getattr(adc, name), rtol=1e-4, atol=1e-6 * getattr(adc, name).max()
            )
    with pytest.raises(ValueError, match="input_domain"):
        list(iter_views([profiles], CFG, input_domain="doppler"))


@given(
    split=st.lists(st.integers(1, CFG.num_samples - 1), min_size=1, max_size=3, unique=True),
    clutter=st.booleans(),
    tdm=st.booleans(),
)
def test_frame_statistics_are_additive_over_range_bins(split, clutter, tdm):
    """Any split of the range bins: Doppler power and covariance sum, range power concatenates."""
    from radar_views import frame_statistics
    from radar_views.processing import range_fft

    profiles = range_fft(point_target_cube(CFG, 2, 2.5, 1.5, 15.0) + point_target_cube(CFG, 2, 7.0, -0.5, -30.0))
    whole = frame_statistics(profiles, clutter, tdm, input_domain="range")
    edges = [0, *sorted(split), CFG.num_samples]
    parts = [
        frame_statistics(profiles[..., a:b], clutter, tdm, input_domain="range")
        for a, b in zip(edges[:-1], edges[1:], strict=True)
    ]
    scale = whole.doppler_power.max()
    np.testing.assert_allclose(
        np.concatenate([p.range_power for p in parts], axis=1), whole.range_power, atol=1e-5 * whole.range_power.max()
    )
    np.testing.assert_allclose(sum(p.doppler_power for p in parts), whole.doppler_power, atol=1e-5 * scale)
    np.testing.assert_allclose(
        sum(p.covariance for p in parts), whole.covariance, atol=1e-5 * np.abs(whole.covariance).max()
    )
