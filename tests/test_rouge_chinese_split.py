"""The regex-free rouge-chinese sentence split used by the presets equals
the exact regex replay on jieba tokens: real text and generated strings."""
from __future__ import annotations

import gzip
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from judgekit.ngram.rouge import rouge_chinese_words, rouge_chinese_words_of_jieba
from judgekit.text.tokenize import make_tokenizer
from tests.conftest import require_data

TOK = make_tokenizer("jieba", whitespace="keep")
EDGE = ["第一句话。\n\n第二句！”他说。", "......好", "好......！", "“没事的”……", "。", "  ", "？？", "a。\r\n",
        "他说：“好。”然后", "……”x", "嗯。’", "?? ?", "。 。", "", "\n", "...", "好的。。。！！？？"]


def rouge_chinese_itself(words):
    """The words rouge-chinese scores, from its own functions."""
    from rouge_chinese import Rouge
    from rouge_chinese.rouge_score import _split_into_words

    sents = [" ".join(s.split()) for s in Rouge().cut_sent(" ".join(words)) if len(s) > 0]
    return _split_into_words(sents) if sents else None


def test_edge_cases_against_rouge_chinese_itself():
    for t in EDGE:
        words = TOK.tokenize(t)
        expected = rouge_chinese_itself(words)
        assert rouge_chinese_words(words) == expected, t
        assert rouge_chinese_words_of_jieba(words) == expected, t


def test_smilechat_texts():
    rows = [json.loads(l) for l in gzip.open(require_data("smilechat-zh", "pairs.jsonl.gz"), "rt", encoding="utf-8")]
    texts = [r["pred"] for r in rows[:3000]] + [r["ref"] for r in rows[:3000]]
    for t in texts:
        words = TOK.tokenize(t)
        assert rouge_chinese_words_of_jieba(words) == rouge_chinese_words(words) == rouge_chinese_itself(words)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=list("我你好的了是。！？?…”’“‘，. \n\r\tabc12"), max_size=30))
def test_generated(text):
    words = TOK.tokenize(text)
    assert rouge_chinese_words_of_jieba(words) == rouge_chinese_words(words) == rouge_chinese_itself(words)
