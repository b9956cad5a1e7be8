"""Physics-based radar-text data generator: a kinematic body doing 15 activities, an FMCW
simulator (exact and fast paths), radar views through ``radar_views``, captions, and the
dataset writer (the radar-text-data format, as a directory or WebDataset shards)."""

from importlib.metadata import version

from .body import SEGMENTS, BodyShape, Pose, forward_kinematics
from .captions import caption_clip, caption_pairs, describe_segment
from .clip import PATHS, RenderedClip, render_clip
from .dataset import FORMATS, generate_dataset
from .motion import ACTIVITIES, ClipPlan, Segment, clip_pose, gait_angles, plan_clip
from .scene import body_trajectories, ellipsoid_rcs, sample_clutter
from .synth import SynthConfig

__all__ = [
    "generate_dataset", "render_clip", "RenderedClip", "plan_clip",
    "clip_pose", "gait_angles", "caption_clip", "caption_pairs", "describe_segment", "body_trajectories", "ellipsoid_rcs",
    "sample_clutter", "forward_kinematics", "BodyShape", "Pose", "ClipPlan", "Segment", "SynthConfig",
    "ACTIVITIES", "SEGMENTS", "PATHS", "FORMATS",
]
__version__ = version("radar-synth")
