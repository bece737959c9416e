"""judge_items: the released items as judge inputs, keyed by the rating
tables' item ids, in the matching built-in rubric's input fields."""
from __future__ import annotations

import csv
import shutil
import warnings
from pathlib import Path

import pytest

from judgekit.errors import InputError
from judgekit.human import JudgeItems, judge_items, load_ratings
from judgekit.judge import load_rubric
from judgekit.judge.render import render_messages
from tests.conftest import require_data

WELIVITA = Path(__file__).parent / "fixtures" / "human" / "welivita_synthetic.csv"
KUMAR = {"empatheticdialogues": "empatheticdialogues-eval", "epitome": "epitome", "lend_an_ear": "lend-an-ear"}


def _rating_ids(table, framework: str) -> list[str]:
    return list(dict.fromkeys(table.loc[table["framework"] == framework, "item"].astype(str)))


def _check_inputs(s: JudgeItems) -> None:
    """Every required input of the rubric is present and non-empty; nothing
    but id, the rubric's inputs and response_length."""
    rubric = load_rubric(s.rubric)
    names = {i.name for i in rubric.inputs}
    for it in s.items:
        assert set(it) <= names | {"id", "response_length"}, it.keys()
        assert isinstance(it["id"], str) and it["id"]
        for name in rubric.required_inputs:
            value = it[name]
            if isinstance(value, list):
                assert value and all(t["content"].strip() and t["role"] in ("user", "assistant") for t in value)
            else:
                assert isinstance(value, str) and value.strip(), (it["id"], name)
        assert isinstance(it["response_length"], int) and it["response_length"] > 0, it["id"]


@pytest.fixture(scope="module")
def kumar():
    require_data("kumar2025-empathic-communication")
    return {s.framework: s for s in judge_items("kumar2025")}


def test_kumar_ids_equal_the_rating_tables(kumar):
    table = load_ratings("kumar2025")
    assert set(kumar) == set(KUMAR)  # perceived_empathy: no released conversations
    for fw, s in kumar.items():
        assert (s.dataset, s.framework, s.rubric) == ("kumar2025", fw, KUMAR[fw])
        ids = [it["id"] for it in s.items]
        assert len(ids) == 50 and ids == _rating_ids(table, fw), fw
        _check_inputs(s)
    assert any("perceived_empathy" in n and "not released" in n for n in kumar["empatheticdialogues"].notes)


def test_kumar_one_framework(kumar):
    (s,) = judge_items("kumar2025", "lend_an_ear")
    assert s.items == kumar["lend_an_ear"].items
    assert not any("perceived_empathy" in n for n in s.notes)


def test_kumar_dialogues_are_turns_with_supporter_length(kumar):
    base = require_data("kumar2025-empathic-communication", "original_data")
    with open(base / "sample_lend_an_ear_conversations.csv", newline="", encoding="utf-8") as fh:
        raw = {r["conversation_id"]: r["full_conversation"] for r in csv.DictReader(fh)}
    for fw in ("empatheticdialogues", "lend_an_ear"):
        for it in kumar[fw].items:
            turns = it["dialogue"]
            assert turns[0]["role"] == "user" and any(t["role"] == "assistant" for t in turns)
            for t in turns:  # every 'Seeker:' / 'Supporter:' label became a turn
                assert not any(ln.lstrip().startswith(("Seeker:", "Supporter:")) for ln in t["content"].split("\n"))
                assert "_comma_" not in t["content"]
            assert it["response_length"] == sum(len(t["content"]) for t in turns if t["role"] == "assistant")
    it = kumar["lend_an_ear"].items[0]
    n_labels = sum(ln.lstrip().startswith(("Seeker:", "Supporter:")) for ln in raw[it["id"]].split("\n"))
    assert len(it["dialogue"]) == n_labels
    assert any("_comma_" in n for n in kumar["empatheticdialogues"].notes)


def test_kumar_epitome_texts(kumar):
    base = require_data("kumar2025-empathic-communication", "original_data")
    with open(base / "sample_epitome.csv", newline="", encoding="utf-8") as fh:
        rows = {r["sp_id"]: r for r in csv.DictReader(fh)}
    for it in kumar["epitome"].items:
        assert it["context"] == rows[it["id"]]["seeker_post"].strip()
        assert it["response"] == rows[it["id"]]["response_post"].strip()
        assert it["response_length"] == len(it["response"])


@pytest.mark.parametrize("framework", list(KUMAR))
def test_rendered_prompt_holds_the_conversation(kumar, framework):
    s = kumar[framework]
    rubric = load_rubric(s.rubric)
    it = s.items[0]
    for lang, sup in (("en", "Supporter: "), ("zh", "支持者：")):
        user = render_messages(rubric, it, lang)[1]["content"]
        if framework == "epitome":
            assert it["context"] in user and it["response"] in user
        else:
            for t in it["dialogue"]:
                assert t["content"].split("\n")[0] in user
            reply = next(t for t in it["dialogue"] if t["role"] == "assistant")
            assert sup + reply["content"].split("\n")[0] in user


def test_epitome_reddit_items():
    require_data("epitome-reddit")
    (s,) = judge_items("epitome")
    assert (s.dataset, s.framework, s.rubric) == ("epitome", "epitome", "epitome")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = load_ratings("epitome")
    ids = [it["id"] for it in s.items]
    assert ids == _rating_ids(table, "epitome")
    assert len(ids) == len(set(ids)) == 3084 - 61  # a pair repeated in the files is one item
    _check_inputs(s)
    user = render_messages(load_rubric("epitome"), s.items[0])[1]["content"]
    assert s.items[0]["response"] in user and s.items[0]["context"] in user
    assert s.notes


def test_welivita_synthetic_ids_and_fields():
    (s,) = judge_items("welivita2024", path=WELIVITA)
    assert (s.dataset, s.framework, s.rubric) == ("welivita2024", "welivita2024", "empathy-3pt")
    table = load_ratings("welivita2024", path=WELIVITA)
    ids = [it["id"] for it in s.items]
    assert sorted(ids) == sorted(_rating_ids(table, "welivita2024")) and len(ids) == 192 * 5
    _check_inputs(s)
    it = next(i for i in s.items if i["id"] == "hit:9000_conv:18000/gpt4")
    assert it["response"] == "synthetic gpt4 response to dialogue 0"
    assert it["context"] == "synthetic situation 0 (proud)\n\nsynthetic speaker utterance 0"
    assert it["emotion"] == "proud" and it["response_length"] == len(it["response"])
    user = render_messages(load_rubric("empathy-3pt"), it)[1]["content"]
    assert it["response"] in user and "synthetic speaker utterance 0" in user and "proud" in user


def test_welivita_from_data_dir_and_empty_response_noted(tmp_path):
    (tmp_path / "welivita2024").mkdir()
    with open(WELIVITA, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    rows[3]["response_chatgpt"] = "  "
    with open(tmp_path / "welivita2024" / "dataset_and_ratings.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    (s,) = judge_items("welivita2024", data_dir=tmp_path)
    gone = f"{rows[3]['dialog_id']}/chatgpt"
    assert len(s.items) == 192 * 5 - 1 and gone not in {it["id"] for it in s.items}
    assert any(gone in n and "empty response" in n for n in s.notes), s.notes


def test_welivita_needs_a_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        judge_items("welivita2024", path=tmp_path / "nope.csv")
    shutil.copy(WELIVITA, tmp_path / "x.csv")
    with pytest.raises(InputError, match="one framework"):
        judge_items("welivita2024", "empathy", path=tmp_path / "x.csv")


def test_mentalalign_stays_judge_vs_judge():
    with pytest.raises(InputError, match="no response texts.*judge-vs-judge"):
        judge_items("mentalalign")


def test_perceived_empathy_and_other_errors():
    with pytest.raises(InputError, match="perceived_empathy.*not released"):
        judge_items("kumar2025", "perceived_empathy")
    with pytest.raises(InputError, match="unknown kumar2025 framework 'nope'"):
        judge_items("kumar2025", "nope")
    with pytest.raises(InputError, match="unknown dataset"):
        judge_items("soulchat")
    with pytest.raises(InputError, match="path= is only for welivita2024"):
        judge_items("kumar2025", path=WELIVITA)
