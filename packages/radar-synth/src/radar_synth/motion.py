"""Human activities as joint-angle trajectories, and clips as sequences of 1-3 activities.

Walking and running follow the Boulic-Thalmann gait model (speed-dependent cycle; left = right
shifted by half a cycle). The other activities are procedural and parameterised. Each activity
function maps time since its start (s) to overrides of the neutral pose; a clip blends
consecutive activities with smooth cross-fades and integrates the root motion.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from radar_text_data.contract import MAX_FRAMES

from .body import BodyShape, Pose
from .defaults import CLUTTER_RANGE_M, MIN_FRAMES
from .errors import SynthError

__all__ = [
    "ACTIVITIES",
    "ANGLE_NAMES",
    "Activity",
    "Segment",
    "ClipPlan",
    "Room",
    "DEFAULT_ROOM",
    "plan_clip",
    "clip_pose",
    "gait_angles",
    "smoothstep",
    "MIN_SEGMENT_S",
    "LOOP",
    "LOOP_RADIUS_M",
    "LOOP_ACTIVITIES",
    "MAX_SEGMENTS",
    "min_segment_frames",
]

MIN_SEGMENT_S = 1.0  # no planned segment is shorter (a 1-frame "stand" would be captioned as an activity)
MAX_SEGMENTS = 3  # activities per clip; the caption grammar has sentence forms for 1 to 3

SIDES = ("l", "r")
ANGLE_NAMES = ("torso_pitch", "torso_roll", "torso_yaw") + tuple(
    f"{j}_{s}"
    for j in ("shoulder_flex", "shoulder_abd", "elbow", "hip_flex", "hip_abd", "knee", "ankle")
    for s in SIDES
)
NEUTRAL = {
    **{n: 0.0 for n in ANGLE_NAMES},
    "shoulder_abd_l": 8.0,
    "shoulder_abd_r": 8.0,
    "elbow_l": 12.0,
    "elbow_r": 12.0,
    "knee_l": 3.0,
    "knee_r": 3.0,
}
EXTRAS = ("pelvis_dz", "fall", "speed", "turn", "breathing", "travel")  # travel: direction of motion - facing (rad)


def smoothstep(x):
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def _bump(phase, centre, width):
    """Periodic Gaussian bump on the unit cycle."""
    d = (phase - centre + 0.5) % 1.0 - 0.5
    return np.exp(-0.5 * (d / width) ** 2)


# ---------------------------------------------------------------------- gait (Boulic-Thalmann)
def gait_angles(
    t: np.ndarray, speed: float, body: BodyShape, running: bool = False, in_place: bool = False
) -> dict[str, np.ndarray]:
    """Joint angles of walking/running at ``speed`` m/s over times ``t`` (s)."""
    ht = body.leg_length
    rv = min(max(speed / ht, 0.3), 3.0)  # relative velocity, model range <= 3
    cycle_s = 1.346 * np.sqrt(rv) / rv  # cycle duration Dc
    if running:
        cycle_s *= 0.75
    out: dict[str, np.ndarray] = {}
    a = 9.88 * rv  # shoulder swing amplitude (deg)
    gain = 1.6 if running else 1.0
    for side, shift in (("r", 0.0), ("l", 0.5)):
        ph = (t / cycle_s + shift) % 1.0
        hip = 5.0 + 20.0 * gain * np.cos(2 * np.pi * ph)  # ~25 -> -15 -> 25 deg
        knee = 5.0 + 12.0 * _bump(ph, 0.15, 0.07) + (55.0 if not running else 95.0) * _bump(ph, 0.72, 0.12)
        ankle = 8.0 * np.sin(2 * np.pi * (ph - 0.1)) - 10.0 * _bump(ph, 0.6, 0.08)
        if in_place:  # jogging in place: high knees, no forward reach
            hip = 10.0 + 35.0 * np.clip(np.cos(2 * np.pi * ph), 0, None) ** 1.5
            knee = 10.0 + 75.0 * np.clip(np.cos(2 * np.pi * ph), 0, None)
        out[f"hip_flex_{side}"] = hip
        out[f"knee_{side}"] = knee
        out[f"ankle_{side}"] = ankle
        other = "l" if side == "r" else "r"  # arms swing with the opposite leg
        out[f"shoulder_flex_{other}"] = (3 - a / 2 - a * np.cos(2 * np.pi * ph + np.pi)) * gain
        out[f"elbow_{other}"] = (85.0 if running or in_place else 15.0) + 10.0 * np.cos(2 * np.pi * ph)
    ph0 = (t / cycle_s) % 1.0
    out["torso_yaw"] = -4.0 * rv * np.cos(2 * np.pi * ph0)  # pelvis torsion
    out["torso_pitch"] = np.full_like(t, 12.0 if running else 3.0)
    out["pelvis_dz"] = (-0.015 * rv + 0.015 * rv * np.sin(2 * np.pi * (2 * ph0 - 0.35))) * ht
    return out


# ---------------------------------------------------------------------- procedural activities
JUMP_PERIOD_S = 1.25  # the longest jump: 0.5 s of flight, 0.31 m high (g tf^2 / 8)


def _reps(t, dur, reps):
    """Phase in [0, 1) of each repetition spread over ``dur`` seconds."""
    return np.clip(t / dur, 0, 0.9999) * reps % 1.0


def _stand(t, dur, p, body):
    return {"breathing": 0.005 * np.sin(2 * np.pi * p["breath_hz"] * t), "torso_roll": 1.5 * np.sin(0.7 * t)}


def _loop_turn(t, p) -> np.ndarray | None:
    """The heading's change (rad) along a loop (``direction`` ``loop``): ``speed / radius`` rad/s
    in the loop's ``sense`` (+1 left, -1 right); None on a straight path or none planned yet."""
    if p.get("direction") != LOOP:
        return None
    return p["sense"] * p["speed"] / p["radius"] * t


def _walk(t, dur, p, body):
    out = gait_angles(t, p["speed"], body)
    out["speed"] = np.full_like(t, p["speed"])
    if (turn := _loop_turn(t, p)) is not None:
        out["turn"] = turn
    return out


def _run(t, dur, p, body):
    out = gait_angles(t, p["speed"], body, running=True)
    out["speed"] = np.full_like(t, p["speed"])
    if (turn := _loop_turn(t, p)) is not None:
        out["turn"] = turn
    return out


def _jog(t, dur, p, body):
    return gait_angles(t, 2.2, body, running=True, in_place=True)


def _wave(t, dur, p, body):
    out = {}
    env = smoothstep(t / 0.4) * smoothstep((dur - t) / 0.4)
    osc = np.sin(2 * np.pi * p["reps"] * np.clip(t, 0, dur) / dur)
    for side in ("l", "r") if p["arm"] == "both" else (p["arm"][0],):
        out[f"shoulder_abd_{side}"] = 8 + env * (140 + 15 * osc)
        out[f"shoulder_flex_{side}"] = env * 20
        out[f"elbow_{side}"] = 12 + env * (50 + 30 * osc)
    return out


def _clap(t, dur, p, body):
    env = smoothstep(t / 0.3) * smoothstep((dur - t) / 0.3)
    ph = _reps(t, dur, p["reps"])
    close = 0.5 - 0.5 * np.cos(2 * np.pi * ph)
    out = {}
    for side in SIDES:
        out[f"shoulder_flex_{side}"] = env * 70
        out[f"shoulder_abd_{side}"] = 8 + env * (35 - 30 * close)
        out[f"elbow_{side}"] = 12 + env * 55
    return out


def _jump(t, dur, p, body):
    period = dur / p["reps"]
    # a repetition's crouch, flight and landing take their times at up to JUMP_PERIOD_S, centred in it;
    # a longer repetition stands still around them (a 1.6-s flight would be a 3-m jump)
    span = min(period, JUMP_PERIOD_S)
    x = (_reps(t, dur, p["reps"]) - 0.5) * period / span  # time from mid-repetition, in spans
    crouch = np.exp(-0.5 * ((x + 0.3) / 0.08) ** 2) + np.exp(-0.5 * ((x - 0.25) / 0.08) ** 2)
    flight = np.clip((x + 0.2) / 0.4, 0, 1)  # ballistic between take-off and landing
    tf = 0.4 * span
    height = 4.9 * (tf / 2) ** 2 * 4 * flight * (1 - flight)  # g/2 (tf/2)^2 peak, parabolic in time
    out = {"pelvis_dz_flight": height}
    for side in SIDES:
        out[f"hip_flex_{side}"] = 45 * crouch
        out[f"knee_{side}"] = 3 + 80 * crouch
        out[f"ankle_{side}"] = -20 * crouch
        out[f"shoulder_flex_{side}"] = -30 * crouch + 120 * np.sin(np.pi * flight)
    out["torso_pitch"] = 25 * crouch
    return out


def _squat(t, dur, p, body):
    ph = _reps(t, dur, p["reps"])
    depth = np.sin(np.pi * ph) ** 2
    out = {"torso_pitch": 35 * depth}
    for side in SIDES:
        out[f"hip_flex_{side}"] = 100 * depth
        out[f"knee_{side}"] = 3 + 115 * depth
        out[f"ankle_{side}"] = -25 * depth
        out[f"shoulder_flex_{side}"] = 80 * depth
    return out


def _sit_down(t, dur, p, body):
    s = smoothstep(t / dur)
    lean = np.sin(np.pi * s)
    out = {"torso_pitch": 30 * lean + 5 * s}
    for side in SIDES:
        out[f"hip_flex_{side}"] = 90 * s
        out[f"knee_{side}"] = 3 + 87 * s
        out[f"shoulder_flex_{side}"] = 25 * lean
    return out


def _stand_up(t, dur, p, body):
    out = _sit_down(dur - t, dur, p, body)
    return out


def _fall(t, dur, p, body):
    # inverted pendulum about the ankles: theta'' = (g / L) sin(theta), from a small push
    length = 0.55 * body.height
    dt = 1e-3
    steps = int(dur / dt) + 2
    theta = np.empty(steps)
    theta[0], omega = np.radians(3.0), 0.0
    for i in range(1, steps):
        if theta[i - 1] < np.radians(88.0):
            omega += 9.81 / length * np.sin(theta[i - 1]) * dt
            theta[i] = min(theta[i - 1] + omega * dt, np.radians(88.0))
        else:
            theta[i] = theta[i - 1]
    start = p["delay"]
    idx = np.clip(((t - start) / dt).astype(int), 0, steps - 1)
    fall = np.where(t < start, 0.0, theta[idx])
    axis = {"forward": 0.0, "backward": np.pi, "left": np.pi / 2, "right": -np.pi / 2}[p["direction"]]
    arms = smoothstep((t - start) / 0.5)
    out = {"fall": fall, "fall_axis": np.full_like(t, axis)}
    for side in SIDES:
        out[f"shoulder_flex_{side}"] = 70 * arms if p["direction"] == "forward" else 30 * arms
        out[f"shoulder_abd_{side}"] = 8 + 40 * arms
    return out


def _bend(t, dur, p, body):
    s = np.sin(np.pi * smoothstep(t / dur))
    out = {"torso_pitch": 80 * s}
    for side in SIDES:
        out[f"knee_{side}"] = 3 + 30 * s
        out[f"hip_flex_{side}"] = 15 * s
        out[f"shoulder_flex_{side}"] = 75 * s
    return out


def _turn(t, dur, p, body):
    s = smoothstep(t / dur)
    step = np.sin(2 * np.pi * 1.6 * t) * np.sin(np.pi * s)
    return {
        "turn": np.pi * s * (1 if p["sense"] == "left" else -1),
        "hip_flex_l": 15 * np.clip(step, 0, None),
        "hip_flex_r": 15 * np.clip(-step, 0, None),
        "knee_l": 3 + 25 * np.clip(step, 0, None),
        "knee_r": 3 + 25 * np.clip(-step, 0, None),
    }


def _kick(t, dur, p, body):
    ph = _reps(t, dur, p["reps"])
    s = p["leg"][0]
    lift = np.exp(-0.5 * ((ph - 0.5) / 0.12) ** 2)
    return {
        f"hip_flex_{s}": 75 * lift,
        f"knee_{s}": 3 + 60 * lift * (1 - lift) * 4 * (ph < 0.5),
        "torso_pitch": -10 * lift,
        f"shoulder_abd_{'l' if s == 'r' else 'r'}": 8 + 25 * lift,
    }


def _punch(t, dur, p, body):
    ph = _reps(t, dur, p["reps"])
    out = {}
    guard = smoothstep(t / 0.3) * smoothstep((dur - t) / 0.3)
    arms = ("l", "r") if p["arm"] == "alternating" else (p["arm"][0],)
    for side in SIDES:
        out[f"shoulder_flex_{side}"] = 45 * guard
        out[f"elbow_{side}"] = 12 + 100 * guard
    for i, side in enumerate(arms):
        local = (ph + 0.5 * i) % 1.0 if len(arms) == 2 else ph
        strike = np.exp(-0.5 * ((local - 0.5) / 0.1) ** 2) * guard
        out[f"shoulder_flex_{side}"] = 45 * guard + 45 * strike
        out[f"elbow_{side}"] = 12 + 100 * guard * (1 - strike)
    out["torso_yaw"] = 10 * np.sin(2 * np.pi * ph) * guard
    return out


# ---------------------------------------------------------------------- the second fifteen (radar-synth 0.6)
def _walk_backward(t, dur, p, body):
    out = gait_angles(-t, p["speed"], body)  # the gait cycle run backwards
    out["speed"] = np.full_like(t, p["speed"])
    out["turn"] = np.full_like(t, np.pi)  # faces away from where it goes
    out["travel"] = np.full_like(t, np.pi)
    return out


def _sidestep(t, dur, p, body):
    lead, trail = ("l", "r") if p["lead"] == "left" else ("r", "l")
    ph = (t / 0.8) % 1.0  # one step of the leading leg, then the trailing leg closes
    out = {
        f"hip_abd_{lead}": 22 * _bump(ph, 0.25, 0.1),
        f"hip_abd_{trail}": 15 * _bump(ph, 0.7, 0.1),
        f"knee_{lead}": 3 + 15 * _bump(ph, 0.25, 0.1),
        f"knee_{trail}": 3 + 15 * _bump(ph, 0.7, 0.1),
    }
    sign = 1.0 if p["lead"] == "left" else -1.0  # travelling to the body's left or right
    out["speed"] = np.full_like(t, p["speed"])
    out["turn"] = np.full_like(t, -sign * np.pi / 2)
    out["travel"] = np.full_like(t, sign * np.pi / 2)
    return out


def _jumping_jacks(t, dur, p, body):
    ph = _reps(t, dur, p["reps"])
    spread = 0.5 - 0.5 * np.cos(2 * np.pi * ph)  # closed -> open -> closed
    out = {"pelvis_dz_flight": 0.06 * np.abs(np.sin(2 * np.pi * ph))}
    for side in SIDES:
        out[f"shoulder_abd_{side}"] = 8 + 150 * spread
        out[f"hip_abd_{side}"] = 20 * spread
        out[f"knee_{side}"] = 3 + 15 * (1 - np.abs(np.sin(2 * np.pi * ph)))
    return out


def _arm_circles(t, dur, p, body):
    env = smoothstep(t / 0.4) * smoothstep((dur - t) / 0.4)
    ph = 2 * np.pi * p["reps"] * np.clip(t, 0, dur) / dur * (1 if p["sense"] == "forward" else -1)
    out = {}
    for side in SIDES:
        out[f"shoulder_abd_{side}"] = 8 + env * (80 + 20 * np.cos(ph))
        out[f"shoulder_flex_{side}"] = env * 30 * np.sin(ph)
    return out


def _bow(t, dur, p, body):
    ph = _reps(t, dur, p["reps"])
    depth = np.sin(np.pi * ph) ** 4  # a quick bend, held, then back up
    out = {"torso_pitch": 45 * depth}
    for side in SIDES:
        out[f"shoulder_flex_{side}"] = 10 * depth
    return out


def _lunge(t, dur, p, body):
    lead, trail = ("l", "r") if p["leg"] == "left" else ("r", "l")
    depth = np.sin(np.pi * _reps(t, dur, p["reps"])) ** 2
    return {
        f"hip_flex_{lead}": 80 * depth,
        f"knee_{lead}": 3 + 85 * depth,
        f"hip_flex_{trail}": -20 * depth,
        f"knee_{trail}": 3 + 80 * depth,
        "pelvis_dz": -0.3 * depth * body.leg_length,
        "torso_pitch": 5 * depth,
    }


def _lie_down(t, dur, p, body):
    s = smoothstep((t - 0.2) / (dur - 0.2))  # a controlled descent, unlike a fall
    bend = np.sin(np.pi * s)
    out = {"fall": np.radians(88.0) * s, "fall_axis": np.full_like(t, np.pi), "torso_pitch": 30 * bend}
    for side in SIDES:
        out[f"knee_{side}"] = 3 + 70 * bend
        out[f"hip_flex_{side}"] = 50 * bend
        out[f"shoulder_flex_{side}"] = 40 * bend
    return out


def _throw(t, dur, p, body):
    ph = _reps(t, dur, p["reps"])
    s = p["arm"][0]
    out = {
        f"shoulder_flex_{s}": np.interp(ph, [0, 0.5, 0.62, 1], [0, -45, 160, 0]),
        f"elbow_{s}": np.interp(ph, [0, 0.5, 0.62, 1], [12, 100, 15, 12]),
        "torso_yaw": np.interp(ph, [0, 0.5, 0.62, 1], [0, 25, -20, 0]) * (1 if s == "r" else -1),
        "torso_pitch": np.interp(ph, [0, 0.5, 0.62, 1], [0, -5, 15, 0]),
    }
    return out


def _push(t, dur, p, body):
    ph = _reps(t, dur, p["reps"])
    guard = smoothstep(t / 0.3) * smoothstep((dur - t) / 0.3)
    extend = np.exp(-0.5 * ((ph - 0.5) / 0.15) ** 2) * guard
    out = {"torso_pitch": 12 * extend}
    for side in SIDES:
        out[f"shoulder_flex_{side}"] = 75 * guard + 10 * extend
        out[f"elbow_{side}"] = 12 + 110 * guard * (1 - extend)
    return out


def _drink(t, dur, p, body):
    s = p["arm"][0]
    raised = np.interp(t / dur, [0, 0.3, 0.75, 1], [0, 1, 1, 0])
    sip = 1 + 0.1 * np.sin(2 * np.pi * 1.5 * t) * raised  # small tilts of the cup
    return {f"shoulder_flex_{s}": 35 * raised * sip, f"elbow_{s}": 12 + 135 * raised, "torso_pitch": -6 * raised}


def _reach_up(t, dur, p, body):
    reach = np.sin(np.pi * _reps(t, dur, p["reps"])) ** 2
    out = {"pelvis_dz": 0.04 * reach}
    for side in SIDES:
        out[f"shoulder_flex_{side}"] = 170 * reach
        out[f"ankle_{side}"] = -25 * reach  # on the toes
    return out


def _hop(t, dur, p, body):
    stance, free = ("l", "r") if p["leg"] == "left" else ("r", "l")
    ph = _reps(t, dur, p["reps"])
    flight = np.clip((ph - 0.35) / 0.4, 0, 1)
    crouch = np.exp(-0.5 * ((ph - 0.2) / 0.1) ** 2) + np.exp(-0.5 * ((ph - 0.85) / 0.08) ** 2)
    hold = smoothstep(t / 0.3)
    return {
        "pelvis_dz_flight": 0.5 * 9.81 * (0.4 * dur / p["reps"] / 2) ** 2 * 4 * flight * (1 - flight),
        f"knee_{stance}": 3 + 35 * crouch,
        f"hip_flex_{stance}": 20 * crouch,
        f"knee_{free}": 3 + 80 * hold,
        f"hip_flex_{free}": 25 * hold,
        "shoulder_abd_l": 8 + 25 * hold,
        "shoulder_abd_r": 8 + 25 * hold,
    }


def _march(t, dur, p, body):
    out = {}
    for side, shift in (("r", 0.0), ("l", 0.5)):
        lift = np.clip(np.cos(2 * np.pi * (t / 1.1 + shift)), 0, None) ** 1.5  # a slow, high-kneed cadence
        out[f"hip_flex_{side}"] = 5 + 65 * lift
        out[f"knee_{side}"] = 5 + 75 * lift
        out[f"shoulder_flex_{'l' if side == 'r' else 'r'}"] = 40 * np.cos(2 * np.pi * (t / 1.1 + shift))
    return out


def _side_bend(t, dur, p, body):
    ph = _reps(t, dur, p["reps"])
    lean = np.sin(2 * np.pi * ph) * smoothstep(t / 0.3)  # left, then right
    return {
        "torso_roll": 30 * lean,
        "shoulder_abd_r": 8 + 150 * np.clip(lean, 0, None),
        "shoulder_abd_l": 8 + 150 * np.clip(-lean, 0, None),
    }


def _torso_twist(t, dur, p, body):
    env = smoothstep(t / 0.4) * smoothstep((dur - t) / 0.4)
    out = {"torso_yaw": 40 * env * np.sin(2 * np.pi * p["reps"] * np.clip(t, 0, dur) / dur)}
    for side in SIDES:
        out[f"shoulder_abd_{side}"] = 8 + 80 * env
    return out


@dataclass(frozen=True)
class Activity:
    name: str
    fn: Callable
    duration_s: tuple[float, float]  # range of segment durations
    sample_params: Callable[[np.random.Generator], dict]
    before: str = "standing"  # posture required at the start
    after: str = "standing"  # posture at the end
    moves: bool = False  # translates the body (walk / run)


def _side(rng) -> str:
    return str(rng.choice(["left", "right"]))


def _p_walk(rng):
    return {"speed": round(float(rng.uniform(0.8, 1.6)), 2)}


def _p_run(rng):
    return {"speed": round(float(rng.uniform(2.2, 3.4)), 2)}


ACTIVITIES: dict[str, Activity] = {
    a.name: a
    for a in (
        Activity("walk", _walk, (2.0, 5.0), _p_walk, moves=True),
        Activity("run", _run, (2.0, 3.5), _p_run, moves=True),
        Activity("stand", _stand, (2.0, 4.0), lambda r: {"breath_hz": round(float(r.uniform(0.2, 0.33)), 3)}),
        Activity(
            "wave",
            _wave,
            (2.0, 4.0),
            lambda r: {"arm": str(r.choice(["left", "right", "both"])), "reps": int(r.integers(2, 6))},
        ),
        Activity("clap", _clap, (2.0, 3.5), lambda r: {"reps": int(r.integers(3, 9))}),
        Activity("jump", _jump, (2.0, 4.0), lambda r: {"reps": int(r.integers(1, 4))}),
        Activity("squat", _squat, (2.5, 5.0), lambda r: {"reps": int(r.integers(1, 4))}),
        Activity("sit_down", _sit_down, (2.0, 3.0), lambda r: {}, after="sitting"),
        Activity("stand_up", _stand_up, (2.0, 3.0), lambda r: {}, before="sitting"),
        Activity(
            "fall",
            _fall,
            (2.0, 3.0),
            lambda r: {
                "direction": str(r.choice(["forward", "backward", "left", "right"])),
                "delay": round(float(r.uniform(0.1, 0.5)), 2),
            },
            after="lying",
        ),
        Activity("bend_pick_up", _bend, (2.5, 4.0), lambda r: {}),
        Activity("turn_around", _turn, (2.0, 3.0), lambda r: {"sense": str(r.choice(["left", "right"]))}),
        Activity(
            "kick",
            _kick,
            (2.0, 3.5),
            lambda r: {"leg": str(r.choice(["left", "right"])), "reps": int(r.integers(1, 4))},
        ),
        Activity(
            "punch",
            _punch,
            (2.0, 3.5),
            lambda r: {"arm": str(r.choice(["left", "right", "alternating"])), "reps": int(r.integers(2, 7))},
        ),
        Activity("jog_in_place", _jog, (2.0, 4.0), lambda r: {}),
        Activity(
            "walk_backward",
            _walk_backward,
            (2.0, 4.0),
            lambda r: {"speed": round(float(r.uniform(0.5, 1.0)), 2)},
            moves=True,
        ),
        Activity(
            "sidestep",
            _sidestep,
            (2.0, 4.0),
            lambda r: {"speed": round(float(r.uniform(0.4, 0.8)), 2), "lead": _side(r)},
            moves=True,
        ),
        Activity("jumping_jacks", _jumping_jacks, (2.5, 5.0), lambda r: {"reps": int(r.integers(3, 8))}),
        Activity(
            "arm_circles",
            _arm_circles,
            (2.5, 5.0),
            lambda r: {"reps": int(r.integers(3, 8)), "sense": str(r.choice(["forward", "backward"]))},
        ),
        Activity("bow", _bow, (2.0, 3.5), lambda r: {"reps": int(r.integers(1, 3))}),
        Activity("lunge", _lunge, (2.5, 5.0), lambda r: {"leg": _side(r), "reps": int(r.integers(1, 4))}),
        Activity("lie_down", _lie_down, (2.5, 4.0), lambda r: {}, after="lying"),
        Activity("throw", _throw, (2.0, 3.5), lambda r: {"arm": _side(r), "reps": int(r.integers(1, 4))}),
        Activity("push", _push, (2.0, 3.5), lambda r: {"reps": int(r.integers(2, 6))}),
        Activity("drink", _drink, (2.5, 4.0), lambda r: {"arm": _side(r)}),
        Activity("reach_up", _reach_up, (2.0, 4.0), lambda r: {"reps": int(r.integers(1, 3))}),
        Activity("hop_on_one_leg", _hop, (2.0, 4.0), lambda r: {"leg": _side(r), "reps": int(r.integers(3, 8))}),
        Activity("march_in_place", _march, (2.0, 4.0), lambda r: {}),
        Activity("side_bend", _side_bend, (2.5, 4.5), lambda r: {"reps": int(r.integers(1, 4))}),
        Activity("torso_twist", _torso_twist, (2.5, 4.5), lambda r: {"reps": int(r.integers(2, 6))}),
    )
}


@dataclass
class Segment:
    activity: str
    start_frame: int
    end_frame: int  # exclusive
    params: dict = field(default_factory=dict)


DIRECTIONS = ("toward", "away", "across_left", "across_right")  # of a walk or run, relative to the radar


@dataclass(frozen=True)
class Room:
    """Where a clip is recorded: subjects start at a range (m) and azimuth (deg, right positive) drawn
    uniformly between ``start_range_m`` and ``start_azimuth_deg``; a walk or run stays on the floor
    within ``range_m`` and ``|azimuth| <= azimuth_deg``; static reflectors (walls, furniture) stand
    ``clutter_range_m`` away. ``fit_walks``: a walk or run that no direction keeps on the floor slows
    down to the fastest speed that fits one (at least ``MIN_FIT_SPEED``), where without it the
    activity is not planned; a small room's subjects walk short and slow. ``walk_directions``: the
    ``DIRECTIONS`` a straight walk or run may take (all by default; toward and away only where
    subjects pace to and from the radar). ``loop_walks``: walks and runs go round a loop (a circle of
    radius ``LOOP_RADIUS_M``, started along one of ``DIRECTIONS``) that stays on the floor, as subjects
    pace a room too small to cross in one clip; straight otherwise."""

    start_range_m: tuple[float, float] = (1.5, 8.0)
    start_azimuth_deg: tuple[float, float] = (-60.0, 60.0)
    range_m: tuple[float, float] = (1.0, 10.0)
    azimuth_deg: float = 65.0
    clutter_range_m: tuple[float, float] = CLUTTER_RANGE_M
    fit_walks: bool = False
    loop_walks: bool = False
    walk_directions: tuple[str, ...] = DIRECTIONS

    def __post_init__(self) -> None:
        if not self.walk_directions or not set(self.walk_directions) <= set(DIRECTIONS):
            raise SynthError(f"room: walk_directions must be some of {DIRECTIONS}, got {self.walk_directions}")
        lo, hi = self.start_range_m
        f_lo, f_hi = self.range_m
        if not (0 < f_lo <= lo <= hi <= f_hi):
            raise SynthError(f"room: need 0 < range low <= start low <= start high <= range high, got {self}")
        if not (-self.azimuth_deg <= self.start_azimuth_deg[0] <= self.start_azimuth_deg[1] <= self.azimuth_deg < 90):
            raise SynthError(f"room: the start azimuths must lie within the room's, below 90 deg, got {self}")
        if not (0 < self.clutter_range_m[0] <= self.clutter_range_m[1]):
            raise SynthError(f"room: clutter_range_m must be 0 < low <= high, got {self.clutter_range_m}")

    def draw_start(self, rng: np.random.Generator) -> tuple[float, float]:
        """A subject's start: range (m) and azimuth (deg), each uniform between its bounds."""
        return float(rng.uniform(*self.start_range_m)), float(rng.uniform(*self.start_azimuth_deg))

    def holds(self, x: float | np.ndarray, y: float | np.ndarray) -> bool:
        """Whether the point(s) ``x`` (m, right), ``y`` (m, boresight) lie on the floor, all of them."""
        r, az = np.hypot(x, y), np.degrees(np.arctan2(x, y))
        lo, hi = self.range_m
        return bool(np.all((r >= lo) & (r <= hi) & (np.abs(az) <= self.azimuth_deg) & (np.asarray(y) > 0.5)))


DEFAULT_ROOM = Room()
MIN_FIT_SPEED = 0.3  # m/s: the gait model's slowest walk (``gait_angles``); ``Room.fit_walks`` plans none slower
LOOP = "loop"  # the direction of a walk or run round a loop (``Room.loop_walks``)
LOOP_RADIUS_M = (0.4, 0.7)  # a loop's radius is drawn in this range; a room too small shrinks it to the first
LOOP_ACTIVITIES = ("walk", "run")  # the activities that go round loops in a ``loop_walks`` room


def _free_path(x: float, y: float, heading: float, room: Room, dist: float, steps: int = 64) -> float:
    """How far (m, at most ``dist``) a path from ``x, y`` along ``heading`` stays on ``room``'s floor."""
    for k in range(1, steps + 1):
        d = dist * k / steps
        if not room.holds(x + d * np.cos(heading), y + d * np.sin(heading)):
            return dist * (k - 1) / steps
    return dist


@dataclass
class ClipPlan:
    segments: list[Segment]
    num_frames: int
    height: float
    start_range: float
    start_azimuth_deg: float
    heading0: float  # initial facing (rad)


def _direction_heading(direction: str, x: float, y: float) -> float:
    radial = np.arctan2(y, x)  # pointing away from the radar
    return {
        "away": radial,
        "toward": radial + np.pi,
        "across_left": radial + np.pi / 2,
        "across_right": radial - np.pi / 2,
    }[direction]


def _path(params: dict, dist: float, x: float, y: float, steps: int = 1) -> tuple[float, np.ndarray, np.ndarray]:
    """A moving segment's path from ``x, y`` over ``dist`` m: its first heading (rad) and ``steps``
    points spread along it, the last at its end ``([steps], [steps])``; a loop (``params`` with
    ``start``, ``sense``, ``radius``) is an arc of its circle, a straight path a line."""
    frac = np.arange(1, steps + 1) / steps
    if params["direction"] != LOOP:
        h = _direction_heading(params["direction"], x, y)
        return h, x + frac * dist * np.cos(h), y + frac * dist * np.sin(h)
    h = _direction_heading(params["start"], x, y)
    s, radius = params["sense"], params["radius"]
    cx, cy = x - s * radius * np.sin(h), y + s * radius * np.cos(h)  # the centre: a quarter turn to the inside
    angle = h + s * frac * dist / radius  # [steps] heading along the arc
    return h, cx + s * radius * np.sin(angle), cy - s * radius * np.cos(angle)


def _plan_loop(params: dict, dist: float, x: float, y: float, room: Room, rng: np.random.Generator) -> dict | None:
    """``params`` of a loop from ``x, y`` over ``dist`` m that stays on ``room``'s floor (its start
    direction and sense drawn among those that fit, its radius drawn in ``LOOP_RADIUS_M`` and shrunk
    by 0.05 m steps towards the smallest while none fits), or None when none fits."""
    radius = float(rng.uniform(*LOOP_RADIUS_M))
    while True:
        fits = []
        for start in DIRECTIONS:
            for sense in (1, -1):
                loop = {**params, "direction": LOOP, "start": start, "sense": sense, "radius": round(radius, 2)}
                if room.holds(*_path(loop, dist, x, y, steps=32)[1:]):
                    fits.append(loop)
        if fits:
            return fits[int(rng.integers(len(fits)))]
        if radius <= LOOP_RADIUS_M[0]:
            return None
        radius = max(radius - 0.05, LOOP_RADIUS_M[0])


def min_segment_frames(frame_rate: float) -> int:
    """The shortest segment ``plan_clip`` plans, in frames (``MIN_SEGMENT_S`` at ``frame_rate``)."""
    return int(round(MIN_SEGMENT_S * frame_rate))


def plan_clip(
    rng: np.random.Generator,
    frame_rate: float,
    min_frames: int = MIN_FRAMES,
    max_frames: int = MAX_FRAMES,
    segments: int | None = None,
    unseen: frozenset[str] = frozenset(),
    room: Room = DEFAULT_ROOM,
) -> ClipPlan:
    """Sample a clip: 1-3 posture-compatible activities, start position, body height, directions.

    ``segments``: how many activities to aim for (None: 1, 2 or 3 with probabilities 0.3 / 0.4 /
    0.3); with 2 or 3, each lasts at most ``max_frames / segments`` frames so that all fit (a fall
    ends a clip early, a walk that would leave the field of view is skipped, and fewer activities
    are planned when ``max_frames`` cannot hold that many of ``min_segment_frames`` each). Every
    segment lasts at least ``min_segment_frames(frame_rate)`` and a clip never holds more than
    ``MAX_SEGMENTS``, so its captions can name every segment. ``unseen``: activities never planned
    (``stand``, the filler of short clips, cannot be one); without it the draws are unchanged.
    ``room``: where the subject starts and the floor a walk or run keeps to (``Room``)."""
    if "stand" in unseen:
        raise SynthError("stand cannot be unseen: it fills clips that would be too short")
    if segments is not None and segments not in (1, 2, 3):
        raise SynthError(f"segments must be 1, 2, 3 or None, got {segments}")
    shortest = min_segment_frames(frame_rate)
    height = float(rng.uniform(1.5, 1.95))
    r0, az0 = room.draw_start(rng)
    x, y = r0 * np.sin(np.radians(az0)), r0 * np.cos(np.radians(az0))
    heading = float(np.arctan2(-y, -x) + rng.uniform(-0.3, 0.3))  # roughly facing the radar
    n_seg = int(rng.choice([1, 2, 3], p=[0.3, 0.4, 0.3])) if segments is None else segments
    n_seg = max(1, min(n_seg, max_frames // shortest))  # every segment must fit at its shortest
    budget_s = (max_frames // n_seg) / frame_rate if n_seg > 1 and segments else float("inf")
    posture, frame = "standing", 0
    planned: list[Segment] = []
    for _ in range(n_seg):
        names = [
            a.name
            for a in ACTIVITIES.values()
            if a.before == posture
            and a.name not in unseen
            and not (a.name == planned[-1].activity if planned else False)
        ]
        if posture == "lying" or not names:
            break
        act = ACTIVITIES[str(rng.choice(names))]
        dur = min(float(rng.uniform(*act.duration_s)), budget_s)
        params = act.sample_params(rng)
        if act.moves and room.loop_walks and act.name in LOOP_ACTIVITIES:
            loop = _plan_loop(params, params["speed"] * dur, x, y, room, rng)
            if loop is None:
                continue
            params = loop
        elif act.moves:  # pick a direction that keeps the person in the field of view
            dist = params["speed"] * dur
            ok = []
            for d in room.walk_directions:
                h = _direction_heading(d, x, y)
                if room.holds(x + dist * np.cos(h), y + dist * np.sin(h)):
                    ok.append(d)
            if not ok and room.fit_walks:  # the direction with the most room, at the speed that fits it
                free = [_free_path(x, y, _direction_heading(d, x, y), room, dist) for d in room.walk_directions]
                best = int(np.argmax(free))
                if free[best] / dur >= MIN_FIT_SPEED:
                    params["speed"] = float(np.floor(free[best] / dur * 100) / 100)
                    dist = params["speed"] * dur
                    ok = [room.walk_directions[best]]
            if not ok:
                continue
            params["direction"] = str(rng.choice(ok))
        if act.moves:  # where the path ends: the next segment starts there
            _, xs, ys = _path(params, params["speed"] * dur, x, y)
            x, y = float(xs[-1]), float(ys[-1])
        frames = int(round(dur * frame_rate))
        if frame + frames > max_frames:
            if planned:
                break
            frames = max_frames
        planned.append(Segment(act.name, frame, frame + frames, params))
        frame += frames
        posture = act.after
    if not planned:  # every draw was infeasible: stand still
        frames = min(int(round(3.0 * frame_rate)), max_frames)
        planned.append(Segment("stand", 0, frames, ACTIVITIES["stand"].sample_params(rng)))
        frame = frames
    if frame < min_frames:
        _fill_to(planned, min_frames, shortest, rng)
        frame = min_frames
    return ClipPlan(planned, frame, height, r0, az0, heading)


def _fill_to(segments: list[Segment], min_frames: int, shortest: int, rng: np.random.Generator) -> None:
    """Lengthen a clip to ``min_frames``: a standing segment after a walk or run when it is long
    enough to be an activity and the clip has room for one more, else the last segment stretched
    (a walk or run keeps its path: its speed drops so that it covers the same distance)."""
    last = segments[-1]
    gap = min_frames - last.end_frame
    if not ACTIVITIES[last.activity].moves:
        last.end_frame = min_frames
    elif gap >= shortest and len(segments) < MAX_SEGMENTS:
        segments.append(Segment("stand", last.end_frame, min_frames, ACTIVITIES["stand"].sample_params(rng)))
    else:
        frames = last.end_frame - last.start_frame
        last.params["speed"] = round(last.params["speed"] * frames / (frames + gap), 2)
        last.end_frame = min_frames


def clip_pose(plan: ClipPlan, times: np.ndarray, frame_rate: float, body: BodyShape, blend_s: float = 0.3) -> Pose:
    """Joint angles and root trajectory of a planned clip at ``times`` (s), with cross-fades."""
    n = times.shape[0]
    bounds = [s.start_frame / frame_rate for s in plan.segments] + [plan.num_frames / frame_rate]
    weights = []
    for i in range(len(plan.segments)):
        w = np.ones(n)
        if i > 0:
            w *= smoothstep((times - bounds[i] + blend_s / 2) / blend_s)
        if i < len(plan.segments) - 1:
            w *= 1 - smoothstep((times - bounds[i + 1] + blend_s / 2) / blend_s)
        weights.append(w)
    total = np.maximum(sum(weights), 1e-9)
    weights = [w / total for w in weights]
    angles = {k: np.zeros(n) for k in ANGLE_NAMES}
    extras = {k: np.zeros(n) for k in (*EXTRAS, "pelvis_dz_flight")}
    fall_axis = np.zeros(n)
    headings = []
    x0 = plan.start_range * np.sin(np.radians(plan.start_azimuth_deg))
    y0 = plan.start_range * np.cos(np.radians(plan.start_azimuth_deg))
    px, py, h_prev = x0, y0, plan.heading0
    for seg, w, start, end in zip(plan.segments, weights, bounds[:-1], bounds[1:], strict=True):
        act = ACTIVITIES[seg.activity]
        dur = end - start
        local = np.clip(times - start, 0.0, dur)
        out = act.fn(local, dur, seg.params, body)
        for k in ANGLE_NAMES:
            angles[k] += w * (out[k] if k in out else NEUTRAL[k])
        for k in extras:
            if k in out:
                extras[k] += w * out[k]
        if "fall_axis" in out:
            fall_axis = np.where(w > 0, out["fall_axis"], fall_axis)
        h = h_prev
        if act.moves:
            h, xs, ys = _path(seg.params, seg.params["speed"] * dur, px, py)
            px, py = float(xs[-1]), float(ys[-1])
        seg_heading = h + (out["turn"] if "turn" in out else 0.0)
        headings.append(seg_heading)
        h_prev = float(np.atleast_1d(seg_heading)[-1]) if np.ndim(seg_heading) else seg_heading
    # heading: weighted circular blend of the segments' headings
    hx = sum(w * np.cos(h) for w, h in zip(weights, headings, strict=True))
    hy = sum(w * np.sin(h) for w, h in zip(weights, headings, strict=True))
    heading = np.unwrap(np.arctan2(hy, hx))
    # root: integrate the blended speed along the travel heading (= facing while walking)
    dt = np.diff(times, prepend=times[0])
    travel = heading + extras["travel"]  # walking backwards or sideways: the motion is not the facing
    vx, vy = extras["speed"] * np.cos(travel), extras["speed"] * np.sin(travel)
    root_x = x0 + np.cumsum(vx * dt)
    root_y = y0 + np.cumsum(vy * dt)
    return Pose(
        root_x,
        root_y,
        heading,
        extras["pelvis_dz"] + extras["pelvis_dz_flight"],
        angles,
        extras["fall"],
        fall_axis,
        extras["breathing"],
    )
