"""Caption grammar: paraphrases of a clip built only from its own metadata."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .motion import Segment

__all__ = ["caption_clip", "caption_pairs", "caption_parts", "CaptionParts", "describe_segment", "NUMBER_WORDS"]

NUMBER_WORDS = {1: "once", 2: "twice", 3: "three times", 4: "four times", 5: "five times", 6: "six times",
                7: "seven times", 8: "eight times"}
_COUNT = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight"}
SUBJECTS = ("A person", "Someone", "The subject", "An adult", "A pedestrian", "The individual")


def _walk_dir(d: str, rng) -> str:
    return str(rng.choice({
        "toward": ["toward the radar", "toward the sensor", "closer to the radar", "in the direction of the sensor"],
        "away": ["away from the radar", "away from the sensor", "off into the distance"],
        "across_left": ["across the room from right to left", "from right to left in front of the sensor",
                        "leftward across the field of view"],
        "across_right": ["across the room from left to right", "from left to right in front of the sensor",
                         "rightward across the field of view"],
    }[d]))


def _speed_word(activity: str, speed: float, rng) -> str:
    if activity == "walk":
        if speed < 1.0:
            return str(rng.choice(["slowly", "at a leisurely pace", "unhurriedly"]))
        if speed > 1.35:
            return str(rng.choice(["briskly", "quickly", "at a fast pace"]))
        return str(rng.choice(["at a normal pace", "steadily", ""]))
    return str(rng.choice(["very fast", "at full speed"])) if speed > 3.0 else str(rng.choice(["", "quickly"]))


def describe_segment(seg: Segment, rng: np.random.Generator) -> tuple[str, str]:
    """(third-person verb phrase, gerund phrase) for one segment."""
    p, a = seg.params, seg.activity
    if a in ("walk", "run"):
        verb, ger = ("walks", "walking") if a == "walk" else ("runs", "running")
        sp = _speed_word(a, p["speed"], rng)
        d = _walk_dir(p["direction"], rng)
        tail = f"{sp} {d}".strip() if rng.random() < 0.5 else f"{d} {sp}".strip()
        return f"{verb} {tail}", f"{ger} {tail}"
    if a == "stand":
        v = str(rng.choice(["stands still", "stands in place", "remains standing without moving", "stays still"]))
        return v, {"stands still": "standing still", "stands in place": "standing in place",
                   "remains standing without moving": "remaining still", "stays still": "staying still"}[v]
    if a == "wave":
        arm = {"left": "the left hand", "right": "the right hand", "both": "both hands"}[p["arm"]]
        n = NUMBER_WORDS[p["reps"]]
        form = rng.integers(3)
        if form == 0:
            return f"waves {arm} {n}", f"waving {arm} {n}"
        if form == 1:
            return f"waves with {arm} {n}", f"waving with {arm} {n}"
        return f"raises {arm} and waves {n}", f"raising {arm} to wave {n}"
    if a == "clap":
        n = NUMBER_WORDS[p["reps"]]
        return str(rng.choice([f"claps {n}", f"claps the hands {n}"])), f"clapping {n}"
    if a == "jump":
        n = NUMBER_WORDS[p["reps"]]
        return str(rng.choice([f"jumps {n}", f"jumps up {n}", f"hops in place {n}"])), f"jumping {n}"
    if a == "squat":
        c = p["reps"]
        word = "squat" if c == 1 else "squats"
        return (str(rng.choice([f"does {_COUNT[c]} {word}", f"squats down {NUMBER_WORDS[c]}"])),
                f"doing {_COUNT[c]} {word}")
    if a == "sit_down":
        return str(rng.choice(["sits down", "takes a seat", "sits down on a chair"])), "sitting down"
    if a == "stand_up":
        return str(rng.choice(["stands up", "gets up from the chair", "rises to standing"])), "standing up"
    if a == "fall":
        d = {"forward": "forward", "backward": "backward", "left": "sideways to the left",
             "right": "sideways to the right"}[p["direction"]]
        return (str(rng.choice([f"falls {d}", f"falls over {d}", f"collapses {d}"])), f"falling {d}")
    if a == "bend_pick_up":
        return (str(rng.choice(["bends down to pick something up", "bends over and picks up an object",
                                "stoops to pick something off the floor"])), "bending down to pick something up")
    if a == "turn_around":
        s = "to the left" if p["sense"] == "left" else "to the right"
        return str(rng.choice([f"turns around {s}", "turns around", f"spins around {s}"])), f"turning around {s}"
    if a == "kick":
        leg, n = f"the {p['leg']} leg", NUMBER_WORDS[p["reps"]]
        return str(rng.choice([f"kicks with {leg} {n}", f"kicks {n} using {leg}"])), f"kicking with {leg} {n}"
    if a == "punch":
        c = p["reps"]
        noun = "punch" if c == 1 else "punches"
        arm = {"left": "with the left fist", "right": "with the right fist",
               "alternating": "alternating both fists"}[p["arm"]]
        return (str(rng.choice([f"throws {_COUNT[c]} {noun} {arm}", f"punches {NUMBER_WORDS[c]} {arm}"])),
                f"throwing {_COUNT[c]} {noun} {arm}")
    if a == "jog_in_place":
        return str(rng.choice(["jogs in place", "jogs without going anywhere", "jogs on the spot"])), "jogging in place"
    raise ValueError(f"no caption grammar for activity {a!r}")


def _join(subject: str, phrases: list[tuple[str, str]], form: int) -> str:
    """One sentence from the segments' phrases in the given order. Multi-segment forms use verb
    phrases only, so reordering the phrases reorders the words and changes nothing else."""
    verbs = [v for v, _ in phrases]
    if not 1 <= len(phrases) <= 3:  # a longer clip would lose its last activities from the caption
        raise ValueError(f"the caption grammar words 1 to 3 activities, got {len(phrases)}")
    if len(phrases) == 1:
        return [f"{subject} {verbs[0]}.", f"{subject} is seen {phrases[0][1]}.", f"{subject} {verbs[0]}."][form % 3]
    first = subject[0].lower() + subject[1:]
    if len(phrases) == 2:
        return [f"{subject} {verbs[0]}, then {verbs[1]}.",
                f"First {first} {verbs[0]}; after that, the same person {verbs[1]}.",
                f"{subject} {verbs[0]} and afterwards {verbs[1]}."][form % 3]
    return [f"{subject} {verbs[0]}, then {verbs[1]}, and finally {verbs[2]}.",
            f"First {first} {verbs[0]}, next {verbs[1]}, and at the end {verbs[2]}.",
            f"{subject} {verbs[0]}; after that {verbs[1]}, and then {verbs[2]}."][form % 3]


@dataclass(frozen=True)
class CaptionParts:
    """One paraphrase before it is rendered: the subject, the sentence form and one (verb phrase,
    gerund phrase) per segment, in the segments' order."""

    subject: str
    form: int
    phrases: tuple[tuple[str, str], ...]

    def render(self, reverse: bool = False) -> str:
        """The sentence; ``reverse``: the same subject, form and phrases with the segments reversed."""
        phrases = list(self.phrases[::-1] if reverse else self.phrases)
        return " ".join(_join(self.subject, phrases, self.form).split())


def caption_parts(segments: list[Segment], rng: np.random.Generator, count: int = 3) -> list[CaptionParts]:
    """``count`` distinct paraphrases (different subjects, structures and wording) of ``segments``."""
    parts: list[CaptionParts] = []
    forms = rng.permutation(3)
    for i in range(count * 4):
        subject = str(rng.choice(SUBJECTS))
        part = CaptionParts(subject, int(forms[i % 3]), tuple(describe_segment(s, rng) for s in segments))
        if part.render() not in [p.render() for p in parts]:
            parts.append(part)
        if len(parts) == count:
            break
    return parts


def caption_pairs(segments: list[Segment], rng: np.random.Generator, count: int = 3) -> list[tuple[str, str | None]]:
    """``count`` distinct paraphrases (different subjects, structures and wording), each with its
    order-reversed twin: the same subject, structure and phrase choices with the segments' phrases
    in reverse order (None for a single segment)."""
    return [(p.render(), p.render(reverse=True) if len(segments) > 1 else None)
            for p in caption_parts(segments, rng, count)]


def caption_clip(segments: list[Segment], rng: np.random.Generator, count: int = 3) -> list[str]:
    """``count`` distinct paraphrases (different subjects, structures and wording)."""
    return [c for c, _ in caption_pairs(segments, rng, count)]
