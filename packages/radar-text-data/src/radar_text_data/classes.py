"""Class lists as data: what a zero-shot classifier is built from (open_clip's class names and
templates), read from a user's file or from the dataset's own ``classes.json``. Standard library only.

A class file is either a text file, one class name per line (``#`` starts a comment), or JSON:
``{class: phrase}`` (the phrase is put into each template: ``"a person {}."`` with ``"walks"``),
``{class: [prompt, ...]}`` (the prompts are used as they are), or ``{class: {"phrase": ..., "prompts":
[...], "descriptions": [...]}}`` (a phrase or prompts, or neither, plus descriptions: sentences
saying what the body does, used as they are when zero-shot prompts come from descriptions). A
template file holds one template per line, each with one ``{}``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from .errors import DataError
from .labels import label_phrase
from .textfile import read_text

__all__ = [
    "CLASSES",
    "UNSEEN",
    "ClassPrompts",
    "read_classes",
    "read_templates",
    "classes_json",
    "read_unseen",
    "parse_class_names",
    "ClassFileError",
    "bare_class",
    "class_entry",
]

CLASSES = "classes.json"  # in a dataset's root: its classes, as data synth and data convert write them
UNSEEN = "unseen.txt"  # in a dataset's root: classes kept out of its train and val splits, one a line


class ClassFileError(DataError):
    """A class or template file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class ClassPrompts:
    """One class: its name, and either a ``phrase`` (templated) or its own ``prompts`` (used as they
    are). ``bare``: the phrase is the class name itself (a text file or a label), not a verb phrase,
    so it takes the name templates rather than the phrase templates."""

    name: str
    phrase: str | None = None
    prompts: tuple[str, ...] = ()
    bare: bool = False
    descriptions: tuple[str, ...] = ()  # what the body does, each a whole prompt ("a person lifts both legs.")

    def texts(self, templates: tuple[str, ...]) -> tuple[str, ...]:
        """The prompts of this class's name: its own, or each template filled with its phrase."""
        return self.prompts or tuple(t.format(self.phrase) for t in templates)


def _lines(text: str) -> list[str]:
    """The lines of a text file, comments (``#`` on) and surrounding blanks removed."""
    return [line.split("#", 1)[0].strip() for line in text.splitlines()]


def read_classes(path: str | os.PathLike) -> list[ClassPrompts]:
    """The classes of a text or JSON class file, in file order; names are unique and non-empty."""
    path = Path(path)
    text = read_text(path)
    if path.suffix == ".json" or text.lstrip().startswith("{"):
        return _from_json(text, str(path))
    names = [x for x in _lines(text) if x]
    _check_names(names, str(path))
    return [bare_class(n) for n in names]


def bare_class(name: str) -> ClassPrompts:
    """A class known by its name only (``sit_down`` -> the phrase ``sit down``)."""
    return ClassPrompts(name, phrase=label_phrase(name), bare=True)


def _from_json(text: str, where: str) -> list[ClassPrompts]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ClassFileError(f"{where}: not valid JSON ({err})") from None
    if not isinstance(data, dict) or not data:
        raise ClassFileError(f"{where}: expected a JSON object {{class: phrase}} or {{class: [prompt, ...]}}")
    out = []
    for name, value in data.items():
        if isinstance(value, str) and value.strip():
            out.append(ClassPrompts(name, phrase=value.strip()))
        elif (prompts := _texts(value)) is not None:
            out.append(ClassPrompts(name, prompts=prompts))
        elif isinstance(value, dict):
            out.append(_from_entry(name, value, where))
        else:
            raise ClassFileError(
                f"{where}: class {name!r}: expected a non-empty phrase, a non-empty list of "
                f"prompts or an object with phrase, prompts and descriptions, got {value!r}"
            )
    _check_names(list(data), where)
    return out


def _texts(value) -> tuple[str, ...] | None:
    """A non-empty list of non-empty strings, stripped; None for anything else."""
    if isinstance(value, list) and value and all(isinstance(p, str) and p.strip() for p in value):
        return tuple(p.strip() for p in value)
    return None


def _from_entry(name: str, value: dict, where: str) -> ClassPrompts:
    """``{"phrase": str, "prompts": [str], "descriptions": [str]}``: any of them, not phrase and prompts both."""
    unknown = sorted(set(value) - {"phrase", "prompts", "descriptions"})
    if unknown or not value:
        raise ClassFileError(
            f"{where}: class {name!r}: an object takes phrase, prompts and descriptions, got "
            f"{unknown or 'none of them'}"
        )
    phrase = value.get("phrase")
    if phrase is not None and not (isinstance(phrase, str) and phrase.strip()):
        raise ClassFileError(f"{where}: class {name!r}: phrase must be a non-empty string, got {phrase!r}")
    found = {k: _texts(value[k]) for k in ("prompts", "descriptions") if k in value}
    for key, texts in found.items():
        if texts is None:
            raise ClassFileError(
                f"{where}: class {name!r}: {key} must be a non-empty list of non-empty strings, got {value[key]!r}"
            )
    if phrase is not None and "prompts" in found:
        raise ClassFileError(f"{where}: class {name!r}: give a phrase or prompts, not both")
    prompts = found.get("prompts") or ()
    if phrase is None and not prompts:  # descriptions only: the name is the class's phrase
        return replace(bare_class(name), descriptions=found.get("descriptions") or ())
    return ClassPrompts(
        name, phrase=phrase.strip() if phrase else None, prompts=prompts, descriptions=found.get("descriptions") or ()
    )


def _check_names(names: list[str], where: str) -> None:
    if not names:
        raise ClassFileError(f"{where}: no class")
    bad = [n for n in names if not n.strip()]
    if bad:
        raise ClassFileError(f"{where}: an empty class name")
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise ClassFileError(f"{where}: class {n!r} is listed twice")
        seen.add(n)


def read_templates(path: str | os.PathLike) -> tuple[str, ...]:
    """Templates, one a line, each with exactly one ``{}`` for the class phrase."""
    path = Path(path)
    templates = tuple(x for x in _lines(read_text(path)) if x)
    if not templates:
        raise ClassFileError(f"{path}: no template")
    for i, t in enumerate(templates, 1):
        if t.count("{}") != 1 or t.replace("{}", "").count("{") or t.replace("{}", "").count("}"):
            raise ClassFileError(f"{path}: template {i} {t!r} must hold exactly one {{}} and no other braces")
    return templates


def classes_json(classes: Mapping[str, str | list[str] | dict]) -> str:
    """A dataset's ``classes.json`` text: ``{class: phrase}``, ``{class: [prompt, ...]}`` or ``{class:
    {"phrase" | "prompts": ..., "descriptions": [...]}}``, sorted by class."""
    return json.dumps(dict(sorted(classes.items())), indent=1, ensure_ascii=False) + "\n"


def parse_class_names(text: str, where: str) -> list[str]:
    """Comma-separated class names (``--unseen jog_in_place,kick``), unique and non-empty."""
    names = [x.strip() for x in text.split(",") if x.strip()]
    _check_names(names, where)
    return names


def class_entry(c: ClassPrompts) -> str | list[str] | dict:
    """``c`` as its ``classes.json`` value (``read_classes`` reads it back to an equal ``ClassPrompts``,
    ``bare`` aside)."""
    name = list(c.prompts) if c.prompts else None if c.bare else c.phrase
    if not c.descriptions:
        return name if name is not None else c.name
    key = "prompts" if c.prompts else "phrase"
    return {**({key: name} if name is not None else {}), "descriptions": list(c.descriptions)}


def read_unseen(root: str | os.PathLike | None) -> list[str]:
    """The unseen classes a dataset records (``unseen.txt``), or none."""
    if root is None or not (Path(root) / UNSEEN).is_file():
        return []
    return [x for x in _lines(read_text(Path(root) / UNSEEN)) if x]
