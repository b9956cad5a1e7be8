"""Saved models: the only reader and writer of a model directory, as Hugging Face lays it out.

::

    MODEL/config.json          the model's SeqClipConfig
    MODEL/model.safetensors    every weight (text encoder included)
    MODEL/tokenizer/           the tokenizer's files
    MODEL/text_encoder/        the text encoder's config (its weights are in model.safetensors)

``PretrainedModel`` gives ``SeqClip`` its ``save_pretrained`` / ``from_pretrained`` and the one
``load_model`` for anything a user may point at: a model directory, a run (its ``best/``, else its
latest checkpoint) or a checkpoint. It imports nothing of the model, so there is no import circle.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from ..errors import CheckpointError

__all__ = [
    "PretrainedModel",
    "CONFIG_JSON",
    "WEIGHTS",
    "is_model_dir",
    "load_weights",
    "read_config",
    "model_fingerprint",
    "find_model_dir",
]

CONFIG_JSON = "config.json"
WEIGHTS = "model.safetensors"
TOKENIZER = "tokenizer"
TEXT_ENCODER = "text_encoder"
MODEL_FILES = (CONFIG_JSON, WEIGHTS, TOKENIZER, TEXT_ENCODER)


def is_model_dir(path: Path) -> bool:
    return (path / CONFIG_JSON).is_file() and (path / WEIGHTS).is_file()


def find_model_dir(path: str | os.PathLike) -> tuple[Path, str | None]:
    """The model directory a user's path means (see ``rundir.model_candidates``) and a note when it
    fell back to a run's latest checkpoint."""
    from ..rundir import model_candidates

    path = Path(path)
    for candidate, note in model_candidates(path):
        if is_model_dir(candidate):
            return candidate, note
    raise FileNotFoundError(
        f"{path} is not a SeqClip checkpoint (expected {CONFIG_JSON} + {WEIGHTS}, "
        f"or a run directory with best/ or checkpoints/)"
    )


def _first_line(err: BaseException) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def read_config(directory: Path, config_class):
    """``config.json`` as a ``config_class`` (its ``from_dict`` reads older field names); errors name the file."""
    path = Path(directory) / CONFIG_JSON
    try:
        return config_class.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{path}: not valid JSON ({err})") from None
    except (ValueError, TypeError) as err:
        raise CheckpointError(f"{path}: {err}") from None


def load_weights(directory: Path, map_location="cpu") -> dict:
    """The state dict in ``model.safetensors``; an unreadable file raises ``CheckpointError`` naming it."""
    from safetensors.torch import load_file

    path = Path(directory) / WEIGHTS
    try:
        return load_file(str(path), device=str(map_location))
    except Exception as err:  # noqa: BLE001 - safetensors raises its own error types
        raise CheckpointError(f"{path}: unreadable ({type(err).__name__}: {_first_line(err)})") from None


def model_fingerprint(model) -> str:
    """16 hex digits of a SHA-256 over the model's weights (names, dtypes, shapes, bytes) and config:
    equal for the same model however it was loaded, different for any other (an index never mixes)."""
    import hashlib

    import torch

    digest = hashlib.sha256(json.dumps(model.config.to_dict(), sort_keys=True).encode())
    for name, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().cpu().contiguous().reshape(-1)
        digest.update(f"{name}:{tensor.dtype}:{list(tensor.shape)}".encode())
        digest.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return digest.hexdigest()[:16]


def _write_model_dir(model, directory: Path) -> None:
    from safetensors.torch import save_file

    from radar_views import current_umask

    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(directory / WEIGHTS), metadata={"format": "pt"})
    os.chmod(directory / WEIGHTS, 0o666 & ~current_umask())  # safetensors writes 0600
    (directory / CONFIG_JSON).write_text(json.dumps(model.config.to_dict(), indent=2) + "\n")
    model.tokenizer.save_pretrained(str(directory / TOKENIZER))
    model.text_encoder.config.save_pretrained(str(directory / TEXT_ENCODER))


class PretrainedModel:
    """Mixin of a model with ``config`` (a ``config_class``), ``tokenizer`` and ``text_encoder``,
    built as ``cls(config, _text=(text_encoder, tokenizer))``."""

    config_class: type
    load_note: str | None = None  # set by from_pretrained: a fallback to a run's latest checkpoint

    def save_pretrained(self, directory: str | os.PathLike, training: dict | None = None) -> Path:
        """``config.json`` + ``model.safetensors`` + ``tokenizer/`` + ``text_encoder/`` (its config) +
        the model card ``README.md`` (``card.render_card``; ``training``: what ``seqclip train`` knows),
        written beside ``directory`` and renamed into place (``radar_views.staged_directory``; a
        model saved there before is replaced)."""
        from radar_views import staged_directory

        from .card import CARD, render_card

        target = Path(directory)
        with staged_directory(target, discard=True) as tmp:
            _write_model_dir(self, tmp)
            (tmp / CARD).write_text(render_card(self, model_fingerprint(self), training))
        return target

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike, map_location="cpu"):
        """Rebuild from ``save_pretrained`` output without the original text-model files, in eval
        mode (no dropout: the same input embeds to the same vector), as Hugging Face's
        ``from_pretrained`` does; call ``.train()`` to fine-tune. ``path``: a model directory, a run
        directory (its ``best/``, else its latest checkpoint) or a checkpoint (its ``model/``), as
        ``seqclip eval --checkpoint`` takes them; a fallback to a run's latest checkpoint is said in
        ``model.load_note`` and logged (logger ``seqclip``, level INFO), else ``load_note`` is None.
        Unreadable files raise ``CheckpointError`` naming the file."""
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        root, note = find_model_dir(path)
        for name in MODEL_FILES:
            if not (root / name).exists():
                raise FileNotFoundError(f"{root} is not a SeqClip checkpoint: missing {name}")
        cfg = read_config(root, cls.config_class)
        try:
            text_encoder = AutoModel.from_config(AutoConfig.from_pretrained(str(root / TEXT_ENCODER)))
            tokenizer = AutoTokenizer.from_pretrained(str(root / TOKENIZER))
        except (OSError, ValueError, KeyError) as err:
            raise CheckpointError(f"{root}: unreadable text encoder files ({type(err).__name__}: {err})") from None
        model = cls(cfg, _text=(text_encoder, tokenizer))
        missing, unexpected = model.load_state_dict(load_weights(root, map_location), strict=False)
        if missing or unexpected:
            raise CheckpointError(
                f"{root}: checkpoint does not match the model (missing {missing[:3]}, unexpected {unexpected[:3]})"
            )
        model.load_note = note
        if note:
            logging.getLogger("seqclip").info(note)
        return model.eval()

    @classmethod
    def load_model(cls, path: str | os.PathLike, device="cpu"):
        """``from_pretrained(path)`` on ``device``, in eval mode; ``model.load_note`` says when it fell
        back to a run's latest checkpoint."""
        return cls.from_pretrained(path, map_location=device).to(device)
