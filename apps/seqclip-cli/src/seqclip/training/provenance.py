"""What a saved model's card says of its training (``model.card.render_card``): the data, its size and
fingerprint, the recipe, and the validation figures (with 95 % intervals) of the epoch it was saved at."""

from __future__ import annotations

from dataclasses import asdict

from ..config import POOLED
from ..evaluation.retrieval import retrieval
from ..evaluation.scorer import Scorer
from ..model.card import data_fingerprint

__all__ = ["training_card"]

NOT_RECIPE = ("data", "out", "resume", "overwrite", "device", "workers", "decoded_cache", "log_every",
              "checkpoint_every", "keep_last", "eval_test")  # where and how a run ran, not what it learned


def training_card(r, epoch: int) -> dict:
    """The ``training`` dict of ``save_pretrained`` for run ``r`` after ``epoch`` (validation on rank 0)."""
    recipe = {k: v for k, v in asdict(r.cfg).items() if k not in NOT_RECIPE}
    card = {"data": r.data.spec, "data_fingerprint": data_fingerprint(r.data.root) if r.data.kind == "directory" else None,
            "clips": {"train": r.train_data.samples_per_rank * r.dist.world_size}, "recipe": recipe}
    if r.val_ds is not None:
        card["clips"]["val"] = len(r.val_ds)
        card["validation"] = {"epoch": epoch, "clips": len(r.val_ds),
                              "retrieval": retrieval(Scorer(r.model, POOLED, r.cfg.batch_size), r.val_ds)}
        r.model.train()
    return card
