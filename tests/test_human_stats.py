"""Agreement statistics against the libraries that define them (sklearn, statsmodels, scipy,
krippendorff), and the vectorised bootstrap arithmetic against the same libraries on resampled data."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from judgekit.human import _stats as S
from judgekit.human import agreement, panel_agreement

sklearn_metrics = pytest.importorskip("sklearn.metrics")
inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
krippendorff = pytest.importorskip("krippendorff")
from scipy import stats  # noqa: E402

TOL = 1e-12


@st.composite
def paired_ratings(draw, lo=1, hi=5, min_n=3, max_n=60):
    n = draw(st.integers(min_n, max_n))
    x = draw(arrays(np.int64, n, elements=st.integers(lo, hi)))
    y = draw(arrays(np.int64, n, elements=st.integers(lo, hi)))
    if len(np.unique(np.r_[x, y])) < 2:
        y[0] = lo if x[0] != lo else hi
    return x.astype(float), y.astype(float)


def _series(x, y):
    ids = [f"item{i:03d}" for i in range(len(x))]
    return pd.Series(x, index=ids, name="a"), pd.Series(y, index=ids, name="b")


@settings(max_examples=60, deadline=None)
@given(paired_ratings())
def test_pairwise_point_estimates_match_libraries(xy):
    x, y = xy
    a, b = _series(x, y)
    r = agreement(a, b, scale=(1, 5), n_bootstrap=0)
    labels = np.arange(1, 6, dtype=float)
    for name, w in (("kappa", None), ("kappa_linear", "linear"), ("kappa_quadratic", "quadratic")):
        want = sklearn_metrics.cohen_kappa_score(x, y, weights=w, labels=labels)
        got = r[name].estimate
        assert (np.isnan(got) and np.isnan(want)) or abs(got - want) < TOL, (name, got, want)
    cm = sklearn_metrics.confusion_matrix(x, y, labels=labels)
    assert np.array_equal(np.array(r.confusion), cm)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sp = stats.spearmanr(x, y).statistic
            kt = stats.kendalltau(x, y).statistic
    for name, want in (("spearman", sp), ("kendall_tau_b", kt)):
        got = r[name].estimate
        assert (np.isnan(got) and np.isnan(want)) or abs(got - want) < TOL
    if x.std() > 0 and y.std() > 0:
        assert abs(r["pearson"].estimate - stats.pearsonr(x, y).statistic) < TOL
    assert r["exact_accuracy"].estimate == pytest.approx(np.mean(x == y), abs=TOL)
    assert r["within_one_accuracy"].estimate == pytest.approx(np.mean(np.abs(x - y) <= 1), abs=TOL)
    assert r["mae"].estimate == pytest.approx(np.mean(np.abs(x - y)), abs=TOL)
    assert r["bias"].estimate == pytest.approx(np.mean(x - y), abs=TOL)


def test_observed_levels_match_sklearn_default_labels():
    """levels='observed' is sklearn's default (labels = values seen, weights on their ranks)."""
    rng = np.random.default_rng(3)
    x = rng.choice([1.0, 2.0, 5.0], 80)
    y = rng.choice([1.0, 1.5, 2.0, 5.0], 80)
    a, b = _series(x, y)
    r = agreement(a, b, levels="observed", n_bootstrap=0)
    for name, w in (("kappa", None), ("kappa_linear", "linear"), ("kappa_quadratic", "quadratic")):
        labels = [str(v) for v in sorted(set(x) | set(y))]
        want = sklearn_metrics.cohen_kappa_score(x.astype(str), y.astype(str), weights=w, labels=labels)
        assert abs(r[name].estimate - want) < TOL


def test_fce_z_matches_statsmodels_unweighted_se():
    """For unweighted kappa the FCE non-null SE equals statsmodels' std_kappa."""
    rng = np.random.default_rng(5)
    x = rng.integers(1, 4, 200).astype(float)
    y = np.where(rng.random(200) < 0.6, x, rng.integers(1, 4, 200)).astype(float)
    r = agreement(*_series(x, y), scale=(1, 3), n_bootstrap=0)
    table = sklearn_metrics.confusion_matrix(x, y)
    res = inter_rater.cohens_kappa(table)
    assert abs(r["kappa"].extra["se_fce"] - res.std_kappa) < 1e-12
    assert abs(r["kappa"].estimate - res.kappa) < TOL


@settings(max_examples=40, deadline=None)
@given(paired_ratings(), st.lists(st.integers(0, 3), min_size=60, max_size=60))
def test_bootstrap_weights_equal_statistics_of_resampled_data(xy, reps):
    """A weight row w gives exactly the statistics of the data with item i repeated w[i] times."""
    x, y = xy
    w = np.array(reps[: len(x)], float)
    if w.sum() < 3:
        w[:3] += 1
    rep = np.repeat(np.arange(len(x)), w.astype(int))
    xr, yr = x[rep], y[rep]
    levels = np.arange(1, 6, dtype=float)
    cx, lx = S.codes(x)
    cy, ly = S.codes(y)
    ca, _ = S.codes(x, levels)
    cb, _ = S.codes(y, levels)
    with np.errstate(all="ignore"):
        got = S.pairwise_boot(w[None], x, y, cx, cy, len(lx), len(ly), ca, cb, 5, levels)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = {
            "kappa_quadratic": sklearn_metrics.cohen_kappa_score(xr, yr, weights="quadratic", labels=levels),
            "kappa": sklearn_metrics.cohen_kappa_score(xr, yr, labels=levels),
            "spearman": stats.spearmanr(xr, yr).statistic,
            "kendall_tau_b": stats.kendalltau(xr, yr).statistic,
            "mae": np.mean(np.abs(xr - yr)),
        }
    for k, v in want.items():
        g = got[k][0]
        assert (np.isnan(g) and np.isnan(v)) or abs(g - v) < 1e-9, (k, g, v)


def test_kendall_fallback_for_many_distinct_values_matches_table_path():
    rng = np.random.default_rng(11)
    x = rng.normal(size=300)
    y = x + rng.normal(size=300)
    W = np.vstack([np.ones(300), rng.integers(0, 3, 300)]).astype(float)
    cx, lx = S.codes(x)
    cy, ly = S.codes(y)
    got = S.kendall(W, cx, len(lx), cy, len(ly))   # 300 x 300 > 40,000 cells: per-resample scipy
    rep = np.repeat(np.arange(300), W[1].astype(int))
    assert abs(got[0] - stats.kendalltau(x, y).statistic) < TOL
    assert abs(got[1] - stats.kendalltau(x[rep], y[rep]).statistic) < 1e-12


@st.composite
def panels(draw, raters=(2, 5), lo=0, hi=3, missing=True):
    m = draw(st.integers(*raters))
    n = draw(st.integers(4, 40))
    V = draw(arrays(np.float64, (n, m), elements=st.integers(lo, hi).map(float)))
    if missing:
        mask = draw(arrays(np.bool_, (n, m), elements=st.booleans()))
        V = np.where(mask & (np.arange(m) >= 2), np.nan, V)   # the first two raters rate everything
    if len(np.unique(V[~np.isnan(V)])) < 2:
        V[0, 0] = lo if V[0, 0] != lo else hi
    return V


@settings(max_examples=50, deadline=None)
@given(panels(missing=False))
def test_fleiss_matches_statsmodels(V):
    counts = S.fleiss_counts(V, np.unique(V))
    got = S.fleiss_kappa(np.ones((1, len(V))), counts)[0]
    with np.errstate(all="ignore"):
        want = inter_rater.fleiss_kappa(inter_rater.aggregate_raters(V)[0])
    assert (np.isnan(got) and np.isnan(want)) or abs(got - want) < 1e-12


@settings(max_examples=50, deadline=None)
@given(panels(), st.sampled_from(["nominal", "ordinal", "interval", "ratio"]))
def test_alpha_coincidence_matches_krippendorff(V, kind):
    levels = np.unique(V[~np.isnan(V)])
    o, pairable = S.coincidence_per_item(V, levels)
    if pairable.sum() == 0:
        return
    with np.errstate(all="ignore"):
        got = S.alpha(np.ones((1, len(V))), o, levels, kind)[0]
        want = krippendorff.alpha(reliability_data=V.T, level_of_measurement=kind, value_domain=levels)
    assert (np.isnan(got) and np.isnan(want)) or abs(got - want) < 1e-10


def test_alpha_bootstrap_rows_equal_krippendorff_on_resampled_items():
    rng = np.random.default_rng(2)
    V = rng.integers(1, 6, (40, 4)).astype(float)
    V[rng.random(V.shape) < 0.25] = np.nan
    levels = np.unique(V[~np.isnan(V)])
    o, pairable = S.coincidence_per_item(V, levels)
    W = next(S.boot_weights(40, 3, seed=1))
    got = S.alpha(W, o, levels, "ordinal")
    for row, g in zip(W, got):
        rep = np.repeat(np.arange(40), row.astype(int))
        want = krippendorff.alpha(reliability_data=V[rep].T, level_of_measurement="ordinal", value_domain=levels)
        assert abs(g - want) < 1e-10


def test_panel_report_uses_libraries_on_kumar_numbers():
    """Three-expert statistics quoted in the dataset notes (alpha from krippendorff, Fleiss from statsmodels)."""
    from tests.conftest import require_data
    from judgekit.human import load_ratings

    require_data("kumar2025-empathic-communication")
    t = load_ratings("kumar2025", framework="empatheticdialogues")
    p = panel_agreement(t, "expert", dimension="empathy", n_bootstrap=200)
    assert round(p["alpha_ordinal"].estimate, 3) == 0.472
    assert round(p["alpha_interval"].estimate, 3) == 0.529
    assert round(p["fleiss_kappa"].estimate, 3) == 0.151
    w = t[(t.dimension == "empathy") & (t.rater_kind == "expert")].pivot(index="item", columns="rater", values="score")
    assert abs(p["fleiss_kappa"].estimate - inter_rater.fleiss_kappa(inter_rater.aggregate_raters(w.to_numpy())[0])) < 1e-12


def test_bootstrap_is_seeded_and_chunk_independent():
    a = S.run_bootstrap(30, 600, 7, lambda W: {"s": W[:, 0]})["s"]
    b = S.run_bootstrap(30, 600, 7, lambda W: {"s": W[:, 0]})["s"]
    c = S.run_bootstrap(30, 600, 8, lambda W: {"s": W[:, 0]})["s"]
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    W = np.vstack(list(S.boot_weights(30, 600, 7)))
    assert W.shape == (600, 30) and np.all(W.sum(1) == 30)


def test_interval_percentile_and_basic():
    boot = np.arange(1, 1001, dtype=float)
    lo, hi, und = S.interval(np.r_[boot, np.nan], 500.0, 0.9)
    assert und == 1
    assert (lo, hi) == pytest.approx((np.quantile(boot, 0.05), np.quantile(boot, 0.95)), rel=1e-12)
    blo, bhi, _ = S.interval(boot, 400.0, 0.9, "basic")
    assert (blo, bhi) == pytest.approx((800 - hi, 800 - lo), rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(paired_ratings(), st.integers(0, 1000))
def test_table_path_equals_per_item_path(xy, seed):
    """Rating scales take the contingency-table path; many distinct values the per-item path: same numbers."""
    x, y = xy
    W = np.vstack([np.ones(len(x)), next(S.boot_weights(len(x), 5, seed))])
    cx, lx = S.codes(x)
    cy, ly = S.codes(y)
    levels = np.arange(1, 6, dtype=float)
    ca, _ = S.codes(x, levels)
    cb, _ = S.codes(y, levels)
    args = (W, x, y, cx, cy, len(lx), len(ly), ca, cb, 5, levels)
    with np.errstate(all="ignore"):
        fast = S.pairwise_boot(*args)
        slow = S.pairwise_boot(*args, table_limit=0)
    for k in fast:
        assert np.allclose(fast[k], slow[k], atol=1e-12, rtol=0, equal_nan=True), k


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=3, max_size=40).filter(lambda v: len(set(v)) > 1), st.integers(2, 5))
def test_identical_panel_agrees_perfectly(v, m):
    w = pd.DataFrame({f"r{k}": np.array(v, float) for k in range(m)}, index=[f"i{k}" for k in range(len(v))])
    p = panel_agreement(w, n_bootstrap=0)
    for name in ("fleiss_kappa", "alpha_nominal", "alpha_ordinal", "alpha_interval"):
        assert p[name].estimate == pytest.approx(1.0)
    assert all(r["kappa_quadratic"].estimate == pytest.approx(1.0) for r in p.pairwise)
