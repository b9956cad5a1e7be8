import json

import numpy as np
import pytest

from radar_text_data import ConvertError, check_dataset, convert_folder, read_manifest, resolve_data
from radar_views import OutputExistsError


def source(tmp_path, n=10, frames=40, bad=None):
    """``n`` clips (alternately .npz and folders of .npy) and their captions; ``bad`` maps a clip
    index to a change that breaks it (``bins``, ``frames``, ``nan``, ``caption``)."""
    src = tmp_path / "src"
    src.mkdir()
    captions, rng = {}, np.random.default_rng(0)
    for i in range(n):
        kind = (bad or {}).get(i)
        arrays = {
            "range_time": rng.random((256 if kind != "bins" else 200, frames if kind != "frames" else 5)),
            "doppler_time": rng.random((128, frames if kind != "frames" else 5)),
            "azimuth_time": rng.random((128, frames if kind != "frames" else 5)),
        }
        if kind == "nan":
            arrays["doppler_time"][3, 3] = np.nan
        if i % 2:
            np.savez(src / f"clip{i}.npz", **arrays)
        else:
            (src / f"clip{i}").mkdir()
            for k, v in arrays.items():
                np.save(src / f"clip{i}" / f"{k}.npy", v)
        captions[f"clip{i}"] = ["  " if kind == "caption" else f"caption {i}"]
    (tmp_path / "caps.json").write_text(json.dumps(captions))
    return src, tmp_path / "caps.json"


def test_a_valid_folder_converts_with_the_split_fractions_asked_for(tmp_path):
    src, caps = source(tmp_path, n=20)
    out = convert_folder(src, caps, tmp_path / "out", val_fraction=0.25, test_fraction=0.25, seed=3)
    assert check_dataset(resolve_data(out)) == []
    splits = [r.split for r in read_manifest(out)]
    assert (splits.count("train"), splits.count("val"), splits.count("test")) == (10, 5, 5)
    with pytest.raises(ValueError, match="val_fraction must lie in"):
        convert_folder(src, caps, tmp_path / "x", val_fraction=1.5)
    with pytest.raises(ValueError, match="must be at most 1"):
        convert_folder(src, caps, tmp_path / "x", val_fraction=0.6, test_fraction=0.5)
    evaluation = convert_folder(src, caps, tmp_path / "e", val_fraction=0.5, test_fraction=0.5)  # no train split
    assert sorted({r.split for r in read_manifest(evaluation)}) == ["test", "val"]


def test_every_problem_is_listed_before_anything_is_written(tmp_path):
    """The reported faults: wrong bins and 5-frame clips converted with exit 0; an empty caption
    stopped the conversion after six clips were written and no manifest."""
    src, caps = source(tmp_path, bad={1: "bins", 4: "frames", 7: "nan", 8: "caption"})
    with pytest.raises(ConvertError) as err:
        convert_folder(src, caps, tmp_path / "out")
    message = str(err.value)
    assert message.startswith("4 problem(s)") and "nothing was written" in message
    for expected in (
        "clip1.npz: range_time must be [256, T], got [200, 40]",
        "clip4: fewer than 16 frames",
        "clip7.npz: doppler_time holds NaN or Inf",
        "clip 'clip8': field 'captions'",
    ):
        assert expected in message, expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["caps.json", "src"]


def test_problems_beyond_twenty_are_counted(tmp_path):
    src, caps = source(tmp_path, n=25, bad={i: "frames" for i in range(25)})
    with pytest.raises(ConvertError, match=r"25 problem\(s\)[\s\S]*\.\.\. and 5 more"):
        convert_folder(src, caps, tmp_path / "out")


def test_a_missing_source_folder_is_named_as_such(tmp_path):
    (tmp_path / "caps.json").write_text(json.dumps({"rec00": ["a caption"]}))
    with pytest.raises(FileNotFoundError, match="source folder not found: .*nowhere"):
        convert_folder(tmp_path / "nowhere", tmp_path / "caps.json", tmp_path / "out")


def test_an_existing_dataset_is_refused_or_moved_aside(tmp_path):
    src, caps = source(tmp_path)
    out = convert_folder(src, caps, tmp_path / "out")
    before = (out / "manifest.jsonl").read_bytes()
    with pytest.raises(OutputExistsError, match="already exists"):
        convert_folder(src, caps, out, seed=1)
    assert (out / "manifest.jsonl").read_bytes() == before
    convert_folder(src, caps, out, seed=1, overwrite=True)
    old = [p for p in tmp_path.iterdir() if p.name.startswith("out.old-")]
    assert len(old) == 1 and (old[0] / "manifest.jsonl").read_bytes() == before
