"""MM-Fi (NeurIPS 2023 Datasets and Benchmarks; the ``MMFi_dataset`` toolbox): the mmWave point
clouds of a TI IWR6843, 27 actions by 40 subjects in four environments, read in its published layout.

- Layout: ``E01..E04/Sxx/A01..A27/mmwave/frameNNN.bin``; each file is raw float64 in rows of five
  (x, y, z, Doppler velocity, intensity), a frame without points is 0 bytes; 297 frames a sequence at
  10 frames/s. ``Sxx`` is the subject, ``Exx`` its environment (S01-S10 in E01, ...).
- Actions: ``MMFI_ACTIONS`` (the toolbox README's names). Protocols: ``protocol1`` the 14 daily
  activities, ``protocol2`` the 13 rehabilitation ones, ``protocol3`` all 27.
- Splits, as the toolbox's configuration defines them: ``random`` (per action, 32 of the 40 subjects
  train, drawn as the toolbox draws them: seed 0, then one more per action of the protocol),
  ``cross_subject`` (S05, S10, ..., S40 test) and ``cross_scene`` (E04 test). The toolbox's
  "validation" side is the test split here; val is carved from train by sequence.
- Axes: the toolbox reads x, y, z without saying which is depth. ``axes`` names the source column of
  each of (right, forward, up), a minus sign flipping one: ``"x,y,z"`` (TI's own, the default) or,
  for depth in x, ``"-y,x,z"``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from radar_views import PointCloud, RadarConfig

from .contract import MMFI_PROTOCOL_NAMES, MMFI_SPLITS
from .errors import DataError
from .recordings import Recording, carve_val, convert_point_clouds, parse_axes, to_sensor_axes

__all__ = [
    "MMFI_ACTIONS",
    "MMFI_PROTOCOLS",
    "MMFI_SPLITS",
    "MMFI_FRAME_RATE",
    "MMFiFormatError",
    "read_mmfi_sequence",
    "mmfi_recordings",
    "mmfi_split",
    "convert_mmfi",
    "MMFI_WINDOW",
    "MMFI_STRIDE",
]

MMFI_ACTIONS = {  # code -> (label, phrase)
    "A01": ("stretching_and_relaxing", "stretching and relaxing"),
    "A02": ("chest_expansion_horizontal", "chest expansion, horizontal"),
    "A03": ("chest_expansion_vertical", "chest expansion, vertical"),
    "A04": ("twist_left", "twisting to the left"),
    "A05": ("twist_right", "twisting to the right"),
    "A06": ("mark_time", "marking time"),
    "A07": ("limb_extension_left", "limb extension, left"),
    "A08": ("limb_extension_right", "limb extension, right"),
    "A09": ("lunge_left_front", "a lunge toward the left front"),
    "A10": ("lunge_right_front", "a lunge toward the right front"),
    "A11": ("limb_extension_both", "limb extension, both sides"),
    "A12": ("squat", "a squat"),
    "A13": ("raise_hand_left", "raising the left hand"),
    "A14": ("raise_hand_right", "raising the right hand"),
    "A15": ("lunge_left_side", "a lunge toward the left side"),
    "A16": ("lunge_right_side", "a lunge toward the right side"),
    "A17": ("wave_hand_left", "waving the left hand"),
    "A18": ("wave_hand_right", "waving the right hand"),
    "A19": ("pick_up_things", "picking things up"),
    "A20": ("throw_left_side", "throwing toward the left side"),
    "A21": ("throw_right_side", "throwing toward the right side"),
    "A22": ("kick_left_side", "kicking toward the left side"),
    "A23": ("kick_right_side", "kicking toward the right side"),
    "A24": ("body_extension_left", "body extension, left"),
    "A25": ("body_extension_right", "body extension, right"),
    "A26": ("jump_up", "jumping up"),
    "A27": ("bow", "bowing"),
}
MMFI_PROTOCOLS = dict(
    zip(
        MMFI_PROTOCOL_NAMES,
        (  # daily activities, rehabilitation activities, all
            ("A02", "A03", "A04", "A05", "A13", "A14", "A17", "A18", "A19", "A20", "A21", "A22", "A23", "A27"),
            ("A01", "A06", "A07", "A08", "A09", "A10", "A11", "A12", "A15", "A16", "A24", "A25", "A26"),
            tuple(MMFI_ACTIONS),
        ),
        strict=True,
    )
)
MMFI_FRAME_RATE = 10.0
MMFI_WINDOW, MMFI_STRIDE = 256, 128  # at 50 frames/s: 5.1 s every 2.6 s of a 29.7 s sequence
_SUBJECTS = tuple(f"S{i:02d}" for i in range(1, 41))
_CROSS_SUBJECT_TEST = ("S05", "S10", "S15", "S20", "S25", "S30", "S35", "S40")
_SEQUENCE = re.compile(r"^(E0[1-4])/(S\d\d)/(A\d\d)$")


class MMFiFormatError(DataError):
    """A file or folder that is not in MM-Fi's layout; the message names it and what was expected."""


def read_mmfi_sequence(folder: str | os.PathLike, axes: str = "x,y,z") -> PointCloud:
    """One sequence's ``mmwave/`` folder as a ``PointCloud`` at 10 frames/s (frame ``frameNNN.bin``
    at ``(NNN - 1) / 10`` s); a file whose size is not a multiple of five float64 raises
    ``MMFiFormatError`` naming it."""
    folder = Path(folder)
    order = parse_axes(axes)
    files = sorted((int(re.sub(r"\D", "", p.stem) or 0), p) for p in folder.glob("frame*.bin"))  # (NNN, file)
    if not files:
        raise MMFiFormatError(f"{folder}: no frameNNN.bin files (expected MM-Fi's mmwave folder)")
    frames = []
    for _, f in files:
        raw = f.read_bytes()
        if len(raw) % 40:
            raise MMFiFormatError(f"{f}: {len(raw)} bytes is not rows of 5 float64 (x, y, z, Doppler, intensity)")
        frames.append(to_sensor_axes(np.frombuffer(raw, dtype=np.float64).reshape(-1, 5), order))  # [n, 5]
    return PointCloud(frames, (np.array([n for n, _ in files]) - 1) / MMFI_FRAME_RATE)


def mmfi_split(subject: str, action: str, split: str, protocol: str) -> str:
    """``train`` or ``test`` of one sequence under the toolbox's split ``split`` and ``protocol``."""
    if split == "cross_scene":
        return "test" if _SUBJECTS.index(subject) >= 30 else "train"
    if split == "cross_subject":
        return "test" if subject in _CROSS_SUBJECT_TEST else "train"
    actions = MMFI_PROTOCOLS[protocol]
    order = np.random.RandomState(actions.index(action)).permutation(len(_SUBJECTS))  # seed 0, +1 per action
    train = {_SUBJECTS[i] for i in order[: int(np.floor(0.8 * len(_SUBJECTS)))]}
    return "train" if subject in train else "test"


def mmfi_recordings(
    src: str | os.PathLike,
    protocol: str = "protocol3",
    split: str = "random",
    val_fraction: float = 0.1,
    seed: int = 0,
    axes: str = "x,y,z",
) -> list[Recording]:
    """Every sequence of ``protocol`` under ``src`` (the folder holding ``E01``...), in ``split``'s
    train or test, with ``val_fraction`` of each action's train sequences moved to val; ids
    ``E01_S01_A01``, labels ``MMFI_ACTIONS``' names."""
    if protocol not in MMFI_PROTOCOLS:
        raise DataError(f"protocol: expected one of {', '.join(MMFI_PROTOCOLS)}, got {protocol!r}")
    if split not in MMFI_SPLITS:
        raise DataError(f"split: expected one of {', '.join(MMFI_SPLITS)}, got {split!r}")
    parse_axes(axes)
    root = Path(src)
    found = sorted(p.parent for p in root.glob("E0*/S*/A*/mmwave") if p.is_dir())
    if not found:
        raise MMFiFormatError(f"{root}: expected MM-Fi's layout E01..E04/Sxx/A01..A27/mmwave/frameNNN.bin")
    out = []
    for seq in found:
        rel = seq.relative_to(root).as_posix()
        m = _SEQUENCE.match(rel)
        if m is None or m.group(2) not in _SUBJECTS or m.group(3) not in MMFI_ACTIONS:
            raise MMFiFormatError(f"{seq}: not an MM-Fi sequence folder (expected E01..E04/S01..S40/A01..A27)")
        _, subject, action = m.groups()
        if action not in MMFI_PROTOCOLS[protocol]:
            continue
        out.append(
            Recording(
                rel.replace("/", "_"),
                mmfi_split(subject, action, split, protocol),
                MMFI_ACTIONS[action][0],
                seq / "mmwave",
                partial(read_mmfi_sequence, seq / "mmwave", axes),
            )
        )
    return carve_val(out, val_fraction, seed)


def convert_mmfi(
    src: str | os.PathLike,
    out: str | os.PathLike,
    protocol: str = "protocol3",
    split: str = "random",
    window: int = MMFI_WINDOW,
    stride: int = MMFI_STRIDE,
    val_fraction: float = 0.1,
    seed: int = 0,
    axes: str = "x,y,z",
    grid: RadarConfig | None = None,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
    angle: str = "azimuth",
) -> Path:
    """MM-Fi's sequences as a dataset at ``out`` (``recordings.convert_point_clouds``): views on
    ``grid`` (default ``RadarConfig()``, 50 frames/s; no sensor profile is registered for MM-Fi's
    IWR6843, so each point spreads over one grid bin), windows of ``window`` frames every ``stride``;
    ``angle="elevation"``: the third view holds each point's elevation (``point_cloud_views``)."""
    phrases = {label: phrase for label, phrase in MMFI_ACTIONS.values()}
    return convert_point_clouds(
        mmfi_recordings(src, protocol, split, val_fraction, seed, axes),
        out,
        phrases,
        window,
        stride,
        grid or RadarConfig(),
        None,
        overwrite=overwrite,
        extras={"dataset": "MM-Fi", "protocol": protocol, "split_protocol": split},
        progress=progress,
        angle=angle,
    )
