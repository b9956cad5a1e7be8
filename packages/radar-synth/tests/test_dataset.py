import hashlib
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from synth_helpers import count_calls

from radar_synth import (
    ACTIVITIES,
    Segment,
    caption_clip,
    caption_pairs,
    generate_dataset,
)
from radar_synth.clip import write_raw_capture
from radar_synth.defaults import NAMED_FAMILIES, WORDING_FAMILIES
from radar_synth.errors import SynthError
from radar_synth.motion import plan_clip
from radar_text_data import MAX_FRAMES, read_manifest
from radar_views import RadarConfig, read_dca1000

# words that name each activity in the grammar (its wordings in every family)
NAMES = {
    "walk": ("walks ", "walking ", "stroll", "on foot", "paces", "pacing"),
    "run": ("runs ", "running ", "sprint", "dash", "races", "racing"),
    "stand": ("still", "motionless", "stationary pose", "without budging", "stays put", "staying put"),
    "wave": ("wav", "greet"),
    "clap": ("clap", "applaud", "palms together"),
    "jump": ("jump", "leap", "springs upward", "springing upward", "launch"),
    "squat": ("squat", "knee bends", "crouch"),
    "sit_down": ("sits down", "sitting down", "takes a seat", "taking a seat", "onto a chair", "into a chair"),
    "stand_up": ("stands up", "standing up", "gets up", "getting up", "seated position", "out of the chair"),
    "fall": ("fall", "collaps", "topple", "toppling", "tumbl"),
    "bend_pick_up": ("pick", "retriev", "grab"),
    "turn_around": (
        "turns around",
        "turning around",
        "spins around",
        "spinning around",
        "rotates in place",
        "rotating in place",
        "pivot",
    ),
    "kick": ("kick", "boots the air", "booting the air"),
    "punch": ("punch", "jab", "boxes", "boxing", "strikes", "striking"),
    "jog_in_place": ("jog", "without going anywhere"),
    "walk_backward": ("walks backward", "walking backward", "backs up", "backing up", "in reverse", "retreat"),
    "sidestep": ("sidestep", "shuffl", "laterally", "crab-walk"),
    "jumping_jacks": ("jumping jacks", "star jumps", "side-straddle", "little jumps"),
    "arm_circles": ("circl", "in loops", "outstretched arms"),
    "bow": ("bow", "dips the head", "dipping the head"),
    "lunge": ("lunge", "lunging", "deep stride"),
    "lie_down": ("lies", "lying", "reclin", "rests on the floor", "resting on the floor"),
    "throw": ("throw", "toss", "hurl"),
    "push": ("push", "shov", "imaginary wall"),
    "drink": ("drink", "sip", "glass to the mouth"),
    "reach_up": ("reach", "both arms overhead", "toward the ceiling", "tiptoe"),
    "hop_on_one_leg": ("hops on", "hopping on", "bounces on", "bouncing on", "single-leg", "skips on", "skipping on"),
    "march_in_place": ("march", "parad", "lifting the knees"),
    "side_bend": ("to the side", "side to side", "side stretches", "left and right"),
    "torso_twist": ("twist", "swivel", "trunk rotation", "waist"),
}


def _all_phrases(activity: str) -> list[str]:
    from radar_synth.wording import ACTIVITY_WORDS

    return [w for forms in ACTIVITY_WORDS[activity].values() for pair in forms for w in pair]


# activities whose words occur in no other activity's phrases: a caption without them names none of them
UNAMBIGUOUS = tuple(
    a for a in NAMES if not any(k in p for b in NAMES if b != a for p in _all_phrases(b) for k in NAMES[a])
)


def digest(root):
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_shards_are_deterministic_and_equal_sharding_the_directory(tmp_path):
    from radar_text_data import shard_directory

    kw = dict(seed=7, twins=0.34, max_frames=112, progress=False, format="wds", shard_size=2)
    a = generate_dataset(tmp_path / "a", 6, workers=1, **kw)
    b = generate_dataset(tmp_path / "b", 6, workers=2, **kw)
    directory = generate_dataset(tmp_path / "dir", 6, seed=7, workers=1, twins=0.34, max_frames=112, progress=False)
    shard_directory(directory, tmp_path / "c", shard_size=2)
    assert digest(a) == digest(b) == digest(tmp_path / "c")
    assert "index.json" in digest(a) and not (a / "clips").exists()
    with pytest.raises(ValueError, match="format must be one of"):
        generate_dataset(tmp_path / "x", 2, format="parquet", progress=False)


def test_generation_is_deterministic_across_worker_counts_and_well_formed(tmp_path):
    a = generate_dataset(tmp_path / "a", 6, seed=7, workers=1, twins=0.34, max_frames=112, progress=False)
    b = generate_dataset(tmp_path / "b", 6, seed=7, workers=2, twins=0.34, max_frames=112, progress=False)
    assert digest(a) == digest(b)
    rows = [r.to_dict() for r in read_manifest(a)]
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows) and len(rows) == 6
    for r in rows:
        assert {"id", "split", "file", "captions", "segments", "frame_rate_hz", "num_frames", "radar"} <= set(r)
        assert len(r["captions"]) >= 3 and len(set(r["captions"])) == len(r["captions"])
        with np.load(a / r["file"]) as z:
            assert z["range_time"].shape == (256, r["num_frames"]) and z["range_time"].dtype == np.float16
            assert z["doppler_time"].shape == (128, r["num_frames"])
            assert z["azimuth_time"].shape == (128, r["num_frames"])
            assert z["torso_range_m"].shape == (r["num_frames"],)
        assert 100 <= r["num_frames"] <= 496
    twins = [r for r in rows if "twin_of" in r]
    assert len(twins) == 2
    x, y = twins
    assert x["split"] == y["split"]
    assert x["twin_of"] == y["id"] and y["twin_of"] == x["id"]
    assert [s["activity"] for s in x["segments"]] == [s["activity"] for s in y["segments"]][::-1]
    assert [s["params"] for s in x["segments"]] == [s["params"] for s in y["segments"]][::-1]
    assert json.loads(json.dumps(rows[0]["radar"])) == RadarConfig().to_dict()


def test_splits_are_disjoint_cover_all_three_and_keep_twins_together():
    from radar_synth.dataset import _splits

    labels = _splits(200, 20, seed=0)
    assert abs(labels.count("train") - 160) <= 1 and abs(labels.count("val") - 20) <= 1
    pairs = [(labels[160 + 2 * k], labels[161 + 2 * k]) for k in range(20)]
    assert all(a == b for a, b in pairs)
    assert len({a for a, _ in pairs}) > 1  # twins land in more than the test split


@given(
    activities=st.lists(st.sampled_from(sorted(ACTIVITIES)), min_size=1, max_size=3, unique=True),
    seed=st.integers(0, 10_000),
)
def test_a_reversed_caption_differs_from_its_caption_only_in_order(activities, seed):
    rng = np.random.default_rng(seed)
    segments = []
    for i, name in enumerate(activities):
        params = ACTIVITIES[name].sample_params(rng)
        if ACTIVITIES[name].moves:
            params["direction"] = "toward"
        segments.append(Segment(name, 100 * i, 100 * (i + 1), params))

    def words(text):
        return sorted(text.lower().replace(",", " ").replace(";", " ").replace(".", " ").split())

    for caption, reverse in caption_pairs(segments, np.random.default_rng(seed)):
        if len(segments) == 1:
            assert reverse is None
            continue
        assert words(reverse) == words(caption) and reverse != caption  # same words, another order


def test_multi_segment_share_and_two_and_three_segment_clips(tmp_path):
    root = generate_dataset(
        tmp_path / "d", 24, seed=3, workers=2, twins=0.0, multi_segment=0.75, max_frames=160, progress=False
    )
    rows = [r.to_dict() for r in read_manifest(root)]
    counts = [len(r["segments"]) for r in rows]
    assert 2 in counts and 3 in counts
    assert 0.5 <= sum(c > 1 for c in counts) / len(counts) <= 0.95  # 24 draws of p = 0.75
    for r in rows:
        assert ("captions_reversed" in r) == (len(r["segments"]) > 1)
        if "captions_reversed" in r:
            assert len(r["captions_reversed"]) == len(r["captions"])


def test_captions_describe_only_the_clip_in_order():
    def first(text, activity):
        hits = [text.find(w) for w in NAMES[activity] if w in text]
        return min(hits) if hits else -1

    for seed in range(40):
        rng = np.random.default_rng(seed)
        plan = plan_clip(rng, 50.0)
        caps = caption_clip(plan.segments, rng, families=NAMED_FAMILIES)  # descriptive: test_descriptions
        assert len(caps) == 3 and len(set(caps)) == 3
        present = [s.activity for s in plan.segments]
        for cap in caps:
            low = cap.lower()
            positions = [first(low, a) for a in present]
            assert all(p >= 0 for p in positions), (cap, present)
            if len(set(present)) == len(present):
                assert positions == sorted(positions), cap  # segment order is kept
            for absent in set(UNAMBIGUOUS) - set(present):
                assert first(low, absent) < 0, (cap, absent)


def test_every_activity_has_captions_and_varied_wording():
    rng = np.random.default_rng(0)
    for name, act in ACTIVITIES.items():
        params = act.sample_params(rng)
        if act.moves:
            params["direction"] = "away"
        caps = caption_clip([Segment(name, 0, 100, params)], rng)
        assert len(caps) == 3, name


def test_raw_dca1000_output_for_short_clips(tmp_path):
    rng = np.random.default_rng(2)
    plan = plan_clip(rng, 50.0)
    plan.num_frames = 4
    plan.segments = [Segment(plan.segments[0].activity, 0, 4, plan.segments[0].params)]
    path = write_raw_capture(plan, rng, tmp_path / "adc_data.bin")
    assert len(read_dca1000(path)) == 4
    plan.num_frames = 500
    with pytest.raises(ValueError, match="short clips"):
        write_raw_capture(plan, rng, tmp_path / "x.bin")


def _in_order(text: str, pieces: list[str]) -> bool:
    """Each piece occurs in ``text`` after the previous one."""
    at = 0
    for piece in pieces:
        found = text.find(piece, at)
        if found < 0:
            return False
        at = found + len(piece)
    return True


@given(
    max_frames=st.integers(100, 496),
    seed=st.integers(0, 2**32 - 1),
    segments=st.sampled_from([None, 1, 2, 3]),
    twin=st.booleans(),
)
def test_plans_hold_one_to_three_segments_of_the_minimum_length_and_captions_name_each_in_order(
    max_frames, seed, segments, twin
):
    from radar_synth.dataset import _twin_pair
    from radar_synth.motion import MAX_SEGMENTS, min_segment_frames

    rng = np.random.default_rng(seed)
    plan = (
        _twin_pair(rng, 50.0, max_frames)[0] if twin else plan_clip(rng, 50.0, max_frames=max_frames, segments=segments)
    )
    segs = plan.segments
    assert 1 <= len(segs) <= MAX_SEGMENTS
    assert all(s.end_frame - s.start_frame >= min_segment_frames(50.0) for s in segs)
    assert [s.start_frame for s in segs] == [0] + [s.end_frame for s in segs[:-1]]  # contiguous
    assert segs[-1].end_frame == plan.num_frames <= max_frames and plan.num_frames >= 100
    from radar_synth.captions import caption_parts

    for part in caption_parts(segs, rng):
        verbs = [verb for verb, _ in part.phrases]
        assert len(verbs) == len(segs)
        caption, reverse = part.render(), part.render(reverse=True)
        if len(segs) == 1:  # one activity may be worded by its gerund ("is seen waving")
            assert part.phrases[0][0] in caption or part.phrases[0][1] in caption, caption
            continue
        gerunds = [gerund for _, gerund in part.phrases]  # a family words every segment alike: verbs or gerunds
        words = verbs if _in_order(caption, verbs) else gerunds
        assert _in_order(caption, words), (caption, [s.activity for s in segs])
        if len(segs) > 1:
            assert _in_order(reverse, words[::-1]), (reverse, [s.activity for s in segs])
            assert caption_pairs(segs, np.random.default_rng(0))[0][1] is not None


def test_the_caption_grammar_refuses_more_segments_than_it_can_word():
    segs = [Segment("stand", 100 * i, 100 * (i + 1), {"breath_hz": 0.25}) for i in range(4)]
    with pytest.raises(ValueError, match="1 to 3 activities"):
        caption_pairs(segs, np.random.default_rng(0))


def test_the_reported_100_frame_clip_keeps_its_captions_and_reversal_consistent(tmp_path):
    """The reported fault: at --max-frames 100 a 3-activity clip got a 1-frame 'stand' fourth segment,
    its caption named three activities and its reversed caption another three."""
    root = generate_dataset(tmp_path / "d", 40, seed=0, workers=2, max_frames=100, twins=0.1, progress=False)
    from radar_text_data import check_dataset, resolve_data

    assert check_dataset(resolve_data(root)) == []
    for record in read_manifest(root):
        assert 1 <= len(record.segments) <= 3
        assert all(s["end_frame"] - s["start_frame"] >= 50 for s in record.segments)


def test_the_class_phrases_are_data_for_every_activity_and_every_dataset_carries_them(tmp_path):
    from radar_synth import ACTIVITIES, class_phrases
    from radar_text_data.classes import read_classes

    phrases = class_phrases()
    assert set(phrases) == set(ACTIVITIES) and all(isinstance(p, str) and p for p in phrases.values())
    root = generate_dataset(tmp_path / "d", 2, seed=1, max_frames=112, progress=False)
    assert {c.name: c.phrase for c in read_classes(root / "classes.json")} == phrases


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    unseen=st.sets(st.sampled_from(sorted(set(ACTIVITIES) - {"stand"})), min_size=1, max_size=5),
)
def test_unseen_activities_are_never_planned(seed, unseen):
    from radar_synth.dataset import TWIN_ACTIVITIES, _twin_pair

    rng = np.random.default_rng(seed)
    for segments in (None, 1, 2, 3):
        plan = plan_clip(rng, 50.0, max_frames=MAX_FRAMES, segments=segments, unseen=frozenset(unseen))
        assert not {s.activity for s in plan.segments} & unseen
    if len(set(TWIN_ACTIVITIES) - unseen) >= 2:
        pair = _twin_pair(rng, 50.0, MAX_FRAMES, frozenset(unseen))
        assert not {s.activity for p in pair for s in p.segments} & unseen


def test_stand_cannot_be_unseen():
    with pytest.raises(SynthError, match="stand cannot be unseen"):
        plan_clip(np.random.default_rng(5), 50.0, unseen=frozenset({"stand"}))


def test_unseen_activities_stay_out_of_train_and_val_and_are_recorded(tmp_path):
    unseen = ["kick", "clap", "jog_in_place", "sit_down"]
    root = generate_dataset(
        tmp_path / "d",
        24,
        seed=3,
        workers=2,
        max_frames=112,
        twins=0.25,
        progress=False,
        unseen=unseen,
        split_fractions=(0.5, 0.2, 0.3),
    )
    records = read_manifest(root)
    for r in records:
        if r.split != "test":
            assert not set(r.activities) & set(unseen), (r.id, r.activities)
    assert (root / "unseen.txt").read_text().split() == sorted(unseen)
    with pytest.raises(ValueError, match="unknown activities"):
        generate_dataset(tmp_path / "x", 2, unseen=["moonwalk"], progress=False)
    with pytest.raises(ValueError, match="stand cannot be unseen"):
        generate_dataset(tmp_path / "y", 2, unseen=["stand"], progress=False)


def test_thirty_activities_each_named_in_every_wording_family():
    from radar_synth.wording import ACTIVITY_WORDS, NAMED_FAMILIES

    assert len(ACTIVITIES) >= 30 and set(NAMES) == set(ACTIVITIES) == set(ACTIVITY_WORDS)
    assert len(UNAMBIGUOUS) >= 25  # the absent-activity check below covers nearly all of them
    for name, families in ACTIVITY_WORDS.items():
        assert tuple(families) == NAMED_FAMILIES
        for family, forms in families.items():
            for verb, gerund in forms:
                assert any(k in verb for k in NAMES[name]) and any(k in gerund for k in NAMES[name]), (name, family)
    for family in NAMED_FAMILIES:  # each family words each activity its own way
        others = {v for f in NAMED_FAMILIES if f != family for a in ACTIVITY_WORDS for v, _ in ACTIVITY_WORDS[a][f]}
        assert not {v for a in ACTIVITY_WORDS for v, _ in ACTIVITY_WORDS[a][family]} & others


def family_of(caption: str) -> str:
    """The wording family of a caption, read from its sentence frame (independently of the grammar's tables)."""
    if caption.startswith(("Radar recording of ", "Recorded activity: ")):
        return "report"
    if caption.startswith(("Here ", "In this clip ", "First ")):
        return "story"
    if caption.startswith(("A man is ", "A woman is ", "An adult is ")):
        return "progressive"
    if caption.startswith(("The tracked person ", "A figure ", "The body in view ", "Observed motion: ")):
        return "descriptive"
    assert caption.startswith(("A person ", "Someone ", "The subject ")), caption
    return "plain"


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    held=st.sets(st.sampled_from(["plain", "progressive", "report", "story", "descriptive"]), min_size=1, max_size=4),
)
def test_held_out_wording_families_never_word_a_train_caption(seed, held):
    from radar_synth.dataset import _wording

    families = _wording(sorted(held))
    assert set(families["val"]) == set(families["test"]) == held and not set(families["train"]) & held
    rng = np.random.default_rng(seed)
    plan = plan_clip(rng, 50.0)
    for split, allowed in families.items():
        for caption, reverse in caption_pairs(plan.segments, rng, families=allowed):
            assert family_of(caption) in allowed, (split, caption)
            assert reverse is None or family_of(reverse) == family_of(caption)


def test_a_dataset_with_held_out_wording_words_val_and_test_only_with_it(tmp_path):
    kw = dict(seed=5, workers=2, max_frames=100, twins=0.0, progress=False, split_fractions=(0.5, 0.25, 0.25))
    root = generate_dataset(tmp_path / "d", 12, held_out_wording=["report", "story"], **kw)
    everything = generate_dataset(tmp_path / "e", 12, **kw)
    records, plain = read_manifest(root), read_manifest(everything)
    for r in records:
        allowed = {"plain", "progressive", "descriptive"} if r.split == "train" else {"report", "story"}
        assert {family_of(c) for c in r.captions} <= allowed, (r.split, r.captions)
    assert len({family_of(c) for r in plain for c in r.captions}) == 5  # by default all five word every split
    for a, b in zip(records, plain, strict=True):  # the wording does not change the views
        assert (root / a.file).read_bytes() == (everything / b.file).read_bytes() and a.segments == b.segments
    with pytest.raises(ValueError, match="wording families must be"):
        generate_dataset(tmp_path / "x", 2, held_out_wording=["legalese"], progress=False)
    with pytest.raises(ValueError, match="at least one wording family for train"):
        generate_dataset(tmp_path / "y", 2, held_out_wording=list(WORDING_FAMILIES), progress=False)


def test_an_interrupted_generation_keeps_its_clips_and_resumes_to_the_same_bytes(tmp_path, monkeypatch):
    """Ctrl-C after two clips: nothing at out, the two finished clips kept in .OUT.synth-partial;
    other options are refused there; the same call renders only the rest and equals a whole run."""
    import radar_synth.dataset as dataset_module

    kw = dict(seed=5, max_frames=112, progress=False)
    whole = generate_dataset(tmp_path / "whole", 6, **kw)
    count_calls(monkeypatch, dataset_module, "render_clip", interrupt_at=3)
    with pytest.raises(KeyboardInterrupt):
        generate_dataset(tmp_path / "resumed", 6, **kw)
    partial = tmp_path / ".resumed.synth-partial"
    assert not (tmp_path / "resumed").exists() and len(list((partial / "records").glob("*.json"))) == 2
    with pytest.raises(ValueError, match="other options or inputs"):
        generate_dataset(tmp_path / "resumed", 6, seed=6, max_frames=112, progress=False)
    import radar_synth.partial as partial_module

    monkeypatch.setattr(partial_module, "version", lambda name: "0.0.1")  # another release of radar-synth
    with pytest.raises(ValueError, match="or of another radar-synth version"):
        generate_dataset(tmp_path / "resumed", 6, **kw)
    monkeypatch.undo()
    calls = count_calls(monkeypatch, dataset_module, "render_clip")
    generate_dataset(tmp_path / "resumed", 6, **kw)
    assert len(calls) == 4 and digest(tmp_path / "resumed") == digest(whole) and not partial.exists()
