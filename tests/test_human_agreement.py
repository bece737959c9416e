"""agreement / panel_agreement / human_ceiling behaviour: pairing by id, missing data,
reports, invariants (hypothesis) and clear errors naming what is wrong."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from judgekit.errors import InputError
from judgekit.human import agreement, human_ceiling, panel_agreement

IDS = [f"2024103114{i:010d}" for i in range(40)]   # 20-digit ids, as in Lend-an-Ear


def _pair(seed=0, n=40, noise=0.3):
    rng = np.random.default_rng(seed)
    h = rng.integers(1, 6, n).astype(float)
    j = np.clip(h + np.where(rng.random(n) < noise, rng.integers(-2, 3, n), 0), 1, 5)
    return pd.Series(j, index=IDS[:n], name="judge"), pd.Series(h, index=IDS[:n], name="human")


def _table(n=40, seed=1):
    """A small tidy table: 3 experts, 2 judges, one dimension."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, 6, n)
    rows = []
    for r, kind, noise in (("e1", "expert", 0.3), ("e2", "expert", 0.3), ("e3", "expert", 0.4),
                           ("good", "llm", 0.3), ("bad", "llm", 1.0)):
        v = np.clip(truth + np.where(rng.random(n) < noise, rng.integers(-2, 3, n), 0), 1, 5)
        for i in range(n):
            rows.append({"item": IDS[i], "framework": "f", "dimension": "empathy", "rater": r, "rater_kind": kind,
                         "score": float(v[i]), "scale_min": 1.0, "scale_max": 5.0})
    return pd.DataFrame(rows)


def test_pairing_is_by_id_not_position():
    j, h = _pair()
    r1 = agreement(j, h, scale=(1, 5), n_bootstrap=200)
    r2 = agreement(j.sample(frac=1, random_state=3), h.iloc[::-1], scale=(1, 5), n_bootstrap=200)
    assert r1.to_dict()["figures"] == r2.to_dict()["figures"]


def test_missing_values_are_counted_pairwise():
    j, h = _pair()
    j = j.copy()
    j.iloc[0] = np.nan
    h = h.drop(h.index[1])
    extra = pd.Series([3.0], index=["only-human"])
    h = pd.concat([h, extra])
    r = agreement(j, h, scale=(1, 5), n_bootstrap=50)
    assert r.n_items == 38
    assert r.n_missing == 3
    assert r.missing["only_a"] == [IDS[1]]
    assert r.missing["only_b"] == sorted([IDS[0], "only-human"])
    assert all(f.n_items == 38 and f.n_missing == 3 for f in r.figures)


def test_report_text_and_json():
    j, h = _pair()
    r = agreement(j, h, scale=(1, 5), n_bootstrap=100)
    text = str(r)
    assert "Agreement of judge with human" in text and "Cohen's kappa (quadratic)" in text and "confusion" in text
    d = json.loads(r.to_json())
    assert set(d["figures"]) >= {"kappa", "kappa_linear", "kappa_quadratic", "spearman", "kendall_tau_b",
                                 "pearson", "exact_accuracy", "within_one_accuracy", "mae", "bias"}
    f = d["figures"]["kappa_quadratic"]
    assert {"estimate", "ci_low", "ci_high", "n_items", "n_missing"} <= set(f)
    assert d["settings"]["seed"] == 12345 and d["settings"]["n_boot"] == 100


def test_seed_reproduces_and_changes_intervals():
    j, h = _pair()
    a = agreement(j, h, scale=(1, 5), n_bootstrap=300, seed=1)["kappa_quadratic"]
    b = agreement(j, h, scale=(1, 5), n_bootstrap=300, seed=1)["kappa_quadratic"]
    c = agreement(j, h, scale=(1, 5), n_bootstrap=300, seed=2)["kappa_quadratic"]
    assert (a.ci_low, a.ci_high) == (b.ci_low, b.ci_high)
    assert (a.ci_low, a.ci_high) != (c.ci_low, c.ci_high)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=5, max_size=40).filter(lambda v: len(set(v)) > 1))
def test_identical_ratings_agree_perfectly(v):
    s = pd.Series(np.array(v, float), index=[f"i{k}" for k in range(len(v))])
    r = agreement(s, s.copy(), scale=(1, 5), n_bootstrap=0)
    for name in ("kappa", "kappa_linear", "kappa_quadratic", "spearman", "kendall_tau_b", "pearson", "exact_accuracy"):
        assert r[name].estimate == pytest.approx(1.0)
    assert r["mae"].estimate == 0 and r["bias"].estimate == 0


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 5), st.integers(1, 5)), min_size=4, max_size=40)
       .filter(lambda v: len({x for p in v for x in p}) > 1))
def test_symmetry_and_bias_sign(pairs):
    a = pd.Series([float(p[0]) for p in pairs], index=[f"i{k}" for k in range(len(pairs))])
    b = pd.Series([float(p[1]) for p in pairs], index=a.index)
    ab = agreement(a, b, scale=(1, 5), n_bootstrap=0)
    ba = agreement(b, a, scale=(1, 5), n_bootstrap=0)
    for name in ("kappa", "kappa_linear", "kappa_quadratic", "spearman", "kendall_tau_b", "exact_accuracy", "mae"):
        x, y = ab[name].estimate, ba[name].estimate
        assert (np.isnan(x) and np.isnan(y)) or x == pytest.approx(y, abs=1e-12)
    assert ab["bias"].estimate == pytest.approx(-ba["bias"].estimate)
    assert np.array(ab.confusion).T.tolist() == ba.confusion


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000))
def test_interval_contains_estimate_on_non_degenerate_data(seed):
    j, h = _pair(seed=seed, n=40)
    r = agreement(j, h, scale=(1, 5), n_bootstrap=400, seed=seed)
    for name in ("kappa_quadratic", "spearman", "pearson", "mae", "bias", "exact_accuracy"):
        f = r[name]
        assert f.ci_low <= f.estimate <= f.ci_high, (name, f)


def test_groups_from_a_table_are_aggregated_by_median():
    t = _table()
    r = agreement(t, a="good", b="expert", n_bootstrap=0)
    w = t.pivot(index="item", columns="rater", values="score")
    direct = agreement(w["good"], w[["e1", "e2", "e3"]].median(axis=1), scale=(1, 5), n_bootstrap=0)
    assert r["kappa_quadratic"].estimate == direct["kappa_quadratic"].estimate
    assert r.context["b_raters"] == ["e1", "e2", "e3"]
    assert "median of 3" in r.b


@pytest.mark.parametrize("call, message", [
    (lambda: agreement([1, 2, 3], [1, 2, 3]), "paired by id"),
    (lambda: agreement(pd.Series([1.0, 2.0], index=["a", "a"]), pd.Series([1.0, 2.0], index=["a", "b"])), "more than once"),
    (lambda: agreement(pd.Series([1.0, 7.0], index=["a", "b"]), pd.Series([1.0, 2.0], index=["a", "b"]), scale=(1, 5)),
     "'b'=7"),
    (lambda: agreement(pd.Series([2.0, 2.0], index=["a", "b"]), pd.Series([2.0, 2.0], index=["a", "b"])), "one rated category"),
    (lambda: agreement(pd.Series([1.0, 2.0], index=["a", "b"]), pd.Series([1.0, 2.0], index=["c", "d"])), "share no rated item"),
    (lambda: agreement(pd.Series([1.0, 2.0], index=["a", "b"]), pd.Series([1.0, 2.0], index=["a", "d"])), "only one item"),
    (lambda: agreement(_table(), a="nobody", b="expert"), "unknown rater 'nobody'"),
    (lambda: agreement(_table(), a="good"), "name both sides"),
    (lambda: panel_agreement(_table(), ["e1"]), "at least two raters"),
    (lambda: human_ceiling(_table(), judges="llm", humans=["e1"]), "at least two humans"),
])
def test_bad_input_is_named(call, message):
    with pytest.raises(InputError, match=message):
        call()


def test_table_rows_out_of_scale_are_named():
    t = _table()
    t.loc[7, "score"] = 9.0
    with pytest.raises(InputError, match=r"row\(s\) 7"):
        agreement(t, a="good", b="expert")


def test_panel_with_missing_ratings():
    t = _table()
    t = t[~((t.rater == "e3") & t.item.isin(IDS[:10]))]
    p = panel_agreement(t, "expert", n_bootstrap=200)
    assert p["fleiss_kappa"].n_items == 30 and p["fleiss_kappa"].n_missing == 10
    assert p["alpha_ordinal"].n_items == 40
    assert len(p.pairwise) == 3 and any("lack a rating" in n for n in p.notes)
    assert "Panel agreement of 3 raters" in str(p)
    json.loads(p.to_json())


def test_ceiling_leave_one_out_is_what_it_says():
    t = _table()
    t2 = pd.concat([t, t[t.rater == "e1"].assign(rater="copy_of_e1", rater_kind="llm")])
    c = human_ceiling(t2, judges=["good", "bad", "copy_of_e1"], humans="expert", n_bootstrap=300)
    w = t.pivot(index="item", columns="rater", values="score")
    human_row = next(r for r in c.rows if r["kind"] == "human" and r["metric"] == "kappa_quadratic")
    for h in ("e1", "e2", "e3"):
        others = [o for o in ("e1", "e2", "e3") if o != h]
        want = agreement(w[h], w[others].median(axis=1), scale=(1, 5), n_bootstrap=0)["kappa_quadratic"].estimate
        assert human_row["per_heldout"][h] == pytest.approx(want, abs=1e-12)
    copy_row = next(r for r in c.rows if r["rater"] == "copy_of_e1" and r["metric"] == "kappa_quadratic")
    assert copy_row["per_heldout"]["e1"] == pytest.approx(human_row["per_heldout"]["e1"], abs=1e-12)
    bad = next(r for r in c.rows if r["rater"] == "bad" and r["metric"] == "kappa_quadratic")
    assert bad["minus_human"].ci_high < 0          # a noisy judge is below the ceiling
    assert any("bad: Cohen's kappa (quadratic) below" in v for v in c.verdicts())
    text = str(c)
    assert "leave-one-out" in text and "humans (leave-one-out)" in text
    json.loads(c.to_json())


def test_ceiling_on_kumar_shows_judges_and_experts():
    from tests.conftest import require_data
    from judgekit.human import load_ratings
    from judgekit.human.ceiling import ceiling_summary

    require_data("kumar2025-empathic-communication")
    t = load_ratings("kumar2025", framework="epitome")
    s = ceiling_summary(t, n_bootstrap=200)
    df = s.to_frame()
    assert len(df) == 3 and set(s.judges) == {"gpt", "claude", "gemini"}
    assert (df["humans"] > 0.4).all()
    assert "indistinguishable" in str(s) or "below" in str(s)
