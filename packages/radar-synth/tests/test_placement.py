"""motion.Room: where plan_clip puts a subject, and the floor its walks keep to."""

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from radar_synth import SynthError
from radar_synth.motion import ACTIVITIES, DEFAULT_ROOM, MIN_FIT_SPEED, Room, plan_clip
from radar_synth.scene import body_trajectories
from radar_synth.sensor import SENSOR_ROOMS, SensorSpec

RADHAR = SENSOR_ROOMS["iwr1443-radhar"]
SWAY_M = 0.3  # the torso's distance from the planned root path (lean, sway, the cross-fades' lag)


def _walked_track(plan):
    """The torso's horizontal range (m) and azimuth (deg) during the clip's walks and runs (a fall
    or a lie-down moves the torso a body's length from where the subject stood)."""
    traj = body_trajectories(plan, 50.0)
    t = np.arange(traj.centres.shape[0]) / traj.rate
    during = np.zeros(len(t), dtype=bool)
    for seg in plan.segments:
        if ACTIVITIES[seg.activity].moves:
            during |= (t >= seg.start_frame / 50.0) & (t <= seg.end_frame / 50.0)
    torso = traj.centres[during, traj.torso_index, :]  # [S, 3]
    return np.hypot(torso[:, 0], torso[:, 1]), np.degrees(np.arctan2(torso[:, 0], torso[:, 1]))


def test_the_default_room_draws_what_plan_clip_always_drew():
    for seed in range(20):
        a = plan_clip(np.random.default_rng(seed), 50.0)
        b = plan_clip(np.random.default_rng(seed), 50.0, room=Room())
        assert a == b
        assert 1.5 <= a.start_range <= 8.0 and -60 <= a.start_azimuth_deg <= 60


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), segments=st.sampled_from([1, 2, 3]))
@example(seed=641426, segments=3)  # a run 1.8 m across, then a fall
def test_a_placed_subject_starts_in_its_bounds_and_walks_on_the_floor(seed, segments):
    plan = plan_clip(np.random.default_rng(seed), 50.0, segments=segments, room=RADHAR)
    assert RADHAR.start_range_m[0] <= plan.start_range <= RADHAR.start_range_m[1]
    assert RADHAR.start_azimuth_deg[0] <= plan.start_azimuth_deg <= RADHAR.start_azimuth_deg[1]
    rng_m, az = _walked_track(plan)
    if len(rng_m):
        assert RADHAR.range_m[0] - SWAY_M <= rng_m.min() and rng_m.max() <= RADHAR.range_m[1] + SWAY_M
        assert np.abs(az).max() <= RADHAR.azimuth_deg + np.degrees(SWAY_M / rng_m.min())
    for seg in plan.segments:
        if ACTIVITIES[seg.activity].moves:
            assert seg.params["speed"] >= MIN_FIT_SPEED


def test_a_small_room_slows_walks_down_instead_of_dropping_them():
    walks = {True: [], False: []}
    for fit in walks:
        room = replace(RADHAR, fit_walks=fit)
        for seed in range(60):
            plan = plan_clip(np.random.default_rng(seed), 50.0, segments=1, room=room)
            walks[fit] += [s.params["speed"] for s in plan.segments if s.activity == "walk"]
    assert len(walks[True]) > len(walks[False])  # without fitting, most walks find no direction
    assert walks[True] and max(walks[True]) < 1.0  # 1.4 m of room over at least 2 s


def test_registered_sensors_carry_their_room():
    assert SensorSpec.named("iwr1443-radhar").room == RADHAR
    assert RADHAR.fit_walks and RADHAR != DEFAULT_ROOM


@pytest.mark.parametrize(
    "kwargs",
    [
        {"start_range_m": (0.5, 2.0)},  # starts off the floor
        {"start_range_m": (3.0, 2.0)},
        {"start_azimuth_deg": (-70.0, 0.0)},
        {"clutter_range_m": (0.0, 5.0)},
        {"azimuth_deg": 95.0, "start_azimuth_deg": (-10.0, 10.0)},
    ],
)
def test_a_room_that_cannot_hold_its_subject_is_refused(kwargs):
    with pytest.raises(SynthError, match="room"):
        Room(**kwargs)
