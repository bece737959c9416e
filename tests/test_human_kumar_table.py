"""Done-when test: reproduce every row of Kumar et al.'s pairwise quadratic kappa table.

What the authors did (found by reproducing all 126 rows):
- 'experts' is the per-item median of expert1-3; 'llm' is Gemini 2.5 Pro
  alone (the combined file's 'llm' rows equal gemini_ratings.csv); 'crowd'
  is the crowd mean file, used as is (no rounding).
- kappa categories are the values observed in either rater, weighted by
  their rank (sklearn's default labels); crowd means such as 2.667 are
  categories of their own.
- the z statistic is kappa over the Fleiss-Cohen-Everitt (1969) non-null
  standard error, the p-value two-sided normal.
"""
from __future__ import annotations

import ast

import pandas as pd
import pytest

from tests.conftest import require_data

SIDE = {"expert1": "expert1", "expert2": "expert2", "expert3": "expert3",
        "experts": "expert", "crowd": "crowd", "llm": "gemini"}
FRAMEWORK = {"Lend an Ear": "lend_an_ear", "Perceived Empathy": "perceived_empathy",
             "Empathetic Dialogues": "empatheticdialogues", "EPITOME": "epitome"}


@pytest.fixture(scope="module")
def kumar():
    from judgekit.human import load_ratings

    require_data("kumar2025-empathic-communication", "annotations")
    return load_ratings("kumar2025")


def _rows(name):
    path = require_data("kumar2025-empathic-communication", "annotations", name)
    return pd.read_csv(path)


def _agree(kumar, row):
    from judgekit.human import agreement

    a, b = ast.literal_eval(row["Annotator Pair"])
    return agreement(kumar, a=SIDE[a], b=SIDE[b], framework=FRAMEWORK[row["Dataset"]],
                     dimension=row["Dimension"], levels="observed", n_bootstrap=0)


def test_table_kappa_every_row(kumar):
    rows = _rows("table_kappa.csv")
    assert len(rows) == 126
    bad = []
    for _, row in rows.iterrows():
        r = _agree(kumar, row)
        k = r["kappa_quadratic"]
        got = (f"{k.estimate:.2f}", f"{k.extra['p_value']:.3f}")
        want = (f"{row['Weighted Cohen' + chr(39) + 's Kappa']:.2f}", f"{row['Kappa P-value']:.3f}")
        if got != want:
            bad.append((row["Dataset"], row["Dimension"], row["Annotator Pair"], got, want))
        assert k.n_items == 50 and k.n_missing == 0
    assert not bad, bad


def test_z_and_spearman_of_all_pairs_file(kumar):
    """The companion file: Spearman rho (2 dp) and kappa z (3 dp) for the same 126 pairs."""
    rows = _rows("all_annotator_pairs_spearman_kappa.csv")
    bad = []
    for _, row in rows.iterrows():
        r = _agree(kumar, row)
        got = (f"{r['spearman'].estimate:.2f}", f"{r['kappa_quadratic'].extra['z']:.3f}")
        want = (f"{row['Spearman Correlation']:.2f}", f"{row['Kappa Z-statistic']:.3f}")
        if got != want:
            bad.append((row["Dataset"], row["Dimension"], row["Annotator Pair"], got, want))
    assert not bad, bad


def test_llm_label_is_gemini_and_experts_is_median(kumar):
    """The two findings the reproduction rests on, checked against the combined file."""
    path = require_data("kumar2025-empathic-communication", "annotations",
                        "combined_annotations_across_methods_and_datasets.csv")
    c = pd.read_csv(path, dtype={"lend_an_ear_conversation_id": str})
    lea = c[["lend_an_ear_conversation_id", "annotation_method", "validating_emotions"]]
    t = kumar[(kumar.framework == "lend_an_ear") & (kumar.dimension == "validating_emotions")]
    w = t.pivot(index="item", columns="rater", values="score")
    llm = lea[lea.annotation_method == "llm"].set_index("lend_an_ear_conversation_id")["validating_emotions"]
    pd.testing.assert_series_equal(llm.sort_index(), w["gemini"].reindex(llm.index).sort_index(), check_names=False)
    experts = lea[lea.annotation_method == "experts"].set_index("lend_an_ear_conversation_id")["validating_emotions"]
    med = w[["expert1", "expert2", "expert3"]].median(axis=1)
    pd.testing.assert_series_equal(experts.sort_index(), med.reindex(experts.index).sort_index(), check_names=False)


def test_rounding_crowd_does_not_reproduce(kumar):
    """Rounding the crowd means first (a natural guess) misses rows: the table used raw means."""
    from judgekit.human import agreement

    t = kumar[(kumar.framework == "empatheticdialogues") & (kumar.dimension == "empathy")].copy()
    crowd = t[t.rater == "crowd"].set_index("item")["score"].round()
    experts = t[t.rater.str.startswith("expert")].pivot(index="item", columns="rater", values="score").median(axis=1)
    r = agreement(experts, crowd, levels="observed", n_bootstrap=0)
    assert f"{r['kappa_quadratic'].estimate:.2f}" != "0.15"   # the published value
