"""seqclip: CLIP-style radar-text models (SeqClip), datasets, training and evaluation.

Five parts: ``model/`` (the model, its losses, text side and saved files), ``evaluation/`` (one
``Scorer``, retrieval, zero-shot, order, the task registry, statistics and reports), ``training/``
(setup, the loop, data streams, logging, optimiser), ``search/`` (embed, index, search, predict) and
``cli/`` (the ``seqclip`` command). Names
are imported on first use, so ``import seqclip`` (and the CLI's ``--help``) does not load torch.
"""

from importlib.metadata import version

from ._lazy import lazy_exports

__all__ = [
    "SeqClip",
    "SeqClipConfig",
    "TrainConfig",
    "TrainingError",
    "UserError",
    "train",
    "RadarTextDataset",
    "collate",
    "retrieval_metrics",
    "Scorer",
    "DEFAULT_TEXT_MODEL",
]
__version__ = version("seqclip-cli")

_WHERE = {
    "SeqClip": "model.seqclip",
    "SeqClipConfig": "config",
    "TrainConfig": "config",
    "TrainingError": "errors",
    "UserError": "errors",
    "DEFAULT_TEXT_MODEL": "config",
    "train": "training.loop",
    "RadarTextDataset": "data",
    "collate": "data",
    "retrieval_metrics": "evaluation.retrieval",
    "Scorer": "evaluation.scorer",
}
__getattr__, __dir__ = lazy_exports(__name__, _WHERE)
