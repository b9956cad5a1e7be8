"""The similarity names and default weights (standard library only: a CLI can list them without torch)."""

__all__ = ["SIMILARITIES", "DEFAULT_WEIGHTS"]

SIMILARITIES = ("global", "local", "attention", "temporal", "combined")
DEFAULT_WEIGHTS: dict[str, float] = {"global": 1.0, "local": 0.5, "attention": 0.3, "temporal": 0.2}
