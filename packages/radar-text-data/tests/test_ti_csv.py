"""ti_csv.py: TI Demo Visualizer point-cloud CSVs read field by field, labels from folders or a file."""

import numpy as np
import pytest

from radar_text_data import check_dataset, read_manifest, resolve_data
from radar_text_data.testing import write_ti_csv
from radar_text_data.ti_csv import TICsvFormatError, convert_ti_csv, read_ti_csv, ti_csv_recordings


def _points(rng, k):
    return np.column_stack(
        [
            rng.uniform(-1, 1, k),
            rng.uniform(1, 4, k),
            rng.uniform(0, 1, k),
            rng.uniform(-2, 2, k),
            rng.uniform(5, 30, k),
        ]
    )


def test_every_field_frames_and_gaps(tmp_path):
    rng = np.random.default_rng(0)
    frames = {7: _points(rng, 3), 8: _points(rng, 1), 10: _points(rng, 2)}  # frame 9 had no point
    path = write_ti_csv(tmp_path / "r.csv", frames)
    cloud = read_ti_csv(path, frame_rate_hz=10.0)
    assert [len(f) for f in cloud.frames] == [3, 1, 0, 2] and np.allclose(cloud.times, [0.0, 0.1, 0.2, 0.3])
    np.testing.assert_allclose(cloud.frames[0], frames[7])
    depth_in_x = read_ti_csv(path, 10.0, axes="-y,x,z")
    np.testing.assert_allclose(
        depth_in_x.frames[3][:, :3], np.column_stack([-frames[10][:, 1], frames[10][:, 0], frames[10][:, 2]])
    )
    (tmp_path / "bad.csv").write_text("Frame #,X,Y,Z,Doppler\n1,0,1,0,0\n")
    with pytest.raises(TICsvFormatError, match=r"bad.csv: no column Intensity in the header"):
        read_ti_csv(tmp_path / "bad.csv", 10.0)
    (tmp_path / "nan.csv").write_text("Frame #,X,Y,Z,Doppler,Intensity\n1,0,1,0,0,5\n2,0,one,0,0,5\n")
    with pytest.raises(TICsvFormatError, match=r"nan.csv:3: expected numbers"):
        read_ti_csv(tmp_path / "nan.csv", 10.0)


def test_labels_from_folders_or_a_file_and_a_dataset(tmp_path):
    rng = np.random.default_rng(1)
    for label in ("sit_down", "walk"):
        for i in range(3):
            write_ti_csv(tmp_path / "src" / label / f"r{i}.csv", {n: _points(rng, 2) for n in range(60)})
    recs = ti_csv_recordings(tmp_path / "src", 10.0, val_fraction=0.2, test_fraction=0.2)
    assert {r.id: r.label for r in recs}["sit_down_r0"] == "sit_down"
    assert sorted(r.split for r in recs).count("train") == 4
    (tmp_path / "labels.csv").write_text(
        "id,label\n" + "".join(f"{d}/r{i},{'wave' if i else 'clap'}\n" for d in ("sit_down", "walk") for i in range(3))
    )
    relabelled = ti_csv_recordings(tmp_path / "src", 10.0, tmp_path / "labels.csv")
    assert {r.label for r in relabelled} == {"wave", "clap"}
    out = convert_ti_csv(
        tmp_path / "src", tmp_path / "out", 10.0, window=64, stride=64, val_fraction=0.2, test_fraction=0.2
    )
    records = read_manifest(out)
    assert {r.num_frames for r in records} == {64} and len(records) == 6 * 4  # 5.9 s at 50 frames/s: 4 windows
    assert any("sit down" in c for r in records for c in r.captions) and not check_dataset(resolve_data(out))
    write_ti_csv(tmp_path / "src" / "loose.csv", {0: _points(rng, 1)})
    with pytest.raises(TICsvFormatError, match="loose.csv: no label"):
        ti_csv_recordings(tmp_path / "src", 10.0)
