"""mmfi.py: MM-Fi's frame files read field by field, its protocols and the toolbox's three splits."""

import numpy as np
import pytest

from radar_text_data import check_dataset, read_manifest, resolve_data
from radar_text_data.mmfi import (
    MMFI_ACTIONS,
    MMFI_PROTOCOLS,
    MMFiFormatError,
    convert_mmfi,
    mmfi_recordings,
    mmfi_split,
    read_mmfi_sequence,
)
from radar_text_data.recordings import parse_axes
from radar_text_data.testing import mmfi_folder

SUBJECTS = [f"S{i:02d}" for i in range(1, 41)]


def _toolbox_random_split(actions):
    """The toolbox's own loop (decode_config, random_split, ratio 0.8, seed 0), written out: it seeds
    NumPy's global generator, so this does too (and puts its state back)."""
    train, rs, state = {}, 0, np.random.get_state()  # noqa: NPY002
    for action in actions:
        np.random.seed(rs)  # noqa: NPY002
        idx = np.random.permutation(len(SUBJECTS))  # noqa: NPY002
        for i in idx[: int(np.floor(0.8 * len(SUBJECTS)))]:
            train.setdefault(SUBJECTS[i], []).append(action)
        rs += 1
    np.random.set_state(state)  # noqa: NPY002
    return train


def test_frames_are_read_field_by_field_in_the_asked_axes(tmp_path):
    folder = tmp_path / "mmwave"
    folder.mkdir()
    pts = np.array([[0.5, 2.0, 0.1, -1.0, 12.0], [-0.25, 3.0, 0.0, 0.5, 20.0]])
    (folder / "frame001.bin").write_bytes(pts.tobytes())
    (folder / "frame002.bin").write_bytes(b"")  # an empty frame
    (folder / "frame010.bin").write_bytes(pts[:1].tobytes())
    cloud = read_mmfi_sequence(folder)
    np.testing.assert_array_equal(cloud.frames[0], pts)
    assert len(cloud.frames[1]) == 0 and np.allclose(cloud.times, [0.0, 0.1, 0.9])  # frameNNN at (NNN - 1) / 10 s
    flipped = read_mmfi_sequence(folder, axes="-y,x,z")  # depth in x
    np.testing.assert_array_equal(flipped.frames[0][:, :3], np.column_stack([-pts[:, 1], pts[:, 0], pts[:, 2]]))
    (folder / "frame011.bin").write_bytes(b"\0" * 24)
    with pytest.raises(MMFiFormatError, match=r"frame011.bin: 24 bytes is not rows of 5 float64"):
        read_mmfi_sequence(folder)
    for bad in ("x,y", "x,x,z", "x,w,z"):
        with pytest.raises(ValueError, match="axes: expected"):
            parse_axes(bad)


def test_splits_follow_the_toolbox():
    for protocol, actions in MMFI_PROTOCOLS.items():
        expected = _toolbox_random_split(actions)
        for subject in SUBJECTS:
            for action in actions:
                assert (mmfi_split(subject, action, "random", protocol) == "train") == (
                    action in expected.get(subject, [])
                )
    assert [s for s in SUBJECTS if mmfi_split(s, "A01", "cross_scene", "protocol3") == "test"] == SUBJECTS[30:]
    assert [s for s in SUBJECTS if mmfi_split(s, "A01", "cross_subject", "protocol3") == "test"] == SUBJECTS[4::5]
    assert len(MMFI_ACTIONS) == 27 and set(MMFI_PROTOCOLS["protocol1"]) | set(MMFI_PROTOCOLS["protocol2"]) == set(
        MMFI_ACTIONS
    )


def test_recordings_and_dataset(tmp_path):
    seqs = [f"E0{1 + (s - 1) // 10}/S{s:02d}/{a}" for s in (1, 2, 3, 35) for a in ("A02", "A12")]
    mmfi_folder(tmp_path / "src", seqs, frames=40)
    recs = mmfi_recordings(tmp_path / "src", protocol="protocol1", split="cross_scene", val_fraction=0.34)
    assert sorted(r.id for r in recs) == sorted(s.replace("/", "_") for s in seqs if s.endswith("A02"))
    assert {r.label for r in recs} == {"chest_expansion_horizontal"}
    assert [r.split for r in recs if r.id.startswith("E04")] == ["test"]
    assert sorted(r.split for r in recs if not r.id.startswith("E04")) == ["train", "train", "val"]
    out = convert_mmfi(tmp_path / "src", tmp_path / "out", split="cross_subject", window=64, stride=64)
    records = read_manifest(out)
    assert {r.extras["protocol"] for r in records} == {"protocol3"} and {r.num_frames for r in records} == {64}
    assert {r.activities[0] for r in records} == {"chest_expansion_horizontal", "squat"}
    assert not check_dataset(resolve_data(out))
    (tmp_path / "src" / "E01" / "S01" / "A99" / "mmwave").mkdir(parents=True)
    with pytest.raises(MMFiFormatError, match="A99: not an MM-Fi sequence folder"):
        mmfi_recordings(tmp_path / "src")
    with pytest.raises(MMFiFormatError, match="expected MM-Fi's layout"):
        mmfi_recordings(tmp_path / "out")
