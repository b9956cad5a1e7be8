"""Names a package exports without importing them until first use (so ``import seqclip`` and the
CLI's ``--help`` do not load torch). Standard library only."""

from __future__ import annotations

from importlib import import_module

__all__ = ["lazy_exports"]


def lazy_exports(package: str, where: dict[str, str]):
    """``(__getattr__, __dir__)`` for ``package`` whose name ``n`` lives in its module ``where[n]``."""

    def __getattr__(name: str):
        if name in where:
            return getattr(import_module(f".{where[name]}", package), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted({*where, *import_module(package).__dict__})

    return __getattr__, __dir__
