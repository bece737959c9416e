"""Kumar et al. 2025 replication data: 4 frameworks x (3 experts, crowd, 3 LLM judges).

Files are read by column *name* (orders differ between files) and ids as
strings (Lend-an-Ear ids have 20 digits).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import InputError
from ._table import make_table

FOLDER = "kumar2025-empathic-communication"

# framework -> (id column, scale, dimensions)
FRAMEWORKS: dict[str, tuple[str, tuple[float, float], list[str]]] = {
    "empatheticdialogues": ("conv_id", (1, 5), ["empathy", "relevance", "fluency"]),
    "epitome": ("sp_id", (0, 2), ["level_emotional_reactions", "level_interpretations", "level_explorations"]),
    "perceived_empathy": ("id", (1, 7), ["m_understood", "m_validated", "m_affirmed", "m_seen", "m_accepted",
                                         "m_caredfor", "m_emotional", "m_practical", "m_motivation"]),
    "lend_an_ear": ("conversation_id", (1, 5), ["validating_emotions", "encouraging_elaboration",
                                                "demonstrating_understanding", "advice_giving", "self_oriented",
                                                "dismissing_emotions"]),
}
# file stem -> (rater, kind, model)
RATERS = [
    ("expert1", "expert1", "expert", ""),
    ("expert2", "expert2", "expert", ""),
    ("expert3", "expert3", "expert", ""),
    ("crowd", "crowd", "crowd", ""),
    ("gpt", "gpt", "llm", "GPT-4o"),
    ("claude", "claude", "llm", "Claude 3.7 Sonnet"),
    ("gemini", "gemini", "llm", "Gemini 2.5 Pro"),
]


def load(root: Path, *, framework: str | None = None, crowd: str = "mean") -> pd.DataFrame:
    """Tidy table of the Kumar data.

    ``crowd``: 'mean' (the authors' crowd label, a mean over workers),
    'raw' (one rater per Lend-an-Ear worker / ED self-evaluation slot, where
    released) or 'both'.
    """
    base = root / FOLDER
    if not base.is_dir():
        raise InputError(f"{FOLDER}/ not found under the data directory {str(root)!r}")
    if crowd not in ("mean", "raw", "both"):
        raise InputError(f"crowd must be 'mean', 'raw' or 'both', not {crowd!r}")
    names = [framework] if framework else list(FRAMEWORKS)
    parts = []
    for fw in names:
        if fw not in FRAMEWORKS:
            raise InputError(f"unknown kumar2025 framework {fw!r}; choose from {list(FRAMEWORKS)}")
        idcol, (lo, hi), dims = FRAMEWORKS[fw]
        for stem, rater, kind, model in RATERS:
            if stem == "crowd" and crowd == "raw":
                continue
            path = base / "annotations" / fw / f"{stem}_ratings.csv"
            parts.append(_read_wide(path, fw, idcol, dims, rater, kind, model, lo, hi))
        if crowd in ("raw", "both"):
            raw = _raw_crowd(base, fw, dims, lo, hi)
            if raw is not None:
                parts.append(raw)
    return make_table(pd.concat(parts, ignore_index=True))


def _read_wide(path, fw, idcol, dims, rater, kind, model, lo, hi) -> pd.DataFrame:
    df = pd.read_csv(path, dtype={idcol: str})
    missing = [c for c in [idcol, *dims] if c not in df.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {missing}")
    dup = df[idcol].duplicated(keep=False)
    if dup.any():
        raise InputError(f"{path}: duplicated ids at line(s) {[i + 2 for i in df.index[dup]]}")
    long = df.melt(id_vars=[idcol], value_vars=dims, var_name="dimension", value_name="score")
    long = long.rename(columns={idcol: "item"})
    long["framework"] = fw
    long["rater"] = rater
    long["rater_kind"] = kind
    long["scale_min"], long["scale_max"] = lo, hi
    long["model"] = model
    return long


def _raw_crowd(base: Path, fw: str, dims, lo, hi) -> pd.DataFrame | None:
    """Per-worker crowd ratings: Lend-an-Ear (hashed worker ids) and ED (two selfeval slots)."""
    od = base / "original_data"
    if fw == "lend_an_ear":
        df = pd.read_csv(od / "sample_lend_an_ear_annotations.csv", dtype={"conversation_id": str, "user_id": str})
        long = df.melt(id_vars=["conversation_id", "user_id"], value_vars=dims, var_name="dimension", value_name="score")
        long = long.rename(columns={"conversation_id": "item"})
        long["rater"] = "worker:" + long.pop("user_id")
    elif fw == "empatheticdialogues":
        df = pd.read_csv(od / "sample_empatheticdialogues.csv", dtype={"conv_id": str})
        df = df.drop_duplicates("conv_id")
        rows = []
        for slot in (1, 2):
            cols = {f"{d}{slot}": d for d in dims}
            part = df[["conv_id", *cols]].rename(columns=cols)
            part = part.melt(id_vars=["conv_id"], value_vars=dims, var_name="dimension", value_name="score")
            part["rater"] = f"selfeval:{slot}"
            rows.append(part)
        long = pd.concat(rows, ignore_index=True).rename(columns={"conv_id": "item"})
    else:
        return None
    long = long.dropna(subset=["score"])  # workers did not rate every dimension of every item
    long["framework"] = fw
    long["rater_kind"] = "crowd"
    long["scale_min"], long["scale_max"] = lo, hi
    long["model"] = ""
    return long
