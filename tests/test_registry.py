"""A metric family of one's own: one file (``tests/example_metric.py``) and
one registration line, then ``evaluate`` computes it, streams it, runs it in
parallel and significance-tests it without any other change."""
from __future__ import annotations

import json
from pathlib import Path

import jieba
import numpy as np
import pytest

import judgekit
from judgekit.errors import InputError
from judgekit.ngram import register_metric, registered_metrics, unregister_metric
from judgekit.report import bootstrap_ci, paired_bootstrap, paired_randomization
from tests.example_metric import TokenOverlap



EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "smilechat-100.jsonl"


@pytest.fixture
def token_overlap():
    register_metric(TokenOverlap())  # the one registration line
    yield
    unregister_metric("token-overlap")


def _pairs(n=120):
    rows = [json.loads(line) for line in open(EXAMPLE, encoding="utf-8")]
    preds = [r["pred"] for r in rows][:n]
    refs = [r["ref"] for r in rows][:n]
    return preds, refs


def _by_hand(preds, refs):
    """The metric straight from jieba's tokens (whitespace dropped, as the
    default suite does)."""
    toks = lambda t: [w for w in jieba.lcut(t) if w.strip()]  # noqa: E731
    m = TokenOverlap()
    stats = m.stats([toks(p) for p in preds], [[toks(r)] for r in refs])
    return m.sentence(stats), m.corpus(stats)


def test_registered_family_is_computed_like_a_built_in(token_overlap):
    preds, refs = _pairs()
    r = judgekit.evaluate(preds, refs, metrics=["bleu-4", "token-overlap"])
    sent, corp = _by_hand(preds, refs)
    assert set(r.scores) == {"bleu-4", "token-p", "token-r", "token-f"}
    for k in TokenOverlap.names:
        assert r.scores[k] == corp[k] * 100
        np.testing.assert_array_equal(r.per_item[k].to_numpy(), sent[k] * 100)
    assert r.signature["token-overlap"] == "clip.best-ref,agg.corpus-sum"
    assert judgekit.evaluate(preds, refs, metrics=["token-f"], scale=1).scores == {"token-f": corp["token-f"]}
    # not asked for: the default suite and its signature are unchanged
    assert "token-f" not in judgekit.evaluate(preds, refs).scores


def test_streamed_and_parallel_runs_equal_one_call(token_overlap, tmp_path):
    preds, refs = _pairs()
    one = judgekit.evaluate(preds, refs, metrics=["token-overlap", "bleu"])
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps({"id": i, "pred": p, "ref": r}, ensure_ascii=False) + "\n"
                            for i, (p, r) in enumerate(zip(preds, refs))), encoding="utf-8")
    streamed = judgekit.evaluate_file(path, chunk_size=7, metrics=["token-overlap", "bleu"])
    assert streamed.scores == one.scores
    threads = judgekit.evaluate(preds, refs, metrics=["token-overlap", "bleu"], n_jobs=2)  # the id path
    assert threads.scores == one.scores
    chars = judgekit.evaluate(preds, refs, metrics=["token-overlap"], tokenizer="char")
    processes = judgekit.evaluate(preds, refs, metrics=["token-overlap"], tokenizer="char", n_jobs=2)
    assert processes.scores == chars.scores
    for k in TokenOverlap.names:
        np.testing.assert_array_equal(processes.per_item[k].to_numpy(), chars.per_item[k].to_numpy())


def test_resampled_scores_equal_scoring_the_resample(token_overlap):
    preds, refs = _pairs(60)
    r = judgekit.evaluate(preds, refs, metrics=["token-overlap", "bleu"])
    idx = np.random.default_rng(7).choice(len(preds), size=len(preds))
    again = judgekit.evaluate([preds[i] for i in idx], [refs[i] for i in idx], metrics=["token-overlap", "bleu"])
    assert r.resample(idx) == {k: again.scores[k] for k in r.resampled}
    assert {"token-f", "bleu-4"} <= set(r.resampled)


def test_paired_tests_and_intervals_cover_it(token_overlap):
    preds, refs = _pairs(60)
    a = judgekit.evaluate(preds, refs, metrics=["token-overlap"])
    b = judgekit.evaluate([p[: len(p) // 2] for p in preds], refs, metrics=["token-overlap"])
    bs = paired_bootstrap(a, b, n_bootstrap=200)
    ar = paired_randomization(a, b, n_randomization=200)
    assert set(bs) == set(ar) == set(TokenOverlap.names)
    assert bs["token-r"].delta < 0 and bs["token-r"].p_value < 0.05 and ar["token-r"].p_value < 0.05
    lo, hi = bootstrap_ci(a, n_bootstrap=200)["token-f"]
    assert lo <= a.scores["token-f"] <= hi


def test_registration_checks_the_protocol(token_overlap):
    assert "token-overlap" in registered_metrics()

    class NotAMetric:
        family = "x"

    with pytest.raises(InputError, match="does not follow"):
        register_metric(NotAMetric())

    class Clash(TokenOverlap):
        family = "bleu"

    with pytest.raises(InputError, match="built in"):
        register_metric(Clash())

    class SameNames(TokenOverlap):
        family = "other"

    with pytest.raises(InputError, match="already belong"):
        register_metric(SameNames())
    with pytest.raises(InputError, match="unknown metric 'token-q'"):
        judgekit.evaluate(["a"], ["a"], metrics=["token-q"])
