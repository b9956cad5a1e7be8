"""The generator's defaults, standard library only, so a command line can show them (and check
its options against them) without importing numpy."""

from __future__ import annotations

from radar_text_data.contract import (  # standard library only (the format's own)
    FORMATS,
    SPLIT_FRACTIONS,
)

__all__ = [
    "DEFAULT_TWINS",
    "DEFAULT_MULTI_SEGMENT",
    "SPLIT_FRACTIONS",
    "FORMATS",
    "MIN_FRAMES",
    "CLUTTER_RANGE_M",
    "WORDING_FAMILIES",
    "NAMED_FAMILIES",
    "DESCRIPTIVE",
    "MOTION_SOURCES",
    "SKELETON_NAMES",
    "class_phrases",
]

DEFAULT_TWINS = 0.1  # share of clips in order-swapped twin pairs
DEFAULT_MULTI_SEGMENT = 0.6  # share of the other clips that hold 2 or 3 activities
MIN_FRAMES = 100  # shortest clip length a caller may ask for as the cap
CLUTTER_RANGE_M = (2.0, 10.5)  # how far static reflectors stand from the radar (``motion.Room``)
# caption wording families: each has its own sentence templates, connectives, subjects and synonyms; the first
# four name each activity, ``descriptive`` says what the body does (``radar_synth.descriptions``) and names none
NAMED_FAMILIES = ("plain", "progressive", "report", "story")
DESCRIPTIVE = "descriptive"  # the family that describes the movement instead of naming it
WORDING_FAMILIES = (*NAMED_FAMILIES, DESCRIPTIVE)
MOTION_SOURCES = ("humanml3d", "bvh", "joints")  # motion-capture layouts seqclip data simulate reads
SKELETON_NAMES = ("smpl22",)  # named skeletons of joint arrays (a BVH file brings its own)


def class_phrases() -> dict[str, str]:
    """``{activity: phrase}``, the simulator's classes as data (``radar_synth/classes.json``; a phrase
    completes "a person ..."): what ``generate_dataset`` writes as the dataset's ``classes.json``."""
    import json
    from importlib.resources import files

    return json.loads(files(__package__).joinpath("classes.json").read_text(encoding="utf-8"))
