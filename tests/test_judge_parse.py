"""The tolerant parser: reads what servers send, never invents a score."""
from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from judgekit.judge import load_rubric
from judgekit.judge.parse import expected_scores, parse_reply

E3 = load_rubric("empathy-3pt")
SOUL = load_rubric("soulchat-cehs")
EPI = load_rubric("epitome")
ED = load_rubric("empatheticdialogues-eval")


@pytest.mark.parametrize("text, value", [
    ('{"empathy": 3}', 3),
    ('```json\n{"empathy": 1}\n```', 1),
    ('Here is my rating:\n```\n{"empathy": 2}\n```\nThanks', 2),
    ("评分：２", 2),
    ("评分：二", 2),
    ("得分: 1", 1),
    ("Rating: Good", 3),
    ("**Score:** Okay", 2),
    ("差", 1),
    ("2", 2),
    ('{"score": "1"}', 1),
    ('{"Empathy": 2.0}', 2),
    ("｛＂empathy＂：１｝", 1),
    ('The reply is warm. {"empathy": 2}', 2),
])
def test_reads_common_shapes(text, value):
    p = parse_reply(text, E3)
    assert p.ok, p.reason
    assert p.scores == {"empathy": value}


@pytest.mark.parametrize("text, why", [
    ('{"empathy": 4}', "off the scale"),
    ('{"empathy": 0}', "off the scale"),
    ('{"empathy": 1.5}', "off the scale"),
    ("Score: 7", "off the scale"),
    ('{"empathy": true}', "not a score"),
    ('{"empathy": "very"}', "not a score"),
    ('{"warmth": 2}', "missing"),
    ("score: 1 ... on reflection, score: 2", "ambiguous"),
    ('{"empathy": 1}\n{"empathy": 2}', "ambiguous"),
    ("I'm sorry, but I can't help with that.", "refusal"),
    ("抱歉，我无法评价这段内容。", "refusal"),
    ("", "empty reply"),
    ('{"empathy": ', "missing"),
])
def test_refuses_to_invent(text, why):
    p = parse_reply(text, E3)
    assert not p.ok and p.scores is None
    assert why in p.reason


def test_structured_refusal_and_truncation():
    assert parse_reply(None, E3, refusal="I can't do that").reason.startswith("refusal:")
    p = parse_reply('{"empathy": 1', E3, finish_reason="length")
    assert not p.ok and "truncated" in p.reason
    assert parse_reply('{"empathy": 1}', E3, finish_reason="length").scores == {"empathy": 1}


def test_multi_dimension_needs_every_dimension():
    ok = parse_reply('{"content": 2, "empathy": 1, "helpfulness": 0, "safety": 1}', SOUL)
    assert ok.scores == {"content": 2, "empathy": 1, "helpfulness": 0, "safety": 1}
    lines = parse_reply("content：2\nempathy: 1\nhelpfulness = 0\nsafety: 1", SOUL)
    assert lines.scores == {"content": 2, "empathy": 1, "helpfulness": 0, "safety": 1}
    part = parse_reply('{"content": 2, "empathy": 1, "safety": 1}', SOUL)
    assert not part.ok and "helpfulness: missing" in part.reason
    off = parse_reply('{"content": 2, "empathy": 1, "helpfulness": 0, "safety": 2}', SOUL)
    assert not off.ok and "safety" in off.reason


def test_epitome_aliases_without_level_prefix():
    p = parse_reply('{"emotional_reactions": 2, "interpretations": 0, "explorations": 1}', EPI)
    assert p.scores == {"level_emotional_reactions": 2, "level_interpretations": 0, "level_explorations": 1}


def _scores(rubric):
    return st.fixed_dictionaries({d.name: st.sampled_from(d.values) for d in rubric.dimensions})


@settings(max_examples=150, deadline=None)
@given(data=st.data(), fence=st.booleans(), full_width=st.booleans(), indent=st.sampled_from([None, 2]))
def test_any_valid_answer_round_trips(data, fence, full_width, indent):
    rubric = data.draw(st.sampled_from([E3, SOUL, EPI, ED]))
    scores = data.draw(_scores(rubric))
    text = json.dumps(scores, indent=indent)
    if full_width:
        text = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in text)
    if fence:
        text = f"Here you go:\n```json\n{text}\n```"
    assert parse_reply(text, rubric).scores == scores


@settings(max_examples=400, deadline=None)
@given(text=st.text(max_size=120))
def test_never_off_scale(text):
    """Whatever the text, the result is a full on-scale answer or unscored with a reason."""
    for rubric in (E3, SOUL):
        p = parse_reply(text, rubric)
        if p.ok:
            assert set(p.scores) == set(rubric.dimension_names)
            for d in rubric.dimensions:
                assert p.scores[d.name] in d.values
            assert p.reason is None
        else:
            assert p.scores is None and p.reason


def test_expected_scores_from_logprobs():
    toks = [
        {"token": '{"', "logprob": 0.0, "top_logprobs": []},
        {"token": 'empathy":', "logprob": 0.0, "top_logprobs": []},
        {"token": " ", "logprob": 0.0, "top_logprobs": []},
        {"token": "2", "logprob": math.log(0.6), "top_logprobs": [
            {"token": "2", "logprob": math.log(0.6)}, {"token": "1", "logprob": math.log(0.3)},
            {"token": "7", "logprob": math.log(0.05)}, {"token": "x", "logprob": math.log(0.05)}]},
        {"token": "}", "logprob": 0.0, "top_logprobs": []},
    ]
    got = expected_scores(toks, E3)
    assert got == {"empathy": pytest.approx((2 * 0.6 + 1 * 0.3) / 0.9, rel=1e-12)}
    assert expected_scores(None, E3) == {}


@pytest.mark.parametrize("text, why", [
    ('{"empathy": 1e309}', "not a finite number"),
    ('{"empathy": -1e309}', "not a finite number"),
    ('{"empathy": NaN}', "not a finite number"),
    ('{"empathy": Infinity}', "not a finite number"),
    ("score: 1e309", "unparseable"),
    ("[" * 100_000, "unparseable"),
    ('{"a": ' * 100_000, "unparseable"),
])
def test_non_finite_and_deeply_nested_replies_are_unscored(text, why):
    p = parse_reply(text, E3)
    assert not p.ok and why in p.reason, p.reason


@pytest.mark.parametrize("text", [
    "3/5", "Rating: 3/10", "3 out of 5", "Score: 2 out of 3", "Score: 2/3", "2/3", '{"empathy": "3/10"}',
    '{"empathy": "2/3"}', "**Rating:** 3 / 3", "empathy: 1 of 3", "Rating: 2 out of 3.",
])
def test_a_score_with_a_denominator_is_ambiguous(text):
    """"3/10" is not 3 on a 1-3 scale, and "2/3" may be two thirds: never read."""
    p = parse_reply(text, E3)
    assert not p.ok and "denominator" in p.reason, p.reason


@pytest.mark.parametrize("text", [
    '{"empathy": 2, "empathy": 3}',
    '{"Empathy": 1, "empathy": 3}',
    '{"empathy ": 1, "empathy": 3}',
    '```json\n{"empathy": 2, "empathy": 1}\n```',
    'My answer: {"score": 1, "score": 2}',
])
def test_duplicate_keys_that_disagree_are_ambiguous(text):
    p = parse_reply(text, E3)
    assert not p.ok and "ambiguous" in p.reason and "more than once" in p.reason, p.reason


def test_duplicate_keys_that_agree_are_read():
    assert parse_reply('{"empathy": 2, "empathy": 2}', E3).scores == {"empathy": 2}
    assert parse_reply('{"Empathy": 3, "empathy": 3}', E3).scores == {"empathy": 3}
    # a duplicate that is not a dimension does not matter
    assert parse_reply('{"empathy": 2, "why": "a", "why": "b"}', E3).scores == {"empathy": 2}


def test_parser_version_bumped_for_the_new_readings():
    from judgekit.judge.parse import PARSER_VERSION

    assert PARSER_VERSION == "2"
