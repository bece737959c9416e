"""Paired significance tests and bootstrap CIs: differential against
sacreBLEU's own ``PairedTest`` (BLEU, same seed) and against scipy's exact
permutation test (per-item means), plus invariants with hypothesis."""
from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import judgekit
from judgekit.errors import InputError
from judgekit.report.significance import _ties, bootstrap_ci, paired_bootstrap, paired_randomization
from tests.conftest import require_data


@pytest.fixture(scope="module")
def smile():
    path = require_data("smilechat-zh", "pairs.jsonl.gz")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        rows = [json.loads(next(f)) for _ in range(300)]
    return [r["pred"] for r in rows], [r["ref"] for r in rows]


def _system_b(a, refs, k):
    """A with every reply shortened by three characters and k items given
    half their reference: every item differs (so no randomization trial
    ties the observed difference) and p lands between 0.04 and 0.6."""
    b = [x[:-3] if len(x) > 6 else x for x in a]
    for i in range(0, len(a), len(a) // k):
        b[i] = refs[i][: len(refs[i]) // 2] + a[i]
    return b


@pytest.mark.parametrize("k", [2, 5])
def test_paired_tests_equal_sacrebleu(smile, k):
    from sacrebleu.metrics import BLEU
    from sacrebleu.significance import PairedTest

    a, refs = smile
    b = _system_b(a, refs, k)
    ra = judgekit.evaluate(a, refs, preset="sacrebleu", metrics=["bleu-4"])
    rb = judgekit.evaluate(b, refs, preset="sacrebleu", metrics=["bleu-4"])
    ours_bs = paired_bootstrap(ra, rb, n_bootstrap=1000)["bleu-4"]
    ours_ar = paired_randomization(ra, rb, n_randomization=2000)["bleu-4"]
    _, sb_bs = PairedTest([("A", a), ("B", b)], {"BLEU": BLEU(tokenize="zh")}, [refs], test_type="bs",
                          n_samples=1000)()
    _, sb_ar = PairedTest([("A", a), ("B", b)], {"BLEU": BLEU(tokenize="zh")}, [refs], test_type="ar",
                          n_samples=2000)()
    base, sys_bs = sb_bs["BLEU"]
    assert ours_bs.baseline == base.score and ours_bs.system == sys_bs.score
    # the same resamples and the same p-value definition: identical p
    assert ours_bs.p_value == sys_bs.p_value
    assert ours_ar.p_value == sb_ar["BLEU"][1].p_value
    assert 0.01 < ours_bs.p_value < 0.9 and 0.01 < ours_ar.p_value < 0.9  # the count matters
    # sacreBLEU sums the resampled statistics in float32 and scores them in
    # float32 arithmetic (NumPy 2 keeps float32 in `100. * correct / total`):
    # its resampled BLEU differs from the exact one around the 8th digit.
    assert ours_bs.mean == pytest.approx(sys_bs.mean, rel=1e-6)
    lo, hi = ours_bs.ci
    assert 0.5 * (hi - lo) == pytest.approx(sys_bs.ci, rel=1e-5)


def test_resampled_bleu_equals_sacrebleu_on_exact_counts(smile):
    """The ~1e-8 gap above is sacreBLEU's float32: on integer counts its
    own formula gives judgekit's rescored BLEU bit for bit."""
    from sacrebleu.metrics import BLEU

    a, refs = smile
    metric = BLEU(tokenize="zh")
    stats = np.array(metric._extract_corpus_statistics(a, [refs]), dtype=np.int64)
    res = judgekit.evaluate(a, refs, preset="sacrebleu", metrics=["bleu-4"])
    idxs = np.random.default_rng(12345).choice(len(a), size=(20, len(a)), replace=True)
    gaps32 = []
    for ix in idxs:
        exact = metric._compute_score_from_stats(stats[ix].sum(0).tolist()).score
        assert res.rescore(ix)["bleu-4"] == exact
        f32 = metric._compute_score_from_stats(stats.astype("float32")[ix].sum(0)).score
        gaps32.append(abs(f32 - exact))
    assert max(gaps32) > 0 and max(gaps32) < 1e-5


def test_p_values_count_no_ties_in_the_sacrebleu_case(smile):
    """Equality with sacreBLEU is meaningful: there no trial ties |d|, the
    only place where counting ties (>=) differs from its strict >."""
    a, refs = smile
    b = _system_b(a, refs, 3)
    ra = judgekit.evaluate(a, refs, preset="sacrebleu", metrics=["bleu-4"])
    rb = judgekit.evaluate(b, refs, preset="sacrebleu", metrics=["bleu-4"])
    from judgekit.report import significance as sig

    from judgekit.report.significance import _pool

    pool = _pool(ra, rb)
    n = pool.n
    d = abs(ra.scores["bleu-4"] - rb.scores["bleu-4"])
    pos = np.random.default_rng(12345).integers(2, size=(500, n), dtype=bool)
    base = np.arange(n)
    diffs = [abs(pool.score(np.where(p, base, base + n))["bleu-4"] - pool.score(np.where(p, base + n, base))["bleu-4"])
             for p in pos]
    assert _ties(np.array(diffs), d) == 0
    assert sig.DEFAULT_SEED == 12345


def test_randomization_with_few_differing_items_counts_ties(smile):
    """B differs from A on 3 items only: a randomization trial can only swap
    those, so there are 2^3 = 8 distinct trials and the exact p is the
    share of them at least as extreme as the observed difference.  judgekit
    matches that; sacreBLEU's strict '>' misses the ties and reports
    p = 1/(R+1), calling a 3-item difference highly significant."""
    import itertools

    from sacrebleu.metrics import BLEU
    from sacrebleu.significance import PairedTest

    a, refs = smile
    b = list(a)
    diff = list(range(0, len(a), 100))
    for i in diff:
        b[i] = refs[i][: len(refs[i]) // 2] + a[i]
    ra = judgekit.evaluate(a, refs, preset="sacrebleu", metrics=["bleu-4"])
    rb = judgekit.evaluate(b, refs, preset="sacrebleu", metrics=["bleu-4"])
    d = abs(ra.scores["bleu-4"] - rb.scores["bleu-4"])
    extreme = 0
    for flips in itertools.product([False, True], repeat=len(diff)):
        x, y = list(a), list(b)
        for i, f in zip(diff, flips):
            if f:
                x[i], y[i] = y[i], x[i]
        sx = judgekit.evaluate(x, refs, preset="sacrebleu", metrics=["bleu-4"]).scores["bleu-4"]
        sy = judgekit.evaluate(y, refs, preset="sacrebleu", metrics=["bleu-4"]).scores["bleu-4"]
        extreme += abs(sx - sy) >= d - 1e-12
    exact = extreme / 2 ** len(diff)
    ours = paired_randomization(ra, rb, n_randomization=2000)["bleu-4"].p_value
    assert exact == 0.25 and ours == pytest.approx(exact, abs=0.03)
    _, sb = PairedTest([("A", a), ("B", b)], {"BLEU": BLEU(tokenize="zh")}, [refs], test_type="ar",
                       n_samples=2000)()
    assert sb["BLEU"][1].p_value == 1 / 2001


def test_bootstrap_ci_equals_sacrebleu_confidence(smile):
    from sacrebleu.metrics import BLEU
    from sacrebleu.significance import _bootstrap_resample, estimate_ci

    a, refs = smile
    metric = BLEU(tokenize="zh")
    stats = metric._extract_corpus_statistics(a, [refs])
    _, scores = _bootstrap_resample(stats, metric, 1000)
    mean, half = estimate_ci(np.array([x.score for x in scores]))
    lo, hi = bootstrap_ci(judgekit.evaluate(a, refs, preset="sacrebleu", metrics=["bleu-4"]))["bleu-4"]
    assert 0.5 * (hi - lo) == pytest.approx(half, rel=1e-5)
    assert lo < mean < hi


def test_randomization_matches_scipy_exact_permutation_test():
    """Per-item means on 10 items: scipy enumerates all 2^10 sign flips
    exactly; 20,000 random swaps agree within Monte-Carlo error."""
    from scipy.stats import permutation_test

    rng = np.random.default_rng(7)
    x = rng.integers(0, 3, size=10).astype(float)
    y = np.clip(x + rng.integers(-1, 2, size=10), 0, 2).astype(float)
    y[0] = 2.0
    x[0] = 0.0
    exact = permutation_test((x, y), lambda u, v, axis: np.mean(u, axis=axis) - np.mean(v, axis=axis),
                             permutation_type="samples", n_resamples=np.inf, alternative="two-sided").pvalue
    ours = paired_randomization({"judge": x}, {"judge": y}, n_randomization=20000, seed=3)["judge"].p_value
    assert 0.02 < exact < 0.9
    assert ours == pytest.approx(exact, abs=0.015)


def test_identical_systems_are_never_significant(smile):
    a, refs = smile
    ra = judgekit.evaluate(a[:60], refs[:60])
    rb = judgekit.evaluate(list(a[:60]), refs[:60])
    for t in list(paired_bootstrap(ra, rb, n_bootstrap=200).values()) + list(
            paired_randomization(ra, rb, n_randomization=200).values()):
        assert t.p_value == 1.0 and t.delta == 0.0


def test_result_inputs_must_match():
    ra = judgekit.evaluate(["我很难过", "你好"], ["我很伤心", "你好呀"])
    rb = judgekit.evaluate(["我很难过"], ["我很伤心"])
    with pytest.raises(InputError, match="2 items but system has 1"):
        paired_bootstrap(ra, rb)
    rc = judgekit.evaluate(["我很难过", "你好"], ["我很伤心", "你好呀"], tokenizer="char")
    with pytest.raises(InputError, match="scored differently"):
        paired_randomization(ra, rc)
    with pytest.raises(InputError, match="NaN"):
        paired_bootstrap({"j": [1, float("nan")]}, {"j": [1, 2]})
    with pytest.raises(InputError, match="unknown metric"):
        paired_bootstrap(ra, ra, metrics=["bleu-9"])


judge_scores = st.lists(st.integers(0, 2), min_size=2, max_size=30)


@settings(max_examples=40, deadline=None)
@given(judge_scores, st.data())
def test_invariants_on_judge_scores(x, data):
    y = data.draw(st.lists(st.integers(0, 2), min_size=len(x), max_size=len(x)))
    a, b = {"j": x}, {"j": y}
    for fn, count in ((paired_bootstrap, "n_bootstrap"), (paired_randomization, "n_randomization")):
        ab = fn(a, b, **{count: 200}, seed=1)["j"]
        ba = fn(b, a, **{count: 200}, seed=1)["j"]
        assert 0 < ab.p_value <= 1
        assert ab.p_value == ba.p_value  # symmetric in the two systems
        assert ab.delta == pytest.approx(np.mean(y) - np.mean(x))
        assert fn(a, a, **{count: 50}, seed=1)["j"].p_value == 1.0
    lo, hi = bootstrap_ci(a, n_bootstrap=200)["j"]
    assert min(x) <= lo <= hi <= max(x)


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(-5, 5, allow_nan=False), min_size=3, max_size=20), st.integers(0, 2**32 - 1))
def test_bootstrap_is_seeded(values, seed):
    one = bootstrap_ci({"m": values}, n_bootstrap=100, seed=seed)
    two = bootstrap_ci({"m": values}, n_bootstrap=100, seed=seed)
    assert one == two


def test_randomization_through_sums_equals_one_trial_at_a_time():
    """The randomization test's single product per chunk (A = the system's
    total + swap @ (baseline - system)) gives each trial's corpus BLEU bit
    for bit and its means to the last bits, against scoring each trial's
    pseudo-system as items."""
    import numpy as np

    import judgekit
    from judgekit.scores import Scores

    from pathlib import Path

    example = Path(__file__).resolve().parents[1] / "examples" / "smilechat-100.jsonl"
    rows = [json.loads(x) for x in example.read_text(encoding="utf-8").splitlines()]
    refs = [r["ref"] for r in rows]
    a = judgekit.evaluate([r["pred"] for r in rows], refs)
    b = judgekit.evaluate([r["pred"][: len(r["pred"]) // 2] for r in rows], refs)
    pool = Scores.pool(a, b)
    cols, from_sums = pool.linear()
    n = a.n_items
    pos = np.random.default_rng(5).integers(2, size=(40, n), dtype=bool)
    swap = pos.astype(float) @ (cols[:n] - cols[n:])
    fast = from_sums(cols[n:].sum(axis=0) + swap, np.full(40, float(n)))
    for j in range(40):
        slow = pool.resample(np.where(pos[j], np.arange(n), np.arange(n) + n))
        for k, v in slow.items():
            if k.startswith("bleu"):
                assert fast[k][j] == v, k
            else:
                assert fast[k][j] == pytest.approx(v, rel=1e-12, abs=1e-12), k
