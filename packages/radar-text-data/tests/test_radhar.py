"""radhar.py and recordings.py: RadHAR's ti_mmwave dumps read field by field, its layout, and the dataset written from
it."""

import json

import numpy as np
import pytest

from radar_text_data import check_dataset, read_manifest, resolve_data
from radar_text_data.radhar import (
    RADHAR_CLASSES,
    RadHARFormatError,
    convert_radhar,
    radhar_files,
    read_radhar_file,
)
from radar_text_data.testing import radhar_folder, write_radhar_file


def test_every_field_is_read_in_the_sensors_axes(tmp_path):
    frames = [
        np.array([[1.0, 0.5, 0.1, 0.6147, 30.0], [2.0, -0.25, 0.0, 0.0, 12.5]]),
        np.array([[3.0, 0.0, -0.2, -1.2294, 40.0]]),
    ]
    stamps = [100.25, 100.26]
    path = write_radhar_file(tmp_path / "r.txt", frames, stamps)
    cloud = read_radhar_file(path)
    assert len(cloud.frames) == 2 and cloud.num_points == 3
    for ros, ours in zip(frames, cloud.frames, strict=True):
        # x right = -y (the driver's y is left), y ahead = x, z, velocity and intensity as written
        np.testing.assert_allclose(ours, np.column_stack([-ros[:, 1], ros[:, 0], ros[:, 2], ros[:, 3], ros[:, 4]]))
    np.testing.assert_allclose(cloud.times, stamps)


def test_bursty_stamps_are_spaced_evenly(tmp_path):
    stamps = 50.0 + np.array([0.0, 0.001, 0.06, 0.061, 0.12, 0.121, 0.18])  # pairs 1 ms apart, as the driver stamps
    path = write_radhar_file(tmp_path / "r.txt", [np.ones((1, 5))] * len(stamps), stamps)
    np.testing.assert_allclose(read_radhar_file(path).times, np.linspace(50.0, 50.18, len(stamps)))


def test_a_bad_block_is_named_by_file_and_line(tmp_path):
    path = write_radhar_file(tmp_path / "r.txt", [np.ones((2, 5))], [7.0])
    lines = path.read_text().splitlines()
    (tmp_path / "missing.txt").write_text("\n".join(x for x in lines if not x.startswith("velocity")) + "\n")
    with pytest.raises(RadHARFormatError, match=r"missing.txt:1: point block without velocity"):
        read_radhar_file(tmp_path / "missing.txt")
    (tmp_path / "nan.txt").write_text("\n".join(x.replace("x: 1.0", "x: one") for x in lines) + "\n")
    with pytest.raises(RadHARFormatError, match=r"nan.txt:8: x is not a number: 'one'"):
        read_radhar_file(tmp_path / "nan.txt")
    (tmp_path / "empty.txt").write_text("nothing here\n")
    with pytest.raises(RadHARFormatError, match="empty.txt: no point blocks"):
        read_radhar_file(tmp_path / "empty.txt")


def test_the_layout_is_checked(tmp_path):
    data = radhar_folder(tmp_path, {"Train/jack": ["a", "b"], "Test/walk": ["c"]}, frames=4)
    found = radhar_files(tmp_path)  # the folder above Data/ works too
    assert [(f.name, split, act) for f, split, act in found] == [
        ("a.txt", "train", "jack"),
        ("b.txt", "train", "jack"),
        ("c.txt", "test", "walk"),
    ]
    assert radhar_files(data) == found
    (data / "Train" / "running").mkdir()
    with pytest.raises(RadHARFormatError, match="running: not a RadHAR activity folder"):
        radhar_files(data)
    with pytest.raises(RadHARFormatError, match="expected RadHAR's Data folder"):
        radhar_files(tmp_path / "Data" / "Train")


def test_convert_writes_official_splits_val_by_file_and_labelled_windows(tmp_path):
    radhar_folder(
        tmp_path / "src",
        {"Train/jack": ["j1", "j2", "j3"], "Train/boxing": ["b1", "b2"], "Test/jack": ["j4"], "Test/boxing": ["b3"]},
        frames=90,
    )  # 3 s at 30 fps
    seen = []
    out = convert_radhar(
        tmp_path / "src",
        tmp_path / "out",
        window=64,
        stride=32,
        val_fraction=0.34,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen[-1] == (7, 7)
    records = read_manifest(out)
    by_file: dict[str, set[str]] = {}
    for r in records:
        by_file.setdefault(r.extras["source"]["file"], set()).add(r.split)
        assert r.num_frames == 64 and r.frame_rate_hz == 50.0 and r.extras["sensor"] == "iwr1443-radhar"
        label = r.segments[0]["activity"]
        assert r.activities == (label,) and RADHAR_CLASSES[label] in r.captions[0].lower()
    assert all(len(s) == 1 for s in by_file.values())  # a recording's windows share its split
    assert by_file["j4.txt"] == {"test"} and by_file["b3.txt"] == {"test"}
    val = {f for f, s in by_file.items() if s == {"val"}}
    assert len(val & {"j1.txt", "j2.txt", "j3.txt"}) == 1 and len(val & {"b1.txt", "b2.txt"}) == 1
    assert len(records) == 7 * 3  # 150 frames at 50 fps: windows at 0, 32, 64
    assert json.loads((out / "classes.json").read_text()) == {"boxing": "boxing", "jack": "jumping jacks"}
    assert not check_dataset(resolve_data(out))
    with pytest.raises(FileExistsError):
        convert_radhar(tmp_path / "src", tmp_path / "out")


def test_a_bad_file_leaves_nothing(tmp_path):
    data = radhar_folder(tmp_path / "src", {"Train/jack": ["a", "b"]}, frames=40)
    (data / "Train" / "jack" / "b.txt").write_text("header: \n  seq: 1\npoint_id: 0\nx: 1.0\n---\n")
    with pytest.raises(RadHARFormatError, match="b.txt:1: point block without"):
        convert_radhar(tmp_path / "src", tmp_path / "out")
    assert not (tmp_path / "out").exists() and [p.name for p in tmp_path.iterdir()] == ["src"]


def test_val_is_carved_per_label_by_recording_and_a_lone_recording_stays_in_train(tmp_path):
    from radar_text_data.recordings import Recording, carve_val

    recs = [
        Recording(f"{label}{i}", "train", label, tmp_path / f"{label}{i}.txt", lambda: None)
        for label, n in (("a", 10), ("b", 1))
        for i in range(n)
    ] + [Recording("t", "test", "a", tmp_path, lambda: None)]
    carved = carve_val(recs, 0.2, seed=0)
    assert [r.id for r in carved] == [r.id for r in recs]  # order kept
    assert sum(r.split == "val" for r in carved if r.label == "a") == 2
    assert next(r for r in carved if r.label == "b").split == "train" and carved[-1].split == "test"
    assert carve_val(recs, 0.2, seed=0) == carved and carve_val(recs, 0.0, seed=0) == recs


def test_the_elevation_view_holds_each_points_elevation_and_is_recorded(tmp_path):
    from radar_text_data import load_clip
    from radar_views import RadarConfig, point_cloud_views, sensor_profile

    src = radhar_folder(tmp_path / "src", {"Train/jack": ["j1"], "Test/squats": ["s1"]}, frames=60)
    level = convert_radhar(tmp_path / "src", tmp_path / "azimuth", window=64, stride=32)
    raised = convert_radhar(tmp_path / "src", tmp_path / "elevation", window=64, stride=32, angle="elevation")
    views = point_cloud_views(
        read_radhar_file(src / "Test" / "squats" / "s1.txt"),
        RadarConfig(),
        sensor_profile("iwr1443-radhar"),
        angle="elevation",
    ).normalized()
    azimuth_records, elevation_records = read_manifest(level), read_manifest(raised)
    assert all("angle" not in r.extras for r in azimuth_records)
    for a, e in zip(azimuth_records, elevation_records, strict=True):
        assert e.extras["angle"] == e.angle == "elevation" and a.angle == "azimuth" and a.id == e.id
        flat, tall = load_clip(level, a), load_clip(raised, e)
        assert np.array_equal(flat["range_time"], tall["range_time"])
        assert np.array_equal(flat["doppler_time"], tall["doppler_time"])
        assert not np.array_equal(flat["azimuth_time"], tall["azimuth_time"])  # points lie -0.5-1 m above or below
        if e.id == "s1_w000":
            expected = views.azimuth_time[:, :64].astype(np.float16)
            assert np.array_equal(tall["azimuth_time"], expected)
    with pytest.raises(ValueError, match="angle must be one of"):
        convert_radhar(tmp_path / "src", tmp_path / "tilted", angle="tilt")
    assert not (tmp_path / "tilted").exists()
