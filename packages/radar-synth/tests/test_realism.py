import numpy as np

from radar_synth import ClipPlan, Segment, render_clip
from radar_synth.body import BodyShape
from radar_synth.motion import gait_angles
from radar_views import RadarConfig

CFG = RadarConfig()


def walk(direction, frames=150, r=4.0, az=10.0, speed=1.3):
    heading = 0.0
    return ClipPlan(
        [Segment("walk", 0, frames, {"speed": speed, "direction": direction})], frames, 1.75, r, az, heading
    )


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
    walking = render_clip(
        walk("toward", frames=120), np.random.default_rng(4), CFG, normalize="none", noise=False, clutter=False
    ).views
    assert walking.doppler_time[60:69].sum() < 0.5 * walking.doppler_time.sum()


def test_walking_doppler_is_periodic_at_the_gait_cycle():
    frames, speed = 250, 1.2
    out = render_clip(
        walk("across_left", frames=frames, r=5.0, az=0.0, speed=speed), np.random.default_rng(5), CFG, clutter=False
    )
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


NEW_IN_0_6 = (
    "walk_backward",
    "sidestep",
    "jumping_jacks",
    "arm_circles",
    "bow",
    "lunge",
    "lie_down",
    "throw",
    "push",
    "drink",
    "reach_up",
    "hop_on_one_leg",
    "march_in_place",
    "side_bend",
    "torso_twist",
)


def _doppler_signature(name: str, seed: int, frames: int = 100) -> np.ndarray:
    """A coarse Doppler-time picture of one noise-free draw of an activity: 16 Doppler bands x 12
    time blocks of log power (50 dB range), for a subject 4-6 m away facing the radar."""
    from radar_synth import ACTIVITIES

    rng = np.random.default_rng([seed, 5])
    act = ACTIVITIES[name]
    params = act.sample_params(rng)
    if act.moves:
        params["direction"] = str(rng.choice(["toward", "away"]))
    plan = ClipPlan(
        [Segment(name, 0, frames, params)],
        frames,
        float(rng.uniform(1.6, 1.9)),
        float(rng.uniform(4, 6)),
        float(rng.uniform(-20, 20)),
        float(np.pi * 1.5 + rng.uniform(-0.3, 0.3)),
    )
    power = render_clip(plan, rng, CFG, normalize="none", noise=False, clutter=False).views.doppler_time
    log = np.clip(np.log10(power.astype(np.float64) + 1e-12) - np.log10(power.max()), -5, 0)
    return log.reshape(16, 8, frames)[:, :, :96].mean(1).reshape(16, 12, 8).mean(2).ravel()


def test_the_thirty_activities_are_told_apart_by_their_doppler_time_views():
    """Leave-one-out nearest-centroid over 3 draws of each activity (random body, place, parameters)
    on a coarse Doppler-time picture: far above chance (1/30) for all, and for the 15 added in 0.6."""
    from radar_synth import ACTIVITIES

    names = list(ACTIVITIES)
    sig = np.array([[_doppler_signature(n, s) for s in range(3)] for n in names])  # [30, 3, 192]
    right = {}
    for a, name in enumerate(names):
        for k in range(3):
            centroids = [np.delete(sig[b], k, 0).mean(0) if b == a else sig[b].mean(0) for b in range(len(names))]
            right[name, k] = int(np.argmin([np.linalg.norm(sig[a, k] - c) for c in centroids])) == a
    assert len(names) >= 30 and set(NEW_IN_0_6) <= set(names)
    assert np.mean(list(right.values())) >= 0.6
    assert np.mean([right[n, k] for n in NEW_IN_0_6 for k in range(3)]) >= 0.6
