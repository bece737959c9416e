"""The compiled kernels (judgekit._ckernels) equal the pure-Python path.

The Python functions in ``judgekit.ngram._stats`` and ``bleu`` are the
oracle (they are themselves tested against nltk, sacreBLEU, rouge-score and
rouge-chinese elsewhere); here every compiled result must be ``==`` to them,
bit for bit: on the 20,000 SmileChat pairs (jieba words and characters), on
hypothesis-generated token lists (empty, one token, 3,000 tokens, heavy
repeats, several references, empty-string and whitespace tokens), for every
BLEU smoothing, aggregation and family, and with ``JUDGEKIT_NO_NATIVE=1``.
"""
from __future__ import annotations

import gzip
import json
import math
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from judgekit.ngram import _stats as S
from judgekit.ngram.bleu import BLEU
from tests.conftest import require_data

try:
    from judgekit import _ckernels as CK  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - pure-Python install
    CK = None

needs_native = pytest.mark.skipif(CK is None, reason="compiled extension judgekit._ckernels is not built")


@pytest.fixture(scope="module")
def native():
    """The compiled path, even when the run sets JUDGEKIT_NO_NATIVE."""
    if CK is None:
        pytest.skip("compiled extension judgekit._ckernels is not built")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(S.NO_NATIVE_ENV, raising=False)
        assert S.native_kernels() is CK
        yield CK


# ---------------------------------------------------------------------------
# comparison helpers
# ---------------------------------------------------------------------------
def same_array(a: np.ndarray, b: np.ndarray) -> None:
    assert a.dtype == b.dtype and a.shape == b.shape
    assert np.array_equal(a, b)


def same_bleu_stats(c: S.BleuStats, p: S.BleuStats) -> None:
    for k in ("matches", "totals", "hyp_len", "ref_len"):
        same_array(getattr(c, k), getattr(p, k))


def same_rouge_stats(c: S.RougeStats, p: S.RougeStats) -> None:
    same_array(c.item, p.item)
    assert list(c.cols) == list(p.cols)
    for k in p.cols:
        same_array(c[k], p[k])


def same_distinct(c: dict, p: dict) -> None:
    assert list(c) == list(p)
    for n in p:
        assert c[n][0] == p[n][0] and type(c[n][0]) is type(p[n][0])
        assert c[n][1] == p[n][1]
        same_array(c[n][2], p[n][2])
        same_array(c[n][3], p[n][3])


def same_scores(c: dict, p: dict) -> None:
    """Equal to the last bit (NaN-free: compare the float64 bit patterns)."""
    assert list(c) == list(p)
    for k in p:
        cv, pv = np.asarray(c[k], dtype=np.float64), np.asarray(p[k], dtype=np.float64)
        assert cv.shape == pv.shape, k
        assert np.array_equal(cv.view(np.int64), pv.view(np.int64)), k


def check_all_stats(hyps, refs) -> None:
    """Every statistic through C and through the Python oracle."""
    same_bleu_stats(S.bleu_stats(hyps, refs), S._bleu_stats_py(hyps, refs, 4))
    for order in (1, 2, 3):
        same_bleu_stats(S.bleu_stats(hyps, refs, order), S._bleu_stats_py(hyps, refs, order))
    same_rouge_stats(S.rouge_stats(hyps, refs), S._rouge_stats_py(hyps, refs, (1, 2), True))
    same_rouge_stats(S.rouge_stats(hyps, refs, (1, 2, 3, 4), lcs=False), S._rouge_stats_py(hyps, refs, (1, 2, 3, 4), False))
    same_distinct(S.distinct_counts(hyps, (1, 2, 3, 4)), S._distinct_counts_py(hyps, (1, 2, 3, 4), False))
    same_distinct(S.distinct_counts(hyps, (1, 2), with_sets=True), S._distinct_counts_py(hyps, (1, 2), True))
    with S.shared_encoding():
        bs = S.bleu_stats(hyps, refs)
        rs = S.rouge_stats(hyps, refs)
        ds = S.distinct_counts(hyps, (1, 2))
    same_bleu_stats(bs, S._bleu_stats_py(hyps, refs, 4))
    same_rouge_stats(rs, S._rouge_stats_py(hyps, refs, (1, 2), True))
    same_distinct(ds, S._distinct_counts_py(hyps, (1, 2), False))


# the smoothings the C kernel replays (nltk's other methods run in Python: tests/test_peer_options_bleu.py)
KERNEL_SMOOTHINGS = ("none", "method1", "method3", "exp", "floor", "add-k")
BLEU_CONFIGS = [
    BLEU(max_order=n, smoothing=sm, aggregation=agg, effective_order=eff, individual=ind)
    for sm in KERNEL_SMOOTHINGS for agg in ("corpus", "mean") for eff in (True, False) for ind in (True, False)
    for n in (1, 2, 4)
    if not (sm in ("method1", "method3") and not eff)  # effective order is a sacreBLEU option
] + [
    BLEU(smoothing="floor", smooth_value=0.25), BLEU(smoothing="floor", smooth_value=1),
    BLEU(smoothing="add-k", smooth_value=2), BLEU(smoothing="add-k", smooth_value=0.5, aggregation="mean"),
]


def check_bleu_scores(stats: S.BleuStats, configs=BLEU_CONFIGS) -> None:
    import os

    for b in configs:
        names = b.names()
        c = b.sentence_scores(stats)
        p = b._sentence_scores_py(stats, names)
        same_scores(c, p)
        assert b._native_sentence_scores(CK, stats, names) is not None, b  # the C path really ran
        corpus_c = b.corpus_score(stats)
        os.environ[S.NO_NATIVE_ENV] = "1"
        try:
            corpus_p = b.corpus_score(stats)
        finally:
            del os.environ[S.NO_NATIVE_ENV]
        same_scores(corpus_c, corpus_p)


# ---------------------------------------------------------------------------
# SmileChat: 20,000 real pairs
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def smilechat():
    path = require_data("smilechat-zh", "pairs.jsonl.gz")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    from judgekit.text.segment import get_segmenter

    seg = get_segmenter()
    toks = seg.cut_many([r["pred"] for r in rows] + [r["ref"] for r in rows])
    n = len(rows)
    return rows, toks[:n], [[t] for t in toks[n:]]


def test_smilechat_words_all_stats(native, smilechat):
    _, hyps, refs = smilechat
    same_bleu_stats(S.bleu_stats(hyps, refs), S._bleu_stats_py(hyps, refs, 4))
    same_rouge_stats(S.rouge_stats(hyps, refs), S._rouge_stats_py(hyps, refs, (1, 2), True))
    same_distinct(S.distinct_counts(hyps, (1, 2), with_sets=True), S._distinct_counts_py(hyps, (1, 2), True))


def test_smilechat_words_subset(native, smilechat):
    """2,000 items, every statistic and order, one and several references
    (the test above covers the whole corpus for the default ones)."""
    _, hyps, refs = smilechat
    idx = random.Random(7).sample(range(len(hyps)), 2_000)
    h = [hyps[i] for i in idx]
    r = [refs[i] for i in idx]
    # several references per item: the next items' references join in
    multi = [r[i] + r[(i + 1) % len(r)] + (r[(i + 2) % len(r)] if i % 3 == 0 else []) for i in range(len(r))]
    check_all_stats(h, r)
    check_all_stats(h[:500], multi[:500])


def test_smilechat_sentence_bleu_every_config(native, smilechat):
    _, hyps, refs = smilechat
    stats = S.bleu_stats(hyps, refs)
    # the default suite and the presets' configurations on all 20,000 items
    check_bleu_scores(stats, [BLEU(), BLEU(smoothing="method3", aggregation="mean", individual=False),
                              BLEU(smoothing="exp", aggregation="mean", individual=False)])
    sub = S.BleuStats(stats.hyp_len[:1500], stats.ref_len[:1500], stats.matches[:1500], stats.totals[:1500])
    check_bleu_scores(sub)
    # corpus scores go through the same sentence loop for aggregation="mean"
    mean = BLEU(aggregation="mean")
    c = mean.corpus_score(stats)
    p = {k: float(np.mean(v)) for k, v in mean._sentence_scores_py(stats, mean.names()).items()}
    assert c == p


def test_smilechat_characters(native, smilechat):
    """The chatglm preset counts characters (list(text)) for BLEU."""
    rows, _, _ = smilechat
    sample = rows[:3000]
    hyps = [list(r["pred"]) for r in sample]
    refs = [[list(r["ref"])] for r in sample]
    same_bleu_stats(S.bleu_stats(hyps, refs), S._bleu_stats_py(hyps, refs, 4))
    same_rouge_stats(S.rouge_stats(hyps, refs), S._rouge_stats_py(hyps, refs, (1, 2), True))


def test_no_native_env_gives_same_results(monkeypatch, smilechat):
    _, hyps, refs = smilechat
    h, r = hyps[:1000], refs[:1000]
    monkeypatch.setenv(S.NO_NATIVE_ENV, "1")
    assert S.native_kernels() is None
    py = (S.bleu_stats(h, r), S.rouge_stats(h, r), S.distinct_counts(h), BLEU().sentence_scores(S.bleu_stats(h, r)))
    if CK is None:
        pytest.skip("compiled extension judgekit._ckernels is not built: nothing to compare")
    monkeypatch.delenv(S.NO_NATIVE_ENV)
    assert S.native_kernels() is CK
    c = (S.bleu_stats(h, r), S.rouge_stats(h, r), S.distinct_counts(h), BLEU().sentence_scores(S.bleu_stats(h, r)))
    same_bleu_stats(c[0], py[0])
    same_rouge_stats(c[1], py[1])
    same_distinct(c[2], py[2])
    same_scores(c[3], py[3])
    monkeypatch.setenv(S.NO_NATIVE_ENV, "0")  # "0" means: not disabled
    assert S.native_kernels() is CK


# ---------------------------------------------------------------------------
# hypothesis: token lists
# ---------------------------------------------------------------------------
# A small alphabet so that n-grams repeat and match; empty-string and
# whitespace tokens are tokens like any other.
TOKENS = st.sampled_from(["的", "我", "你", "中文", "a", "b", "", " ", "\t", "。", "😀", "𠀀", "ab", "A", "é", "中文😀",
                          "abcdefghij", "abcdefghik"]).map(lambda t: "".join(list(t)))  # fresh objects, equal text
SEQ = st.lists(TOKENS, max_size=30)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(SEQ, st.lists(SEQ, min_size=1, max_size=4)), max_size=12))
def test_stats_equal_python_hypothesis(native, items):
    hyps = [h for h, _ in items]
    refs = [rs for _, rs in items]
    check_all_stats(hyps, refs)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.integers(1, 3000), st.integers(1, 3000), st.integers(1, 400))
def test_long_sequences_hypothesis(native, seed, n_h, n_r, vocab):
    """Up to 3,000 tokens (LCS over many 64-bit words, carries across
    words), vocabulary from 1 (everything repeats) to 400."""
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(vocab)]
    h = [rng.choice(words) for _ in range(n_h)]
    r = [rng.choice(words) for _ in range(n_r)]
    check_all_stats([h], [[r]])
    assert S.lcs_length(h, r) == _lcs_py(h, r)


def _lcs_py(a, b) -> int:
    """The pure-Python bit-parallel LCS (the oracle's own code path)."""
    import os

    old = os.environ.get(S.NO_NATIVE_ENV)
    os.environ[S.NO_NATIVE_ENV] = "1"
    try:
        return S.lcs_length(a, b)
    finally:
        if old is None:
            del os.environ[S.NO_NATIVE_ENV]
        else:
            os.environ[S.NO_NATIVE_ENV] = old


def _lcs_dp(a, b) -> int:
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


@settings(max_examples=300, deadline=None)
@given(SEQ, SEQ)
def test_lcs_equals_dp_and_rouge_score(native, a, b):
    from rouge_score.rouge_scorer import _lcs_table

    v = S.lcs_length(a, b)
    assert v == _lcs_dp(a, b) == _lcs_py(a, b)
    assert v == _lcs_table(a, b)[-1][-1]
    assert S.lcs_length(b, a) == v


@pytest.mark.parametrize("n", [63, 64, 65, 127, 128, 129, 640])
def test_lcs_word_boundaries(native, n):
    """Lengths around multiples of 64 bits, where carries cross words."""
    rng = random.Random(n)
    for _ in range(20):
        a = [rng.choice("ab") for _ in range(n)]
        b = [rng.choice("abc") for _ in range(rng.randint(1, 2 * n))]
        assert S.lcs_length(a, b) == _lcs_py(a, b)
    assert S.lcs_length(["x"] * n, ["x"] * n) == n
    assert S.lcs_length(["x"] * n, ["y"] * n) == 0


class _Str(str):
    """A str subclass: equal to the plain str with the same text."""


def test_non_str_token_after_str_tokens(native):
    """The str table hands over to the dict when a later token is not an
    exact str; equal text still means one token."""
    hyps = [["a", "b", "a"], ["c", _Str("a"), "b"], [_Str("b"), 3]]
    refs = [[["a", "b"]], [[_Str("c"), "a", "b"]], [["b", 3.0]]]
    check_all_stats(hyps, refs)
    assert S.bleu_stats(hyps, refs).matches.tolist() == [[2, 1, 0, 0], [3, 2, 1, 0], [2, 1, 0, 0]]


def test_other_hashable_tokens(native):
    """Tokens are compared as Python compares them (dict/Counter semantics):
    1, 1.0 and True are one token; tuples and ints work as tokens."""
    hyps = [[1, 2, (3, 4), 1.0, True, None], [], ["x"]]
    refs = [[[True, 2.0, (3, 4), None]], [["a"]], [["x"], []]]
    check_all_stats(hyps, refs)
    assert S.lcs_length([1, 2, 3], [1.0, 3]) == 2
    # a str as a token sequence means its characters, in both paths
    check_all_stats(["abcab", "中文"], [["abca"], ["中文", "文中"]])


# ---------------------------------------------------------------------------
# inputs the kernels hand back to Python: same results, same errors
# ---------------------------------------------------------------------------
def test_unsupported_inputs_fall_back(native):
    hyps = [["a", "b", "c", "d", "e", "f"], ["a"]]
    refs = [[["a", "b", "c", "d", "e", "f"]], [["a"]]]
    for order in (5, 6):
        same_bleu_stats(S.bleu_stats(hyps, refs, order), S._bleu_stats_py(hyps, refs, order))
    same_rouge_stats(S.rouge_stats(hyps, refs, (1, 5)), S._rouge_stats_py(hyps, refs, (1, 5), True))
    same_distinct(S.distinct_counts(hyps, (5,)), S._distinct_counts_py(hyps, (5,), False))
    # refs shorter than hyps: zip truncation, as in Python
    same_bleu_stats(S.bleu_stats(hyps, refs[:1]), S._bleu_stats_py(hyps, refs[:1], 4))
    same_rouge_stats(S.rouge_stats(hyps, refs[:1]), S._rouge_stats_py(hyps, refs[:1], (1, 2), True))


def test_errors_are_pythons(native):
    with pytest.raises(ValueError):  # an item without references: min() of nothing
        S.bleu_stats([["a"]], [[]])
    with pytest.raises(TypeError):
        S.bleu_stats([[["unhashable"]]], [[["a"]]])
    with pytest.raises(TypeError):
        S.rouge_stats([[{}]], [[["a"]]])
    with pytest.raises(TypeError):
        S.distinct_counts([[[1]]])
    # an item without references has no ROUGE rows, in both paths
    same_rouge_stats(S.rouge_stats([["a"], ["b"]], [[], [["b"]]]), S._rouge_stats_py([["a"], ["b"]], [[], [["b"]]], (1, 2), True))


def test_generators_are_left_to_python(native):
    """A generator is not a sequence: the kernels do not consume it, and
    Python's own error (len() of a generator) is what the user sees."""
    g = (t for t in ["a", "b", "a"])
    with pytest.raises(TypeError):
        S.lcs_length(g, ["a"])
    assert next(g) == "a"
    with pytest.raises(TypeError):
        S.distinct_counts((h for h in [["a"]]))


# ---------------------------------------------------------------------------
# sentence BLEU arithmetic on generated statistics
# ---------------------------------------------------------------------------
@st.composite
def bleu_rows(draw):
    n = draw(st.integers(0, 25))
    hyp_len = draw(st.lists(st.integers(0, 60), min_size=n, max_size=n))
    ref_len = draw(st.lists(st.integers(0, 80), min_size=n, max_size=n))
    totals = [[max(0, h - k) for k in range(4)] for h in hyp_len]
    matches = [[draw(st.integers(0, t)) for t in row] for row in totals]
    # matches of order n+1 cannot exceed matches of order n + nothing special:
    # arbitrary rows are allowed, the arithmetic must agree anyway
    arr = lambda x, shape: np.asarray(x, dtype=np.int64).reshape(shape)  # noqa: E731
    return S.BleuStats(arr(hyp_len, (n,)), arr(ref_len, (n,)), arr(matches, (n, 4)), arr(totals, (n, 4)))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bleu_rows(), st.sampled_from(BLEU_CONFIGS))
def test_sentence_bleu_equal_python_hypothesis(native, stats, config):
    check_bleu_scores(stats, [config])


def test_sentence_bleu_other_dtypes(native):
    """int32 statistics take the C path; float ones stay in Python."""
    st64 = S.bleu_stats([["a", "b", "c"], ["x"]], [[["a", "b"]], [["x", "y"]]])
    st32 = S.BleuStats(*(getattr(st64, k).astype(np.int32) for k in ("hyp_len", "ref_len", "matches", "totals")))
    for b in (BLEU(), BLEU(smoothing="method1", aggregation="mean")):
        same_scores(b.sentence_scores(st32), b._sentence_scores_py(st64, b.names()))
        stf = S.BleuStats(*(getattr(st64, k).astype(float) for k in ("hyp_len", "ref_len", "matches", "totals")))
        assert b._native_sentence_scores(CK, stf, b.names()) is None


# ---------------------------------------------------------------------------
# the float summations themselves
# ---------------------------------------------------------------------------
FINITE = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300)


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.one_of(FINITE, st.sampled_from([0.0, -0.0, 1e-16, 1.0, 1e16, -1e16, 5e-324])), max_size=8))
def test_fsum_port_equals_math_fsum(native, xs):
    assert math.fsum(xs) == CK._fsum(xs)
    assert math.copysign(1, math.fsum(xs)) == math.copysign(1, CK._fsum(xs))


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e10, max_value=10), max_size=4))
def test_sum_equals_builtin_sum(native, xs):
    """sacreBLEU's plain sum() of log precisions, as this interpreter does it."""
    assert sum(xs) == CK._sum(xs)


# ---------------------------------------------------------------------------
# large inputs
# ---------------------------------------------------------------------------
def test_one_million_tokens(native):
    """1M-token sequences: memory stays O(n + V) (the LCS works one word
    column at a time), answers known in closed form."""
    n = 1_000_000
    words = [f"t{i % 5000}" for i in range(n)]
    st_ = S.bleu_stats([words], [[words]])
    assert st_.matches.tolist() == [[n, n - 1, n - 2, n - 3]] == st_.totals.tolist()
    rs = S.rouge_stats([words], [[words[:1000]]])
    assert rs["lcs"][0] == 1000 and rs["clip_1"][0] == 1000 and rs["hset_1"][0] == 5000
    d = S.distinct_counts([words], (1, 2))
    assert d[1][0] == 5000 and d[2][0] == 5000 and d[2][1] == n - 1


def test_backend_description(monkeypatch):
    monkeypatch.setenv(S.NO_NATIVE_ENV, "1")
    assert "disabled by JUDGEKIT_NO_NATIVE" in S.backend_description()
    monkeypatch.delenv(S.NO_NATIVE_ENV)
    expected = "compiled (judgekit._ckernels)" if CK is not None else "is not built"
    assert expected in S.backend_description()


def test_shared_encoding_scope(native):
    """Inside shared_encoding() the lists are interned once; a list that
    grew in between is encoded again; outside, nothing is remembered."""
    hyps, refs = [["a", "b"], ["c"]], [[["a", "b"]], [["c", "d"]]]
    with S.shared_encoding():
        first = S.bleu_stats(hyps, refs)
        memo = S._SHARED.get()
        assert len(memo) == 1
        S.rouge_stats(hyps, refs)
        S.distinct_counts(hyps)
        assert len(memo) == 1  # reused by both
        hyps.append(["x"])
        refs.append([["x"]])
        grown = S.bleu_stats(hyps, refs)
        with pytest.raises(TypeError):
            S.distinct_counts(h for h in hyps)
    assert S._SHARED.get() is None
    same_bleu_stats(grown, S._bleu_stats_py(hyps, refs, 4))
    assert first.matches.shape[0] == 2
