"""Evaluation: one ``Scorer`` (embedding, score matrices, pair scores), retrieval, zero-shot
recognition and its metrics, the order tests, the task registry, statistics and reports."""

from .._lazy import lazy_exports

__all__ = ["Scorer", "EvalOptions", "TASKS", "run_task", "evaluate_checkpoint", "retrieval", "validate",
           "build_zero_shot_classifier", "retrieval_metrics"]

__getattr__, __dir__ = lazy_exports(__name__, {
    "Scorer": "scorer", "EvalOptions": "tasks", "TASKS": "tasks", "run_task": "tasks",
    "evaluate_checkpoint": "tasks", "retrieval": "retrieval", "validate": "retrieval",
    "build_zero_shot_classifier": "zero_shot", "retrieval_metrics": "retrieval"})
