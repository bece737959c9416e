"""Differential tests: every preset equals its reference pipeline, run live
(nltk, rouge-chinese, rouge-score, sacreBLEU as test extras), on the golden
edge cases, on SmileChat pairs, and against the recorded golden values."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

import judgekit
from tests import oracles
from tests.conftest import require_data

GOLDEN = json.loads((Path(__file__).parent / "fixtures" / "golden_examples.json").read_text(encoding="utf-8"))
PAIRS = [(p["id"], p["pred"], p["ref"]) for p in GOLDEN["pairs"]]
NONEMPTY = [p for p in PAIRS if p[1].strip() and p[2].strip()]


def max_diff(ours: dict, ref: dict, keys) -> float:
    return max(abs(ours[k] - ref[k]) for k in keys)


@pytest.mark.parametrize("pid,pred,ref", NONEMPTY, ids=[p[0] for p in NONEMPTY])
def test_chatglm_equals_pipeline_on_golden_cases(pid, pred, ref):
    ours = judgekit.evaluate([pred], [ref], preset="chatglm").scores
    assert ours == oracles.chatglm([pred], [ref])
    assert ours == GOLDEN["expected"][pid]["chatglm"] | {"bleu-4": GOLDEN["expected"][pid]["llamafactory"]["bleu-4"]}


@pytest.mark.parametrize("pid,pred,ref", PAIRS, ids=[p[0] for p in PAIRS])
def test_llamafactory_equals_pipeline_on_golden_cases(pid, pred, ref):
    ours = judgekit.evaluate([pred], [ref], preset="llamafactory").scores
    assert ours == oracles.chatglm([pred], [ref], guard=True)
    assert ours == GOLDEN["expected"][pid]["llamafactory"]


@pytest.mark.parametrize("pid,pred,ref", NONEMPTY, ids=[p[0] for p in NONEMPTY])
def test_glm4_equals_pipeline_on_golden_cases(pid, pred, ref):
    ours = judgekit.evaluate([pred], [ref], preset="glm4").scores
    assert ours == oracles.glm4([pred], [ref])
    assert ours["bleu-4"] * 100 == pytest.approx(GOLDEN["expected"][pid]["glm4-bleu-4-x100"]["bleu-4"], rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("tokenize", ["zh", "char", "13a", "intl"])
@pytest.mark.parametrize("pid,pred,ref", PAIRS, ids=[p[0] for p in PAIRS])
def test_sacrebleu_equals_sacrebleu(pid, pred, ref, tokenize):
    ours = judgekit.evaluate([pred], [ref], preset="sacrebleu", tokenizer=tokenize).scores
    assert ours == oracles.sacrebleu_corpus([pred], [[ref]], tokenize)
    if tokenize in ("zh", "char"):
        assert ours["bleu-4"] == GOLDEN["expected"][pid][f"sacrebleu-{tokenize}"]["bleu-4"]


@pytest.mark.parametrize("pid,pred,ref", PAIRS, ids=[p[0] for p in PAIRS])
def test_rouge_score_equals_rouge_score(pid, pred, ref):
    ours = judgekit.evaluate([pred], [ref], preset="rouge-score", tokenizer="jieba").scores
    theirs = oracles.rouge_score_mean([pred], [[ref]], oracles.jieba_tokens)
    assert ours == theirs
    # rouge-score's own tokenizer (English default of the preset)
    own = judgekit.evaluate([pred], [ref], preset="rouge-score", tokenizer="default").scores
    assert own == oracles.rouge_score_mean([pred], [[ref]])
    gold = GOLDEN["expected"][pid]["rouge-score-jieba-x100"]
    assert ours["rouge-l"] * 100 == pytest.approx(gold["rougeL"], rel=1e-12, abs=1e-12)


def test_empty_items_flagged_and_strict_raises():
    preds = ["", "   ", "你好"]
    refs = ["你好", "你好", ""]
    r = judgekit.evaluate(preds, refs, preset="chatglm")
    assert r.scores == oracles.chatglm(preds, refs, guard=True)
    assert r.per_item["empty_pred"].tolist() == [True, True, False]
    assert r.per_item["empty_ref"].tolist() == [False, False, True]
    assert any("would raise" in w for w in r.warnings)
    with pytest.raises(judgekit.InputError, match=r"Hypothesis is empty.*0, 1, 2"):
        judgekit.evaluate(preds, refs, preset="chatglm", strict=True)
    with pytest.raises(judgekit.InputError, match="strict"):
        judgekit.evaluate(preds, refs, strict=True)


def test_corpus_level_matches_pipelines_on_golden_corpus():
    good = [p for p in PAIRS if p[0] in {"zh_typical", "zh_identical", "zh_short_3char", "zh_repeat", "zh_no_overlap",
                                          "mixed_zh_en_digits", "decimal_point", "emoji", "fullwidth",
                                          "quotes_ellipsis", "multi_sentence_newline"}]
    preds, refs = [p[1] for p in good], [p[2] for p in good]
    assert judgekit.evaluate(preds, refs, preset="chatglm").scores == oracles.chatglm(preds, refs)
    assert judgekit.evaluate(preds, refs, preset="glm4").scores == oracles.glm4(preds, refs)
    assert judgekit.evaluate(preds, refs, preset="sacrebleu").scores == oracles.sacrebleu_corpus(preds, [[r] for r in refs])


def test_multi_reference_presets():
    preds = [m["pred"] for m in GOLDEN["multi_ref"]]
    refs = [m["refs"] for m in GOLDEN["multi_ref"]]
    sb = judgekit.evaluate(preds, refs, preset="sacrebleu").scores
    assert sb == oracles.sacrebleu_corpus(preds, refs)
    assert sb == GOLDEN["multi_ref_expected"]["sacrebleu zh corpus (refs=2)"]
    rs = judgekit.evaluate(preds, refs, preset="rouge-score").scores
    assert rs == oracles.rouge_score_mean(preds, refs, oracles.jieba_tokens)
    with pytest.raises(judgekit.InputError, match="one reference per item.*item 0 has 2"):
        judgekit.evaluate(preds, refs, preset="chatglm")


# --------------------------------------------------------------------------
# SmileChat: 20,000 real Chinese counselling reply pairs (CC0)
# --------------------------------------------------------------------------
def _smile(n=None):
    path = require_data("smilechat-zh", "pairs.jsonl.gz")
    rows = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            rows.append(json.loads(line))
            if n is not None and len(rows) >= n:
                break
    return [r["pred"] for r in rows], [r["ref"] for r in rows]


def _compare_all_presets(preds, refs):
    report = {}
    ours = judgekit.evaluate(preds, refs, preset="chatglm").scores
    theirs = oracles.chatglm(preds, refs)
    report["chatglm"] = max_diff(ours, theirs, theirs)
    assert ours == theirs
    assert judgekit.evaluate(preds, refs, preset="llamafactory").scores == theirs
    ours, theirs = judgekit.evaluate(preds, refs, preset="glm4").scores, oracles.glm4(preds, refs)
    report["glm4"] = max_diff(ours, theirs, theirs)
    assert ours == theirs
    for tok in ("zh", "char", "13a"):
        ours = judgekit.evaluate(preds, refs, preset="sacrebleu", tokenizer=tok).scores
        theirs = oracles.sacrebleu_corpus(preds, [[r] for r in refs], tok)
        report[f"sacrebleu-{tok}"] = max_diff(ours, theirs, theirs)
        assert ours == theirs
    ours = judgekit.evaluate(preds, refs, preset="rouge-score").scores
    theirs = oracles.rouge_score_mean(preds, [[r] for r in refs], oracles.jieba_tokens)
    report["rouge-score"] = max_diff(ours, theirs, theirs)
    assert ours == theirs
    return report


def test_presets_equal_pipelines_on_smilechat_sample():
    preds, refs = _smile(300)
    _compare_all_presets(preds, refs)


@pytest.mark.slow
def test_presets_equal_pipelines_on_all_20000_smilechat_pairs():
    preds, refs = _smile()
    assert len(preds) == 20000
    report = _compare_all_presets(preds, refs)
    print("\nlargest difference from the reference pipeline, 20,000 SmileChat pairs:")
    for k, v in report.items():
        print(f"  {k:<14} {v:.3g}")
