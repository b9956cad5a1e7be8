import numpy as np

from radar_synth import ClipPlan, Segment, render_clip
from radar_synth.body import BodyShape
from radar_synth.motion import gait_angles
from radar_views import RadarConfig

CFG = RadarConfig()


def walk(direction, frames=150, r=4.0, az=10.0, speed=1.3):
    heading = 0.0
    return ClipPlan([Segment("walk", 0, frames, {"speed": speed, "direction": direction})], frames, 1.75, r, az,
                    heading)


def test_range_ridge_follows_the_torso_and_doppler_sign_follows_direction():
    for direction, r0 in (("toward", 6.5), ("away", 2.5)):
        out = render_clip(walk(direction, r=r0), np.random.default_rng(3), CFG)
        v = out.views
        moving = slice(20, None)  # after the blend-in
        ridge = v.range_time[:, moving].argmax(axis=0)
        torso_rows = np.rint(out.torso_range_m[moving] / CFG.range_resolution_m)
        assert np.mean(np.abs(ridge - torso_rows) <= 3) > 0.9, direction
        power = 10 ** (v.doppler_time[:, moving] * 5)  # back from normalised dB to linear (50 dB range)
        below, above = power[:64].sum(), power[65:].sum()
        if direction == "toward":
            assert below > 2 * above
        else:
            assert above > 2 * below


def test_standing_still_concentrates_doppler_near_zero():
    """Without noise (a standing person is nearly static within a 16 ms frame, so after per-frame
    clutter removal its residual sits near the noise floor), the energy is within +-4 rows of 64."""
    p = ClipPlan([Segment("stand", 0, 120, {"breath_hz": 0.25})], 120, 1.7, 3.0, 0.0, -np.pi / 2)
    v = render_clip(p, np.random.default_rng(4), CFG, normalize="none", noise=False, clutter=False).views
    assert v.doppler_time[60:69].sum() > 0.9 * v.doppler_time.sum()
    walking = render_clip(walk("toward", frames=120), np.random.default_rng(4), CFG, normalize="none",
                          noise=False, clutter=False).views
    assert walking.doppler_time[60:69].sum() < 0.5 * walking.doppler_time.sum()


def test_walking_doppler_is_periodic_at_the_gait_cycle():
    frames, speed = 250, 1.2
    out = render_clip(walk("across_left", frames=frames, r=5.0, az=0.0, speed=speed), np.random.default_rng(5), CFG,
                      clutter=False)
    power = 10 ** (out.views.doppler_time * 5)
    spread = (power * np.abs(np.arange(128) - 64)[:, None]).sum(0) / power.sum(0)  # Doppler spread per frame
    x = spread[25:]
    x = x - np.convolve(x, np.ones(50) / 50, mode="same")  # remove the slow trend (1 s moving mean)
    x = x[25:-25]
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size), n=4096))
    freqs = np.fft.rfftfreq(4096, d=1 / CFG.frame_rate_hz)
    band = (freqs > 0.5) & (freqs < 4.0)
    peak = freqs[band][spectrum[band].argmax()]
    body = BodyShape(1.75)
    rv = speed / body.leg_length
    cycle = 1.346 * np.sqrt(rv) / rv
    # limbs swing twice per cycle (left and right): the spread oscillates at the step rate
    assert abs(peak - 2 / cycle) / (2 / cycle) < 0.15 or abs(peak - 1 / cycle) / (1 / cycle) < 0.15
    assert gait_angles(np.array([0.0]), speed, body)["hip_flex_r"][0] > 20
