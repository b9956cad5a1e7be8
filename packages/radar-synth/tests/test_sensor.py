"""sensor.py: clips in a point-cloud sensor's domain, through the same chain a real recording takes."""

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from radar_synth import SynthError, generate_dataset
from radar_synth.fast import body_window
from radar_synth.motion import plan_clip
from radar_synth.scene import body_trajectories
from radar_synth.sensor import SENSOR_ROOMS, SensorSpec, render_sensor_clip, sensor_point_cloud
from radar_synth.synth import SynthConfig, elevation_gain, iter_adc_chunks
from radar_text_data import read_manifest
from radar_views import RadarConfig, detect_points, sensor_profile

SENSOR = "iwr1443-radhar"


def test_the_sensor_sees_the_body_at_its_frame_rate_where_it_is():
    grid = RadarConfig()
    plan = plan_clip(np.random.default_rng(3), grid.frame_rate_hz, max_frames=160)
    cloud = sensor_point_cloud(plan, grid.frame_rate_hz, np.random.default_rng(0), SENSOR)
    cfg = sensor_profile(SENSOR)
    assert len(cloud.frames) == int(plan.num_frames / grid.frame_rate_hz * cfg.frame_rate_hz)
    np.testing.assert_allclose(np.diff(cloud.times), cfg.frame_period_s)
    torso = body_trajectories(plan, grid.frame_rate_hz).torso_range(cloud.times)
    near = [
        np.abs(np.linalg.norm(f[:, :3], axis=1) - t).min() for f, t in zip(cloud.frames, torso, strict=True) if len(f)
    ]
    assert len(near) > 0.8 * len(cloud.frames) and np.median(near) < 0.5  # a point on the body in most frames
    moving = np.concatenate(cloud.frames)[:, 3]
    assert np.all(
        np.isclose(np.abs(moving) / cfg.velocity_resolution_mps % 1, 0)
        | np.isclose(np.abs(moving) / cfg.velocity_resolution_mps % 1, 1)
    )  # on the sensor's Doppler bins


def test_fast_and_exact_paths_give_the_chain_the_same_elevations():
    """The IWR1443's raised TX2 gives each point its elevation: from the fast path's range profiles and
    from the exact path's ADC samples the chain finds the same strongest point in each frame, within
    the body's span of heights."""
    cfg, grid = sensor_profile(SENSOR), RadarConfig()
    plan = plan_clip(np.random.default_rng(3), grid.frame_rate_hz, max_frames=60)
    traj = body_trajectories(plan, grid.frame_rate_hz)
    frames = np.arange(3)
    body, lo = body_window(traj, cfg, frames)  # [F, L, TX, RX, W]
    cube = np.zeros((len(frames), *cfg.frame_shape), dtype=np.complex64)  # [F, L, TX, RX, N]
    cube[..., (lo + np.arange(body.shape[-1])) % cfg.num_samples] += body
    fast = detect_points(cube, cfg, False, input_domain="range")
    synth = SynthConfig(snr_db=60.0, clutter=False)
    adc = next(iter_adc_chunks(traj, None, cfg, synth, len(frames), np.random.default_rng(0), len(frames)))
    exact = detect_points(adc, cfg, False)
    centres, _ = traj.at(frames * cfg.frame_period_s)  # [F, K, 3]
    sin_el = centres[..., 2] / np.linalg.norm(centres, axis=-1)  # [F, K]
    for f, e, s in zip(fast, exact, sin_el, strict=True):
        np.testing.assert_allclose(f[0, :3], e[0, :3], atol=0.03)  # the strongest point, m
        w = f[0, 2] / np.linalg.norm(f[0, :3])
        assert s.min() - 0.05 <= w <= s.max() + 0.05 and w != 0
    assert np.ptp([f[0, 2] for f in fast]) > 0.1  # the strongest reflector's height changes with the motion


def test_views_follow_the_plan_and_are_deterministic():
    grid = RadarConfig()
    plan = plan_clip(np.random.default_rng(5), grid.frame_rate_hz, max_frames=96)
    a = render_sensor_clip(plan, np.random.default_rng(1), SENSOR, grid)
    b = render_sensor_clip(plan, np.random.default_rng(1), SENSOR, grid)
    assert a.range_time.shape == (256, plan.num_frames) and a.doppler_time.shape == (128, plan.num_frames)
    for name in ("range_time", "doppler_time", "azimuth_time"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        assert 0 <= getattr(a, name).min() and getattr(a, name).max() <= 1


def test_a_dataset_in_the_sensors_domain(tmp_path):
    out = generate_dataset(tmp_path / "d", 4, seed=0, max_frames=100, sensor=SENSOR, progress=False)
    records = read_manifest(out)
    assert {r.extras["sensor"] for r in records} == {SENSOR}
    lo, hi = SENSOR_ROOMS[SENSOR].start_range_m  # subjects start where the sensor's recordings place them
    assert all(lo <= r.extras["subject"]["start_range_m"] <= hi for r in records)
    with pytest.raises(ValueError, match="sensor: 'iwr1843' is not a point-cloud sensor; known: iwr1443-radhar"):
        generate_dataset(tmp_path / "e", 4, sensor="iwr1843", progress=False)
    assert not (tmp_path / "e").exists()


def test_a_sensor_with_one_setting_changed_reaches_the_workers(tmp_path):
    from dataclasses import replace

    from radar_synth.sensor import SensorSpec

    named = SensorSpec.named(SENSOR)
    assert (
        render_sensor_clip(
            plan := plan_clip(np.random.default_rng(5), 50.0, max_frames=96), np.random.default_rng(1), named
        ).doppler_time.tobytes()
        == render_sensor_clip(plan, np.random.default_rng(1), SENSOR).doppler_time.tobytes()
    )
    removed = replace(named, name="clutter removed", chain=replace(named.chain, clutter_removal=True))
    kept = generate_dataset(tmp_path / "kept", 2, seed=0, max_frames=100, sensor=named, progress=False, workers=2)
    out = generate_dataset(tmp_path / "removed", 2, seed=0, max_frames=100, sensor=removed, progress=False, workers=2)
    assert {r.extras["sensor"] for r in read_manifest(out)} == {"clutter removed"}
    a, b = ((root / "clips" / "clip_000000.npz").read_bytes() for root in (kept, out))
    assert a != b  # the spec, not the registry's sensor, rendered the clip in a spawned worker


@settings(max_examples=30, deadline=None)
@given(
    beam=st.floats(1.0, 90.0),
    el=st.floats(-89.0, 89.0),
    r=st.floats(0.5, 10.0),
    az=st.floats(-80.0, 80.0),
)
def test_the_elevation_beam_halves_power_at_its_width_and_falls_off_it(beam, el, r, az):
    e, a = np.radians(el), np.radians(az)
    pos = r * np.array([np.cos(e) * np.sin(a), np.cos(e) * np.cos(a), np.sin(e)])

    def at(p):  # the gain of a scatterer at position p: its elevation's sine is z / R
        return float(elevation_gain(p[2] / np.linalg.norm(p), beam))

    gain = at(pos)
    # two-way amplitude = one-way power: 1 on boresight, 1/2 at the beam's width, the same above and below
    assert gain == pytest.approx(0.5 ** ((el / beam) ** 2), rel=1e-6, abs=1e-12)
    assert gain == pytest.approx(at(pos * np.array([1, 1, -1])), rel=1e-9, abs=1e-12)
    assert at(pos * np.array([1, 1, 0])) == pytest.approx(1.0)


def test_a_beam_leaves_the_body_at_boresight_alone_and_dims_it_off_boresight():
    plan = plan_clip(np.random.default_rng(3), 30.0, max_frames=60)
    traj = body_trajectories(plan, 30.0)
    cfg, frames = sensor_profile(SENSOR), np.arange(4)
    plain, lo = body_window(traj, cfg, frames)
    np.testing.assert_array_equal(body_window(traj, cfg, frames, beam_deg=None)[0], plain)
    narrow, lo_n = body_window(traj, cfg, frames, beam_deg=10.0)
    assert lo_n == lo and np.abs(narrow).sum() < np.abs(plain).sum()
    flat = replace(traj, centres=traj.centres * np.array([1.0, 1.0, 0.0]))  # every segment at the radar's height
    np.testing.assert_allclose(body_window(flat, cfg, frames, beam_deg=10.0)[0], body_window(flat, cfg, frames)[0])


def test_a_beam_outside_0_to_90_degrees_is_refused():
    spec = SensorSpec.named(SENSOR)
    with pytest.raises(SynthError, match="elevation_beam_deg"):
        replace(spec, elevation_beam_deg=0.0)


def test_the_elevation_view_renders_the_same_points_with_their_elevation(tmp_path):
    """``SensorSpec.angle``: the same clip (plan, noise, points) with its third view holding each point's
    elevation; range and Doppler are unchanged, and the records say so."""
    grid, spec = RadarConfig(), SensorSpec.named(SENSOR)
    plan = plan_clip(np.random.default_rng(5), grid.frame_rate_hz, max_frames=96)
    tall = replace(spec, angle="elevation")
    flat, raised = (render_sensor_clip(plan, np.random.default_rng(1), s, grid) for s in (spec, tall))
    np.testing.assert_array_equal(flat.range_time, raised.range_time)
    np.testing.assert_array_equal(flat.doppler_time, raised.doppler_time)
    assert not np.array_equal(flat.azimuth_time, raised.azimuth_time)
    cloud = sensor_point_cloud(plan, grid.frame_rate_hz, np.random.default_rng(1), spec)
    heights = np.concatenate([f[:, 2] / np.linalg.norm(f[:, :3], axis=1) for f in cloud.frames if len(f)])
    rows = np.argmax(raised.azimuth_time, axis=0)  # [T]: each frame's strongest elevation row
    assert heights.min() - 0.2 <= (rows.min() - 64) / 64 and (rows.max() - 64) / 64 <= heights.max() + 0.2
    out = generate_dataset(tmp_path / "d", 2, seed=0, max_frames=100, sensor=tall, progress=False)
    assert {(r.extras["sensor"], r.extras["angle"]) for r in read_manifest(out)} == {(SENSOR, "elevation")}
    assert all(
        "angle" not in r.extras
        for r in read_manifest(generate_dataset(tmp_path / "a", 2, sensor=SENSOR, progress=False))
    )
    with pytest.raises(SynthError, match="sensor: angle must be one of"):
        replace(spec, angle="tilt")
