"""The model card (Hugging Face's ``README.md`` beside the weights): what the model is, what it was
trained on (the data's size and fingerprint), with which recipe, its validation and test figures
with 95 % intervals, the package versions, intended use and limits. ``seqclip eval --card`` appends."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from ..config import WORKSPACE_PACKAGES

__all__ = ["CARD", "render_card", "append_to_card", "result_markdown", "data_fingerprint"]

CARD = "README.md"
VERSIONS = "## Versions"  # the heading that results are appended before
PACKAGES = (*WORKSPACE_PACKAGES, "torch", "timm", "transformers")  # a card's versions
LIMITS = """- Trained on the data named above only. radar-synth data are simulated (a 16-ellipsoid body, one
  person, an FMCW model): figures on them say nothing of real recordings until measured there.
- Activities outside the training vocabulary are recognised by their descriptions only as well as
  zero-shot evaluation shows; with seen and unseen classes together, seen classes are favoured.
- The pooled score does not know order ("walks, then sits" vs "sits, then walks"); the temporal
  sequence score does (`seqclip search --rerank temporal`, `seqclip eval --task order`).
- Not for decisions about people (health, safety, surveillance) without validation on their data."""


def data_fingerprint(root: str | Path) -> str | None:
    """16 hex digits of a SHA-256 of a dataset's manifest (or shard index), None when it has neither."""
    for name in ("manifest.jsonl", "index.json"):
        path = Path(root) / name
        if path.is_file():
            return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return None


def _versions() -> str:
    found = []
    for name in PACKAGES:
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            continue
    return ", ".join(found)


def result_markdown(result: Mapping[str, Any]) -> str:
    """A retrieval result as a table (R@1/5/10 with intervals), any other as its score and interval
    (``interval``, or ``<score>_interval`` as zero-shot stores it)."""
    if "text_to_radar" in result:
        lines = ["| direction | R@1 | R@5 | R@10 |", "|---|---|---|---|"]
        for key in ("text_to_radar", "radar_to_text"):
            m, iv = result[key], result[key].get("interval", {})
            cells = [
                f"{m[k]:.1f}" + (f" [{iv[k][0]:.1f}, {iv[k][1]:.1f}]" if k in iv else "")
                for k in ("R@1", "R@5", "R@10")
            ]
            lines.append(f"| {key.replace('_to_', ' → ')} | " + " | ".join(cells) + " |")
        return "\n".join(lines)
    score = next((k for k in ("accuracy", "top1") if k in result), None)
    if score is None:
        return "(no summary score)"
    interval = result.get(f"{score}_interval", result.get("interval"))
    shown = f" [{interval[0]:.1f}, {interval[1]:.1f}]" if interval else ""
    return f"{score}: {result[score]:.1f} %{shown} ({result.get('clips', '?')} clips)"


def render_card(model, fingerprint: str, training: dict | None = None) -> str:
    """The card of ``model`` (``fingerprint``: ``pretrained.model_fingerprint``); ``training`` (from
    ``seqclip train``): data, clips, recipe, and validation (absent from a checkpoint's card)."""
    cfg = model.config
    params = sum(p.numel() for p in model.parameters())
    out = [
        "---",
        "library_name: seqclip",
        "tags: [radar, mmwave, clip, seqclip, time-series]",
        "---",
        "",
        "# SeqClip radar-text model",
        "",
        f"A CLIP-style model between mmWave radar views and text (seqclip). Fingerprint `{fingerprint}` "
        f"(what `seqclip embed` records; an index never mixes models).",
        "",
        "## Model",
        "",
        f"- radar encoder: preset `{cfg.preset}`, {params / 1e6:.1f} M parameters in all; text encoder "
        f"`{cfg.text_model}`, up to {cfg.max_text_length} tokens",
        f"- shared dimension {cfg.embed_dim}; loss `{cfg.loss}`; sequence similarity `{cfg.similarity}`; "
        f"clip length {cfg.clip_length} frames",
        f"- third view: {cfg.angle} over time (clips of another angle are refused)"
        if cfg.angle
        else "- third view: not recorded",
        "",
    ]
    if training:
        out += [
            "## Training data",
            "",
            f"- `{training['data']}` (fingerprint `{training.get('data_fingerprint')}`): "
            f"{training['clips']['train']} training clips, {training['clips'].get('val', 0)} validation clips",
            "",
            "## Recipe",
            "",
            "| option | value |",
            "|---|---|",
        ]
        out += [f"| {k} | `{v}` |" for k, v in training["recipe"].items() if v is not None]
        out += ["", "## Results", ""]
        val = training.get("validation")
        if val:
            out += [
                f"### Validation (epoch {val['epoch']}, {val['clips']} clips, 95 % intervals)",
                "",
                result_markdown(val["retrieval"]),
            ]
            out += ["", f"**{val['warning']}**"] if val.get("warning") else []
        else:
            out += [training.get("no_validation", "No validation recorded.")]
    else:
        out += [
            "## Training data",
            "",
            "Not recorded (saved from Python without training information).",
            "",
            "## Results",
            "",
            "None recorded.",
        ]
    out += [
        "",
        VERSIONS,
        "",
        _versions(),
        "",
        "## Intended use and limits",
        "",
        "Research on radar–language models: retrieval, zero-shot recognition and search of radar recordings.",
        "",
        LIMITS,
        "",
    ]
    return "\n".join(out)


def append_to_card(directory: str | Path, heading: str, result: Mapping[str, Any]) -> Path:
    """Add a dated section with ``result`` (``result_markdown``) at the end of the card's results,
    before its versions (atomic); a card without that heading gets the section at its end."""
    from radar_views import atomic_write

    path = Path(directory) / CARD
    text = path.read_text() if path.is_file() else ""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = f"### {heading} ({stamp})\n\n{result_markdown(result)}\n"
    head, found, tail = text.partition(f"\n{VERSIONS}\n")
    if found:
        text = f"{head.rstrip()}\n\n{section}{found}{tail}"
    else:
        text = text.rstrip("\n") + f"\n\n{section}"
    atomic_write(path, text.encode())
    return path
