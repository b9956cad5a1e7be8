"""Activities described by what the body does, derived by rules from the motion itself.

``motion_traits(activity, params)`` runs the activity's joint-angle function over its typical
duration and measures eight traits (which arms and legs move and how, the upper body, the hips'
height, travel, rhythm, pace, posture change); ``describe(traits)`` words each trait as one verb
phrase completing "a person ...". Nothing is written per class: a new activity gets its
descriptions from its motion. Each trait maps to exactly one phrase and no phrase serves two traits
or two values, so activities whose traits differ never share all their descriptions. No phrase
names an activity (the descriptive caption family and zero-shot prompts built from them describe,
they do not name).
"""

from __future__ import annotations

import zlib
from collections import Counter
from dataclasses import dataclass, fields
from functools import cache

import numpy as np

from .body import BodyShape
from .errors import SynthError
from .motion import ACTIVITIES, NEUTRAL

__all__ = [
    "MotionTraits",
    "TRAIT_VALUES",
    "PHRASES",
    "motion_traits",
    "describe",
    "segment_descriptions",
    "salient",
    "class_descriptions",
    "description_prompts",
]

FRAME_RATE = 50.0  # Hz at which a motion is sampled to measure it
CLASS_SAMPLES = 16  # parameter draws per class; a class's trait is the most common value among them
ARM_MOVES, LEG_MOVES, TORSO_MOVES = 20.0, 15.0, 15.0  # degrees of range that count as moving
OVERHEAD = 120.0  # shoulder flexion or abduction (degrees) that puts a hand above the head
SLOW, FAST = 150.0, 500.0  # peak angular speed (degrees/s) of the most-moving joint
RUNNING = 2.0  # m/s: travel at least this fast is fast whatever the joints do


@dataclass(frozen=True)
class MotionTraits:
    """What the body does in one activity with one set of parameters (each field: ``TRAIT_VALUES``)."""

    arms: str  # none | one_overhead | both_overhead | one_forward | both_forward | one_out | ... | both_elbows
    legs: str  # none | one_lift | both_lift | one_out | both_out | one_flex | both_flex
    torso: str  # upright | forward | sideways | rotates
    height: str  # level | airborne | lowered
    travel: str  # in_place | forward | backward | sideways | reverses_facing
    rhythm: str  # still | once | repeated
    pace: str  # slow | moderate | fast
    posture: str  # standing | to_sitting | to_standing | to_lying


_ARM_KINDS = ("overhead", "forward", "out", "elbows")
_LEG_KINDS = ("lift", "out", "flex")
TRAIT_VALUES: dict[str, tuple[str, ...]] = {
    "arms": ("none", *(f"{n}_{k}" for k in _ARM_KINDS for n in ("one", "both"))),
    "legs": ("none", *(f"{n}_{k}" for k in _LEG_KINDS for n in ("one", "both"))),
    "torso": ("upright", "forward", "sideways", "rotates"),
    "height": ("level", "airborne", "lowered"),
    "travel": ("in_place", "forward", "backward", "sideways", "reverses_facing"),
    "rhythm": ("still", "once", "repeated"),
    "pace": ("slow", "moderate", "fast"),
    "posture": ("standing", "to_sitting", "to_standing", "to_lying"),
}

# trait -> value -> verb phrase completing "a person ..."; every phrase distinct (test_descriptions)
PHRASES: dict[str, dict[str, str]] = {
    "arms": {
        "none": "keeps the arms down",
        "one_overhead": "raises one arm above the head",
        "both_overhead": "raises both arms above the head",
        "one_forward": "swings one arm forward and back",
        "both_forward": "swings both arms forward and back",
        "one_out": "moves one arm out from the body",
        "both_out": "moves both arms out from the body",
        "one_elbows": "folds and unfolds one forearm",
        "both_elbows": "folds and unfolds both forearms",
    },
    "legs": {
        "none": "keeps the feet planted",
        "one_lift": "lifts one leg",
        "both_lift": "lifts both legs",
        "one_out": "moves one leg outward",
        "both_out": "moves both legs outward",
        "one_flex": "flexes one knee",
        "both_flex": "flexes both knees",
    },
    "torso": {
        "upright": "keeps the upper body upright",
        "forward": "tips the upper body forward",
        "sideways": "tilts the upper body sideways",
        "rotates": "rotates the upper body",
    },
    "height": {"level": "keeps the hips at one height", "airborne": "leaves the floor", "lowered": "lowers the hips"},
    "travel": {
        "in_place": "stays on one spot",
        "forward": "travels forward",
        "backward": "travels backward",
        "sideways": "travels sideways",
        "reverses_facing": "ends up facing the opposite way",
    },
    "rhythm": {
        "still": "barely moves",
        "once": "makes one continuous movement",
        "repeated": "repeats one movement in a steady rhythm",
    },
    "pace": {"slow": "moves slowly", "moderate": "moves at a moderate speed", "fast": "moves fast"},
    "posture": {
        "standing": "stays upright throughout",
        "to_sitting": "ends seated",
        "to_standing": "ends upright after being seated",
        "to_lying": "ends flat on the floor",
    },
}


def _angles(activity: str, params: dict) -> dict[str, np.ndarray]:
    """The activity's channels over its typical duration (angles in degrees, with the neutral pose)."""
    act = ACTIVITIES[activity]
    duration = sum(act.duration_s) / 2
    t = np.arange(0.0, duration, 1.0 / FRAME_RATE)
    raw = act.fn(t, duration, params, BodyShape())
    out = {k: np.broadcast_to(np.asarray(v, dtype=float), t.shape) + NEUTRAL.get(k, 0.0) for k, v in raw.items()}
    if "fall" in out:
        out["fall"] = np.degrees(out["fall"])
    return out


def _span(ch: dict[str, np.ndarray], name: str) -> float:
    v = ch.get(name)
    return 0.0 if v is None else float(v.max() - v.min())


def _limbs(ch: dict, joints: tuple[str, ...], threshold: float, kinds: dict[str, str], overhead: bool = False) -> str:
    """``none``, or ``one|both`` and the kind of the joint that moves most on the moving sides."""
    moving = [s for s in "lr" if max(_span(ch, f"{j}_{s}") for j in joints) >= threshold]
    if not moving:
        return "none"
    dominant = max(joints, key=lambda j: max(_span(ch, f"{j}_{s}") for s in moving))
    kind = kinds[dominant]
    if overhead and any(
        float(ch[f"{j}_{s}"].max()) >= OVERHEAD
        for s in moving
        for j in ("shoulder_flex", "shoulder_abd")
        if f"{j}_{s}" in ch
    ):
        kind = "overhead"
    return f"{'both' if len(moving) == 2 else 'one'}_{kind}"


def _cycles(v: np.ndarray) -> int:
    """Full swings of one channel through the middle of its range (hysteresis at 35 % and 65 %)."""
    lo, hi = v.min() + 0.35 * (v.max() - v.min()), v.min() + 0.65 * (v.max() - v.min())
    state, count = None, 0
    for x in v:
        if x <= lo:
            state = "low"
        elif x >= hi and state == "low":
            state, count = "high", count + 1
    return count


def _moving_channels(ch: dict) -> dict[str, np.ndarray]:
    """The angle channels (degrees) whose range counts as movement."""
    angles = {
        k: v
        for k, v in ch.items()
        if not k.startswith(("pelvis", "speed", "turn", "travel", "breathing")) and not k.endswith("axis")
    }
    return {k: v for k, v in angles.items() if float(v.max() - v.min()) >= LEG_MOVES}


def motion_traits(activity: str, params: dict) -> MotionTraits:
    """The eight traits of ``activity`` performed with ``params`` (a ``sample_params`` draw)."""
    if activity not in ACTIVITIES:
        raise SynthError(f"unknown activity {activity!r}")
    act = ACTIVITIES[activity]
    ch = _angles(activity, params)
    arms = _limbs(
        ch,
        ("shoulder_flex", "shoulder_abd", "elbow"),
        ARM_MOVES,
        {"shoulder_flex": "forward", "shoulder_abd": "out", "elbow": "elbows"},
        overhead=True,
    )
    legs = _limbs(
        ch, ("hip_flex", "hip_abd", "knee"), LEG_MOVES, {"hip_flex": "lift", "hip_abd": "out", "knee": "flex"}
    )
    spans = {
        "forward": _span(ch, "torso_pitch"),
        "sideways": _span(ch, "torso_roll"),
        "rotates": _span(ch, "torso_yaw"),
    }
    torso = max(spans, key=lambda k: spans[k]) if max(spans.values()) >= TORSO_MOVES else "upright"
    low = min(float(ch["pelvis_dz"].min()) if "pelvis_dz" in ch else 0.0, 0.0)
    deep = any(
        float(np.min(np.minimum(ch[f"hip_flex_{s}"], ch[f"knee_{s}"]))) >= 0
        and float(np.max(np.minimum(ch[f"hip_flex_{s}"], ch[f"knee_{s}"]))) >= 60
        for s in "lr"
        if f"hip_flex_{s}" in ch and f"knee_{s}" in ch
    )
    if "pelvis_dz_flight" in ch and float(ch["pelvis_dz_flight"].max()) >= 0.03:
        height = "airborne"
    elif low <= -0.1 or deep or _span(ch, "fall") >= 45:
        height = "lowered"
    else:
        height = "level"
    if act.moves:
        heading = float(np.median(ch["travel"])) if "travel" in ch else 0.0
        travel = "forward" if abs(heading) < 0.5 else "backward" if abs(heading) > 2.5 else "sideways"
    else:
        travel = "reverses_facing" if _span(ch, "turn") >= np.pi / 2 else "in_place"
    moving = _moving_channels(ch)
    if not moving:
        rhythm = "still"
    else:
        rhythm = "repeated" if max(_cycles(v) for v in moving.values()) >= 2 else "once"
    dominant = max(moving.values(), key=lambda v: float(v.max() - v.min())) if moving else None
    peak = 0.0 if dominant is None else float(np.abs(np.diff(dominant)).max() * FRAME_RATE)
    pace = "slow" if peak < SLOW else "moderate" if peak < FAST else "fast"
    if act.moves and float(params.get("speed", 0.0)) >= RUNNING:
        pace = "fast"
    posture = {
        ("standing", "standing"): "standing",
        ("standing", "sitting"): "to_sitting",
        ("sitting", "standing"): "to_standing",
    }.get((act.before, act.after), "to_lying")
    return MotionTraits(arms, legs, torso, height, travel, rhythm, pace, posture)


def describe(traits: MotionTraits) -> tuple[str, ...]:
    """One verb phrase per trait, in ``MotionTraits`` field order."""
    return tuple(PHRASES[f.name][getattr(traits, f.name)] for f in fields(MotionTraits))


def salient(traits: MotionTraits) -> tuple[str, ...]:
    """The phrases of the traits that differ from the resting value (the first of ``TRAIT_VALUES``:
    arms down, feet planted, ...), in field order; all eight when fewer than two differ."""
    picked = tuple(
        PHRASES[f.name][getattr(traits, f.name)]
        for f in fields(MotionTraits)
        if getattr(traits, f.name) != TRAIT_VALUES[f.name][0]
    )
    return picked if len(picked) >= 2 else describe(traits)


def segment_descriptions(activity: str, params: dict, salient_only: bool = False) -> tuple[str, ...]:
    """The descriptions of one segment: its activity with its own parameters (``salient_only``:
    only those of traits away from rest, as a descriptive caption words them)."""
    traits = _traits_cached(activity, tuple(sorted(params.items())))
    return salient(traits) if salient_only else describe(traits)


@cache
def _traits_cached(activity: str, items: tuple) -> MotionTraits:
    return motion_traits(activity, dict(items))


@cache
def _class_traits(activity: str) -> MotionTraits:
    """The most common value of each trait over ``CLASS_SAMPLES`` parameter draws (a fixed seed per class)."""
    rng = np.random.default_rng(zlib.crc32(activity.encode()))
    draws = [
        _traits_cached(activity, tuple(sorted(ACTIVITIES[activity].sample_params(rng).items())))
        for _ in range(CLASS_SAMPLES)
    ]
    return MotionTraits(
        **{f.name: Counter(getattr(d, f.name) for d in draws).most_common(1)[0][0] for f in fields(MotionTraits)}
    )


def class_descriptions() -> dict[str, tuple[str, ...]]:
    """``{activity: descriptions}`` of every simulated activity, from its typical parameters."""
    return {a: describe(_class_traits(a)) for a in sorted(ACTIVITIES)}


def description_prompts(descriptions: tuple[str, ...]) -> list[str]:
    """Descriptions as prompts for a class file: each completes "a person ..." as one sentence."""
    return [f"a person {d}." for d in descriptions]
