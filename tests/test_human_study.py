"""Study statistics (Welivita & Pu's design) against scipy and hand counts, on a synthetic file."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency

from judgekit.errors import InputError
from judgekit.human import study

FILE = Path(__file__).parent / "fixtures" / "human" / "welivita_synthetic.csv"


@pytest.fixture(scope="module")
def wide():
    return pd.read_csv(FILE, dtype=str)


def _counts(df, s):
    v = df[f"rating_{s}"].astype(int)
    return np.array([(v == k).sum() for k in (1, 2, 3)])


def test_distribution_and_overall_chi2(wide):
    r = study(FILE)
    systems = ["human", "chatgpt", "chatgpt_empathy", "gpt4", "llama2_empathy"]
    assert r.systems == systems and r.baseline == "human"
    table = np.array([_counts(wide, s) for s in systems])
    assert (r.distribution.to_numpy() == table).all()
    ref = chi2_contingency(table)
    assert r.overall["chi2"] == pytest.approx(ref.statistic, rel=1e-12)
    assert r.overall["p_value"] == pytest.approx(ref.pvalue, rel=1e-12)
    assert r.overall["dof"] == 8
    assert r.overall["cramers_v"] == pytest.approx(math.sqrt(ref.statistic / (table.sum() * 2)), rel=1e-12)


def test_pairwise_against_baseline(wide):
    r = study(FILE, baseline="human")
    h = _counts(wide, "human")
    for p in r.pairwise:
        c = _counts(wide, p["system"])
        ref = chi2_contingency(np.vstack([h, c]))
        assert p["p_value"] == pytest.approx(ref.pvalue, rel=1e-12)
        top, base = c[2] / c.sum(), h[2] / h.sum()
        assert p["top_change_pp"] == pytest.approx((top - base) * 100)
        assert p["top_change_relative"] == pytest.approx(top / base - 1)


def test_groups_per_sentiment_and_emotion(wide):
    r = study(FILE)
    neg = next(g for g in r.groups["sentiment"] if g["group"] == "negative")
    sub = wide[wide.sentiment == "negative"]
    assert neg["n"] == len(sub)
    g4 = _counts(sub, "gpt4")
    hu = _counts(sub, "human")
    assert neg["systems"]["gpt4"]["top_share"] == pytest.approx(g4[2] / g4.sum())
    assert neg["systems"]["gpt4"]["top_change_pp"] == pytest.approx((g4[2] / g4.sum() - hu[2] / hu.sum()) * 100)
    assert neg["systems"]["gpt4"]["p_value"] == pytest.approx(chi2_contingency(np.vstack([hu, g4])).pvalue)
    assert len(r.groups["emotion"]) == wide.emotion.nunique()
    assert all(g["systems"]["chatgpt"]["small_expected"] for g in r.groups["emotion"])  # 6 items per emotion


def test_subset_of_systems_and_other_baseline():
    r = study(FILE, ["chatgpt", "gpt4"], baseline="gpt4", by=())
    assert r.systems == ["chatgpt", "gpt4"] and [p["system"] for p in r.pairwise] == ["chatgpt"]
    assert r.overall["dof"] == 2 and not r.groups


def test_report_text_and_json():
    r = study(FILE)
    text = str(r)
    assert "chi-square of independence over all systems" in text and "per emotion" in text and "Good share" in text
    d = json.loads(r.to_json())
    assert d["distribution"]["human"]["n"] == 192 and len(d["pairwise"]) == 4


def test_long_table_input_and_missing_level():
    long = pd.DataFrame({"system": ["a"] * 4 + ["b"] * 4, "score": [1, 3, 3, 3, 3, 3, 1, 3]})
    r = study(long, baseline="a", by=())
    assert r.overall["levels_dropped"] == 1     # nobody chose 'Okay'
    assert r.pairwise[0]["top_change_pp"] == 0


@pytest.mark.parametrize("kwargs, message", [
    ({"baseline": "nobody"}, "baseline 'nobody'"),
    ({"systems": ["human"]}, "at least two systems"),
    ({"systems": ["human", "ghost"]}, "unknown system"),
])
def test_bad_input(kwargs, message):
    with pytest.raises(InputError, match=message):
        study(FILE, **kwargs)


def test_single_category_and_out_of_levels():
    with pytest.raises(InputError, match="single rated category"):
        study(pd.DataFrame({"system": ["a", "b"], "score": [3, 3]}))
    with pytest.raises(InputError, match="outside the levels"):
        study(pd.DataFrame({"system": ["a", "b"], "score": [3, 5]}))
