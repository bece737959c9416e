"""``judgekit.Signature``: one type for every signature, printed as before,
nested without clashing names, read back from both forms, and compared on
what changes numbers (the segmenter backend is provenance)."""
from __future__ import annotations

import json
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

import judgekit
from judgekit.signature import Signature

PREDS = ["我理解你现在的感受，失恋确实很痛苦，你愿意和我多说说吗？", "好的，谢谢你。"]
REFS = ["听起来你现在很难过，失恋的痛苦是真实的，可以和我聊聊发生了什么吗？", "好的"]

keys = st.text("abcdefghijklmnopqrstuvwxyz0123456789_.-+()", min_size=1, max_size=8)
values = st.text(st.characters(blacklist_characters="\n\r", blacklist_categories=("Cs",)), max_size=20)
# plain nested dicts, made Signatures inside the tests (a str subclass
# drawn by hypothesis would be interned among its string choices)
trees = st.recursive(st.dictionaries(keys, values, max_size=4),
                     lambda inner: st.dictionaries(keys, st.one_of(values, inner), max_size=4), max_leaves=12)


@given(trees)
def test_short_and_long_forms_read_back(tree):
    sig = Signature(tree)
    again = Signature.parse(str(sig))
    assert again == sig and again.to_dict() == sig.to_dict()
    if sig.parts:
        assert Signature.parse(sig.long()).to_dict() == sig.to_dict()


@given(trees)
def test_pickle_and_json_keep_the_text(tree):
    sig = Signature(tree)
    assert pickle.loads(pickle.dumps(sig)).to_dict() == sig.to_dict()
    assert json.loads(json.dumps(sig)) == str(sig)


def test_evaluate_signature_prints_as_before_and_has_structure():
    r = judgekit.evaluate(PREDS, REFS)
    sig = r.signature
    assert isinstance(sig, Signature) and isinstance(sig, str)
    assert str(sig).startswith("judgekit:" + judgekit.__version__ + "|preset:default|lang:zh(auto)|tok:jieba-0.42.1+")
    assert sig["lang"] == "zh(auto)" and sig.has("bleu") and not sig.has("judge")
    assert Signature.parse(str(sig)) == sig and Signature.parse(sig.long()) == sig
    assert r.to_dict()["signature_fields"]["scale"] == "100"


def test_nested_parts_do_not_clash():
    judge = Signature([("model", "gpt-4o-mini"), ("rubric", "empathy-3pt@2+abc"), ("lang", "en")])
    sig = Signature([("judgekit", "0.1.0"), ("lang", "zh"), ("judge", judge)])
    assert str(sig) == "judgekit:0.1.0|lang:zh|judge:[model:gpt-4o-mini|rubric:empathy-3pt@2+abc|lang:en]"
    assert sig["judge"]["lang"] == "en" and sig["lang"] == "zh"
    assert Signature.parse(str(sig))["judge"]["model"] == "gpt-4o-mini"
    assert "  model: gpt-4o-mini" in sig.long()


def test_values_with_brackets_and_bars_read_back():
    sig = Signature({"tok": "rouge-score-default(lower,[a-z0-9])", "extra": '{"stop":["|","]"]}', "x": "[lead"})
    assert "tok:rouge-score-default(lower,[a-z0-9])" in str(sig)  # balanced: printed verbatim
    assert Signature.parse(str(sig)).to_dict() == sig.to_dict()


def test_provenance_is_not_a_difference():
    c = Signature({"tok": "jieba-0.42.1+dict.98d9+hmm.on+seg.c+ws.drop+norm.none", "scale": "100"})
    py = Signature({"tok": "jieba-0.42.1+dict.98d9+hmm.on+seg.py+ws.drop+norm.none", "scale": "100"})
    keep = Signature({"tok": "jieba-0.42.1+dict.98d9+hmm.on+seg.c+ws.keep+norm.none", "scale": "100"})
    assert c != py and c.same_numbers(py) and py.same_numbers(str(c)) and c.differences(py) == []
    assert not c.same_numbers(keep)
    assert c.differences(keep) == ["tok: jieba-0.42.1+dict.98d9+hmm.on+ws.drop+norm.none != "
                                   "jieba-0.42.1+dict.98d9+hmm.on+ws.keep+norm.none"]
    assert Signature({"a": "1"}).differences({"a": "1", "b": "2"}) == ["b: (absent) != 2"]


def test_the_two_segmenter_paths_sign_the_same_numbers(monkeypatch):
    from judgekit.text import segment

    native = judgekit.evaluate(PREDS, REFS)
    if "seg.c" not in str(native.signature):
        pytest.skip("the compiled segmenter is not built here")
    monkeypatch.setenv("JUDGEKIT_NO_NATIVE", "1")
    segment.get_segmenter.cache_clear() if hasattr(segment.get_segmenter, "cache_clear") else None
    from judgekit.text.tokenize import clear_cache

    clear_cache()
    fallback = judgekit.evaluate(PREDS, REFS)
    if "seg.py" not in str(fallback.signature):
        pytest.skip("the segmenter backend is chosen once per process here")
    assert native.scores == fallback.scores and native.signature.same_numbers(fallback.signature)


def test_bad_signatures_are_errors():
    with pytest.raises(ValueError, match="no ':'"):
        Signature.parse("judgekit:0.1|oops")
    with pytest.raises(ValueError, match="not closed"):
        Signature.parse("judge:[model:m")
    with pytest.raises(ValueError, match="given twice"):
        Signature([("a", "1"), ("a", "2")])
    with pytest.raises(ValueError, match="key"):
        Signature({"a:b": "1"})
