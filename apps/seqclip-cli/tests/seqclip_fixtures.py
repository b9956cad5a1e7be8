"""Test helpers: tiny datasets written directly in the seqclip format (random views: fast, no
simulation), a tiny local text model, a free port for torchrun, CLI invocations and config files."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import torch
from typer.testing import CliRunner

from radar_text_data.testing import tiny_dataset
from seqclip.cli import app

WORDS = [
    "walks toward the radar",
    "waves twice",
    "falls forward",
    "claps three times",
    "jumps once",
    "sits down",
    "kicks with the left leg",
    "turns around",
]


def make_dataset(root: Path, n: int = 16, frames: int = 48, splits=None, seed: int = 0) -> Path:
    """``radar_text_data.testing.tiny_dataset`` with two captions of one activity per clip, no segments."""
    return tiny_dataset(
        root,
        n,
        frames,
        seed,
        splits,
        captions=lambda i: [f"A person {WORDS[i % len(WORDS)]}.", f"Someone {WORDS[i % len(WORDS)]}."],
    )


def tiny_text_model(root: Path) -> str:
    """A 2-layer, 32-wide BERT with random (seeded) weights and the default MiniLM's tokenizer, saved
    as a local text model: the subprocess tests of resume and DDP exercise the same code path as
    with MiniLM at a fraction of its step time and checkpoint size (22.7 M -> 1 M weights)."""
    import torch
    from transformers import BertConfig, BertModel

    from seqclip.model.text import load_text_encoder

    if not (root / "config.json").is_file():
        _, tokenizer = load_text_encoder("default")
        torch.manual_seed(0)
        config = BertConfig(
            vocab_size=tokenizer.vocab_size,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=128,
        )
        BertModel(config).save_pretrained(str(root))
        tokenizer.save_pretrained(str(root))
    return str(root)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now (for torchrun's rendezvous)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun(*args: str, nproc: int = 2, timeout: float | None = None) -> subprocess.CompletedProcess:
    """``python -m torch.distributed.run`` with ``nproc`` local processes (one thread each) running
    ``args`` (``-m seqclip train ...`` or a script); asserts it succeeded, returns it (text output)."""
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        f"--nproc_per_node={nproc}",
        "--nnodes=1",
        f"--master_port={free_port()}",
        *args,
    ]
    proc = subprocess.run(
        cmd, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


# ---------------------------------------------------------------------- the CLI and small inputs
FAST_ARGS = ["--epochs", "1", "--batch-size", "4", "--similarity", "pooled"]


TOML = {
    "clip_length": 32,
    "warmup_steps": 1,
    "log_every": 1,
    "eval_test": False,
    "epochs": 1,
    "batch_size": 4,
    "similarity": "pooled",
}


def run(*args):
    """``seqclip ARGS`` through Typer's runner (paths may be given as Path)."""
    return CliRunner().invoke(app, [str(a) for a in args])


def one_line(result) -> str:
    """The error output as one string; fails when it holds a traceback or more than one error line."""
    assert "Traceback" not in result.output, result.output
    lines = [x for x in result.output.splitlines() if x.startswith("error:")]
    assert len(lines) == 1, result.output
    return lines[0]


def toml(tmp_path, **extra):
    """``--config`` of a fast TOML (``TOML`` plus ``extra``) written in ``tmp_path``."""
    body = {**TOML, **extra}
    (tmp_path / "run.toml").write_text("[train]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in body.items()))
    return ["--config", tmp_path / "run.toml"]


def toml_base(tmp_path, **extra):
    """``--config`` of a TOML of the fast run's length settings only, plus ``extra``."""
    body = {"clip_length": 32, "warmup_steps": 1, "log_every": 1, "eval_test": False, **extra}
    lines = [f"{k} = {json.dumps(v)}" for k, v in body.items()]
    (tmp_path / "run.toml").write_text("[train]\n" + "\n".join(lines) + "\n")
    return ["--config", str(tmp_path / "run.toml")]


def train_cli(*args):
    """``seqclip train ARGS`` through Typer's runner."""
    return CliRunner().invoke(app, ["train", *args])


def order_dataset(root):
    """The fixture dataset with segments, reversed captions and one twin pair in the test split."""
    data = make_dataset(root, n=24, splits=["train"] * 12 + ["val"] * 4 + ["test"] * 8)
    rows = [json.loads(x) for x in (data / "manifest.jsonl").read_text().splitlines()]
    acts = ["wave", "clap", "jump", "kick"]
    for i, r in enumerate(rows):
        a, b = acts[i % 4], acts[(i + 1) % 4]
        r["segments"] = [
            {"activity": a, "start_frame": 0, "end_frame": 24, "params": {}},
            {"activity": b, "start_frame": 24, "end_frame": 48, "params": {}},
        ]
        r["captions"] = [f"A person {a}s, then {b}s.", f"Someone {a}s and afterwards {b}s."]
        r["captions_reversed"] = [f"A person {b}s, then {a}s.", f"Someone {b}s and afterwards {a}s."]
    rows[-1]["twin_of"], rows[-2]["twin_of"] = rows[-2]["id"], rows[-1]["id"]
    (data / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return data


def batch(n=3, frames=32):
    """A collated batch of ``n`` random clips of ``frames`` frames with captions and sample ids."""
    g = torch.Generator().manual_seed(0)
    return {
        "range_time": torch.randn(n, 256, frames, generator=g),
        "doppler_time": torch.randn(n, 128, frames, generator=g),
        "azimuth_time": torch.randn(n, 128, frames, generator=g),
        "mask": torch.ones(n, frames, dtype=torch.bool),
        "captions": ["a person walks", "someone waves twice", "an adult falls forward"][:n],
        "sample_ids": torch.arange(n),
    }


def holds(value, kind) -> None:
    """``value`` holds the TypedDict ``kind``: every key declared, every required key there, and the
    same for the TypedDicts nested in it (as values, dict values or optional values)."""
    import types
    import typing

    name = kind.__name__
    declared = kind.__required_keys__ | kind.__optional_keys__
    assert set(value) <= declared, f"{name} does not declare {set(value) - declared}"
    assert kind.__required_keys__ <= set(value), f"{name} lacks {kind.__required_keys__ - set(value)}"
    for key, hint in typing.get_type_hints(kind).items():
        if key not in value or value[key] is None:
            continue
        union = typing.get_origin(hint) in (typing.Union, types.UnionType)
        inner = [a for a in typing.get_args(hint) if typing.is_typeddict(a)] if union else []  # X | None
        if typing.is_typeddict(hint) or inner:
            holds(value[key], inner[0] if inner else hint)
        elif typing.get_origin(hint) is dict and typing.is_typeddict(typing.get_args(hint)[1]):
            for v in value[key].values():
                holds(v, typing.get_args(hint)[1])


def holds_evaluation(result: dict) -> None:
    """``result`` (``seqclip eval --out``'s JSON) holds the ``Evaluation`` of its task."""
    from seqclip.evaluation.results import PreferenceEvaluation, RetrievalEvaluation, ZeroShotEvaluation

    kinds = {"retrieval": RetrievalEvaluation, "zeroshot": ZeroShotEvaluation}
    holds(result, kinds.get(result["task"], PreferenceEvaluation))
