"""``seqclip train --init``: a run that starts from another model's weights (fine-tuning)."""

from __future__ import annotations

from rich.console import Console

from ..config import flag
from ..errors import TrainingError
from ..model.seqclip import SeqClip

__all__ = ["INIT_FIELDS", "start_from"]


INIT_FIELDS = ("preset", "text_model", "max_text_length")  # what shapes the weights --init loads


def start_from(model: SeqClip, init: str, console: Console | None) -> None:
    """``model`` with the weights of the SeqClip model at ``init`` (``--init``: fine-tuning); a model
    whose architecture differs is refused naming the fields."""
    pre = SeqClip.from_pretrained(init)
    differ = [f for f in INIT_FIELDS if getattr(pre.config, f) != getattr(model.config, f)]
    if differ:
        raise TrainingError(
            "--init: "
            + ", ".join(
                f"{init} has {flag(f)} {getattr(pre.config, f)!r}, this run {getattr(model.config, f)!r}"
                for f in differ
            )
            + "; pass the same"
        )
    model.load_state_dict(pre.state_dict())
    if console is not None:
        console.print(
            f"starting from the weights of {init}" + (f" ({pre.load_note})" if pre.load_note else ""), highlight=False
        )
        before, now = pre.config.angle, model.config.angle
        if before is not None and now is not None and before != now:
            console.print(
                f"[yellow]warning:[/] --init: {init} was trained on clips whose third view holds {before}; this "
                f"run's hold {now}, and the model it saves is for {now}",
                highlight=False,
            )
