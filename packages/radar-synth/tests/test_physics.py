import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from radar_synth import (
    ACTIVITIES,
    SEGMENTS,
    BodyShape,
    ClipPlan,
    Segment,
    ellipsoid_rcs,
    render_clip,
)
from radar_synth.body import forward_kinematics
from radar_synth.fast import window_profiles
from radar_synth.kernel import hann_dtft, hann_strip
from radar_synth.motion import clip_pose
from radar_synth.scene import body_trajectories
from radar_views import RadarConfig

CFG = RadarConfig()


def plan(activity, frames, params=None, r=4.0, az=0.0, heading=None, height=1.75):
    params = params or {}
    heading = np.arctan2(-np.cos(np.radians(az)), -np.sin(np.radians(az))) if heading is None else heading
    return ClipPlan([Segment(activity, 0, frames, params)], frames, height, r, az, heading)


def test_sixteen_segments_with_constant_lengths_in_every_activity():
    body = BodyShape(1.8)
    t = np.arange(0, 3, 0.01)
    for name, act in ACTIVITIES.items():
        p = plan(name, 150, act.sample_params(np.random.default_rng(0)))
        if act.moves:
            p.segments[0].params["direction"] = "toward"
        pose = clip_pose(p, t, 50.0, body)
        centres, axes, sizes = forward_kinematics(pose, body)
        assert centres.shape == (t.size, 16, 3) and len(SEGMENTS) == 16
        assert np.isfinite(centres).all(), name
        np.testing.assert_allclose(np.linalg.norm(axes, axis=-1), 1.0, atol=1e-6)
    assert sizes[SEGMENTS.index("thigh_l"), 1] == pytest.approx(0.5 * 0.245 * 1.8)


def test_feet_stay_on_the_floor_and_sitting_lowers_the_pelvis():
    traj = body_trajectories(plan("sit_down", 150), 50.0)
    feet = [SEGMENTS.index("foot_l"), SEGMENTS.index("foot_r")]
    from radar_synth.scene import RADAR_HEIGHT_M

    floor = traj.centres[:, feet, 2].min(axis=1) + RADAR_HEIGHT_M - traj.sizes[feet[0], 0]
    np.testing.assert_allclose(floor, 0.0, atol=1e-6)
    torso_z = traj.centres[:, SEGMENTS.index("torso"), 2]
    assert torso_z[0] - torso_z[-1] > 0.3  # seated at the end


def test_ellipsoid_rcs():
    los = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    axis = np.array([0.0, 0.0, 1.0])
    sphere = ellipsoid_rcs(los, axis, np.array(0.2), np.array(0.2))
    np.testing.assert_allclose(sphere, np.pi * 0.04)  # a sphere: pi a^2 from any aspect
    rod = ellipsoid_rcs(los, axis, np.array(0.05), np.array(0.3))
    np.testing.assert_allclose(rod, [np.pi * 0.3**2, np.pi * 0.05**4 / 0.3**2])  # broadside, end-on
    assert rod[0] > 100 * rod[1]


def test_hann_kernel_matches_the_fft_and_the_strip_table():
    n = 256
    w = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)
    for beta in (37.3, 100.0, 5.5, 12.5, 200.4999):
        direct = np.fft.fft(w * np.exp(2j * np.pi * beta * np.arange(n) / n))
        bins = np.arange(int(beta) - 6, int(beta) + 7)
        np.testing.assert_allclose(hann_dtft(beta - bins, n), direct[bins], atol=1e-9)
        centre = np.rint(beta)
        strip = hann_strip(np.array(beta - centre), n, 6)
        # nearest of 4096 table steps per bin: within 4e-4 of the peak n / 2
        np.testing.assert_allclose(strip, direct[(int(centre) + np.arange(-6, 7)) % n], atol=4e-4 * n / 2)
    delta = np.random.default_rng(0).uniform(-0.5, 0.5, (3, 5))
    table = hann_strip(delta, n, 6)
    assert table.shape == (3, 5, 13)
    np.testing.assert_allclose(table, hann_dtft(delta[..., None] - np.arange(-6, 7), n), atol=4e-4 * n / 2)


def _window_profiles_reference(coef, strip, start, width):
    """Plain loops: every strip added into its chirp's window, one segment at a time."""
    out = np.zeros((coef.shape[0], coef.shape[1], width), dtype=np.complex128)
    for c in range(coef.shape[0]):
        for k in range(coef.shape[2]):
            s = start[c, k]
            out[c, :, s : s + strip.shape[-1]] += coef[c, :, k, None] * strip[c, k]
    return out


def test_window_accumulation_equals_plain_loops():
    rng = np.random.default_rng(0)
    c, rx, k, m, width = 24, 4, 16, 13, 64
    coef = rng.standard_normal((c, rx, k)) + 1j * rng.standard_normal((c, rx, k))
    strip = rng.standard_normal((c, k, m)) + 1j * rng.standard_normal((c, k, m))
    start = rng.integers(0, width - m + 1, (c, k))
    start[0, :3] = 5  # overlapping strips add up
    np.testing.assert_allclose(
        window_profiles(coef, strip, start, width), _window_profiles_reference(coef, strip, start, width), atol=1e-4
    )


# 16 range bins of 70 cm: the body's window (whole 16-bin blocks) is wider than the profile and
# folds; at 10.9 m the body straddles the maximum range and wraps around to bin 0.
SMALL = RadarConfig(num_samples=16, num_loops=32)


@pytest.mark.parametrize(("cfg", "r"), [(CFG, 4.0), (SMALL, 4.0), (SMALL, 10.9)])
def test_exact_and_fast_paths_agree(cfg, r):
    """Documented tolerance: without noise, linear power within 5 % per view, and the dB views
    within 0.05 (of the 50 dB range) wherever the exact view is within 30 dB of its peak."""
    p = plan("walk", 8, {"speed": 1.4, "direction": "toward"}, r=r, az=20.0)
    exact = render_clip(p, np.random.default_rng(1), cfg, path="exact", normalize="none", noise=False)
    fast = render_clip(p, np.random.default_rng(1), cfg, path="fast", normalize="none", noise=False)
    for name in ("range_time", "doppler_time", "azimuth_time"):
        e, f = getattr(exact.views, name), getattr(fast.views, name)
        assert abs(f.sum() / e.sum() - 1) < 0.05, name
        e_db = 10 * np.log10(e / e.max() + 1e-12)
        f_db = 10 * np.log10(f / e.max() + 1e-12)
        strong = e_db > -30
        assert np.abs(e_db - f_db)[strong].max() / 50 < 0.05, name


def test_fast_noise_floor_matches_the_exact_path():
    """The fast path draws noise-only range blocks from bank statistics: the noise floor of every
    view (away from the body) matches the exact path's fresh per-sample noise within 5 %."""
    p = plan("stand", 6, {"breath_hz": 0.25}, r=3.0, az=0.0)
    exact = render_clip(p, np.random.default_rng(1), CFG, path="exact", normalize="none").views
    fast = render_clip(p, np.random.default_rng(2), CFG, path="fast", normalize="none").views
    body = round(3.0 / CFG.range_resolution_m)
    far_bins = np.r_[0 : body - 30, body + 40 : CFG.num_samples]
    moving_rows = np.r_[0:56, 73:128]  # a standing body's residual sits near row 64
    for e, f in (
        (exact.range_time[far_bins], fast.range_time[far_bins]),
        (exact.doppler_time[moving_rows], fast.doppler_time[moving_rows]),
        (exact.azimuth_time, fast.azimuth_time),
    ):
        assert abs(f.mean() / e.mean() - 1) < 0.05
    assert fast.range_time[far_bins].std() > 0.01 * fast.range_time[far_bins].mean()  # noise, not a constant


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 3), st.floats(0.5, 6.0))
def test_a_jump_flies_ballistically_and_never_higher_than_a_standing_jump(reps, dur):
    """The flight of each repetition is a parabola under g of 0.4 of the repetition, up to
    ``JUMP_PERIOD_S`` (0.5 s, 0.31 m): as the plain formula for repetitions up to that long."""
    from radar_synth.motion import JUMP_PERIOD_S, _jump

    t = np.linspace(0.0, dur, 4001)
    height = _jump(t, dur, {"reps": reps}, None)["pelvis_dz_flight"]
    period = dur / reps
    tf = 0.4 * min(period, JUMP_PERIOD_S)
    assert height.max() <= 9.81 * tf**2 / 8 + 1e-9 and height.max() >= 0.97 * 9.81 * tf**2 / 8
    assert (height > 0).mean() == pytest.approx(tf / period, abs=0.01)  # airborne this share of the time
    if period <= JUMP_PERIOD_S:
        ph = np.clip(t / dur, 0, 0.9999) * reps % 1.0
        flight = np.clip((ph - 0.3) / 0.4, 0, 1)
        np.testing.assert_allclose(height, 4.9 * (0.2 * period) ** 2 * 4 * flight * (1 - flight), atol=1e-12)
