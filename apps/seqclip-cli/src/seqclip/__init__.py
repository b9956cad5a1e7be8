"""seqclip: CLIP-style radar-text models (SeqClip), datasets, training and evaluation."""

from .config import DEFAULT_TEXT_MODEL, SeqClipConfig
from .data import RadarTextDataset, collate, convert_folder
from .model import SeqClip
from .retrieval import retrieval_metrics
from .train import TrainConfig, TrainingError, train

__all__ = ["SeqClip", "SeqClipConfig", "TrainConfig", "TrainingError", "train", "RadarTextDataset", "collate",
           "convert_folder", "retrieval_metrics", "DEFAULT_TEXT_MODEL"]
__version__ = "0.1.1"
