"""Loaders: shapes, string ids, column selection by name, and data problems reported, never dropped."""
from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from judgekit.errors import InputError
from judgekit.human import load_ratings, read_welivita
from judgekit.human._table import COLUMNS
from tests.conftest import require_data

FIX = Path(__file__).parent / "fixtures" / "human"


def test_kumar_shape_ids_and_columns():
    root = require_data("kumar2025-empathic-communication").parent
    t = load_ratings("kumar2025", data_dir=root)
    assert list(t.columns[:8]) == COLUMNS
    assert len(t) == 7 * 21 * 50
    lea = t[t.framework == "lend_an_ear"]
    assert lea["item"].str.fullmatch(r"\d{20}").all()
    assert lea["item"].nunique() == 50
    assert set(t.rater_kind) == {"expert", "crowd", "llm"}
    assert t.groupby("framework")["scale_max"].first().to_dict() == {
        "empatheticdialogues": 5, "epitome": 2, "lend_an_ear": 5, "perceived_empathy": 7}
    assert t.score.notna().all()


def test_kumar_reads_columns_by_name():
    """EPITOME expert files list interpretations before explorations, crowd/LLM files the reverse."""
    base = require_data("kumar2025-empathic-communication", "annotations", "epitome")
    t = load_ratings("kumar2025", framework="epitome")
    raw = pd.read_csv(base / "crowd_ratings.csv", dtype=str).set_index("sp_id")
    mine = t[(t.rater == "crowd") & (t.dimension == "level_explorations")].set_index("item")["score"]
    assert (mine.sort_index() == raw["level_explorations"].astype(float).reindex(mine.index).sort_index()).all()


def test_kumar_raw_crowd_means_equal_the_crowd_file():
    require_data("kumar2025-empathic-communication", "original_data")
    t = load_ratings("kumar2025", crowd="both")
    for fw, prefix, n_workers in (("lend_an_ear", "worker:", 116), ("empatheticdialogues", "selfeval:", 2)):
        part = t[t.framework == fw]
        raw = part[part.rater.str.startswith(prefix)]
        assert raw.rater.nunique() == n_workers
        means = raw.groupby(["item", "dimension"]).score.mean()
        crowd = part[part.rater == "crowd"].set_index(["item", "dimension"]).score
        assert np.allclose(means.reindex(crowd.index), crowd, atol=1e-12, rtol=0)


def test_epitome_duplicates_reported():
    require_data("epitome-reddit")
    with pytest.warns(UserWarning, match="issue"):
        t = load_ratings("epitome")
    issues = t.attrs["issues"]
    conflicts = [i for i in issues if i["problem"] == "conflicting duplicate"]
    assert conflicts and all(len(set(i["levels"])) > 1 for i in conflicts)
    assert (t.rater != "epitome").sum() == sum(len(i["rows"]) - 1 for i in issues if "rows" in i)
    assert len(t[t.rater == "epitome"]) == 3 * t[t.rater == "epitome"]["item"].nunique()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(InputError, match="occur more than once"):
            load_ratings("epitome", duplicates="error")
        dropped = load_ratings("epitome", duplicates="drop")
    assert set(dropped.rater) == {"epitome"}
    assert not dropped.duplicated(["item", "dimension"]).any()


def test_mentalalign_out_of_range_reported_as_missing():
    require_data("mentalalign-70k", "Human_Judge", "Human_judge.xlsx")
    with pytest.warns(UserWarning):
        t = load_ratings("mentalalign", judges=["gpt-4o"])
    assert set(t.rater) == {"human", "gpt-4o"} and t["item"].nunique() == 10_000
    emp = [i for i in t.attrs["issues"] if i.get("dimension") == "Empathy" and "outside" in i["problem"]]
    values = sorted(i["problem"].split()[1] for i in emp)
    assert values.count("0") == 33 and values.count("6") == 1
    i = emp[0]
    row = t[(t["item"] == i["item"]) & (t.dimension == "Empathy") & (t.rater == "human")]
    assert row.score.isna().all()   # kept as a missing rating, counted later
    assert t.score.dropna().between(1, 5).all()


def test_welivita_any_number_of_systems(tmp_path):
    t = load_ratings("welivita2024", path=FIX / "welivita_synthetic.csv")
    assert set(t.system) == {"human", "chatgpt", "chatgpt_empathy", "gpt4", "llama2_empathy"}
    assert len(t) == 5 * 192
    assert t["item"].str.contains("/").all() and set(t.sentiment) == {"positive", "negative"}
    # through a data directory too
    d = tmp_path / "welivita2024"
    d.mkdir()
    shutil.copy(FIX / "welivita_synthetic.csv", d / "dataset_and_ratings.csv")
    assert len(load_ratings("welivita2024", data_dir=tmp_path)) == len(t)


def test_welivita_bad_rating_names_the_line(tmp_path):
    df = pd.read_csv(FIX / "welivita_synthetic.csv", dtype=str)
    df.loc[4, "rating_gpt4"] = "4"
    p = tmp_path / "bad.csv"
    df.to_csv(p, index=False)
    with pytest.raises(InputError, match=r"rating_gpt4 .* line\(s\) \[6\]"):
        read_welivita(p)


def test_unknown_dataset_and_options():
    with pytest.raises(InputError, match="unknown dataset"):
        load_ratings("nope", data_dir=".")
    root = require_data("kumar2025-empathic-communication").parent
    with pytest.raises(InputError, match="unknown option"):
        load_ratings("kumar2025", data_dir=root, bogus=1)
    with pytest.raises(InputError, match="unknown kumar2025 framework"):
        load_ratings("kumar2025", data_dir=root, framework="nope")


def test_download_helper_checks_size_and_digest(tmp_path):
    """The pinned-download helper, exercised on a local file:// URL (tests never use the network)."""
    from judgekit.human._load_welivita import download, sha256_of

    src = FIX / "welivita_synthetic.csv"
    url = src.resolve().as_uri()
    good = sha256_of(src)
    out = download(url, tmp_path / "a.csv", sha256=good, size=src.stat().st_size)
    assert out.read_bytes() == src.read_bytes()
    with pytest.raises(InputError, match="sha256"):
        download(url, tmp_path / "b.csv", sha256="0" * 64)
    assert not (tmp_path / "b.csv").exists() and not (tmp_path / "b.csv.part").exists()
    with pytest.raises(InputError, match="size"):
        download(url, tmp_path / "c.csv", size=1)
