"""motion.Room: where plan_clip puts a subject, and the floor its walks keep to."""

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from radar_synth import SynthError
from radar_synth.body import BodyShape
from radar_synth.captions import describe_segment
from radar_synth.defaults import NAMED_FAMILIES
from radar_synth.motion import (
    ACTIVITIES,
    DEFAULT_ROOM,
    DIRECTIONS,
    LOOP,
    LOOP_ACTIVITIES,
    LOOP_RADIUS_M,
    MIN_FIT_SPEED,
    Room,
    _path,
    clip_pose,
    plan_clip,
)
from radar_synth.scene import body_trajectories
from radar_synth.sensor import SENSOR_ROOMS, SensorSpec

RADHAR = SENSOR_ROOMS["iwr1443-radhar"]
LOOPING = replace(RADHAR, loop_walks=True)  # RadHAR's room with its walkers pacing loops
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


RADIAL = replace(RADHAR, walk_directions=("toward", "away"))  # its walkers pace to and from the radar


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), directions=st.sets(st.sampled_from(DIRECTIONS), min_size=1))
def test_walks_take_only_the_rooms_directions(seed, directions):
    room = replace(RADHAR, walk_directions=tuple(sorted(directions)))
    plan = plan_clip(np.random.default_rng(seed), 50.0, room=room)
    taken = {s.params["direction"] for s in plan.segments if ACTIVITIES[s.activity].moves}
    assert taken <= directions
    rng_m, _ = _walked_track(plan)
    if len(rng_m):
        assert room.range_m[0] - SWAY_M <= rng_m.min() and rng_m.max() <= room.range_m[1] + SWAY_M


def test_a_radial_room_walks_both_ways_and_slowly():
    walks = [p.segments[0].params for p in _loop_walks(RADIAL, 12)]
    assert {w["direction"] for w in walks} == {"toward", "away"}
    assert all(MIN_FIT_SPEED <= w["speed"] < 1.0 for w in walks)  # 1.8 m of floor at most, 2-5 s
    assert {w["direction"] for w in [p.segments[0].params for p in _loop_walks(RADHAR, 12)]} <= {
        "across_left",
        "across_right",
    }  # across is the way with the most floor when every way is allowed


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), segments=st.sampled_from([1, 2, 3]), looping=st.booleans())
@example(seed=641426, segments=3, looping=False)  # a run 1.8 m across, then a fall
def test_a_placed_subject_starts_in_its_bounds_and_walks_on_the_floor(seed, segments, looping):
    room = LOOPING if looping else RADHAR
    plan = plan_clip(np.random.default_rng(seed), 50.0, segments=segments, room=room)
    assert room.start_range_m[0] <= plan.start_range <= room.start_range_m[1]
    assert room.start_azimuth_deg[0] <= plan.start_azimuth_deg <= room.start_azimuth_deg[1]
    rng_m, az = _walked_track(plan)
    if len(rng_m):
        assert room.range_m[0] - SWAY_M <= rng_m.min() and rng_m.max() <= room.range_m[1] + SWAY_M
        assert np.abs(az).max() <= room.azimuth_deg + np.degrees(SWAY_M / rng_m.min())
    for seg in plan.segments:
        if ACTIVITIES[seg.activity].moves:
            assert seg.params["speed"] >= MIN_FIT_SPEED
            assert (seg.params["direction"] == LOOP) == (looping and seg.activity in LOOP_ACTIVITIES)


def test_a_small_room_slows_walks_down_instead_of_dropping_them():
    walks = {True: [], False: []}
    for fit in walks:
        room = replace(RADHAR, fit_walks=fit)
        for seed in range(60):
            plan = plan_clip(np.random.default_rng(seed), 50.0, segments=1, room=room)
            walks[fit] += [s.params["speed"] for s in plan.segments if s.activity == "walk"]
    assert len(walks[True]) > len(walks[False])  # without fitting, most walks find no direction
    assert walks[True] and max(walks[True]) < 1.0  # 1.4 m of room over at least 2 s


def _loop_walks(room: Room, count: int) -> list:
    """``count`` single-walk plans in ``room`` (seeds in order, skipping clips that drew another activity)."""
    plans, seed = [], 0
    while len(plans) < count:
        plan = plan_clip(np.random.default_rng(seed), 50.0, segments=1, room=room)
        seed += 1
        if plan.segments[0].activity == "walk":
            plans.append(plan)
    return plans


def test_a_loop_walk_goes_round_its_circle():
    for plan in _loop_walks(LOOPING, 4):
        seg = plan.segments[0]
        p = seg.params
        assert p["direction"] == LOOP and LOOP_RADIUS_M[0] <= p["radius"] <= LOOP_RADIUS_M[1]
        dur = (seg.end_frame - seg.start_frame) / 50.0
        times = np.arange(int(dur * 400) + 1) / 400.0
        pose = clip_pose(plan, times, 50.0, BodyShape(plan.height))
        x0, y0 = pose.root_x[0], pose.root_y[0]
        # the integrated root against the circle's points at the same distances walked
        _, xs, ys = _path(p, p["speed"] * times[-1], x0, y0, steps=len(times) - 1)
        assert np.abs(pose.root_x[1:] - xs).max() < 0.02 and np.abs(pose.root_y[1:] - ys).max() < 0.02
        # the facing turns with the path: a full loop turns it by 2 pi
        turned = pose.heading[-1] - pose.heading[0]
        assert turned == pytest.approx(p["sense"] * p["speed"] * times[-1] / p["radius"], abs=1e-6)


def test_a_loop_walk_has_words_in_every_family():
    seg = _loop_walks(LOOPING, 1)[0].segments[0]
    for family in NAMED_FAMILIES:
        verb, gerund = describe_segment(seg, np.random.default_rng(0), family)
        assert verb and gerund


def test_without_loop_walks_a_walk_goes_straight():
    plans = _loop_walks(RADHAR, 4)
    assert all(plan.segments[0].params["direction"] != LOOP for plan in plans)


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
        {"walk_directions": ()},
        {"walk_directions": ("toward", "sideways")},
    ],
)
def test_a_room_that_cannot_hold_its_subject_is_refused(kwargs):
    with pytest.raises(SynthError, match="room"):
        Room(**kwargs)
