"""Invariants of the metrics, checked with hypothesis on generated text that
mixes Chinese, ASCII words, digits, punctuation, emoji and whitespace."""
from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import judgekit
from judgekit.ngram._stats import lcs_length

ALPHABET = list("我你他的是不了在有人这中大为上个国说们到也就时要会可以心情难过开朗痛苦理解")
ALPHABET += list("abcxyz0123456789") + [" ", "，", "。", "！", "？", "…", "😊", "\n", ".", "-"]
text = st.text(alphabet=ALPHABET, min_size=0, max_size=40)
nonblank = text.filter(lambda s: s.strip() != "")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _dp_lcs(a, b):
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, 1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 5), max_size=80), st.lists(st.integers(0, 5), max_size=80))
def test_lcs_equals_dynamic_programming_and_is_symmetric(a, b):
    assert lcs_length(a, b) == _dp_lcs(a, b) == lcs_length(b, a)


@SETTINGS
@given(nonblank)
def test_identical_text_scores_the_maximum(s):
    r = judgekit.evaluate([s], [s], lang="zh")
    for k in ("bleu-1", "bleu-2", "bleu-3", "bleu-4", "rouge-1", "rouge-l"):
        assert r.scores[k] == pytest.approx(100.0, abs=1e-9), k
    for preset in ("chatglm", "llamafactory"):
        v = judgekit.evaluate([s], [s], preset=preset).scores
        assert v["rouge-1"] == pytest.approx(100.0, abs=1e-4) and v["rouge-l"] == pytest.approx(100.0, abs=1e-4)


@SETTINGS
@given(st.lists(st.tuples(text, text), min_size=1, max_size=6))
def test_every_score_in_range(pairs):
    preds, refs = [p for p, _ in pairs], [r for _, r in pairs]
    r = judgekit.evaluate(preds, refs, lang="zh")
    for k, v in r.scores.items():
        if k.startswith("len-"):
            assert v >= 0
        else:
            assert 0.0 <= v <= 100.0 + 1e-9, (k, v)
    for preset in ("llamafactory", "sacrebleu", "rouge-score"):
        hi = 1.0 if preset == "rouge-score" else 100.0
        for k, v in judgekit.evaluate(preds, refs, preset=preset).scores.items():
            assert 0.0 <= v <= hi + 1e-9, (preset, k, v)


@SETTINGS
@given(text, text, st.sampled_from(["counts", "sets"]))
def test_rouge_f_is_symmetric(a, b, counting):
    ab = judgekit.evaluate([a], [b], lang="zh", metrics=["rouge"], rouge_counting=counting).scores
    ba = judgekit.evaluate([b], [a], lang="zh", metrics=["rouge"], rouge_counting=counting).scores
    for t in ("1", "2", "l"):
        assert ab[f"rouge-{t}"] == pytest.approx(ba[f"rouge-{t}"], abs=1e-12)
        assert ab[f"rouge-{t}-p"] == pytest.approx(ba[f"rouge-{t}-r"], abs=1e-12)


@SETTINGS
@given(st.lists(st.tuples(text, text), min_size=2, max_size=6), st.randoms(use_true_random=False))
def test_corpus_metrics_invariant_to_item_order(pairs, rnd):
    shuffled = list(pairs)
    rnd.shuffle(shuffled)
    a = judgekit.evaluate([p for p, _ in pairs], [r for _, r in pairs], lang="zh")
    b = judgekit.evaluate([p for p, _ in shuffled], [r for _, r in shuffled], lang="zh")
    for k in a.scores:
        if k.startswith(("bleu", "distinct", "len-ratio")):
            assert a.scores[k] == b.scores[k], k  # integer sums: exactly equal
        else:
            assert a.scores[k] == pytest.approx(b.scores[k], rel=1e-12, abs=1e-12), k
    sb = judgekit.evaluate([p for p, _ in pairs], [r for _, r in pairs], preset="sacrebleu").scores
    assert sb == judgekit.evaluate([p for p, _ in shuffled], [r for _, r in shuffled], preset="sacrebleu").scores


@SETTINGS
@given(st.lists(st.tuples(text, text), min_size=1, max_size=5))
def test_duplicating_the_corpus_keeps_unsmoothed_corpus_bleu(pairs):
    # Only without smoothing: 'exp' smoothing depends on the absolute n-gram
    # totals (100 / (2^k * total)), so it changes when the corpus doubles.
    preds, refs = [p for p, _ in pairs], [r for _, r in pairs]
    a = judgekit.evaluate(preds, refs, lang="zh", metrics=["bleu"], smoothing="none").scores
    b = judgekit.evaluate(preds * 2, refs * 2, lang="zh", metrics=["bleu"], smoothing="none").scores
    for k in a:
        assert a[k] == pytest.approx(b[k], rel=1e-12, abs=1e-12)


@SETTINGS
@given(text, text)
def test_adding_a_reference_never_lowers_sentence_rouge(pred, ref):
    one = judgekit.evaluate([pred], [[ref]], lang="zh", metrics=["rouge"]).scores
    two = judgekit.evaluate([pred], [[ref, pred + "。"]], lang="zh", metrics=["rouge"]).scores
    for t in ("1", "2", "l"):
        assert two[f"rouge-{t}"] >= one[f"rouge-{t}"] - 1e-12


def test_scale_one_is_scale_hundred_divided():
    random.seed(0)
    a = judgekit.evaluate(["我很难过", "今天开心"], ["我很伤心", "今天很开心"], scale=100).scores
    b = judgekit.evaluate(["我很难过", "今天开心"], ["我很伤心", "今天很开心"], scale=1).scores
    for k in a:
        if not k.startswith("len-"):
            assert a[k] == pytest.approx(b[k] * 100, rel=1e-12)
