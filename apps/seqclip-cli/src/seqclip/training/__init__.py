"""The training program (open_clip's ``open_clip_train``): ``setup`` (a run's parts, checked
before anything is written), the loop, the data streams, the logger, optimiser, launch and RNG."""

from .._lazy import lazy_exports

# (``setup`` the function is ``training.setup.setup``: a package attribute would be shadowed by its module)
__all__ = ["train", "Run", "TrainState"]

__getattr__, __dir__ = lazy_exports(__name__, {"train": "loop", "Run": "setup", "TrainState": "setup"})
