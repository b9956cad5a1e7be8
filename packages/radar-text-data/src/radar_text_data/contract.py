"""The shape contract of a radar-text dataset, defined once: the views a clip holds, the bins
(rows) of each, the longest clip and the frame multiple clips are cropped to. Standard library
only, so a CLI can read it without importing numpy."""

from __future__ import annotations

from .errors import DataError

__all__ = [
    "VIEW_BINS",
    "MAX_FRAMES",
    "FRAME_MULTIPLE",
    "SPLITS",
    "MANIFEST",
    "INDEX",
    "CLIP_DTYPE",
    "DEFAULT_SHARD_SIZE",
    "SPLIT_FRACTIONS",
    "FORMATS",
    "PUBLIC_DATASETS",
    "MMFI_PROTOCOL_NAMES",
    "MMFI_SPLITS",
    "check_clip_length",
]

# rows of each view, in radar_views.VIEW_NAMES order: range bins, Doppler bins, azimuth bins
VIEW_BINS: dict[str, int] = {"range_time": 256, "doppler_time": 128, "azimuth_time": 128}
PUBLIC_DATASETS = (
    "radhar",
    "mmfi",
    "ti-csv",
)  # layouts `data convert --from` reads (radar_text_data.radhar, .mmfi, .ti_csv)
MMFI_PROTOCOL_NAMES = ("protocol1", "protocol2", "protocol3")  # MM-Fi's daily, rehabilitation, all actions
MMFI_SPLITS = ("random", "cross_subject", "cross_scene")  # the MM-Fi toolbox's train / test splits
MAX_FRAMES = 496  # longest clip the encoder accepts (frames): 31 token columns of 16 frames
FRAME_MULTIPLE = 16  # clips are cropped / padded to a multiple of this many frames
SPLITS = ("train", "val", "test")
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)  # default shares of SPLITS when a writer draws the split
FORMATS = ("directory", "wds")  # a manifest.jsonl + clips/ directory, or WebDataset shards + index.json
MANIFEST = "manifest.jsonl"  # the directory format's record file
INDEX = "index.json"  # the shard format's index file
CLIP_DTYPE = "float16"  # views are stored as float16
DEFAULT_SHARD_SIZE = 1000  # samples per shard (~ 0.2 GB of 300-frame clips)


def check_clip_length(length: int) -> None:
    """Raise ``ValueError`` unless ``length`` (frames a clip is cropped / padded to) is a multiple of
    ``FRAME_MULTIPLE`` in ``[FRAME_MULTIPLE, MAX_FRAMES]``."""
    if length % FRAME_MULTIPLE or not FRAME_MULTIPLE <= length <= MAX_FRAMES:
        raise DataError(
            f"clip length must be a multiple of {FRAME_MULTIPLE} in [{FRAME_MULTIPLE}, {MAX_FRAMES}], got {length}"
        )
