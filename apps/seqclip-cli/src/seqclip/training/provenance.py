"""What a saved model's card says of its training (``model.card.render_card``): the data, its size and
fingerprint, the recipe, and the validation figures (with 95 % intervals) of the epoch it was saved at."""

from __future__ import annotations

from dataclasses import asdict

from ..config import POOLED
from ..evaluation.report import few_clips_warning
from ..evaluation.retrieval import retrieval
from ..evaluation.scorer import Scorer
from ..model.card import data_fingerprint

__all__ = ["training_card"]

NOT_RECIPE = (
    "data",
    "out",
    "resume",
    "overwrite",
    "device",
    "workers",
    "decoded_cache",
    "log_every",
    "checkpoint_every",
    "keep_last",
    "eval_test",
    "text_cache_mb",
)  # where and how a run ran, not what it learned
SYNTH_PREFIX = "synth_"  # the built-in dataset's options (TrainConfig.synth_*): no part of a recipe on given data


def training_card(r, epoch: int | None = None) -> dict:
    """The ``training`` dict of ``save_pretrained`` for run ``r``: with ``epoch``, validation after it
    (on rank 0; a warning when it rests on few clips); without (a checkpoint), none. The recipe leaves
    out the built-in dataset's options when ``--data`` named the data."""
    recipe = {
        k: v
        for k, v in asdict(r.cfg).items()
        if k not in NOT_RECIPE and not (r.cfg.data and k.startswith(SYNTH_PREFIX))
    }
    card = {
        "data": r.data.spec,
        "data_fingerprint": data_fingerprint(r.data.root) if r.data.kind == "directory" else None,
        "clips": {"train": r.train_data.samples_per_rank * r.dist.world_size},
        "recipe": recipe,
    }
    if r.val_ds is not None:
        card["clips"]["val"] = len(r.val_ds)
    if r.val_ds is not None and epoch is not None:
        card["validation"] = {
            "epoch": epoch,
            "clips": len(r.val_ds),
            "retrieval": retrieval(Scorer(r.model, POOLED, r.cfg.batch_size), r.val_ds),
            "warning": few_clips_warning(len(r.val_ds), "validation"),
        }
        r.model.train()
    elif epoch is None:
        card["no_validation"] = (
            f"A checkpoint of the run, at step {r.state.global_step}: no validation is computed "
            f"for it (the run's best/README.md holds the best epoch's)."
        )
    return card
