"""Evaluation: one ``Scorer`` (embedding, score matrices, pair scores), retrieval, zero-shot
recognition and its metrics, the order tests, the task registry, the results' types, statistics and
reports."""

from .._lazy import lazy_exports

# (``retrieval`` the function is ``evaluation.retrieval.retrieval``: a package attribute would be
# shadowed by its module)
__all__ = [
    "Scorer",
    "EvalOptions",
    "TASKS",
    "run_task",
    "evaluate_checkpoint",
    "validate",
    "build_zero_shot_classifier",
    "retrieval_metrics",
    "Evaluation",
    "RetrievalResult",
    "ZeroShotResult",
    "PreferenceResult",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "Scorer": "scorer",
        "EvalOptions": "options",
        "TASKS": "tasks",
        "run_task": "tasks",
        "evaluate_checkpoint": "tasks",
        "validate": "retrieval",
        "build_zero_shot_classifier": "zero_shot",
        "retrieval_metrics": "retrieval",
        "Evaluation": "results",
        "RetrievalResult": "results",
        "ZeroShotResult": "results",
        "PreferenceResult": "results",
    },
)
