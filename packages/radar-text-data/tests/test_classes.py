"""Class and template files: text or JSON, errors that name the file and the entry."""

import pytest

from radar_text_data.classes import (
    ClassFileError,
    ClassPrompts,
    parse_class_names,
    read_classes,
    read_templates,
)


def test_a_text_file_gives_bare_names_and_json_gives_phrases_or_prompts(tmp_path):
    (tmp_path / "c.txt").write_text("walk  # comment\n\nsit_down\n")
    assert [(c.name, c.phrase, c.bare) for c in read_classes(tmp_path / "c.txt")] == [
        ("walk", "walk", True),
        ("sit_down", "sit down", True),
    ]
    (tmp_path / "c.json").write_text('{"walk": "walks", "kick": ["a kick", "someone kicks"]}')
    assert read_classes(tmp_path / "c.json") == [
        ClassPrompts("walk", phrase="walks"),
        ClassPrompts("kick", prompts=("a kick", "someone kicks")),
    ]
    assert ClassPrompts("walk", phrase="walks").texts(("a person {}.",)) == ("a person walks.",)


@pytest.mark.parametrize(
    "name, body, message",
    [
        ("c.txt", "walk\nwalk\n", "'walk' is listed twice"),
        ("c.txt", "# nothing\n", "no class"),
        ("c.json", '{"walk": ""}', "class 'walk': expected a non-empty phrase"),
        ("c.json", '["walk"]', "expected a JSON object"),
        ("c.json", "{", "not valid JSON"),
    ],
)
def test_bad_class_files_are_named(tmp_path, name, body, message):
    (tmp_path / name).write_text(body)
    with pytest.raises(ClassFileError, match=message) as err:
        read_classes(tmp_path / name)
    assert str(tmp_path / name) in str(err.value)


def test_templates_need_exactly_one_slot_and_names_are_unique(tmp_path):
    (tmp_path / "t.txt").write_text("a person {}.\n{}\n")
    assert read_templates(tmp_path / "t.txt") == ("a person {}.", "{}")
    (tmp_path / "bad.txt").write_text("a person.\n")
    with pytest.raises(ClassFileError, match="template 1"):
        read_templates(tmp_path / "bad.txt")
    assert parse_class_names(" kick, clap ", "--unseen") == ["kick", "clap"]
    with pytest.raises(ClassFileError, match="listed twice"):
        parse_class_names("kick,kick", "--unseen")
    with pytest.raises(FileNotFoundError, match="file not found"):
        read_classes(tmp_path / "none.txt")


def test_json_entries_with_descriptions_read_back_as_written(tmp_path):
    from radar_text_data.classes import class_entry, classes_json

    entries = {
        "walk": {"phrase": "walks", "descriptions": ["a person travels forward."]},
        "kick": {"prompts": ["a kick"], "descriptions": ["a person lifts one leg.", "a person moves fast."]},
        "sit_down": {"descriptions": ["a person ends seated."]},
    }
    (tmp_path / "c.json").write_text(classes_json(entries))
    read = {c.name: c for c in read_classes(tmp_path / "c.json")}
    assert read["walk"] == ClassPrompts("walk", phrase="walks", descriptions=("a person travels forward.",))
    assert read["kick"].prompts == ("a kick",) and len(read["kick"].descriptions) == 2
    assert read["sit_down"].bare and read["sit_down"].texts(("{}.",)) == ("sit down.",)
    assert {n: class_entry(c) for n, c in read.items()} == entries


@pytest.mark.parametrize(
    "body, message",
    [
        ('{"walk": {"phrase": "walks", "prompts": ["x"]}}', "give a phrase or prompts, not both"),
        ('{"walk": {"descriptions": []}}', "descriptions must be a non-empty list"),
        ('{"walk": {"looks": ["x"]}}', "an object takes phrase, prompts and descriptions"),
        ('{"walk": {"phrase": 3}}', "phrase must be a non-empty string"),
    ],
)
def test_bad_entries_with_descriptions_are_named(tmp_path, body, message):
    (tmp_path / "c.json").write_text(body)
    with pytest.raises(ClassFileError, match=message):
        read_classes(tmp_path / "c.json")
