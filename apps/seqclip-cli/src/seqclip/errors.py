"""The app's typed errors (standard library only). The CLI picks its exit code from the type:
``DivergedError`` exits with 1; every ``UserError`` (and the libraries' families, a missing file:
``cli.common.user_error_types``) is a user's mistake and exits with 2. Any other exception, a plain
``ValueError`` included, is a bug and keeps its traceback."""

from __future__ import annotations

__all__ = ["UserError", "TrainingError", "FieldError", "DivergedError", "CheckpointError"]


class UserError(ValueError):
    """A command that cannot run as asked (a value out of range, a path that cannot be read or written,
    a device that is not there); the message says why, naming the file or flag."""


class TrainingError(UserError):
    """A run that cannot start or continue (bad configuration, data that cannot train); the message says why."""


class FieldError(TrainingError):
    """A ``TrainConfig`` field with a value out of its range; ``load_train_config`` names it as the
    user gave it (``--max-steps`` on the command line, ``max_steps`` in a TOML file)."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name}: {problem}")
        self.field, self.problem = name, problem


class DivergedError(TrainingError):
    """The loss became NaN or Inf (exit code 1; a user error exits with 2)."""


class CheckpointError(UserError):
    """A saved model or checkpoint that cannot be read (corrupt or foreign files); the message names the file."""
