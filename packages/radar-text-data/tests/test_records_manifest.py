import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

import radar_views
from radar_text_data import (
    FRAME_MULTIPLE,
    MAX_FRAMES,
    VIEW_BINS,
    ClipRecord,
    RecordError,
    manifest_text,
    read_manifest,
    scan_manifest,
    sequence_id,
    views_angle,
    write_manifest,
)
from radar_text_data.errors import DataError

text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12).filter(str.strip)
rows = st.fixed_dictionaries(
    {
        "id": text,
        "split": st.sampled_from(["train", "val", "test"]),
        "file": st.just("clips/x.npz"),
        "captions": st.lists(text, min_size=1, max_size=3),
    },
    optional={
        "segments": st.lists(st.fixed_dictionaries({"activity": text, "start_frame": st.integers(0, 9)}), max_size=3),
        "frame_rate_hz": st.one_of(st.none(), st.floats(0, 100), st.integers(0, 100)),
        "num_frames": st.one_of(st.none(), st.integers(0, 999)),
        "radar": st.one_of(st.none(), st.dictionaries(text, st.integers())),
        "captions_reversed": st.lists(text, min_size=1, max_size=3),
        "twin_of": text,
        "subject": st.dictionaries(text, st.floats(allow_nan=False)),
        "lab_note": text,
    },
)


@given(row=rows)
def test_a_record_writes_back_exactly_what_it_read(row):
    record = ClipRecord.from_dict(row)
    assert json.dumps(record.to_dict(), sort_keys=True) == json.dumps(row, sort_keys=True)


def test_the_old_twin_field_name_is_read_under_the_new_one_with_a_warning():
    row = {"id": "a", "split": "train", "file": "clips/a.npz", "captions": ["x"], "hard_negative_of": "b"}
    with pytest.warns(FutureWarning, match="hard_negative_of -> twin_of"):
        record = ClipRecord.from_dict(row, "m.jsonl:3")
    assert record.twin_of == "b" and record.to_dict()["twin_of"] == "b" and "hard_negative_of" not in record.to_dict()
    with (
        pytest.raises(RecordError, match="both hard_negative_of and its new name twin_of"),
        pytest.warns(FutureWarning),
    ):
        ClipRecord.from_dict({**row, "twin_of": "c"}, "m.jsonl:4")


@pytest.mark.parametrize(
    "change, message",
    [
        ({"captions": []}, "field 'captions': expected a non-empty list"),
        ({"captions": ["ok", " "]}, "field 'captions'"),
        ({"split": "training"}, "field 'split': 'training' is not one of"),
        ({"file": "../outside.npz"}, "field 'file'"),
        ({"num_frames": -3}, "field 'num_frames': expected a non-negative int"),
        ({"num_frames": True}, "field 'num_frames'"),
        ({"segments": [{"start_frame": 0}]}, "field 'segments'"),
        ({"radar": "iwr1443"}, "field 'radar'"),
        ({"id": 7}, "field 'id'"),
    ],
)
def test_validation_names_the_place_and_the_field(change, message):
    row = {"id": "a", "split": "train", "file": "clips/a.npz", "captions": ["x"], **change}
    with pytest.raises(RecordError, match=message) as err:
        ClipRecord.from_dict(row, "data/manifest.jsonl:7")
    assert str(err.value).startswith("data/manifest.jsonl:7: ")
    with pytest.raises(RecordError, match=r"missing field\(s\) \['captions'\]"):
        ClipRecord.from_dict({"id": "a", "split": "train", "file": "f"}, "m:1")


def test_manifest_reading_names_file_and_line_and_keeps_going_when_scanning(tmp_path):
    good = {"id": "a", "split": "train", "file": "clips/a.npz", "captions": ["x"]}
    lines = [json.dumps(good), "{oops", json.dumps({**good, "captions": []}), json.dumps(good)]
    (tmp_path / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    records, problems = scan_manifest(tmp_path)
    assert [r.id for _, r in records] == ["a"]
    assert [p.split(": ")[0] for p in problems] == [f"{tmp_path}/manifest.jsonl:{i}" for i in (2, 3, 4)]
    assert "duplicate id 'a' (first on line 1)" in problems[2]
    with pytest.raises(RecordError, match=r"manifest.jsonl:2: not valid JSON .*\(and 2 more problem"):
        read_manifest(tmp_path)
    with pytest.raises(FileNotFoundError, match="no manifest.jsonl"):
        read_manifest(tmp_path / "missing")


def test_writing_sorts_by_id_and_round_trips_byte_for_byte(tmp_path):
    rows = [
        {
            "id": i,
            "split": "val",
            "file": f"clips/{i}.npz",
            "captions": [i],
            "segments": [],
            "frame_rate_hz": None,
            "num_frames": 3,
            "radar": None,
            "extra": {"z": 1, "a": [1, 2]},
        }
        for i in ("b", "a", "c")
    ]
    write_manifest(tmp_path, [ClipRecord.from_dict(r) for r in rows])
    data = (tmp_path / "manifest.jsonl").read_bytes()
    assert data == "".join(json.dumps(r, sort_keys=True) + "\n" for r in sorted(rows, key=lambda r: r["id"])).encode()
    assert manifest_text(read_manifest(tmp_path)).encode() == data


def test_sequence_ids_are_stable_and_tell_sequences_apart():
    import subprocess
    import sys

    code = "from radar_text_data import sequence_id; print(sequence_id(('wave', 'clap')))"
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout for _ in range(2)}
    assert len(runs) == 1 and int(runs.pop()) == sequence_id(("wave", "clap"))  # not salted per process
    assert sequence_id(("wave", "clap")) == sequence_id(tuple(["wave", "clap"]))
    assert sequence_id(("wave", "clap")) != sequence_id(("clap", "wave"))
    assert sequence_id(("wa", "veclap")) != sequence_id(("wave", "clap"))


def test_the_shape_contract_matches_radar_views():
    assert tuple(VIEW_BINS) == radar_views.VIEW_NAMES
    assert tuple(VIEW_BINS.values()) == radar_views.DEFAULT_BINS
    assert MAX_FRAMES % FRAME_MULTIPLE == 0


def test_the_contract_imports_without_numpy():
    import subprocess
    import sys

    code = "import sys, radar_text_data; radar_text_data.MAX_FRAMES; sys.exit('numpy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


@given(st.lists(st.sampled_from([None, *radar_views.ANGLES]), max_size=6))
def test_views_angle_is_the_one_angle_of_the_records_or_an_error_naming_a_clip_of_each(angles):
    records = [
        ClipRecord.from_dict(
            {"id": f"c{i}", "split": "train", "file": "clips/x.npz", "captions": ["x"]} | ({"angle": a} if a else {})
        )
        for i, a in enumerate(angles)
    ]
    held = {a or "azimuth" for a in angles}  # a record without "angle" holds azimuth
    assert [r.angle for r in records] == [a or "azimuth" for a in angles]
    if len(held) > 1:
        with pytest.raises(DataError, match=r"^DATA: the clips' third views hold different angles: ") as err:
            views_angle(records, "DATA")
        for angle in held:
            first = next(i for i, a in enumerate(angles) if (a or "azimuth") == angle)
            assert f"{angle} (clip 'c{first}')" in str(err.value)
    else:
        assert views_angle(records, "DATA") == (held.pop() if held else None)
