"""Loaders for EPITOME (Reddit) and MentalAlign-70k.

Problems in released files (duplicated ids, out-of-range or unparseable
scores) are never dropped silently: they are listed in
``table.attrs["issues"]`` and announced with a warning.
"""
from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ._table import make_table

EPITOME_FOLDER = "epitome-reddit"
EPITOME_FILES = {
    "emotional_reactions": "emotional-reactions-reddit.csv",
    "interpretations": "interpretations-reddit.csv",
    "explorations": "explorations-reddit.csv",
}


def _announce(table: pd.DataFrame, issues: list[dict], name: str) -> pd.DataFrame:
    table.attrs["issues"] = issues
    if issues:
        warnings.warn(f"{name}: {len(issues)} data issue(s) kept in table.attrs['issues'], "
                      f"e.g. {issues[0]}", stacklevel=3)
    return table


def load_epitome(root: Path, *, duplicates: str = "raters") -> pd.DataFrame:
    """EPITOME Reddit: one adjudicated 0/1/2 level per (seeker post, response) and mechanism.

    Items are ``"<sp_id>/<rp_id>"``.  61 pairs occur twice per file.
    ``duplicates``: 'raters' (default) keeps the second occurrence as rater
    ``epitome:2``, a tiny double-annotated subset; 'error' raises naming the
    lines; 'drop' keeps one copy of identical duplicates and drops the
    conflicting ones.  Every duplicate is listed in ``attrs['issues']``
    (``rows``: 0-based data-row positions in the file, header excluded).
    """
    if duplicates not in ("raters", "error", "drop"):
        raise InputError(f"duplicates must be 'raters', 'error' or 'drop', not {duplicates!r}")
    base = root / EPITOME_FOLDER
    if not base.is_dir():
        raise InputError(f"{EPITOME_FOLDER}/ not found under the data directory {str(root)!r}")
    parts, issues = [], []
    for dim, fname in EPITOME_FILES.items():
        path = base / fname
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        for c in ("sp_id", "rp_id", "level"):
            if c not in df.columns:
                raise InputError(f"{path}: missing column {c!r}")
        df["item"] = df["sp_id"] + "/" + df["rp_id"]
        df["score"] = pd.to_numeric(df["level"], errors="coerce")
        bad = df["score"].isna() | ~df["score"].isin([0, 1, 2])
        for _, r in df[bad].iterrows():
            issues.append({"file": fname, "row": int(r.name), "item": r["item"], "problem": f"level {r['level']!r} not in 0/1/2"})
        df.loc[bad, "score"] = np.nan
        df["occurrence"] = df.groupby("item").cumcount() + 1
        dup_items = df.loc[df["occurrence"] > 1, "item"].unique()
        for item in dup_items:
            rows = df[df["item"] == item]
            levels = rows["score"].tolist()
            conflict = len(set(levels)) > 1
            issues.append({"file": fname, "rows": rows.index.tolist(), "item": item,
                           "problem": "conflicting duplicate" if conflict else "identical duplicate",
                           "levels": levels})
        if len(dup_items) and duplicates == "error":
            first = df[df["item"] == dup_items[0]].index.tolist()
            raise InputError(f"{path}: {len(dup_items)} (sp_id, rp_id) pairs occur more than once, "
                             f"e.g. {dup_items[0]!r} at data row(s) {first}")
        if duplicates == "drop":
            conflicting = {i["item"] for i in issues if i.get("file") == fname and i["problem"] == "conflicting duplicate"}
            df = df[(df["occurrence"] == 1) & ~df["item"].isin(conflicting)]
            df["rater"] = "epitome"
        else:
            df["rater"] = np.where(df["occurrence"] == 1, "epitome", "epitome:" + df["occurrence"].astype(str))
        part = df[["item", "rater", "score"]].copy()
        part["dimension"] = dim
        parts.append(part)
    t = pd.concat(parts, ignore_index=True)
    t["framework"] = "epitome"
    t["rater_kind"] = "crowd"
    t["scale_min"], t["scale_max"] = 0.0, 2.0
    return _announce(make_table(t), issues, "epitome")


MENTALALIGN_FOLDER = "mentalalign-70k"
MENTALALIGN_ATTRS = ["Guidance", "Informativeness", "Relevance", "Safety", "Empathy", "Helpfulness", "Understanding"]
MENTALALIGN_JUDGES = {"claude": "claude_llm_judge.xlsx", "gemini": "gemini_llm_judge.xlsx",
                      "gpt-4o": "gpt-4o_llm_judge.xlsx", "o4-mini": "o4-mini_llm_judge.xlsx"}
_JSON_BLOCK = re.compile(r"\{.*\}", re.S)


def _parse_cell(text) -> dict | None:
    if not isinstance(text, str) or not text.strip():
        return None
    m = _JSON_BLOCK.search(text)
    if not m:
        return None
    try:
        value = json.loads(m.group(0))
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def load_mentalalign(root: Path, *, judges: list[str] | None = None) -> pd.DataFrame:
    """MentalAlign-70k: one consolidated human score and LLM-judge scores on 7 attributes (1-5).

    Items are ``"<ConvID>/<system>"`` (10 systems per context); the
    ``system`` column names the response's author.  Empty, unparseable and
    out-of-range cells (Empathy holds 0 and 6) become NaN scores and are
    listed in ``attrs['issues']``.  Needs openpyxl.
    """
    base = root / MENTALALIGN_FOLDER
    if not base.is_dir():
        raise InputError(f"{MENTALALIGN_FOLDER}/ not found under the data directory {str(root)!r}")
    try:
        import openpyxl  # noqa: F401
    except ImportError as exc:  # pragma: no cover
        raise InputError("reading MentalAlign needs openpyxl: pip install 'judgekit-empathy[xlsx]'") from exc
    sources = [("human", "expert", base / "Human_Judge" / "Human_judge.xlsx", "human_response_")]
    for j in judges or list(MENTALALIGN_JUDGES):
        if j not in MENTALALIGN_JUDGES:
            raise InputError(f"unknown MentalAlign judge {j!r}; choose from {list(MENTALALIGN_JUDGES)}")
        sources.append((j, "llm", base / "LLMs_as_a_judge" / MENTALALIGN_JUDGES[j], "judge_response_"))
    rows, issues = [], []
    for rater, kind, path, prefix in sources:
        df = pd.read_excel(path, dtype=str)
        df.columns = [c.strip() for c in df.columns]
        cols = [c for c in df.columns if c.startswith(prefix)]
        if "ConvID" not in df.columns or not cols:
            raise InputError(f"{path}: expected ConvID and {prefix}* columns, found {list(df.columns)}")
        for col in cols:
            system = col[len(prefix):]
            for i, (conv, cell) in enumerate(zip(df["ConvID"], df[col])):
                parsed = _parse_cell(cell)
                item = f"{conv}/{system}"
                if parsed is None:
                    issues.append({"file": path.name, "row": i + 2, "column": col, "item": item,
                                   "problem": "empty cell" if not isinstance(cell, str) or not cell.strip() else "unparseable cell"})
                for attr in MENTALALIGN_ATTRS:
                    v = None if parsed is None else parsed.get(attr)
                    score = np.nan
                    if v is not None:
                        try:
                            score = float(v)
                        except (TypeError, ValueError):
                            issues.append({"file": path.name, "row": i + 2, "column": col, "item": item,
                                           "dimension": attr, "problem": f"non-numeric value {v!r}"})
                        else:
                            if not 1 <= score <= 5:
                                issues.append({"file": path.name, "row": i + 2, "column": col, "item": item,
                                               "dimension": attr, "problem": f"value {v!r} outside 1-5"})
                                score = np.nan
                    elif parsed is not None:
                        issues.append({"file": path.name, "row": i + 2, "column": col, "item": item,
                                       "dimension": attr, "problem": "missing or null value"})
                    rows.append((item, attr, rater, kind, score, system))
    t = pd.DataFrame(rows, columns=["item", "dimension", "rater", "rater_kind", "score", "system"])
    t["framework"] = "mentalalign"
    t["scale_min"], t["scale_max"] = 1.0, 5.0
    return _announce(make_table(t), issues, "mentalalign")
