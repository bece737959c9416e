"""Calibration: isotonic against sklearn, thresholds against brute force, k-fold hygiene, apply/save."""
from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from judgekit.errors import InputError
from judgekit.human import Calibrator, calibrate

isotonic = pytest.importorskip("sklearn.isotonic")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 10, allow_nan=False), st.integers(1, 5)), min_size=2, max_size=80)
       .filter(lambda v: len({p[1] for p in v}) > 1))
def test_isotonic_matches_sklearn(pairs):
    # sklearn pools X values closer than np.finfo(float).resolution (1e-15) into one; judgekit
    # keeps every distinct value. Judge scores never sit 1e-15 apart, so compare on a 1e-6 grid.
    x = np.round(np.array([p[0] for p in pairs]), 6)
    y = np.array([p[1] for p in pairs], float)
    cal = Calibrator("isotonic").fit(x, y)
    ref = isotonic.IsotonicRegression(out_of_bounds="clip").fit(x, y)
    grid = np.r_[x, np.linspace(-1, 11, 25)]
    assert np.allclose(cal.predict(grid), ref.predict(grid), atol=1e-9, rtol=0)


def _l1(pred, y):
    return np.abs(pred - y).sum()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 4), st.integers(1, 3)), min_size=3, max_size=40)
       .filter(lambda v: len({p[1] for p in v}) > 1))
def test_thresholds_are_an_optimal_monotone_level_map(pairs):
    x = np.array([p[0] for p in pairs], float)
    y = np.array([p[1] for p in pairs], float)
    cal = Calibrator("thresholds", levels=[1, 2, 3]).fit(x, y)
    pred = cal.predict(x)
    assert set(pred) <= {1.0, 2.0, 3.0}
    ux = np.unique(x)
    assert np.all(np.diff(cal.predict(ux)) >= 0)
    best = min(_l1(np.array([dict(zip(ux, m))[v] for v in x]), y)
               for m in itertools.combinations_with_replacement([1.0, 2.0, 3.0], len(ux)))
    assert _l1(pred, y) == best


def test_calibrate_kfold_never_sees_held_out_items():
    rng = np.random.default_rng(0)
    n = 300
    human = rng.integers(1, 6, n).astype(float)
    judge = np.clip(human + 1 + rng.integers(-1, 2, n), 1, 7).astype(float)   # biased upward
    ids = [f"id{i}" for i in range(n)]
    j = pd.Series(judge, index=ids, name="judge")
    h = pd.Series(human, index=ids, name="human")
    r = calibrate(j, h, "isotonic", k=5, scale=(1, 5), n_bootstrap=200)
    assert r.before["bias"].estimate > 0.8
    assert abs(r.after["bias"].estimate) < 0.2
    assert r.after["mae"].estimate < r.before["mae"].estimate
    # each out-of-fold prediction equals a map fitted without that item's fold
    from judgekit.human._calibrate import _folds

    folds = _folds(n, 5, r.settings["seed"])
    f0 = folds == 0
    cal0 = Calibrator("isotonic", scale=(1, 5)).fit(j[~f0], h[~f0])
    assert np.allclose(r.oof[f0].to_numpy(), cal0.predict(j[f0]).to_numpy())
    text = str(r)
    assert "before" in text and "after (held-out)" in text
    json.loads(r.to_json())


def test_system_means_and_unknown_ids():
    rng = np.random.default_rng(1)
    ids = [f"id{i}" for i in range(120)]
    h = pd.Series(rng.integers(1, 4, 120).astype(float), index=ids)
    j = pd.Series(np.clip(h.to_numpy() + 1, 1, 4), index=ids)
    j = pd.concat([j, pd.Series([2.0], index=["not-in-humans"])])
    systems = pd.Series(["A" if i % 2 else "B" for i in range(120)], index=ids)
    r = calibrate(j, h, "thresholds", scale=(1, 3), systems=systems, n_bootstrap=100)
    assert {m["system"] for m in r.system_means} == {"A", "B"}
    for m in r.system_means:
        assert m["calibrated_ci"][0] <= m["calibrated"] <= m["calibrated_ci"][1]
    assert any("no human rating" in n for n in r.notes)


def test_save_and_apply_roundtrip():
    cal = Calibrator("isotonic").fit(np.array([1, 2, 3, 4.0]), np.array([1, 1, 3, 3.0]))
    again = Calibrator.from_json(cal.to_json())
    v = pd.Series([0.5, 1.5, np.nan, 3.5], index=list("abcd"))
    assert again.predict(v).equals(cal.predict(v))
    assert np.isnan(again.predict(v)["c"])
    with pytest.raises(InputError, match="not a saved Calibrator"):
        Calibrator.from_dict({"method": "isotonic", "x": [2, 1], "y": [1, 2]})


@pytest.mark.parametrize("call, message", [
    (lambda: Calibrator("magic"), "method must be"),
    (lambda: Calibrator().predict([1]), "not fitted"),
    (lambda: Calibrator().fit(np.array([1.0, 2.0]), np.array([3.0, 3.0])), "single rated category"),
    (lambda: calibrate(pd.Series([1.0, 2.0], index=["a", "b"]), pd.Series([1.0, 2.0], index=["c", "d"])), "share no item"),
    (lambda: calibrate(pd.Series([1.0, 2.0, 3.0], index=list("abc")), pd.Series([1.0, 2.0, 1.0], index=list("abc")), k=5),
     "k must be between"),
])
def test_bad_input(call, message):
    with pytest.raises(InputError, match=message):
        call()
