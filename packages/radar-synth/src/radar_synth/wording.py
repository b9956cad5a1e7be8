"""The caption vocabulary: for each naming wording family, a verb phrase and its gerund for every
activity, and words for every attribute (counts, directions, speeds, limbs); for the ``descriptive``
family, its subjects and sentence forms (its phrases are ``radar_synth.descriptions``). Families share no sentence
template, connective or subject, and word each activity and attribute with their own synonyms, so
that captions of one family can be held out of training (``generate_dataset(held_out_wording=)``).
"""

from __future__ import annotations

from .defaults import DESCRIPTIVE, NAMED_FAMILIES, WORDING_FAMILIES

__all__ = [
    "ACTIVITY_WORDS",
    "ATTRIBUTE_WORDS",
    "SUBJECTS",
    "TEMPLATES",
    "WORDING_FAMILIES",
    "NAMED_FAMILIES",
    "DESCRIPTIVE",
    "DESCRIPTIONS_PER_SEGMENT",
]

_NUMBERS = ("one", "two", "three", "four", "five", "six", "seven", "eight")


def _counts(style: str) -> dict[int, str]:
    if style == "plain":
        return {1: "once", 2: "twice", **{n: f"{_NUMBERS[n - 1]} times" for n in range(3, 9)}}
    if style == "progressive":
        return {1: "one time", **{n: f"{_NUMBERS[n - 1]} times over" for n in range(2, 9)}}
    if style == "report":
        return {1: "for 1 repetition", **{n: f"for {n} repetitions" for n in range(2, 9)}}
    return {1: "a single time", **{n: f"{_NUMBERS[n - 1]} times in a row" for n in range(2, 9)}}


DESCRIPTIONS_PER_SEGMENT = 2  # descriptions a descriptive caption gives each activity, joined by "and"

# attribute -> value -> words, per naming family (in NAMED_FAMILIES order)
ATTRIBUTE_WORDS: dict[str, dict[str, dict]] = {
    "plain": {
        "n": _counts("plain"),
        "dir": {
            "toward": "toward the radar",
            "away": "away from the radar",
            "across_left": "from right to left",
            "across_right": "from left to right",
            "loop": "round in a loop",
        },
        "walk_speed": {"slow": "slowly", "normal": "at a normal pace", "fast": "briskly"},
        "run_speed": {"normal": "", "fast": "very fast"},
        "arm": {"left": "the left hand", "right": "the right hand", "both": "both hands"},
        "leg": {"left": "the left leg", "right": "the right leg"},
        "fist": {"left": "with the left fist", "right": "with the right fist", "alternating": "alternating both fists"},
        "fall": {
            "forward": "forward",
            "backward": "backward",
            "left": "sideways to the left",
            "right": "sideways to the right",
        },
        "sense": {"left": "to the left", "right": "to the right"},
        "circle": {"forward": "forward", "backward": "backward"},
    },
    "progressive": {
        "n": _counts("progressive"),
        "dir": {
            "toward": "closer to the sensor",
            "away": "farther from the sensor",
            "across_left": "leftward across the room",
            "across_right": "rightward across the room",
            "loop": "in a circle in front of the sensor",
        },
        "walk_speed": {"slow": "at a leisurely pace", "normal": "steadily", "fast": "quickly"},
        "run_speed": {"normal": "", "fast": "at full speed"},
        "arm": {"left": "the left arm", "right": "the right arm", "both": "both arms"},
        "leg": {"left": "the left foot", "right": "the right foot"},
        "fist": {"left": "using the left arm", "right": "using the right arm", "alternating": "switching arms"},
        "fall": {
            "forward": "face first",
            "backward": "onto the back",
            "left": "onto the left side",
            "right": "onto the right side",
        },
        "sense": {"left": "counterclockwise", "right": "clockwise"},
        "circle": {"forward": "in a forward direction", "backward": "in a backward direction"},
    },
    "report": {
        "n": _counts("report"),
        "dir": {
            "toward": "in the direction of the device",
            "away": "away from the device",
            "across_left": "across the scene to the left",
            "across_right": "across the scene to the right",
            "loop": "around in circles",
        },
        "walk_speed": {"slow": "unhurriedly", "normal": "at an ordinary pace", "fast": "at a fast pace"},
        "run_speed": {"normal": "", "fast": "at top speed"},
        "arm": {"left": "left hand", "right": "right hand", "both": "two hands"},
        "leg": {"left": "left leg", "right": "right leg"},
        "fist": {"left": "left-handed", "right": "right-handed", "alternating": "with alternating hands"},
        "fall": {
            "forward": "to the front",
            "backward": "to the rear",
            "left": "to the left side",
            "right": "to the right side",
        },
        "sense": {"left": "leftward", "right": "rightward"},
        "circle": {"forward": "frontward", "backward": "rearward"},
    },
    "story": {
        "n": _counts("story"),
        "dir": {
            "toward": "up to the antenna",
            "away": "off into the distance",
            "across_left": "to the left past the antenna",
            "across_right": "to the right past the antenna",
            "loop": "in rounds before the antenna",
        },
        "walk_speed": {"slow": "gently", "normal": "at a regular pace", "fast": "in a hurry"},
        "run_speed": {"normal": "", "fast": "flat out"},
        "arm": {"left": "the hand on the left", "right": "the hand on the right", "both": "each hand"},
        "leg": {"left": "the leg on the left", "right": "the leg on the right"},
        "fist": {
            "left": "with the hand on the left",
            "right": "with the hand on the right",
            "alternating": "trading hands each time",
        },
        "fall": {
            "forward": "forwards",
            "backward": "backwards",
            "left": "over to the left",
            "right": "over to the right",
        },
        "sense": {"left": "toward the left", "right": "toward the right"},
        "circle": {"forward": "toward the front", "backward": "toward the back"},
    },
}

# activity -> family -> [(verb phrase, gerund phrase), ...]; {placeholders} name ATTRIBUTE_WORDS
_W = {
    "walk": (
        ["walks {speed} {dir}"],
        ["strolls {speed} {dir}"],
        ["moves on foot {speed} {dir}"],
        ["paces {speed} {dir}"],
    ),
    "run": (["runs {speed} {dir}"], ["sprints {speed} {dir}"], ["dashes {speed} {dir}"], ["races {speed} {dir}"]),
    "stand": (
        ["stands still", "stays still"],
        ["remains motionless"],
        ["holds a stationary pose"],
        ["waits without budging", "stays put"],
    ),
    "wave": (
        ["waves {arm} {n}", "waves with {arm} {n}"],
        ["raises {arm} and waves {n}"],
        ["gives a wave with {arm} {n}"],
        ["greets the sensor with {arm} {n}"],
    ),
    "clap": (
        ["claps {n}", "claps the hands {n}"],
        ["applauds {n}"],
        ["brings the palms together {n}"],
        ["smacks the palms together {n}"],
    ),
    "jump": (
        ["jumps {n}", "jumps up {n}"],
        ["leaps into the air {n}"],
        ["springs upward {n}"],
        ["launches off the floor {n}"],
    ),
    "squat": (
        ["squats down {n}"],
        ["does deep knee bends {n}"],
        ["lowers into a squat {n}"],
        ["crouches low and rises {n}"],
    ),
    "sit_down": (
        ["sits down", "sits down on a chair"],
        ["takes a seat"],
        ["lowers onto a chair"],
        ["settles into a chair"],
    ),
    "stand_up": (
        ["stands up"],
        ["gets up from the chair"],
        ["rises from a seated position"],
        ["climbs out of the chair"],
    ),
    "fall": (
        ["falls {fall}", "falls over {fall}"],
        ["collapses {fall}"],
        ["topples {fall}"],
        ["tumbles {fall} to the ground"],
    ),
    "bend_pick_up": (
        ["bends down to pick something up"],
        ["stoops to pick something off the floor"],
        ["retrieves an object from the ground"],
        ["leans down and grabs an item from the floor"],
    ),
    "turn_around": (
        ["turns around {sense}"],
        ["spins around {sense}"],
        ["rotates in place {sense}"],
        ["pivots {sense} to face the other way"],
    ),
    "kick": (
        ["kicks with {leg} {n}"],
        ["kicks out {n} using {leg}"],
        ["performs a kick with {leg} {n}"],
        ["boots the air with {leg} {n}"],
    ),
    "punch": (
        ["punches {n} {fist}"],
        ["jabs the air {fist} {n}"],
        ["boxes at the air {n} {fist}"],
        ["strikes forward {fist} {n}"],
    ),
    "jog_in_place": (
        ["jogs in place"],
        ["jogs on the spot"],
        ["runs without going anywhere"],
        ["does a stationary jog"],
    ),
    "walk_backward": (
        ["walks backward {dir}"],
        ["backs up {dir}"],
        ["moves in reverse {dir}"],
        ["retreats step by step {dir}"],
    ),
    "sidestep": (["sidesteps {dir}"], ["shuffles sideways {dir}"], ["steps laterally {dir}"], ["crab-walks {dir}"]),
    "jumping_jacks": (
        ["does jumping jacks {n}"],
        ["does star jumps {n}"],
        ["performs side-straddle hops {n}"],
        ["opens and closes arms and legs in little jumps {n}"],
    ),
    "arm_circles": (
        ["circles both arms {circle} {n}"],
        ["makes arm circles {circle} {n}"],
        ["rotates the outstretched arms {circle} {n}"],
        ["swings the arms round in loops {circle} {n}"],
    ),
    "bow": (
        ["bows {n}"],
        ["takes a bow {n}"],
        ["inclines the upper body in a bow {n}"],
        ["dips the head and chest politely {n}"],
    ),
    "lunge": (
        ["lunges forward with {leg} {n}"],
        ["steps into a lunge on {leg} {n}"],
        ["performs a forward lunge with {leg} {n}"],
        ["drops into a deep stride on {leg} {n}"],
    ),
    "lie_down": (
        ["lies down", "lies down on the floor"],
        ["lies flat on the back"],
        ["reclines onto the ground"],
        ["gets down and rests on the floor"],
    ),
    "throw": (
        ["throws a ball with {arm} {n}"],
        ["tosses something overarm with {arm} {n}"],
        ["makes an overhead throw with {arm} {n}"],
        ["hurls an object using {arm} {n}"],
    ),
    "push": (
        ["pushes forward with both hands {n}"],
        ["shoves something away {n}"],
        ["extends both arms in a push {n}"],
        ["presses against an imaginary wall {n}"],
    ),
    "drink": (
        ["drinks from a cup held in {arm}"],
        ["sips a drink with {arm}"],
        ["raises a glass to the mouth with {arm}"],
        ["takes a drink using {arm}"],
    ),
    "reach_up": (
        ["reaches up {n}"],
        ["stretches both arms overhead {n}"],
        ["extends the arms toward the ceiling {n}"],
        ["strains upward on tiptoe {n}"],
    ),
    "hop_on_one_leg": (
        ["hops on {leg} {n}"],
        ["bounces on {leg} alone {n}"],
        ["performs single-leg hops on {leg} {n}"],
        ["skips on {leg} only {n}"],
    ),
    "march_in_place": (
        ["marches in place"],
        ["marches on the spot with high knees"],
        ["steps in place lifting the knees"],
        ["parades without moving forward"],
    ),
    "side_bend": (
        ["bends to the side {n}"],
        ["leans from side to side {n}"],
        ["performs side stretches {n}"],
        ["tilts the upper body left and right {n}"],
    ),
    "torso_twist": (
        ["twists the torso {n}"],
        ["swivels the upper body {n}"],
        ["performs trunk rotations {n}"],
        ["turns the waist back and forth {n}"],
    ),
}

_IRREGULAR = {
    "does": "doing",
    "lies": "lying",
    "goes": "going",
    "gets": "getting",
    "dips": "dipping",
    "drops": "dropping",
    "steps": "stepping",
    "swings": "swinging",
    "sits": "sitting",
    "runs": "running",
    "stays": "staying",
    "crab-walks": "crab-walking",
    "skips": "skipping",
    "jabs": "jabbing",
    "tilts": "tilting",
    "shuffles": "shuffling",
    "sidesteps": "sidestepping",
    "backs": "backing",
    "strains": "straining",
    "budging": "budging",
    "claps": "clapping",
    "squats": "squatting",
    "grabs": "grabbing",
    "spins": "spinning",
    "jogs": "jogging",
    "sips": "sipping",
    "hops": "hopping",
}


def _gerund(verb: str) -> str:
    """``walks`` -> ``walking`` for the first verb (and one joined by "and") of a phrase."""

    def one(word: str) -> str:
        if word in _IRREGULAR:
            return _IRREGULAR[word]
        stem = word[:-2] if word.endswith(("shes", "ches", "sses", "xes")) else word[:-1]
        if stem.endswith("e") and not stem.endswith(("ee", "ye")):
            stem = stem[:-1]
        return stem + "ing"

    words = verb.split()
    words[0] = one(words[0])
    for i, w in enumerate(words[:-1]):
        if w == "and" and words[i + 1].endswith("s") and words[i + 1] not in ("arms", "legs"):
            words[i + 1] = one(words[i + 1])
    return " ".join(words)


ACTIVITY_WORDS: dict[str, dict[str, list[tuple[str, str]]]] = {
    activity: {family: [(v, _gerund(v)) for v in forms] for family, forms in zip(NAMED_FAMILIES, per, strict=True)}
    for activity, per in _W.items()
}

SUBJECTS: dict[str, tuple[str, ...]] = {
    "plain": ("A person", "Someone", "The subject"),
    "progressive": ("A man", "A woman", "An adult"),
    "report": ("one person", "a subject", "an individual"),
    "story": ("the participant", "a pedestrian", "our volunteer"),
    DESCRIPTIVE: ("the tracked person", "a figure", "the body in view"),
}

# family -> number of segments -> sentence forms; {s} subject, {p0}.. phrases (verbs or gerunds, see USES_GERUND)
TEMPLATES: dict[str, dict[int, tuple[str, ...]]] = {
    "plain": {
        1: ("{S} {p0}.", "{S} simply {p0}."),
        2: ("{S} {p0}, then {p1}.", "{S} {p0} and afterwards {p1}."),
        3: ("{S} {p0}, then {p1}, and finally {p2}.", "{S} {p0}; after that {p1}, and then {p2}."),
    },
    "progressive": {
        1: ("{S} is {p0}.", "{S} is seen {p0}."),
        2: ("{S} is {p0} and then {p1}.", "{S} is seen {p0} and later {p1}."),
        3: ("{S} is {p0}, then {p1}, and lastly {p2}.", "{S} is seen {p0}, later {p1}, and at last {p2}."),
    },
    "report": {
        1: ("Radar recording of {s} {p0}.", "Recorded activity: {s} {p0}."),
        2: ("Radar recording of {s} {p0}, followed by {p1}.", "Recorded activity: {s} {p0}, followed by {p1}."),
        3: (
            "Radar recording of {s} {p0}, followed by {p1}, ending with {p2}.",
            "Recorded activity: {s} {p0}, followed by {p1}, ending with {p2}.",
        ),
    },
    "story": {
        1: ("Here {s} {p0}.", "In this clip {s} {p0}."),
        2: ("First {s} {p0}. Next the same person {p1}.", "In this clip {s} {p0}, and subsequently {p1}."),
        3: (
            "First {s} {p0}. Next the same person {p1}. In the end the same person {p2}.",
            "In this clip {s} {p0}, subsequently {p1}, and ultimately {p2}.",
        ),
    },
    DESCRIPTIVE: {
        1: ("{S} {p0}, as observed.", "Observed motion: {s} {p0}."),
        2: ("{S} {p0}; next, {p1}.", "Observed motion: {s} {p0}; next, {p1}."),
        3: ("{S} {p0}; next, {p1}; last, {p2}.", "Observed motion: {s} {p0}; next, {p1}; last, {p2}."),
    },
}
USES_GERUND = {"plain": False, "progressive": True, "report": True, "story": False, DESCRIPTIVE: False}
