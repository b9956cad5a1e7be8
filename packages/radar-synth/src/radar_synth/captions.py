"""Caption grammar: paraphrases of a clip built only from its own metadata, in five wording
families (``WORDING_FAMILIES``; the vocabulary is in ``wording``): four name each activity, the
``descriptive`` one says what the body does (``descriptions``)."""

from __future__ import annotations

import itertools
import string
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .defaults import WORDING_FAMILIES
from .errors import SynthError
from .motion import ACTIVITIES, Segment
from .wording import (
    ACTIVITY_WORDS,
    ATTRIBUTE_WORDS,
    DESCRIPTIONS_PER_SEGMENT,
    DESCRIPTIVE,
    SUBJECTS,
    TEMPLATES,
    USES_GERUND,
)

__all__ = [
    "caption_clip",
    "caption_pairs",
    "caption_parts",
    "CaptionParts",
    "describe_segment",
    "NUMBER_WORDS",
    "WORDING_FAMILIES",
    "check_families",
    "activity_phrases",
    "longest_caption",
]

NUMBER_WORDS = ATTRIBUTE_WORDS["plain"]["n"]  # the plain family's counts: once, twice, three times, ...


def _speed(activity: str, speed: float) -> str:
    if activity == "walk":
        return "slow" if speed < 1.0 else "fast" if speed > 1.35 else "normal"
    return "fast" if speed > 3.0 else "normal"


def _attributes(seg: Segment, family: str) -> dict[str, str]:
    """The words for a segment's parameters in one family (the placeholders of its phrases)."""
    words, p, a = ATTRIBUTE_WORDS[family], seg.params, seg.activity
    out = {}
    if ACTIVITIES[a].moves:
        out["dir"] = words["dir"][p["direction"]]
    if a in ("walk", "run"):
        out["speed"] = words[f"{a}_speed"][_speed(a, p["speed"])]
    if "reps" in p:
        out["n"] = words["n"][p["reps"]]
    if "leg" in p:
        out["leg"] = words["leg"][p["leg"]]
    if "arm" in p:
        out["fist" if a == "punch" else "arm"] = words["fist" if a == "punch" else "arm"][p["arm"]]
    named = {"fall": ("direction", "fall"), "turn_around": ("sense", "sense"), "arm_circles": ("sense", "circle")}
    if a in named:
        out[named[a][1]] = words[named[a][1]][p[named[a][0]]]
    return out


def describe_segment(seg: Segment, rng: np.random.Generator, family: str = "plain") -> tuple[str, str]:
    """(third-person verb phrase, gerund phrase) for one segment in one wording family; in the
    descriptive family, ``DESCRIPTIONS_PER_SEGMENT`` of the segment's salient descriptions (traits
    away from rest; ``descriptions.salient``), in trait order."""
    if family == DESCRIPTIVE:
        from .descriptions import segment_descriptions

        described = segment_descriptions(seg.activity, seg.params, salient_only=True)
        picked = sorted(rng.choice(len(described), size=DESCRIPTIONS_PER_SEGMENT, replace=False))
        phrase = " and ".join(described[int(i)] for i in picked)
        return phrase, phrase
    if seg.activity not in ACTIVITY_WORDS:
        raise SynthError(f"no caption grammar for activity {seg.activity!r}")
    forms = ACTIVITY_WORDS[seg.activity][family]
    verb, gerund = forms[int(rng.integers(len(forms)))]
    words = _attributes(seg, family)
    return (" ".join(verb.format(**words).split()), " ".join(gerund.format(**words).split()))


@dataclass(frozen=True)
class CaptionParts:
    """One paraphrase before it is rendered: the wording family, the subject, the sentence form and
    one (verb phrase, gerund phrase) per segment, in the segments' order."""

    subject: str
    form: int
    phrases: tuple[tuple[str, str], ...]
    family: str = "plain"

    def render(self, reverse: bool = False) -> str:
        """The sentence; ``reverse``: the same family, subject, form and phrases with the segments
        reversed. Every form of a family words all segments alike (verbs, or gerunds), so
        reordering the phrases reorders the words and changes nothing else."""
        phrases = list(self.phrases[::-1] if reverse else self.phrases)
        if not 1 <= len(phrases) <= 3:  # a longer clip would lose its last activities from the caption
            raise SynthError(f"the caption grammar words 1 to 3 activities, got {len(phrases)}")
        forms = TEMPLATES[self.family][len(phrases)]
        words = [g if USES_GERUND[self.family] else v for v, g in phrases]
        subject = self.subject[0].upper() + self.subject[1:]
        text = forms[self.form % len(forms)].format(
            S=subject, s=self.subject, **{f"p{i}": w for i, w in enumerate(words)}
        )
        return " ".join(text.split())


def check_families(families: Sequence[str]) -> tuple[str, ...]:
    """``families`` as a tuple, refused when empty or naming a family that does not exist."""
    unknown = sorted(set(families) - set(WORDING_FAMILIES))
    if unknown or not families:
        raise SynthError(
            f"wording families must be a non-empty subset of {list(WORDING_FAMILIES)}, got {list(families)}"
        )
    return tuple(f for f in WORDING_FAMILIES if f in families)


def caption_parts(
    segments: list[Segment], rng: np.random.Generator, count: int = 3, families: Sequence[str] = WORDING_FAMILIES
) -> list[CaptionParts]:
    """``count`` distinct paraphrases (different families, subjects, structures and wording) of
    ``segments``, each worded in one of ``families``."""
    families = check_families(families)
    parts: list[CaptionParts] = []
    for _ in range(count * 6):
        family = families[int(rng.integers(len(families)))]
        subjects = SUBJECTS[family]
        part = CaptionParts(
            subjects[int(rng.integers(len(subjects)))],
            int(rng.integers(2)),
            tuple(describe_segment(s, rng, family) for s in segments),
            family,
        )
        if part.render() not in [p.render() for p in parts]:
            parts.append(part)
        if len(parts) == count:
            break
    return parts


def caption_pairs(
    segments: list[Segment], rng: np.random.Generator, count: int = 3, families: Sequence[str] = WORDING_FAMILIES
) -> list[tuple[str, str | None]]:
    """``count`` distinct paraphrases, each with its order-reversed twin: the same family, subject,
    structure and phrase choices with the segments' phrases in reverse order (None for a single segment)."""
    return [
        (p.render(), p.render(reverse=True) if len(segments) > 1 else None)
        for p in caption_parts(segments, rng, count, families)
    ]


def caption_clip(
    segments: list[Segment], rng: np.random.Generator, count: int = 3, families: Sequence[str] = WORDING_FAMILIES
) -> list[str]:
    """``count`` distinct paraphrases (different families, subjects, structures and wording)."""
    return [c for c, _ in caption_pairs(segments, rng, count, families)]


def activity_phrases(activity: str, family: str) -> Iterator[tuple[str, str]]:
    """Every (verb phrase, gerund phrase) the grammar can word ``activity`` with in ``family``: each
    form with each value of each attribute it names. In the descriptive family: every pair of
    phrases of two different traits (``descriptions.PHRASES``), a superset of what any parameters give."""
    if family == DESCRIPTIVE:
        yield from _descriptive_phrases()
        return
    words = ATTRIBUTE_WORDS[family]
    for verb, gerund in ACTIVITY_WORDS[activity][family]:
        slots = sorted({name for _, name, _, _ in string.Formatter().parse(verb) if name})
        choices = [list(words[f"{activity}_speed" if slot == "speed" else slot].values()) for slot in slots]
        for values in itertools.product(*choices):
            filled = dict(zip(slots, values, strict=True))
            yield " ".join(verb.format(**filled).split()), " ".join(gerund.format(**filled).split())


def _descriptive_phrases() -> Iterator[tuple[str, str]]:
    from .descriptions import PHRASES

    traits = list(PHRASES)
    for i, first in enumerate(traits):
        for second in traits[i + 1 :]:
            for a in PHRASES[first].values():
                for b in PHRASES[second].values():
                    yield f"{a} and {b}", f"{a} and {b}"


def longest_caption(count: Callable[[str], int]) -> str:
    """The caption with the largest ``count`` (a tokenizer's token count, say) that the grammar can
    write: every family, sentence form and subject, each activity worded at its longest, in up to
    ``MAX_SEGMENTS`` slots with no activity twice in a row (the planner's rule; its posture rules
    are not applied, so this is an upper bound over the captions ``plan_clip`` can produce)."""
    best, best_count = "", -1
    for family in WORDING_FAMILIES:
        used = 1 if USES_GERUND[family] else 0
        if family == DESCRIPTIVE:  # the same phrases for every activity, and two activities may read alike
            top = [max(activity_phrases("stand", family), key=lambda p: count(p[used]))] * 2
        else:
            longest = [max(activity_phrases(a, family), key=lambda p: count(p[used])) for a in ACTIVITY_WORDS]
            top = sorted(longest, key=lambda p: -count(p[used]))[:2]  # a, b, a: the longest fill of three slots
        for n, form, subject in itertools.product((1, 2, 3), range(2), SUBJECTS[family]):
            text = CaptionParts(subject, form, tuple(top[i % 2] for i in range(n)), family).render()
            if count(text) > best_count:
                best, best_count = text, count(text)
    return best
