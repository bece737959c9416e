"""Differential tests of judgekit's configurable BLEU and ROUGE against the
libraries that define them: nltk (method1/method3, sentence and corpus,
cumulative and individual), sacreBLEU (none/exp/floor/add-k, effective
order, sentence and corpus), rouge-score (clipped counts) and rouge-chinese
(n-gram sets)."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

import judgekit
from judgekit.ngram.bleu import CUMULATIVE_WEIGHTS, INDIVIDUAL_WEIGHTS
from tests import oracles
from tests.conftest import require_data

GOLDEN = json.loads((Path(__file__).parent / "fixtures" / "golden_examples.json").read_text(encoding="utf-8"))
PAIRS = [(p["pred"], p["ref"]) for p in GOLDEN["pairs"]]
PREDS = [p for p, _ in PAIRS]
REFS = [r for _, r in PAIRS]
MULTI_P = [m["pred"] for m in GOLDEN["multi_ref"]]
MULTI_R = [m["refs"] for m in GOLDEN["multi_ref"]]


def smile(n):
    path = require_data("smilechat-zh", "pairs.jsonl.gz")
    rows = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            rows.append(json.loads(line))
            if len(rows) >= n:
                break
    return [r["pred"] for r in rows], [r["ref"] for r in rows]


@pytest.mark.parametrize("smoothing", ["method1", "method3"])
def test_nltk_sentence_mean_golden(smoothing):
    r = judgekit.evaluate(PREDS, REFS, tokenizer="char", whitespace="keep", smoothing=smoothing,
                          aggregate="mean", scale=1, metrics=["bleu"])
    hyps = [list(p) for p in PREDS]
    refs = [[list(x)] for x in REFS]
    mean, rows = oracles.nltk_sentence_mean(hyps, refs, CUMULATIVE_WEIGHTS + INDIVIDUAL_WEIGHTS, smoothing)
    for n in range(1, 5):
        assert r.per_item[f"bleu-{n}"].tolist() == [float(row[n - 1]) for row in rows]
        assert r.per_item[f"bleu-{n}-ind"].tolist() == [float(row[n + 3]) for row in rows]
        assert r.scores[f"bleu-{n}"] == pytest.approx(mean[n - 1], rel=1e-15, abs=0)


@pytest.mark.parametrize("smoothing", ["method1", "method3"])
@pytest.mark.parametrize("multi", [False, True])
def test_nltk_corpus(smoothing, multi):
    preds, refs = (MULTI_P, MULTI_R) if multi else (PREDS, [[x] for x in REFS])
    r = judgekit.evaluate(preds, refs, tokenizer="char", whitespace="keep", smoothing=smoothing,
                          aggregate="corpus", scale=1, metrics=["bleu"])
    theirs = oracles.nltk_corpus([list(p) for p in preds], [[list(x) for x in rs] for rs in refs],
                                 CUMULATIVE_WEIGHTS + INDIVIDUAL_WEIGHTS, smoothing)
    for n in range(1, 5):
        assert r.scores[f"bleu-{n}"] == theirs[n - 1]
        assert r.scores[f"bleu-{n}-ind"] == theirs[n + 3]


@pytest.mark.parametrize("smooth", ["none", "exp", "floor", "add-k"])
@pytest.mark.parametrize("eff", [False, True])
@pytest.mark.parametrize("multi", [False, True])
def test_sacrebleu_corpus_every_smoothing(smooth, eff, multi):
    from sacrebleu.metrics import BLEU

    preds, refs = (MULTI_P, MULTI_R) if multi else (PREDS, [[x] for x in REFS])
    r = judgekit.evaluate(preds, refs, tokenizer="zh", smoothing=smooth, effective_order=eff, metrics=["bleu"])
    nref = max(map(len, refs))
    streams = [[rs[i] if i < len(rs) else None for rs in refs] for i in range(nref)]
    for n in range(1, 5):
        s = BLEU(tokenize="zh", max_ngram_order=n, smooth_method=smooth, effective_order=eff).corpus_score(preds, streams)
        assert r.scores[f"bleu-{n}"] == s.score
    full = BLEU(tokenize="zh", smooth_method=smooth).corpus_score(preds, streams)
    for n in range(1, 5):
        # individual BLEU-n = BP * p_n (sacreBLEU reports both parts)
        expected = full.bp * full.precisions[n - 1]
        assert r.scores[f"bleu-{n}-ind"] == pytest.approx(expected, rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("smooth", ["exp", "floor", "add-k", "none"])
def test_sacrebleu_sentence_mean(smooth):
    from sacrebleu.metrics import BLEU

    r = judgekit.evaluate(PREDS, REFS, tokenizer="zh", smoothing=smooth, aggregate="mean", metrics=["bleu"])
    for n in range(1, 5):
        m = BLEU(tokenize="zh", max_ngram_order=n, smooth_method=smooth, effective_order=True)
        per = [m.sentence_score(p, [x]).score for p, x in zip(PREDS, REFS)]
        assert r.per_item[f"bleu-{n}"].tolist() == per


def test_rouge_counts_equals_rouge_score_with_same_tokens():
    preds, refs = smile(300)
    r = judgekit.evaluate(preds, refs, tokenizer="jieba", whitespace="drop", scale=1, metrics=["rouge"])
    tok = lambda t: [w for w in oracles.jieba_tokens(t) if not w.isspace()]  # noqa: E731
    theirs = oracles.rouge_score_mean(preds, [[x] for x in refs], tok)
    assert r.scores == theirs


def test_rouge_sets_equals_rouge_chinese_with_same_tokens():
    preds, refs = smile(300)
    r = judgekit.evaluate(preds, refs, tokenizer="jieba", whitespace="drop", scale=1, rouge_counting="sets",
                          metrics=["rouge"])
    tok = lambda t: [w for w in oracles.jieba_tokens(t) if not w.isspace()]  # noqa: E731
    for i, (p, x) in enumerate(zip(preds, refs)):
        theirs = oracles.rouge_chinese_scores(tok(p), tok(x))
        for t in ("1", "2", "l"):
            assert r.per_item[f"rouge-{t}"].iloc[i] == theirs[f"rouge-{t}"]["f"]
            assert r.per_item[f"rouge-{t}-p"].iloc[i] == theirs[f"rouge-{t}"]["p"]
            assert r.per_item[f"rouge-{t}-r"].iloc[i] == theirs[f"rouge-{t}"]["r"]


def test_rouge_multi_reference_takes_best_f_like_score_multi():
    tok = lambda t: [w for w in oracles.jieba_tokens(t) if not w.isspace()]  # noqa: E731
    r = judgekit.evaluate(MULTI_P, MULTI_R, tokenizer="jieba", scale=1, metrics=["rouge"])
    assert r.scores == oracles.rouge_score_mean(MULTI_P, MULTI_R, tok)


def test_sacrebleu_char_equals_char_tokenizer_dropping_whitespace():
    a = judgekit.evaluate(PREDS, REFS, preset="sacrebleu", tokenizer="char").scores
    b = judgekit.evaluate(PREDS, REFS, tokenizer="char", whitespace="drop", effective_order=False,
                          metrics=["bleu-1", "bleu-2", "bleu-3", "bleu-4"]).scores
    assert a == b


def test_default_suite_identical_short_text_is_100():
    r = judgekit.evaluate(["嗯", "我爱你"], ["嗯", "我爱你"])
    for k in ("bleu-1", "bleu-2", "bleu-3", "bleu-4", "rouge-1", "rouge-l"):
        assert r.scores[k] == pytest.approx(100.0, abs=1e-9), k
    assert r.per_item["bleu-4"].tolist() == pytest.approx([100.0, 100.0])


def test_user_dictionary_changes_segmentation(tmp_path):
    d = tmp_path / "user.txt"
    d.write_text("失恋痛苦 100 n\n", encoding="utf-8")
    plain = judgekit.evaluate(["失恋痛苦"], ["失恋很痛苦"], metrics=["length"])
    custom = judgekit.evaluate(["失恋痛苦"], ["失恋很痛苦"], metrics=["length"], user_dicts=[str(d)])
    assert plain.scores["len-pred"] == 2 and custom.scores["len-pred"] == 1
    assert str(plain.signature) != str(custom.signature)
