"""Test helpers of radar-synth (importable from every test module of the workspace)."""

from __future__ import annotations


def count_calls(monkeypatch, module, name: str, interrupt_at: int | None = None) -> list[int]:
    """Replace ``module.name`` by a wrapper that records each call in the returned list and raises
    ``KeyboardInterrupt`` on call number ``interrupt_at`` (a Ctrl-C mid-run); None: never."""
    original, calls = getattr(module, name), []

    def wrapper(*args, **kwargs):
        calls.append(1)
        if len(calls) == interrupt_at:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return calls
