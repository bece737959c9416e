"""The tidy long rating table every loader returns and every statistic reads.

One row per (item, framework, dimension, rater).  Columns, in this order:

``item`` (str), ``framework`` (str), ``dimension`` (str), ``rater`` (str),
``rater_kind`` (expert / crowd / llm / self), ``score`` (float),
``scale_min`` (float), ``scale_max`` (float), then optional extras
(``system``, ``emotion``, ``sentiment``, ``model`` ...).

Items are strings always: Lend-an-Ear ids have 20 digits and overflow int64.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError

COLUMNS = ["item", "framework", "dimension", "rater", "rater_kind", "score", "scale_min", "scale_max"]
RATER_KINDS = ("expert", "crowd", "llm", "self")


def make_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Order, type and validate a long table (used by every loader)."""
    missing = [c for c in COLUMNS if c not in rows.columns]
    if missing:
        raise InputError(f"rating table lacks column(s) {missing}; required: {COLUMNS}")
    extras = [c for c in rows.columns if c not in COLUMNS]
    out = rows[COLUMNS + extras].copy()
    out.attrs = {}   # loaders' issue lists would be deep-copied by every later pandas operation
    for c in ("item", "framework", "dimension", "rater", "rater_kind"):
        out[c] = out[c].astype(str)
    for c in ("score", "scale_min", "scale_max"):
        v = pd.to_numeric(out[c], errors="coerce")
        bad = v.isna() & out[c].notna() & (out[c].astype(str).str.strip() != "")
        if bad.any():
            raise InputError(f"rating table: non-numeric {c} at row(s) {_row_list(out.index[bad])} "
                             f"(e.g. {out.loc[bad, c].iloc[0]!r})")
        out[c] = v.astype(float)
    return out.reset_index(drop=True)


def validate_table(table: pd.DataFrame, *, where: str = "rating table") -> pd.DataFrame:
    """Check columns, rater kinds, scale bounds and duplicates; name the rows at fault."""
    if not isinstance(table, pd.DataFrame):
        raise InputError(f"{where}: expected a pandas DataFrame, got {type(table).__name__}")
    table = make_table(table)
    bad_kind = ~table["rater_kind"].isin(RATER_KINDS)
    if bad_kind.any():
        rows = _row_list(table.index[bad_kind])
        raise InputError(f"{where}: rater_kind must be one of {RATER_KINDS}; bad value(s) at row(s) {rows}")
    s = table["score"]
    out = s.notna() & ((s < table["scale_min"]) | (s > table["scale_max"]))
    if out.any():
        idx = table.index[out]
        ex = table.loc[idx[0]]
        raise InputError(
            f"{where}: {int(out.sum())} score(s) outside the declared scale at row(s) {_row_list(idx)}; "
            f"e.g. row {idx[0]}: item {ex['item']!r}, rater {ex['rater']!r}, {ex['dimension']} = {ex['score']:g} "
            f"not in [{ex['scale_min']:g}, {ex['scale_max']:g}]"
        )
    key = ["item", "framework", "dimension", "rater"]
    dup = table.duplicated(key, keep=False)
    if dup.any():
        idx = table.index[dup]
        ex = table.loc[idx[0]]
        raise InputError(
            f"{where}: {int(dup.sum())} row(s) rate the same (item, framework, dimension, rater) twice, "
            f"row(s) {_row_list(idx)}; e.g. item {ex['item']!r} by {ex['rater']!r} on {ex['dimension']!r}"
        )
    return table


def _row_list(idx: Iterable, limit: int = 10) -> str:
    idx = list(idx)
    shown = ", ".join(str(i) for i in idx[:limit])
    return shown + (f" ... ({len(idx)} in all)" if len(idx) > limit else "")


def select(table: pd.DataFrame, *, framework: str | None = None, dimension: str | None = None) -> pd.DataFrame:
    """Rows of one framework and one dimension; asks the user to choose when ambiguous."""
    t = table
    for col, val in (("framework", framework), ("dimension", dimension)):
        if val is not None:
            if val not in set(t[col]):
                raise InputError(f"unknown {col} {val!r}; available: {sorted(set(t[col]))}")
            t = t[t[col] == val]
    for col in ("framework", "dimension"):
        vals = sorted(set(t[col]))
        if len(vals) > 1:
            raise InputError(f"the table holds several {col}s {vals}: choose one with {col}=...")
    if t.empty:
        raise InputError("no ratings left after selecting framework/dimension")
    return t


def resolve_raters(table: pd.DataFrame, spec: str | Sequence[str]) -> list[str]:
    """Rater names from a name, a rater kind ('expert'), or a list of names."""
    raters = list(dict.fromkeys(table["rater"]))
    if isinstance(spec, str):
        if spec in raters:
            return [spec]
        kinds = {"experts": "expert", "llms": "llm"}.get(spec, spec)
        if kinds in RATER_KINDS:
            chosen = list(dict.fromkeys(table.loc[table["rater_kind"] == kinds, "rater"]))
            if not chosen:
                raise InputError(f"no rater of kind {kinds!r} in the table; raters: {raters}")
            return chosen
        raise InputError(f"unknown rater {spec!r}; raters: {raters}; kinds: {list(RATER_KINDS)}")
    out = []
    for r in spec:
        out.extend(resolve_raters(table, r))
    return list(dict.fromkeys(out))


def wide(table: pd.DataFrame, raters: Sequence[str]) -> pd.DataFrame:
    """items x raters score matrix (NaN where a rater did not rate an item)."""
    t = table[table["rater"].isin(raters)]
    w = t.pivot(index="item", columns="rater", values="score")
    return w.reindex(columns=list(raters))


def aggregate(w: pd.DataFrame, how: str = "median") -> pd.Series:
    """One score per item from several raters (median by default, as Kumar et al. do)."""
    if how == "median":
        return w.median(axis=1, skipna=True)
    if how == "mean":
        return w.mean(axis=1, skipna=True)
    raise InputError(f"aggregate must be 'median' or 'mean', not {how!r}")


def scale_of(table: pd.DataFrame) -> tuple[float, float] | None:
    """The declared scale, when a selection has exactly one."""
    pairs = table[["scale_min", "scale_max"]].drop_duplicates()
    if len(pairs) != 1:
        return None
    lo, hi = pairs.iloc[0]
    return (float(lo), float(hi))


def integer_levels(lo: float, hi: float) -> np.ndarray | None:
    if float(lo).is_integer() and float(hi).is_integer() and hi > lo and hi - lo <= 100:
        return np.arange(lo, hi + 1, dtype=float)
    return None
