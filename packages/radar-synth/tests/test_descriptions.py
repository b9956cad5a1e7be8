"""Activities described by what the body does: a deterministic function of the motion and its
parameters, injective over traits, naming no activity, and worded into the descriptive family."""

import json
from dataclasses import fields

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from test_dataset import NAMES, UNAMBIGUOUS, family_of

from radar_synth import ACTIVITIES, Segment, caption_pairs, class_descriptions, generate_dataset
from radar_synth.descriptions import (
    PHRASES,
    TRAIT_VALUES,
    MotionTraits,
    describe,
    motion_traits,
    salient,
    segment_descriptions,
)
from radar_synth.motion import plan_clip
from radar_text_data import read_classes

traits = st.builds(MotionTraits, **{k: st.sampled_from(v) for k, v in TRAIT_VALUES.items()})


@settings(max_examples=300, deadline=None)
@given(a=traits, b=traits)
def test_two_different_sets_of_traits_never_share_all_descriptions(a, b):
    assert (set(describe(a)) == set(describe(b))) == (a == b)
    assert len(describe(a)) == len(fields(MotionTraits)) == len(set(describe(a)))


def test_every_value_has_one_phrase_and_no_phrase_serves_two():
    assert {k: tuple(v) for k, v in PHRASES.items()} == TRAIT_VALUES
    every = [p for values in PHRASES.values() for p in values.values()]
    assert len(every) == len(set(every))


@settings(max_examples=40, deadline=None)
@given(activity=st.sampled_from(sorted(ACTIVITIES)), seed=st.integers(0, 2**32 - 1))
def test_descriptions_are_a_deterministic_function_of_the_activity_and_its_parameters(activity, seed):
    params = ACTIVITIES[activity].sample_params(np.random.default_rng(seed))
    assert motion_traits(activity, dict(params)) == motion_traits(activity, dict(params))
    assert segment_descriptions(activity, params) == describe(motion_traits(activity, params))
    chosen = segment_descriptions(activity, params, salient_only=True)
    assert set(chosen) <= set(describe(motion_traits(activity, params))) and len(chosen) >= 2


def test_each_simulated_activity_reads_differently_and_names_no_activity():
    described = class_descriptions()
    assert set(described) == set(ACTIVITIES) and len(set(described.values())) == len(ACTIVITIES)
    for values in PHRASES.values():
        for phrase in values.values():
            assert not [a for a in NAMES for k in NAMES[a] if k in f" {phrase} "], phrase


def test_the_traits_follow_the_motion():
    """Spot checks that the rules read the motion, not the name."""
    wave_one = motion_traits("wave", {"arm": "left", "reps": 3})
    wave_both = motion_traits("wave", {"arm": "both", "reps": 3})
    assert (wave_one.arms, wave_both.arms) == ("one_overhead", "both_overhead") and wave_one.legs == "none"
    assert motion_traits("walk_backward", {"speed": 0.8}).travel == "backward"
    assert motion_traits("sidestep", {"speed": 0.6, "lead": "left"}).travel == "sideways"
    assert motion_traits("run", {"speed": 3.0}).pace == "fast"
    assert motion_traits("stand", {"breath_hz": 0.25}).rhythm == "still"
    assert (
        motion_traits("sit_down", {}).posture == "to_sitting" and motion_traits("stand_up", {}).posture == "to_standing"
    )
    assert motion_traits("jumping_jacks", {"reps": 4}).height == "airborne"
    assert motion_traits("side_bend", {"reps": 2}).torso == "sideways"
    assert motion_traits("turn_around", {"sense": "left"}).travel == "reverses_facing"


def test_descriptive_captions_word_each_segment_with_its_own_descriptions_in_order():
    for seed in range(40):
        rng = np.random.default_rng(seed)
        plan = plan_clip(rng, 50.0)
        for caption, reverse in caption_pairs(plan.segments, rng, families=["descriptive"]):
            assert family_of(caption) == "descriptive" and (reverse is None or family_of(reverse) == "descriptive")
            low = caption.lower()
            assert not [a for a in UNAMBIGUOUS for k in NAMES[a] if k in low], caption  # describes, names none
            position = 0
            for seg in plan.segments:  # each segment's phrases, in segment order
                own = salient(motion_traits(seg.activity, seg.params))
                found = sorted(low.find(p, position) for p in own if low.find(p, position) >= 0)
                assert len(found) >= 2, (caption, seg.activity)
                position = found[0] + 1


def test_a_simulated_dataset_lists_each_class_with_its_phrase_and_descriptions(tmp_path):
    root = generate_dataset(tmp_path / "d", 2, seed=0, max_frames=100, progress=False)
    raw = json.loads((root / "classes.json").read_text())
    assert set(raw) == set(ACTIVITIES) and raw["wave"]["phrase"] == "waves"
    classes = {c.name: c for c in read_classes(root / "classes.json")}
    assert classes["wave"].descriptions == tuple(f"a person {d}." for d in class_descriptions()["wave"])
    assert classes["wave"].texts(("a person {}.",)) == ("a person waves.",)


def test_descriptive_segments_with_different_parameters_differ():
    one = Segment("kick", 0, 100, {"leg": "left", "reps": 2})
    assert segment_descriptions(one.activity, one.params) == segment_descriptions("kick", {"leg": "right", "reps": 2})
    assert segment_descriptions("wave", {"arm": "left", "reps": 2}) != segment_descriptions(
        "wave", {"arm": "both", "reps": 2}
    )
