"""``judge_items``: the released items of a rating set as judge inputs.

Each item carries the rating table's item id, the input fields of the
matching built-in rubric and ``response_length`` (characters of the judged
response text), so that judge scores join ``load_ratings(name)`` by id.

Which column feeds which rubric input is read from the rubric's
``human_ratings`` block, one entry per rating set::

    human_ratings:
      kumar2025:                  # the name load_ratings takes
        framework: lend_an_ear    # the framework in its rating table
        ratings: kumar2025-empathic-communication/annotations/lend_an_ear
        texts: kumar2025-empathic-communication/original_data/sample_lend_an_ear_conversations.csv
        key: conversation_id      # or a list, joined with '/' into the item id
        inputs: {dialogue: full_conversation}

Paths are relative to the data directory.  An input's source is a column, a
list of columns (joined with a blank line) or a column name holding
``{system}``: one item per system of the file (``response_<s>`` /
``rating_<s>`` pairs), id ``<key>/<s>``.  :func:`human_sources` checks the
block strictly; errors name the rubric file and the field.

A ``dialogue`` input read from text such as ``Seeker: ... / Supporter: ...``
(the rubric's English role labels) becomes a list of ``{"role", "content"}``
turns, so that it renders with the rubric's role labels in every language
and a line inside a turn cannot pass for another speaker's line.
"""
from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .._settings import data_dir as _data_dir
from ..errors import InputError
from .datasets import DATASETS

SYSTEM = "{system}"
_FIELDS = ("framework", "ratings", "texts", "key", "inputs")


@dataclass(frozen=True)
class JudgeItems:
    """The judge inputs of one framework of a rating set.

    ``items``: dicts with ``id`` (the rating table's item id), the rubric's
    input fields and ``response_length`` (characters of the judged text: the
    response, or the Supporter's turns of a dialogue).  ``notes``: what is
    left out or changed, in words.
    """

    dataset: str
    framework: str
    rubric: str
    items: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class Source:
    """One checked entry of a rubric's ``human_ratings`` block."""

    dataset: str
    framework: str
    ratings: str
    texts: str
    key: tuple[str, ...]
    inputs: Mapping[str, tuple[str, ...]]

    @property
    def per_system(self) -> bool:
        return any(SYSTEM in c for cols in self.inputs.values() for c in cols)


def human_sources(rubric: Any) -> dict[str, Source]:
    """The rubric's ``human_ratings`` block, checked: rating-set name -> Source.

    Raises InputError naming the rubric file and the field for an unknown
    rating set or field, a missing field, a non-string column, an input the
    rubric does not have or a required input left unmapped.
    """
    origin = rubric.path or rubric.id

    def fail(where: str, message: str) -> InputError:
        return InputError(f"rubric {origin}: field 'human_ratings.{where}': {message}")

    def string(value: Any, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise fail(where, "must be a non-empty string")
        return value.strip()

    def strings(value: Any, where: str) -> tuple[str, ...]:
        if isinstance(value, list):
            if not value:
                raise fail(where, "must not be an empty list")
            return tuple(string(v, f"{where}[{i}]") for i, v in enumerate(value))
        return (string(value, where),)

    block = rubric.human_ratings or {}
    names = {i.name for i in rubric.inputs}
    out: dict[str, Source] = {}
    for dataset, entry in block.items():
        if dataset not in DATASETS:
            raise fail(str(dataset), f"unknown rating set (one of {list(DATASETS)}, the names load_ratings takes)")
        if not isinstance(entry, Mapping):
            raise fail(dataset, f"must be a mapping with {list(_FIELDS)}, got {type(entry).__name__}")
        extra = sorted(set(entry) - set(_FIELDS))
        if extra:
            raise fail(f"{dataset}.{extra[0]}", f"unknown field (allowed: {list(_FIELDS)})")
        for f in _FIELDS:
            if f not in entry:
                raise fail(f"{dataset}.{f}", "is required")
        texts = string(entry["texts"], f"{dataset}.texts")
        if Path(texts).is_absolute() or ".." in Path(texts).parts:
            raise fail(f"{dataset}.texts", "must be a path inside the data directory")
        inputs_raw = entry["inputs"]
        if not isinstance(inputs_raw, Mapping) or not inputs_raw:
            raise fail(f"{dataset}.inputs", "must be a non-empty mapping of rubric input -> column(s)")
        inputs: dict[str, tuple[str, ...]] = {}
        for name, cols in inputs_raw.items():
            if name not in names:
                raise fail(f"{dataset}.inputs.{name}", f"not an input of rubric {rubric.id} ({sorted(names)})")
            inputs[name] = strings(cols, f"{dataset}.inputs.{name}")
            for c in inputs[name]:
                if "{" in c.replace(SYSTEM, "") or "}" in c.replace(SYSTEM, ""):
                    raise fail(f"{dataset}.inputs.{name}", f"{c!r}: the only placeholder is {SYSTEM}")
        unmapped = [i for i in rubric.required_inputs if i not in inputs]
        if unmapped:
            raise fail(f"{dataset}.inputs", f"required input(s) {unmapped} of rubric {rubric.id} not mapped")
        out[dataset] = Source(dataset, string(entry["framework"], f"{dataset}.framework"),
                              string(entry["ratings"], f"{dataset}.ratings"), texts,
                              strings(entry["key"], f"{dataset}.key"), inputs)
    return out


def _builtin_sources() -> list[tuple[Any, Source]]:
    from ..judge import list_rubrics

    return [(r, s) for r in list_rubrics() for s in human_sources(r).values()]


def _rubric_for(dataset: str, framework: str) -> tuple[Any, Source] | None:
    hits = [(r, s) for r, s in _builtin_sources() if s.dataset == dataset and s.framework == framework]
    if len(hits) > 1:
        raise InputError(f"{dataset}/{framework}: several built-in rubrics claim it "
                         f"({[r.id for r, _ in hits]}); keep one human_ratings entry")
    return hits[0] if hits else None


def judge_items(name: str, framework: str | None = None, *, data_dir: str | os.PathLike[str] | None = None,
                path: str | os.PathLike[str] | None = None) -> list[JudgeItems]:
    """The released items of rating set ``name`` as judge inputs, one
    :class:`JudgeItems` per framework (``framework=`` picks one).

    ``name``: 'kumar2025' (empatheticdialogues, epitome, lend_an_ear;
    perceived_empathy's conversations are not released), 'epitome' (the
    Reddit set), 'welivita2024' (``path=`` to your copy, as for
    ``load_ratings``).  'mentalalign' releases no response texts and raises.
    Ids are the rating table's item ids; an item without usable text is
    left out and named in ``notes``.
    """
    if name not in DATASETS:
        raise InputError(f"unknown dataset {name!r}; choose from {list(DATASETS)}")
    if path is not None and name != "welivita2024":
        raise InputError(f"judge_items({name!r}): path= is only for welivita2024 (your copy of its file)")
    if name == "mentalalign":
        raise InputError("mentalalign releases no response texts (MentalBench-100k's responses are not in the "
                         "release), so its items cannot be judged: it stays a judge-vs-judge set "
                         "(compare the released LLM judges with the human scores)")
    if name == "kumar2025":
        from ._load_kumar import FRAMEWORKS

        if framework == "perceived_empathy":
            raise InputError("kumar2025 framework 'perceived_empathy': its conversations are not released "
                             "(only the ratings are), so there is nothing to judge; use empatheticdialogues, "
                             "epitome or lend_an_ear")
        if framework is not None and framework not in FRAMEWORKS:
            raise InputError(f"unknown kumar2025 framework {framework!r}; choose from "
                             f"{[f for f in FRAMEWORKS if f != 'perceived_empathy']}")
        frameworks = [framework] if framework else [f for f in FRAMEWORKS if f != "perceived_empathy"]
        skipped = [] if framework else ["kumar2025 perceived_empathy: not judged, its conversations are not "
                                        "released (only the ratings are)"]
    else:
        if framework is not None and framework != name:
            raise InputError(f"{name} has one framework, {name!r}, not {framework!r}")
        frameworks, skipped = [name], []
    out = []
    for fw in frameworks:
        found = _rubric_for(name, fw)
        if found is None:  # pragma: no cover - every framework above has a built-in rubric
            raise InputError(f"{name}/{fw}: no built-in rubric names it in its human_ratings block")
        rubric, source = found
        out.append(_build(name, rubric, source, data_dir, path))
    if skipped and out:
        out[0] = JudgeItems(out[0].dataset, out[0].framework, out[0].rubric, out[0].items,
                            [*skipped, *out[0].notes])
    return out


# -- building -------------------------------------------------------------------
def _build(name: str, rubric: Any, source: Source, data_dir: Any, path: Any) -> JudgeItems:
    notes: list[str] = []
    if name == "welivita2024":
        from ._load_welivita import WELIVITA_FILE, read_welivita, systems_of, to_table

        if path is None:
            root = _data_dir(data_dir)
            if source.texts != WELIVITA_FILE:  # pragma: no cover - the rubric block names the loader's file
                raise InputError(f"rubric {rubric.id}: welivita2024 texts {source.texts!r} is not the file "
                                 f"load_ratings reads ({WELIVITA_FILE})")
            path = root / source.texts
        df = read_welivita(path)
        table = to_table(df)
        systems = systems_of(df)
        records = [(f"{path}, data row {i + 1}", {k: ("" if v is None else v) for k, v in row.items()})
                   for i, row in enumerate(df.to_dict(orient="records"))]
        shown = str(path)
    else:
        root = _data_dir(data_dir)
        table = _ratings(name, source.framework, root)
        systems = []
        file = root / source.texts
        if not file.is_file():
            raise InputError(f"{source.texts} not found under the data directory {str(root)!r} "
                             f"(named by rubric {rubric.id}'s human_ratings.{name}.texts)")
        from ..io import read_records

        records = list(read_records(file, id_fields=source.key))
        shown = source.texts
    if source.per_system and not systems:  # pragma: no cover - only welivita has systems
        raise InputError(f"rubric {rubric.id}: {SYSTEM} in human_ratings.{name} but {shown} has no systems")
    wanted = list(dict.fromkeys(table.loc[table["framework"] == source.framework, "item"].astype(str)))
    rows = _rows(records, source, systems, shown)
    decode = _DECODE.get((name, source.framework))
    if decode is not None:
        notes.append(decode[1])
    kinds = {i.name: i.kind for i in rubric.inputs}
    required = set(rubric.required_inputs)
    roles = {rubric.roles["user"]["en"]: "user", rubric.roles["assistant"]["en"]: "assistant"}
    items, empty, unparsed = [], [], 0
    for item_id in wanted:
        row = rows.get(item_id)
        if row is None:
            continue
        where, values = row
        item: dict[str, Any] = {"id": item_id}
        length = None
        missing = []
        for inp, text in values.items():
            if decode is not None:
                text = decode[0](text)
            text = text.strip()
            if not text:
                if inp in required:
                    missing.append(inp)
                continue
            if kinds[inp] == "dialogue":
                turns = _turns(text, roles)
                if turns is None:
                    unparsed += 1
                    item[inp] = text
                    length = len(text) if length is None else length
                else:
                    item[inp] = turns
                    length = sum(len(t["content"]) for t in turns if t["role"] == "assistant")
            else:
                item[inp] = text
                if inp == "response":
                    length = len(text)
        if missing:
            empty.append(f"{item_id} ({where}: empty {', '.join(missing)})")
            continue
        item["response_length"] = length
        items.append(item)
    absent = [i for i in wanted if i not in rows]
    extra = [i for i in rows if i not in set(wanted)]
    if absent:
        notes.append(f"{len(absent)} rated item(s) have no text in {shown}, left out: {absent[:5]}"
                     + (" ..." if len(absent) > 5 else ""))
    if empty:
        notes.append(f"{len(empty)} item(s) with an empty required input, left out: {empty[:5]}"
                     + (" ..." if len(empty) > 5 else ""))
    if extra:
        notes.append(f"{len(extra)} text row(s) of {shown} have no rating, not judged: {extra[:5]}"
                     + (" ..." if len(extra) > 5 else ""))
    if unparsed:
        notes.append(f"{unparsed} dialogue(s) are not 'Seeker: ... / Supporter: ...' text: passed as "
                     "preformatted text, response_length = the whole text")
    notes += _EXTRA_NOTES.get((name, source.framework), [])
    return JudgeItems(name, source.framework, rubric.id, items, notes)


def _ratings(name: str, framework: str, root: Path) -> Any:
    """The rating table's items come from the loader itself (its id logic)."""
    from .datasets import load_ratings

    if name == "kumar2025":
        return load_ratings(name, data_dir=root, framework=framework)
    with warnings.catch_warnings():  # the loader's data issues concern ratings, not texts
        warnings.simplefilter("ignore")
        return load_ratings(name, data_dir=root)


def _rows(records: list, source: Source, systems: list[str], shown: str) -> dict[str, tuple[str, dict[str, str]]]:
    """item id -> (file:line, {input: text}); a repeated key keeps its first
    row when the texts agree and raises naming both lines when not."""
    out: dict[str, tuple[str, dict[str, str]]] = {}
    for where, rec in records:
        for col in source.key:
            if col not in rec:
                raise InputError(f"{where}: no key column {col!r} (columns: {sorted(rec)})")
        base = "/".join(str(rec[c]) for c in source.key)
        for system in (systems if source.per_system else [None]):
            item_id = base if system is None else f"{base}/{system}"
            values = {}
            for inp, cols in source.inputs.items():
                parts = []
                for col in cols:
                    col = col if system is None else col.replace(SYSTEM, system)
                    if col not in rec:
                        raise InputError(f"{where}: no column {col!r} for input {inp!r} (columns: {sorted(rec)})")
                    v = rec[col]
                    parts.append("" if v is None else str(v).strip())
                values[inp] = "\n\n".join(p for p in parts if p)
            if item_id in out:
                if out[item_id][1] != values:
                    raise InputError(f"{shown}: item {item_id!r} has different texts at {out[item_id][0]} and {where}")
                continue
            out[item_id] = (where, values)
    return out


def _turns(text: str, roles: Mapping[str, str]) -> list[dict[str, str]] | None:
    """'Seeker: ...' / 'Supporter: ...' lines as turns; lines without a label
    continue the turn before.  None when the text does not start with a label."""
    label = re.compile(r"^\s*(" + "|".join(re.escape(r) for r in roles) + r")\s*:\s?(.*)$")
    turns: list[dict[str, str]] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        m = label.match(line)
        if m:
            turns.append({"role": roles[m.group(1)], "content": m.group(2)})
        elif turns:
            turns[-1]["content"] += "\n" + line
        elif line.strip():
            return None
    out = []
    for t in turns:
        content = "\n".join(ln.strip() for ln in t["content"].strip().split("\n"))
        content = re.sub(r"\n{3,}", "\n\n", content)
        if content:
            out.append({"role": t["role"], "content": content})
    return out or None


# (dataset, framework) -> (text fix, note)
_DECODE = {
    ("kumar2025", "empatheticdialogues"): (
        lambda s: s.replace("_comma_", ","),
        "EmpatheticDialogues writes commas as '_comma_' in its text: shown to the judge as ','"),
}
_EXTRA_NOTES = {
    ("epitome", "epitome"): [
        "texts from emotional-reactions-reddit.csv; the interpretations and explorations files hold the same "
        "pairs with a few texts differing (mostly in whitespace)",
        "a (seeker post, response) pair repeated in the files is one item (its texts are the same)",
    ],
    ("kumar2025", "epitome"): ["items are keyed by sp_id, as in the Kumar rating files"],
}
