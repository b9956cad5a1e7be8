"""seqclip: CLIP-style radar-text models (SeqClip), datasets, training and evaluation.

Names are imported on first use, so ``import seqclip`` (and the CLI's ``--help``) does not load torch.
"""

from importlib import import_module
from importlib.metadata import version

__all__ = ["SeqClip", "SeqClipConfig", "TrainConfig", "TrainingError", "train", "RadarTextDataset", "collate",
           "retrieval_metrics", "DEFAULT_TEXT_MODEL"]
__version__ = version("seqclip-cli")

_WHERE = {"SeqClip": "model", "SeqClipConfig": "config", "TrainConfig": "config", "TrainingError": "errors",
          "DEFAULT_TEXT_MODEL": "config", "train": "train", "RadarTextDataset": "data", "collate": "data",
          "retrieval_metrics": "retrieval"}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module 'seqclip' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
