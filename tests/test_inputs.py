"""Inputs validated before anything is scored (issue 18, items 2 and 5)."""
from __future__ import annotations

import collections

import pytest

from judgekit import evaluate
from judgekit.errors import InputError

pd = pytest.importorskip("pandas")

TEXTS = ["the cat sat on the mat", "a dog ran in the park", "birds sing at dawn", "rain falls on the roof"]


@pytest.mark.parametrize("make", [set, frozenset, lambda t: dict.fromkeys(t), lambda t: collections.Counter(t),
                                  lambda t: {k: k for k in t}.keys(), lambda t: pd.DataFrame({"x": t})])
@pytest.mark.parametrize("side", ["preds", "refs"])
def test_unordered_or_keyed_containers_are_refused(make, side):
    bad = make(TEXTS)
    args = (bad, TEXTS) if side == "preds" else (TEXTS, bad)
    with pytest.raises(InputError, match=rf"{side} is .*(no order|keyed).*list"):
        evaluate(*args, metrics=["bleu"])


def test_two_series_are_aligned_by_label():
    preds = pd.Series(TEXTS, index=["a", "b", "c", "d"])
    refs = pd.Series(TEXTS[::-1], index=["d", "c", "b", "a"])
    r = evaluate(preds, refs, metrics=["bleu"])
    assert r.scores["bleu-4"] == pytest.approx(100.0)
    assert list(r.per_item.index) == ["a", "b", "c", "d"]
    same = evaluate(TEXTS, TEXTS, metrics=["bleu"])
    assert r.scores == same.scores


def test_two_series_with_different_labels_are_refused():
    preds = pd.Series(TEXTS, index=["a", "b", "c", "d"])
    refs = pd.Series(TEXTS, index=["a", "b", "c", "e"])
    with pytest.raises(InputError, match=r"labels.*'d'.*'e'"):
        evaluate(preds, refs, metrics=["bleu"])


def test_a_series_with_a_list_stays_positional():
    preds = pd.Series(TEXTS, index=[3, 2, 1, 0])
    r = evaluate(preds, TEXTS, metrics=["bleu"])
    assert r.scores["bleu-4"] == pytest.approx(100.0)
    assert list(r.per_item.index) == [3, 2, 1, 0]
    r = evaluate(TEXTS, pd.Series(TEXTS, index=[3, 2, 1, 0]), metrics=["bleu"])
    assert r.scores["bleu-4"] == pytest.approx(100.0)
