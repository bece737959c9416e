"""Tokenizers and language detection."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import judgekit
from judgekit.text.lang import detect_language
from judgekit.text.tokenize import make_tokenizer

MIXED = "我用GPT-4写了3.5个版本的code，效果 very good!\n“没事的”……😊 ＯＫ１２３"


@pytest.mark.parametrize("texts,lang", [
    (["我理解你现在的感受。"], "zh"),
    (["I understand how you feel."], "en"),
    (["我用GPT-4写了代码，效果很好"], "zh"),
    (["My friend 小明 said hello"], "en"),
    (["123 !!!", "😊"], "zh"),
])
def test_detect_language(texts, lang):
    assert detect_language(texts) == lang


def test_auto_language_recorded_in_signature():
    r = judgekit.evaluate(["I understand how you feel."], ["It sounds hard."])
    assert r.signature["lang"] == "en(auto)" and "13a" in r.signature["tok"]
    r = judgekit.evaluate(["我理解"], ["我明白"], lang="zh")
    assert r.signature["lang"] == "zh" and r.signature["tok"].startswith("jieba-0.42.1+dict.")


@pytest.mark.parametrize("kind", ["zh", "13a", "intl", "char"])
def test_sacrebleu_tokenizers_equal_sacrebleu(kind):
    from sacrebleu.metrics.bleu import _get_tokenizer

    tok = make_tokenizer(kind) if kind != "char" else None
    ref = _get_tokenizer(kind)()
    if tok is None:
        assert make_tokenizer("char", whitespace="drop").tokenize(MIXED) == ref(MIXED.rstrip()).split()
    else:
        assert tok.tokenize(MIXED) == ref(MIXED.rstrip()).split()


def test_whitespace_policies_are_explicit():
    assert make_tokenizer("char", whitespace="keep").tokenize("a b\n") == ["a", " ", "b", "\n"]
    assert make_tokenizer("char", whitespace="drop").tokenize("a b\n") == ["a", "b"]
    import jieba

    keep = make_tokenizer("jieba", whitespace="keep").tokenize(MIXED)
    assert keep == list(jieba.cut(MIXED))
    assert make_tokenizer("jieba", whitespace="drop").tokenize(MIXED) == [t for t in keep if not t.isspace()]
    assert "ws.keep" in make_tokenizer("jieba", whitespace="keep").signature()


def test_normalization():
    tok = make_tokenizer("char", normalize="nfkc+lower")
    assert tok.tokenize("ＯＫ１２３") == list("ok123")
    assert tok.signature().endswith("+norm.nfkc+lower")
    with pytest.raises(judgekit.InputError, match="unknown normalization"):
        make_tokenizer("char", normalize="nfd")


def test_hmm_flag_changes_segmentation_and_signature():
    on = make_tokenizer("jieba", hmm=True)
    off = make_tokenizer("jieba", hmm=False)
    import jieba

    text = "他来到了网易杭研大厦"
    assert on.tokenize(text) == list(jieba.cut(text))
    assert off.tokenize(text) == list(jieba.cut(text, HMM=False))
    assert "hmm.on" in on.signature() and "hmm.off" in off.signature()


def test_missing_user_dictionary_is_named():
    with pytest.raises(judgekit.InputError, match=r"user dictionary '.*nope.txt' does not exist"):
        judgekit.evaluate(["你好"], ["你好"], user_dicts=["nope.txt"])


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text(alphabet="我你好的了abc 。\n", max_size=12), min_size=1, max_size=8))
def test_tokenize_many_equals_one_by_one_and_shares_duplicates(texts):
    tok = make_tokenizer("jieba", whitespace="keep")
    many = tok.tokenize_many(texts)
    assert many == [tok.tokenize(t) for t in texts]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.one_of(st.characters(max_codepoint=0x7F), st.characters(min_codepoint=0x2000, max_codepoint=0x2B00),
                                  st.characters(min_codepoint=0x3000, max_codepoint=0xFFEF),
                                  st.characters(min_codepoint=0x20000, max_codepoint=0x2FA1F)), max_size=40))
def test_fast_sacrebleu_tokenizers_equal_sacrebleu(text):
    from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a
    from sacrebleu.tokenizers.tokenizer_zh import TokenizerZh

    assert make_tokenizer("zh").tokenize(text) == TokenizerZh()(text.rstrip()).split()
    assert make_tokenizer("13a").tokenize(text) == Tokenizer13a()(text.rstrip()).split()
