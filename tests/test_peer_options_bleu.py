"""The BLEU options of sacreBLEU and nltk, each through its public judgekit
spelling, against the peer itself (issue 17): smoothing values, nltk
methods 0-7 with their parameters, any maximum order, arbitrary weights
and auto_reweigh, sufficient statistics out and BLEU from statistics.

Every comparison is exact (``==`` on floats): judgekit replays the peer's
float operations.  Each runs on the compiled path and with
``JUDGEKIT_NO_NATIVE=1`` (the ``path`` fixture), on the golden English
pairs and on real SmileChat Chinese pairs (characters, as nltk users
tokenize Chinese)."""
from __future__ import annotations

import gzip
import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import judgekit
from judgekit.errors import InputError
from judgekit.ngram import _stats as S
from judgekit.ngram import compute_bleu
from tests.conftest import require_data

sacrebleu = pytest.importorskip("sacrebleu")
nltk_bleu = pytest.importorskip("nltk.translate.bleu_score")
from sacrebleu.metrics.bleu import BLEU as SacreBLEU  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = json.loads((ROOT / "tests" / "fixtures" / "golden_examples.json").read_text(encoding="utf-8"))
EN_P = [p["pred"] for p in GOLDEN["pairs"]] + [m["pred"] for m in GOLDEN["multi_ref"]]
EN_R = [[p["ref"]] for p in GOLDEN["pairs"]] + [m["refs"] for m in GOLDEN["multi_ref"]]
# nltk's own doctest corpus, one hypothesis with three references, one with one
HYP1 = "It is a guide to action which ensures that the military always obeys the commands of the party"
REF1 = ["It is a guide to action that ensures that the military will forever heed Party commands",
        "It is the guiding principle which guarantees the military forces always being under the command of the Party",
        "It is the practical guide for the army always to heed the directions of the party"]
HYP2 = "he read the book because he was interested in world history"
REF2 = ["he was interested in world history because he read the book"]
DOC_P, DOC_R = [HYP1, HYP2], [REF1, REF2]

METHODS = ["method0", "method1", "method1:0.2", "method2", "method3", "method4", "method4:3", "method5",
           "method6", "method6:2", "method7", "method7:2.5"]
SACRE = ["none", "exp", "floor", "floor:0.5", "floor:0.01", "add-k", "add-k:2", "add-k:0.5"]


def _have_native() -> bool:
    import importlib.util

    return importlib.util.find_spec("judgekit._ckernels") is not None


@pytest.fixture(params=["compiled", "python"])
def path(request, monkeypatch):
    """Both paths: the compiled kernels and JUDGEKIT_NO_NATIVE=1."""
    if request.param == "compiled":
        if not _have_native():
            pytest.skip("judgekit._ckernels is not built")
        monkeypatch.delenv(S.NO_NATIVE_ENV, raising=False)
    else:
        monkeypatch.setenv(S.NO_NATIVE_ENV, "1")
    return request.param


def smile(n: int):
    f = require_data("smilechat-zh", "pairs.jsonl.gz")
    rows = []
    with gzip.open(f, "rt", encoding="utf-8") as fh:
        for line in fh:
            rows.append(json.loads(line))
            if len(rows) >= n:
                break
    return [r["pred"] for r in rows], [[r["ref"]] for r in rows]


def nltk_sf(spec: str):
    """SmoothingFunction method for a judgekit spelling 'methodN[:value]'."""
    name, _, raw = spec.partition(":")
    kw = {}
    if raw:
        value = int(raw) if raw.isdigit() else float(raw)
        kw = {"method1": {"epsilon": value}, "method4": {"k": value}, "method7": {"k": value},
              "method6": {"alpha": value}}[name]
    return getattr(nltk_bleu.SmoothingFunction(**kw), name)


def quiet_nltk(fn, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # method0 warns about zero counts
        return fn(*a, **k)


# ---------------------------------------------------------------------------
# sacreBLEU: smoothing values, any max order, effective order, corpus/sentence
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("smoothing", SACRE)
@pytest.mark.parametrize("order", [1, 2, 4, 5, 6])
@pytest.mark.parametrize("eff", [False, True])
def test_sacrebleu_corpus_and_sentence(path, smoothing, order, eff):
    name, _, raw = smoothing.partition(":")
    sv = (int(raw) if raw.isdigit() else float(raw)) if raw else None
    peer = SacreBLEU(tokenize="13a", smooth_method=name, smooth_value=sv, max_ngram_order=order, effective_order=eff)
    r = judgekit.evaluate(EN_P, EN_R, lang="en", tokenizer="13a", metrics=["bleu"], smoothing=smoothing,
                          bleu_order=order, effective_order=eff)
    refs_t = [list(x) for x in zip(*EN_R)] if all(len(x) == len(EN_R[0]) for x in EN_R) else None
    if refs_t is not None:
        assert r.scores[f"bleu-{order}"] == peer.corpus_score(EN_P, refs_t).score
    # sentence BLEU per item (sacreBLEU's sentence_score, the same settings)
    for i, (h, rs) in enumerate(zip(EN_P, EN_R)):
        assert r.per_item[f"bleu-{order}"].iloc[i] == peer.sentence_score(h, rs).score, i
    assert f"smooth.{name}" in str(r.signature) and (sv is None or f"-{sv}" in str(r.signature))
    assert (f"order.{order}" in str(r.signature)) == (order != 4)


def test_sacrebleu_multi_reference_corpus(path):
    """Several references per item (the same number each, as sacreBLEU takes them)."""
    preds = [HYP1, HYP2]
    refs = [REF1, REF2 * 3]
    for smoothing, order in [("floor:0.3", 5), ("add-k:3", 3), ("none", 4)]:
        name, _, raw = smoothing.partition(":")
        peer = SacreBLEU(tokenize="13a", smooth_method=name, smooth_value=float(raw) if raw else None,
                         max_ngram_order=order)
        r = judgekit.evaluate(preds, refs, lang="en", tokenizer="13a", metrics=[f"bleu-{order}"],
                              smoothing=smoothing, bleu_order=order, effective_order=False)
        assert r.scores[f"bleu-{order}"] == peer.corpus_score(preds, [list(x) for x in zip(*refs)]).score


def test_sacrebleu_on_chinese(path):
    """Real SmileChat pairs with sacreBLEU's zh tokenizer and lowercase."""
    preds, refs = smile(300)
    flat = [r[0] for r in refs]
    for smoothing, order in [("floor:0.5", 4), ("add-k:2", 6), ("exp", 2)]:
        name, _, raw = smoothing.partition(":")
        peer = SacreBLEU(tokenize="zh", smooth_method=name, smooth_value=float(raw) if raw else None,
                         max_ngram_order=order, lowercase=True)
        r = judgekit.evaluate(preds, refs, lang="zh", tokenizer="zh", normalize="lower", metrics=[f"bleu-{order}"],
                              smoothing=smoothing, bleu_order=order, effective_order=False)
        assert r.scores[f"bleu-{order}"] == peer.corpus_score(preds, [flat]).score


@pytest.mark.parametrize("peer_tok,tok", [("13a", "13a"), ("intl", "intl"), ("char", "char"), ("zh", "zh"),
                                          ("none", "whitespace")])
def test_sacrebleu_tokenizers(path, peer_tok, tok):
    """sacreBLEU's tokenize= through judgekit's tokenizer=, on English and on
    real Chinese, with a smoothing value and order 5."""
    preds, refs = smile(120)
    preds, flat = preds + EN_P[:8], [r[0] for r in refs] + [x[0] for x in EN_R[:8]]
    peer = SacreBLEU(tokenize=peer_tok, smooth_method="add-k", smooth_value=2, max_ngram_order=5)
    r = judgekit.evaluate(preds, flat, lang="zh", tokenizer=tok, smoothing="add-k:2", bleu_order=5,
                          effective_order=False, metrics=["bleu-5"])
    assert r.scores["bleu-5"] == peer.corpus_score(preds, [flat]).score


def test_sacrebleu_tokenizer_none_is_whitespace(path):
    peer = SacreBLEU(tokenize="none", smooth_method="floor", smooth_value=0.2)
    r = judgekit.evaluate(EN_P[:8], [x[:1] for x in EN_R[:8]], lang="en", tokenizer="whitespace",
                          smoothing="floor:0.2", effective_order=False, metrics=["bleu-4"])
    assert r.scores["bleu-4"] == peer.corpus_score(EN_P[:8], [[x[0] for x in EN_R[:8]]]).score


# ---------------------------------------------------------------------------
# sufficient statistics out, BLEU from statistics
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("order", [4, 6])
def test_statistics_out_equal_sacrebleu(path, order):
    peer = SacreBLEU(tokenize="13a", max_ngram_order=order)
    r = judgekit.evaluate(EN_P, EN_R, lang="en", tokenizer="13a", metrics=["bleu"], bleu_order=order)
    st_items = r.bleu_stats()
    for i, (h, rs) in enumerate(zip(EN_P, EN_R)):
        s = peer.sentence_score(h, rs)
        assert st_items["counts"][i][:order].tolist() == s.counts
        assert st_items["totals"][i][:order].tolist() == s.totals
        assert (st_items["sys_len"][i], st_items["ref_len"][i]) == (s.sys_len, s.ref_len)
    one = [x[0] for x in EN_R]
    c = SacreBLEU(tokenize="13a", max_ngram_order=order).corpus_score(EN_P, [one])
    rc = judgekit.evaluate(EN_P, one, lang="en", tokenizer="13a", metrics=["bleu"], bleu_order=order,
                           effective_order=False)
    corpus = rc.bleu_stats(corpus=True)
    assert corpus["counts"][:order] == c.counts and corpus["totals"][:order] == c.totals
    assert (corpus["sys_len"], corpus["ref_len"]) == (c.sys_len, c.ref_len)
    # and back: BLEU from those statistics is sacreBLEU's
    b = compute_bleu(corpus["counts"], corpus["totals"], corpus["sys_len"], corpus["ref_len"], "exp", max_order=order)
    assert b.score == c.score == rc.scores[f"bleu-{order}"]
    assert b.precisions == c.precisions and b.bp == c.bp and b.ratio == c.ratio


stats_rows = st.integers(1, 7).flatmap(lambda n: st.tuples(
    st.just(n),
    st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), min_size=n, max_size=n),
    st.integers(0, 80), st.integers(0, 80)))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stats_rows, st.sampled_from(SACRE), st.booleans())
def test_compute_bleu_equals_sacrebleu(row, smoothing, eff):
    n, pairs, sys_len, ref_len = row
    correct = [min(a, b) for a, b in pairs]
    total = [max(a, b) for a, b in pairs]
    name, _, raw = smoothing.partition(":")
    sv = (int(raw) if raw.isdigit() else float(raw)) if raw else None
    try:
        want = SacreBLEU.compute_bleu(list(correct), list(total), sys_len, ref_len, name, sv, eff, n)
    except ZeroDivisionError:  # sys_len 0 with a match: impossible from real text
        return
    got = compute_bleu(correct, total, sys_len, ref_len, smoothing, max_order=n, effective_order=eff)
    assert (got.score, got.precisions, got.bp, got.counts, got.totals) == \
        (want.score, want.precisions, want.bp, want.counts, want.totals)
    assert (got.sys_len, got.ref_len, got.ratio) == (want.sys_len, want.ref_len, want.ratio)


def test_nltk_modified_precision_brevity_penalty_closest_ref(path):
    """nltk's modified_precision (an unnormalised Fraction), closest_ref_length
    and brevity_penalty, items with BP below 1 included, from bleu_stats."""
    preds, refs = EN_P + DOC_P, EN_R + DOC_R
    r = judgekit.evaluate(preds, refs, lang="en", tokenizer="whitespace", metrics=["bleu"], bleu_order=5)
    st_items = r.bleu_stats()
    below = 0
    for i, (h, rs) in enumerate(zip(preds, refs)):
        ht, rt = h.split(), [x.split() for x in rs]
        for n in range(1, 6):
            p = nltk_bleu.modified_precision(rt, ht, n)
            assert (p.numerator, p.denominator) == (st_items["counts"][i][n - 1],
                                                    max(1, st_items["totals"][i][n - 1]))
        closest = nltk_bleu.closest_ref_length(rt, len(ht))
        assert (len(ht), closest) == (st_items["sys_len"][i], st_items["ref_len"][i])
        bp = nltk_bleu.brevity_penalty(closest, len(ht))
        if ht:  # an empty hypothesis with an empty reference: nltk's BP is 0, sacreBLEU's 1
            assert compute_bleu([1], [1], len(ht), closest, max_order=1).bp == bp
        below += bp < 1
    assert below >= 3  # the brevity penalty was exercised


# ---------------------------------------------------------------------------
# nltk: methods 0-7 with their parameters, weights, any order, auto_reweigh
# ---------------------------------------------------------------------------
def _nltk_expected(hyps, refs, smoothing, order, weights, reweigh, corpus):
    """What an nltk user gets for each judgekit score name."""
    sf = nltk_sf(smoothing)
    fn = (lambda ws: quiet_nltk(nltk_bleu.corpus_bleu, refs, hyps, ws, sf, reweigh)) if corpus else None
    out = {}
    first = 3 if smoothing.startswith("method6") else 1
    width = max(4, order)

    def each(ws):
        if corpus:
            v = fn(ws)
            return v if isinstance(v, list) else [v]
        rows = []
        for h, rs in zip(hyps, refs):
            try:
                v = quiet_nltk(nltk_bleu.sentence_bleu, rs, h, ws, sf, reweigh)
            except AssertionError:  # method6 without a trigram match
                v = [float("nan")] * len(ws)
            rows.append(v if isinstance(v, list) else [v])
        return [[row[k] for row in rows] for k in range(len(ws))]

    for n in range(first, order + 1):
        out[f"bleu-{n}"] = each([tuple([1 / n] * n) if n > 4 else [(1.0,), (0.5, 0.5), (1 / 3,) * 3,
                                                                    (0.25,) * 4][n - 1]])[0]
    ind = each([tuple(1 if i == n - 1 else 0 for i in range(width)) for n in range(1, order + 1)])
    out.update({f"bleu-{n}-ind": ind[n - 1] for n in range(1, order + 1)})
    if weights:
        out.update({f"bleu-w{k}": v for k, v in enumerate(each([tuple(w) for w in weights]), 1)})
    return out


def _same(a, b) -> bool:
    return a == b or (a != a and b != b)


CASES = [  # smoothing, order, weights, auto_reweigh
    ("method0", 4, None, False),
    ("method1:0.2", 4, [(0.1, 0.3, 0.5, 0.1)], False),
    ("method2", 5, [(0.5, 0.5), (0.333, 0.333, 0.334), (0.25,) * 4, (0.2,) * 5], False),
    ("method3", 4, [(0.2,) * 5], True),
    ("method4", 4, None, False),
    ("method4:3", 6, [(0.1, 0.3, 0.5, 0.1)], False),
    ("method5", 4, [(0.1, 0.3, 0.5, 0.1)], False),
    ("method5", 2, None, True),
    ("method6", 4, None, False),
    ("method6:2", 5, [(0.2,) * 5], False),
    ("method7", 4, [(0.25,) * 4], True),
    ("method7:2.5", 3, None, False),
    ("method1", 4, None, True),
]


@pytest.mark.parametrize("smoothing,order,weights,reweigh", CASES)
def test_nltk_sentence_and_corpus(path, smoothing, order, weights, reweigh):
    preds, refs = DOC_P + EN_P, DOC_R + EN_R
    hyps, rts = [p.split() for p in preds], [[x.split() for x in rs] for rs in refs]
    opts = dict(lang="en", tokenizer="whitespace", metrics=["bleu"], smoothing=smoothing, bleu_order=order,
                bleu_weights=weights, auto_reweigh=reweigh, scale=1)
    r = judgekit.evaluate(preds, refs, **opts)
    want = _nltk_expected(hyps, rts, smoothing, order, weights, reweigh, corpus=True)
    assert set(r.scores) == set(want)
    for k, v in want.items():
        assert r.scores[k] == v, k
    per = _nltk_expected(hyps, rts, smoothing, order, weights, reweigh, corpus=False)
    for k, vals in per.items():
        got = r.per_item[k].tolist()
        assert all(_same(a, b) for a, b in zip(got, vals)), (k, got, vals)
    if not smoothing.startswith("method6"):
        m = judgekit.evaluate(preds, refs, aggregate="mean", **opts)
        for k, vals in per.items():
            assert m.scores[k] == float(np.mean(vals)), k
    sig = str(r.signature)
    assert f"smooth.{smoothing.replace(':', '-')}" in sig and "arith.nltk" in sig
    assert ("weights." in sig) == bool(weights) and ("reweigh.auto" in sig) == reweigh


def test_method0_values_are_nltks_tiny_ones(path):
    """Unsmoothed nltk: a missing order becomes sys.float_info.min, so BLEU is
    ~1e-77 rather than 0 (nltk's number, kept)."""
    r = judgekit.evaluate(["a b c d e"], ["a b x d e"], lang="en", tokenizer="whitespace", smoothing="method0",
                          metrics=["bleu-4"], scale=1)
    want = quiet_nltk(nltk_bleu.sentence_bleu, [["a", "b", "x", "d", "e"]], list("abcde"))
    assert r.scores["bleu-4"] == want and 0 < want < 1e-70


@pytest.mark.parametrize("smoothing", ["method1", "method3", "method2", "method4:4", "method5", "method7"])
def test_nltk_on_real_chinese(path, smoothing):
    preds, refs = smile(150)
    hyps, rts = [list(p) for p in preds], [[list(x) for x in rs] for rs in refs]
    r = judgekit.evaluate(preds, refs, lang="zh", tokenizer="char", whitespace="keep", metrics=["bleu"],
                          smoothing=smoothing, bleu_weights=[(0.1, 0.3, 0.5, 0.1), (0.2,) * 5], scale=1)
    want = _nltk_expected(hyps, rts, smoothing, 4, [(0.1, 0.3, 0.5, 0.1), (0.2,) * 5], False, corpus=True)
    for k, v in want.items():
        assert r.scores[k] == v, k
    per = _nltk_expected(hyps[:40], rts[:40], smoothing, 4, [(0.1, 0.3, 0.5, 0.1), (0.2,) * 5], False, corpus=False)
    for k, vals in per.items():
        assert r.per_item[k].tolist()[:40] == vals, k


def test_method6_items_nltk_cannot_score(path):
    preds, refs = ["the cat sat on the mat today", "a b c"], ["the cat is on the mat today", "a b d"]
    r = judgekit.evaluate(preds, refs, lang="en", tokenizer="whitespace", smoothing="method6", metrics=["bleu"],
                          scale=1)
    assert r.per_item["bleu-4"].isna().tolist() == [False, True]
    assert any("method6" in w for w in r.warnings)
    with pytest.raises(AssertionError):
        nltk_bleu.sentence_bleu([refs[1].split()], preds[1].split(), smoothing_function=nltk_sf("method6"))
    with pytest.raises(InputError, match=r"method6 is undefined for 1 item\(s\).*: 1"):
        judgekit.evaluate(preds, refs, lang="en", tokenizer="whitespace", smoothing="method6", aggregate="mean")
    with pytest.raises(InputError, match="unknown metric 'bleu-1'"):  # nltk's weights of length 1 end in IndexError
        judgekit.evaluate(preds, refs, lang="en", smoothing="method6", metrics=["bleu-1"])


nltk_pairs = st.lists(
    st.tuples(st.lists(st.sampled_from("abcde"), min_size=0, max_size=9),
              st.lists(st.lists(st.sampled_from("abcde"), min_size=1, max_size=9), min_size=1, max_size=2)),
    min_size=1, max_size=5)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(nltk_pairs, st.sampled_from(METHODS),
       st.lists(st.lists(st.sampled_from([0.0, 0.1, 0.2, 0.25, 0.5, 1.0]), min_size=1, max_size=6),
                min_size=1, max_size=3),
       st.booleans())
def test_nltk_corpus_property(path, pairs, smoothing, weights, reweigh):
    """Random short token lists (ties, empty hypotheses, repeated tokens):
    judgekit's bleu-w* equal nltk's corpus_bleu with the same list of weights."""
    pairs = [(h, rs) for h, rs in pairs if h]
    if not pairs:
        return
    hyps, refs = [h for h, _ in pairs], [rs for _, rs in pairs]
    try:
        want = quiet_nltk(nltk_bleu.corpus_bleu, refs, hyps, [tuple(w) for w in weights], nltk_sf(smoothing), reweigh)
    except (AssertionError, IndexError):  # method6's assertion
        with pytest.raises(InputError, match="method6"):
            judgekit.evaluate([" ".join(h) for h in hyps], [[" ".join(r) for r in rs] for rs in refs], lang="en",
                              tokenizer="whitespace", metrics=["bleu-w1"], smoothing=smoothing,
                              bleu_weights=weights, auto_reweigh=reweigh, scale=1, bleu_order=3)
        return
    want = want if isinstance(want, list) else [want]
    r = judgekit.evaluate([" ".join(h) for h in hyps], [[" ".join(r) for r in rs] for rs in refs], lang="en",
                          tokenizer="whitespace", metrics=[f"bleu-w{k}" for k in range(1, len(weights) + 1)],
                          smoothing=smoothing, bleu_weights=weights, auto_reweigh=reweigh, scale=1, bleu_order=3)
    assert [r.scores[f"bleu-w{k}"] for k in range(1, len(weights) + 1)] == want


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(nltk_pairs, st.sampled_from(["floor", "add-k", "none", "exp"]),
       st.sampled_from([None, 1, 2, 0.01, 0.5, 3.5]), st.integers(1, 7), st.booleans())
def test_sacrebleu_value_and_order_property(path, pairs, method, value, order, eff):
    """Random short texts: any smoothing value and any order, corpus and
    sentence, equal sacreBLEU's (tokenize='none': whitespace tokens).  A
    value of 0 or less is refused (sacreBLEU crashes or scores 0 on it:
    tests/test_walkthrough_options.py)."""
    if value is not None and method in ("none", "exp"):
        value = None
    preds = [" ".join(h) for h, _ in pairs]
    refs = [" ".join(rs[0]) for _, rs in pairs]
    spec = method if value is None else f"{method}:{value}"
    peer = SacreBLEU(tokenize="none", smooth_method=method, smooth_value=value, max_ngram_order=order,
                     effective_order=eff)
    r = judgekit.evaluate(preds, refs, lang="en", tokenizer="whitespace", metrics=[f"bleu-{order}"], smoothing=spec,
                          bleu_order=order, effective_order=eff)
    try:
        want = peer.corpus_score(preds, [refs]).score
    except ZeroDivisionError:  # sacreBLEU divides by a zero total under add-k 0 with an empty order
        return
    assert r.scores[f"bleu-{order}"] == want
    for i, (h, ref) in enumerate(zip(preds, refs)):
        try:
            one = peer.sentence_score(h, [ref]).score
        except ZeroDivisionError:
            continue
        assert r.per_item[f"bleu-{order}"].iloc[i] == one


# ---------------------------------------------------------------------------
# the other entry points: evaluate_file, the CLI, the HF module; errors
# ---------------------------------------------------------------------------
def test_evaluate_file_and_cli(tmp_path, path):
    one = [x[0] for x in EN_R]
    pairs = tmp_path / "pairs.jsonl"  # (a .txt file cannot hold the golden texts' newlines)
    pairs.write_text("".join(json.dumps({"pred": p, "ref": r}, ensure_ascii=False) + "\n" for p, r in zip(EN_P, one)),
                     encoding="utf-8")
    opts = dict(smoothing="method4:3", bleu_order=5, bleu_weights=[(0.1, 0.3, 0.5, 0.1)], auto_reweigh=True)
    direct = judgekit.evaluate(EN_P, one, lang="en", tokenizer="whitespace", scale=1, metrics=["bleu"], **opts)
    streamed = judgekit.evaluate_file(str(pairs), lang="en", tokenizer="whitespace", scale=1,
                                      metrics=["bleu"], chunk_size=7, **opts)
    assert streamed.scores == direct.scores and str(streamed.signature) == str(direct.signature)
    out = subprocess.run([sys.executable, "-m", "judgekit", "evaluate", str(pairs), "--lang", "en", "--tokenizer", "whitespace", "--scale", "1", "--metrics", "bleu",
                          "--smoothing", "method4:3", "--bleu-order", "5", "--bleu-weights", "0.1,0.3,0.5,0.1",
                          "--auto-reweigh", "--format", "json", "--bleu-stats", str(tmp_path / "s.jsonl")],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["scores"] == direct.scores and got["signature"] == str(direct.signature)
    rows = [json.loads(x) for x in (tmp_path / "s.jsonl").read_text().splitlines()]
    st_items = direct.bleu_stats()
    assert [r["counts"] for r in rows] == st_items["counts"].tolist()
    assert [r["ref_len"] for r in rows] == st_items["ref_len"].tolist()
    bad = subprocess.run([sys.executable, "-m", "judgekit", "evaluate", str(pairs), "--smoothing", "floor:x"], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and "floor:x" in bad.stderr


def test_hf_module_takes_the_options(tmp_path):
    pytest.importorskip("evaluate")
    from tests.test_hf_metrics import _load_and_compute

    preds, refs = EN_P[:10], [x[0] for x in EN_R[:10]]
    opts = {"smoothing": "floor:0.5", "bleu_order": 5, "lang": "en", "effective_order": False}
    res = _load_and_compute(tmp_path, "judgekit_chinese_bleu", {"predictions": preds, "references": refs}, opts)
    peer = SacreBLEU(tokenize="13a", smooth_method="floor", smooth_value=0.5, max_ngram_order=5)
    assert res["out"]["bleu-5"] == peer.corpus_score(preds, [refs]).score
    assert "smooth.floor-0.5" in res["out"]["signature"] and "order.5" in res["out"]["signature"]


@pytest.mark.parametrize("kw,match", [
    ({"smoothing": "floor:x"}, "must be a number"),
    ({"smoothing": "exp:0.5"}, "takes no value"),
    ({"smoothing": "method8"}, "unknown BLEU smoothing 'method8'"),
    ({"smoothing": "floor:inf"}, "finite"),
    ({"bleu_order": 0}, "bleu_order must be a positive integer"),
    ({"bleu_order": 2.0}, "bleu_order must be a positive integer"),
    ({"bleu_weights": (0.5, 0.5)}, "nltk options"),
    ({"smoothing": "method1", "bleu_weights": "0.5"}, "weight vector"),
    ({"smoothing": "method1", "bleu_weights": [(0.5, "x")]}, "not a number"),
    ({"smoothing": "method1", "auto_reweigh": 1}, "True or False"),
    ({"preset": "sacrebleu", "bleu_order": 5}, "default suite only"),
])
def test_bad_options_are_errors(kw, match):
    with pytest.raises(InputError, match=match):
        judgekit.evaluate(["a b c"], ["a b c"], lang="en", **kw)


def test_compute_bleu_errors():
    with pytest.raises(InputError, match="nltk"):
        compute_bleu([1], [1], 1, 1, "method1", max_order=1)
    with pytest.raises(InputError, match="needs 4 counts"):
        compute_bleu([1], [1], 1, 1)
    assert compute_bleu([2, 1], [3, 2], 3, 3, "add-k:1", max_order=2).counts == [2, 2]  # sacreBLEU's in-place add


def test_statistics_fraction_denominators_stay_unnormalised():
    """nltk reads p.denominator of Fraction(0, 7) as 7: method1's epsilon is
    divided by the raw count, not by a normalised 1."""
    r = judgekit.evaluate(["a b c d e f g h"], ["a x c y e z g w"], lang="en", tokenizer="whitespace",
                          smoothing="method1:0.3", metrics=["bleu-2"], scale=1)
    want = nltk_bleu.sentence_bleu(["a x c y e z g w".split()], "a b c d e f g h".split(), (0.5, 0.5),
                                   nltk_sf("method1:0.3"))
    assert r.scores["bleu-2"] == want
    import math
    normalised = math.exp(math.fsum([0.5 * math.log(4 / 8), 0.5 * math.log(0.3 / 1)]))  # Fraction(0, 7) -> 0/1
    assert want != normalised
