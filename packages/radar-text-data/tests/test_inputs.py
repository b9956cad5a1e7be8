"""Inputs read as written: a byte-order mark dropped from every text input (one rule), JSON lines
told from a JSON object by content, and clips without captions or labels listed, or left out and
counted."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_convert import source
from test_labels import har_folder

from radar_text_data import ConvertError, convert_folder, read_manifest
from radar_text_data.classes import read_classes, read_templates, read_unseen
from radar_text_data.convert import read_captions
from radar_text_data.labels import read_labels

BOM = "\ufeff"


def _with_and_without_bom(tmp_path, name, text):
    plain, marked = tmp_path / name, tmp_path / f"bom-{name}"
    plain.write_text(text, encoding="utf-8")
    marked.write_text(BOM + text, encoding="utf-8")
    return plain, marked


@pytest.mark.parametrize(
    "name, text, read",
    [
        ("classes.txt", "walk\nsit_down\n", read_classes),
        ("classes.json", '{"walk": "walks"}', read_classes),
        ("templates.txt", "a person {}.\n", read_templates),
        ("captions.json", '{"c1": ["walks"]}', lambda p: read_captions(p)),
        ("captions.jsonl", '{"id": "c1", "captions": ["walks"]}\n', lambda p: read_captions(p)),
        ("labels.csv", "id,label\nc1,walk\n", read_labels),
        ("labels.json", '{"c1": "walk"}', read_labels),
    ],
)
def test_a_byte_order_mark_is_dropped_from_every_text_input(tmp_path, name, text, read):
    plain, marked = _with_and_without_bom(tmp_path, name, text)
    assert read(marked) == read(plain)
    assert BOM not in repr(read(marked))


def test_a_byte_order_mark_is_dropped_from_unseen_txt_and_manifests(tmp_path):
    (tmp_path / "unseen.txt").write_text(BOM + "kick\n", encoding="utf-8")
    assert read_unseen(tmp_path) == ["kick"]
    src, caps = source(tmp_path, n=4)
    out = convert_folder(src, caps, tmp_path / "out", val_fraction=0.25, test_fraction=0.25)
    manifest = out / "manifest.jsonl"
    manifest.write_text(BOM + manifest.read_text(encoding="utf-8"), encoding="utf-8")
    assert [r.id for r in read_manifest(out)] == ["clip0", "clip1", "clip2", "clip3"]


@given(st.lists(st.sampled_from(["id", "captions", "c1", "walk"]), min_size=1, max_size=3, unique=True))
def test_json_lines_and_json_objects_are_told_apart_by_content_not_line_count(tmp_path_factory, ids):
    """One JSON-lines record (even of a clip called "id" or "captions") is a record; an object keyed
    by clip ids is an object, on one line or many."""
    tmp = tmp_path_factory.mktemp("caps")
    expected = {cid: [f"caption of {cid}"] for cid in ids}
    lines = tmp / "lines.jsonl"
    lines.write_text("".join(json.dumps({"id": cid, "captions": caps}) + "\n" for cid, caps in expected.items()))
    assert read_captions(lines) == expected
    for indent in (None, 1):
        obj = tmp / "object.json"
        obj.write_text(json.dumps(expected, indent=indent))
        assert read_captions(obj) == expected


def test_clips_without_captions_are_listed_or_left_out_and_counted(tmp_path):
    src, caps = source(tmp_path, n=30)
    described = {k: v for k, v in json.loads(caps.read_text()).items() if k not in ("clip3", "clip7")}
    caps.write_text(json.dumps(described))
    with pytest.raises(
        ConvertError, match=r"2 clip\(s\) in .* have no captions .*--skip-unlabelled.*\n  clip3\n  clip7"
    ):
        convert_folder(src, caps, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    for i in range(30, 55):  # 27 undescribed: 20 listed, then a count
        (src / f"clip{i}.npz").write_bytes((src / "clip1.npz").read_bytes())
    with pytest.raises(ConvertError, match=r"27 clip\(s\)[^$]*\.\.\. and 7 more"):
        convert_folder(src, caps, tmp_path / "out")
    left_out: list[str] = []
    out = convert_folder(src, caps, tmp_path / "out", unlabelled=left_out)
    assert len(left_out) == 27 and "clip3" in left_out and len(read_manifest(out)) == 28


def test_clips_without_labels_are_an_error_as_labels_without_clips_are(tmp_path):
    src, labels = har_folder(tmp_path)
    lines = labels.read_text().splitlines()
    labels.write_text("\n".join(lines[:1] + lines[2:]) + "\n")  # the first clip's label removed
    with pytest.raises(ConvertError, match=r"1 clip\(s\) in .* have no labels"):
        convert_folder(src, None, tmp_path / "out", labels_file=labels)


# ---------------------------------------------------------------------- windows and splits
def test_a_long_recording_is_cut_into_windows_that_keep_its_split_and_labels(tmp_path):
    """Three recordings of 100 frames, labelled walk 0-60 / sit_down 60-100: windows of 40 every 30
    frames start at 0 and 30 (60 would end at 100: kept) -> 3 windows each; segments cut to each."""
    import numpy as np

    src = tmp_path / "rec"
    src.mkdir()
    rng = np.random.default_rng(0)
    lines = ["id,label,start_frame,end_frame"]
    for i in range(3):
        np.savez(
            src / f"r{i}.npz",
            range_time=rng.random((256, 100)),
            doppler_time=rng.random((128, 100)),
            azimuth_time=rng.random((128, 100)),
        )
        lines += [f"r{i},walk,0,60", f"r{i},sit_down,60,100"]
    (tmp_path / "labels.csv").write_text("\n".join(lines) + "\n")
    out = convert_folder(src, None, tmp_path / "out", labels_file=tmp_path / "labels.csv", window=40, stride=30)
    records = {r.id: r for r in read_manifest(out)}
    assert sorted(records) == [f"r{i}_w{k:03d}" for i in range(3) for k in range(3)]
    w1 = records["r0_w001"]  # frames 30-70: walk 30-60, sit down 60-70
    assert (
        w1.num_frames == 40
        and w1.activities == ("walk", "sit_down")
        and w1.extras["source"] == {"clip": "r0", "start_frame": 30, "end_frame": 70}
    )
    assert [(s["start_frame"], s["end_frame"]) for s in w1.segments] == [(0, 30), (30, 40)]
    assert records["r0_w000"].activities == ("walk",) and records["r0_w002"].activities == ("sit_down",)
    for i in range(3):  # a recording's windows share one split: no leakage between its overlapping windows
        assert len({records[f"r{i}_w{k:03d}"].split for k in range(3)}) == 1
    with np.load(src / "r0.npz") as z, np.load(out / "clips" / "r0_w001.npz") as w:
        np.testing.assert_array_equal(w["doppler_time"], z["doppler_time"][:, 30:70].astype(np.float16))
    lines = [x for x in lines if not x.startswith("r1,sit_down")]  # r1's last window has no labelled frame
    lines[lines.index("r1,walk,0,60")] = "r1,walk,0,50"
    (tmp_path / "labels.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(ConvertError, match=r"1 clip\(s\) or window\(s\) hold no labelled frame.*\n  r1_w002"):
        convert_folder(src, None, tmp_path / "o2", labels_file=tmp_path / "labels.csv", window=40, stride=30)


def test_every_split_gets_a_clip_when_the_data_allow_and_a_clear_error_otherwise(tmp_path):
    from radar_text_data import split_by_fraction

    for n in (3, 4, 9):
        counts = list(split_by_fraction([f"c{i}" for i in range(n)], 0.1, 0.1, 0).values())
        assert counts.count("val") == counts.count("test") == 1 and counts.count("train") == n - 2
    assert list(split_by_fraction(["a", "b"], 0.0, 0.0, 0).values()) == ["train", "train"]
    with pytest.raises(ValueError, match="2 clips cannot fill train plus 1 val and 1 test"):
        split_by_fraction(["a", "b"], 0.1, 0.1, 0)


def test_a_dataset_without_train_or_val_clips_passes_the_check_with_a_note(tmp_path):
    from radar_text_data import check_dataset, resolve_data, split_notes
    from radar_text_data.testing import tiny_dataset

    data = tiny_dataset(tmp_path / "d", n=6, splits=["train"] * 4 + ["test"] * 2)
    assert check_dataset(resolve_data(data)) == []
    assert split_notes(resolve_data(data)) == [
        "val split is empty: `seqclip train` needs clips in train and val; "
        "the dataset serves evaluation of its train, test splits "
        "(`seqclip eval --split test`)"
    ]
    test_only = tiny_dataset(tmp_path / "t", n=3, splits=["test"] * 3)
    assert check_dataset(resolve_data(test_only)) == []
    assert "train and val splits are empty" in split_notes(resolve_data(test_only))[0]
    full = tiny_dataset(tmp_path / "f", n=6)
    assert split_notes(resolve_data(full)) == []


def test_fractions_that_add_up_to_one_make_an_evaluation_only_split():
    from radar_text_data import split_by_fraction

    ids = [f"c{i}" for i in range(10)]
    assert set(split_by_fraction(ids, 0.0, 1.0, 0).values()) == {"test"}
    both = list(split_by_fraction(ids, 0.3, 0.7, 0).values())
    assert both.count("val") == 3 and both.count("test") == 7 and "train" not in both
    with pytest.raises(ValueError, match="evaluation-only dataset"):
        split_by_fraction(ids, 0.0, 0.99, 0)  # rounds to no training clip: the message names the way out
    with pytest.raises(ValueError, match="at most 1"):
        split_by_fraction(ids, 0.5, 0.6, 0)


def test_a_window_shorter_than_a_clip_is_refused_before_anything_is_read(tmp_path):
    src, labels = har_folder(tmp_path, n=3)
    with pytest.raises(ValueError, match="window must be at least 16 frames"):
        convert_folder(src, None, tmp_path / "out", labels_file=labels, window=8)
    assert not (tmp_path / "out").exists()


def test_a_segment_that_overlaps_and_overruns_the_clip_is_reported_for_both(tmp_path):
    src, _ = har_folder(tmp_path, n=3)  # 48 frames each
    (tmp_path / "labels.json").write_text(
        json.dumps({"S01_A01_R1": [["walk", 0, 30], ["sit_down", 20, 90]], "S01_A02_R1": "walk", "S01_A03_R1": "walk"})
    )
    with pytest.raises(ConvertError) as err:
        convert_folder(src, None, tmp_path / "out", labels_file=tmp_path / "labels.json")
    text = str(err.value)
    assert "segments 'walk' (0-30) and 'sit_down' (20-90) overlap" in text
    assert "segment 'sit_down' ends at frame 90, after the clip's 48 frames" in text
