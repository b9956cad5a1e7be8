"""The training program (open_clip's ``open_clip_train``): ``setup`` (a run's parts, checked
before anything is written), the loop, the data streams, the logger, optimiser, launch and RNG."""

from .._lazy import lazy_exports

__all__ = ["train", "setup", "Run", "TrainState"]

__getattr__, __dir__ = lazy_exports(__name__, {"train": "loop", "setup": "setup", "Run": "setup",
                                               "TrainState": "setup"})
