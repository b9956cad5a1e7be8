"""Label-only data: label tables, captions rendered from labels, and the converter on a folder shaped
like a public HAR dataset (one action per clip, a label table)."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from radar_text_data import ConvertError, check_dataset, convert_folder, read_manifest, resolve_data
from radar_text_data.classes import read_classes
from radar_text_data.labels import (
    CAPTION_TEMPLATES,
    LabelSegment,
    label_phrase,
    read_labels,
    render_captions,
)

ACTIONS = ["walking", "sit_down", "jumping jacks"]


def har_folder(tmp_path, n=12, frames=48):
    """``n`` clips named like a HAR recording (S01_A02_R1.npz) and labels.csv with one action each."""
    src = tmp_path / "har"
    src.mkdir()
    rng = np.random.default_rng(0)
    lines = ["id,label"]
    for i in range(n):
        cid = f"S{i // 3 + 1:02d}_A{i % 3 + 1:02d}_R1"
        np.savez(
            src / f"{cid}.npz",
            range_time=rng.random((256, frames)),
            doppler_time=rng.random((128, frames)),
            azimuth_time=rng.random((128, frames)),
        )
        lines.append(f"{cid},{ACTIONS[i % 3]}")
    (tmp_path / "labels.csv").write_text("\n".join(lines) + "\n")
    return src, tmp_path / "labels.csv"


def test_a_har_folder_with_a_label_table_converts_with_captions_segments_and_classes(tmp_path):
    src, labels = har_folder(tmp_path)
    out = convert_folder(src, None, tmp_path / "out", labels_file=labels)
    assert check_dataset(resolve_data(out)) == []
    records = read_manifest(out)
    first = next(r for r in records if r.id == "S01_A02_R1")
    assert first.activities == ("sit_down",) and first.segments[0]["end_frame"] == 48
    assert first.captions == tuple(
        t.format("sit down")[:1].upper() + t.format("sit down")[1:] for t in CAPTION_TEMPLATES
    )
    assert first.captions_reversed is None
    classes = {c.name: c for c in read_classes(out / "classes.json")}
    assert sorted(classes) == sorted(ACTIONS) and classes["sit_down"].prompts == first.captions


def test_timed_segments_give_captions_in_temporal_order_and_reversed_ones(tmp_path):
    src, _ = har_folder(tmp_path, n=3)
    table = {
        "S01_A01_R1": [["stand up", 30, 48], ["sit down", 0, 30]],
        "S01_A02_R1": "walking",
        "S01_A03_R1": [["wave", 0, 20]],
    }
    (tmp_path / "labels.json").write_text(json.dumps(table))
    (tmp_path / "templates.txt").write_text("someone: {}\n")
    out = convert_folder(
        src,
        None,
        tmp_path / "out",
        labels_file=tmp_path / "labels.json",
        templates_file=tmp_path / "templates.txt",
        val_fraction=0.34,
        test_fraction=0.0,
    )  # a val clip: data check flags none
    two = next(r for r in read_manifest(out) if r.id == "S01_A01_R1")
    assert two.activities == ("sit down", "stand up")
    assert two.captions == ("Someone: sit down, then stand up",)
    assert two.captions_reversed == ("Someone: stand up, then sit down",)
    assert check_dataset(resolve_data(out)) == []


def test_label_problems_are_listed_with_the_clip_and_nothing_is_written(tmp_path):
    src, _ = har_folder(tmp_path, n=3)
    (tmp_path / "labels.json").write_text(
        json.dumps({"S01_A01_R1": [["wave", 0, 99]], "S01_A02_R1": "walk", "S01_A03_R1": "clap", "ghost": "run"})
    )
    with pytest.raises(ConvertError) as err:
        convert_folder(src, None, tmp_path / "out", labels_file=tmp_path / "labels.json")
    text = str(err.value)
    assert "S01_A01_R1" in text and "ends at frame 99" in text and "ghost" in text
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "body, message",
    [
        ("clip,label\na,walk\n", "expected the header"),
        ("id,label\na,walk\na,run\n", "several labels without start/end frames"),
        ("id,label,start_frame,end_frame\na,walk,0,40\na,run,30,60\n", "overlap"),
        ("id,label,start_frame,end_frame\na,walk,10,5\n", "0 <= start_frame < end_frame"),
        ("id,label\na,,\n", "expected 2 fields"),
    ],
)
def test_bad_label_tables_are_named_with_file_and_line(tmp_path, body, message):
    path = tmp_path / "labels.csv"
    path.write_text(body)
    with pytest.raises(ValueError, match=message):
        read_labels(path)


labels = st.lists(st.sampled_from(["walk", "sit_down", "wave", "jumping jacks", "kick"]), min_size=1, max_size=4)


@given(order=labels)
def test_rendering_is_deterministic_and_keeps_the_segment_order(order):
    captions, reverse = render_captions(order)
    assert (captions, reverse) == render_captions(list(order))
    assert len(captions) == len(CAPTION_TEMPLATES)
    phrases = [label_phrase(x) for x in order]
    for caption in captions:
        assert caption.lower().count(", then ") == len(order) - 1
        parts = caption.lower().rstrip(".").split(", then ")
        assert [p.endswith(ph) or p == ph for p, ph in zip(parts, phrases, strict=True)][1:] == [True] * (
            len(order) - 1
        )
        assert phrases[0] in parts[0]
    if order == order[::-1]:
        assert reverse is None
    else:
        assert reverse == render_captions(order[::-1])[0]


@given(segments=st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(1, 20)), min_size=1, max_size=5))
def test_csv_segments_come_back_sorted_by_start(tmp_path_factory, segments):
    rows, start = [], 0
    for label, length in segments:
        rows.append((label, start, start + length))
        start += length
    path = tmp_path_factory.mktemp("l") / "labels.csv"
    path.write_text("id,label,start_frame,end_frame\n" + "".join(f"x,{a},{s},{e}\n" for a, s, e in rows[::-1]))
    assert read_labels(path) == {"x": [LabelSegment(a, s, e) for a, s, e in rows]}


def test_a_class_file_adds_descriptions_to_the_labels_it_names_and_refuses_other_names(tmp_path):
    src, labels = har_folder(tmp_path)
    (tmp_path / "c.json").write_text(
        json.dumps(
            {
                "walking": {"descriptions": ["a person travels forward."]},
                "sit_down": {"phrase": "sits down", "descriptions": ["a person ends seated."]},
            }
        )
    )
    out = convert_folder(src, None, tmp_path / "out", labels_file=labels, classes_file=tmp_path / "c.json")
    classes = {c.name: c for c in read_classes(out / "classes.json")}
    assert classes["walking"].descriptions == ("a person travels forward.",)
    assert classes["walking"].prompts == tuple(
        render_captions(["walking"])[0]
    )  # the rendered captions stay its prompts
    assert classes["sit_down"].phrase == "sits down" and classes["jumping jacks"].descriptions == ()
    (tmp_path / "bad.json").write_text(json.dumps({"moonwalk": {"descriptions": ["a person glides."]}}))
    with pytest.raises(ConvertError, match="class 'moonwalk' is not among the labels"):
        convert_folder(src, None, tmp_path / "o2", labels_file=labels, classes_file=tmp_path / "bad.json")
    assert not (tmp_path / "o2").exists()
