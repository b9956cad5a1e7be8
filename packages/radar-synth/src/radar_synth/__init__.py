"""Physics-based radar-text data generator: a kinematic body doing 30 activities (each described by rules from its
motion), an FMCW
simulator (exact and fast paths), radar views through ``radar_views``, captions, and the
dataset writer (the radar-text-data format, as a directory or WebDataset shards).

Names load on first use: ``radar_synth.defaults`` (and a command line that shows them) needs only
the standard library.
"""

from __future__ import annotations

import importlib
from importlib.metadata import version

from .defaults import (
    DEFAULT_MULTI_SEGMENT,
    DEFAULT_TWINS,
    FORMATS,
    MIN_FRAMES,
    NAMED_FAMILIES,
    SPLIT_FRACTIONS,
    WORDING_FAMILIES,
    class_phrases,
)

_LAZY = {
    "SynthError": "errors",
    "SEGMENTS": "body",
    "BodyShape": "body",
    "Pose": "body",
    "forward_kinematics": "body",
    "caption_clip": "captions",
    "caption_pairs": "captions",
    "caption_parts": "captions",
    "CaptionParts": "captions",
    "describe_segment": "captions",
    "check_families": "captions",
    "PATHS": "clip",
    "RenderedClip": "clip",
    "render_clip": "clip",
    "generate_dataset": "dataset",
    "class_file": "dataset",
    "MotionTraits": "descriptions",
    "motion_traits": "descriptions",
    "describe": "descriptions",
    "class_descriptions": "descriptions",
    "segment_descriptions": "descriptions",
    "ACTIVITIES": "motion",
    "ClipPlan": "motion",
    "Segment": "motion",
    "clip_pose": "motion",
    "gait_angles": "motion",
    "plan_clip": "motion",
    "Room": "motion",
    "DEFAULT_ROOM": "motion",
    "MIN_SEGMENT_S": "motion",
    "MAX_SEGMENTS": "motion",
    "body_trajectories": "scene",
    "ellipsoid_rcs": "scene",
    "sample_clutter": "scene",
    "SynthConfig": "synth",
    "SensorSpec": "sensor",
    "SENSOR_ROOMS": "sensor",
}

__all__ = [
    "DEFAULT_MULTI_SEGMENT",
    "DEFAULT_TWINS",
    "FORMATS",
    "MIN_FRAMES",
    "NAMED_FAMILIES",
    "SPLIT_FRACTIONS",
    "WORDING_FAMILIES",
    "class_phrases",
    *_LAZY,
]
__version__ = version("radar-synth")


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
