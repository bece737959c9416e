"""Reading rating tables and judge outputs from files, through :mod:`judgekit.io`
(ids always strings; errors name the file and line)."""
from __future__ import annotations

import os

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io import read_frame
from ._table import COLUMNS, validate_table


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A tidy rating table (columns item, framework, dimension, rater, rater_kind, score, scale_min,
    scale_max) from a .csv/.tsv/.jsonl/.json file (optionally .gz), validated."""
    df = read_frame(path, id_fields=("item",))
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"{path}: a rating table needs columns {COLUMNS}; missing {missing}")
    return validate_table(df, where=str(path))


def read_scores(path: str | os.PathLike[str], *, id_field: str = "id", score_field: str,
                status_field: str = "status") -> pd.Series:
    """Judge scores by item id (strings) from the output of ``judgekit judge`` or any
    .csv/.tsv/.jsonl/.json file with an id and a score field.  Rows whose status is
    not 'scored' become missing (never a score)."""
    df = read_frame(path, id_fields=(id_field,))
    for c in (id_field, score_field):
        if c not in df.columns:
            raise InputError(f"{path}: no field {c!r}; fields: {list(df.columns)}")
    ids = df[id_field]
    if ids.isna().any():
        raise InputError(f"{path}: empty {id_field!r} at row(s) {list(df.index[ids.isna()][:10])}")
    dup = ids.duplicated(keep=False)
    if dup.any():
        raise InputError(f"{path}: id(s) repeated: {sorted(set(ids[dup]))[:10]} at row(s) {list(df.index[dup][:10])}")
    vals = pd.to_numeric(df[score_field], errors="coerce")
    bad = vals.isna() & df[score_field].notna() & (df[score_field].astype(str).str.strip() != "")
    if bad.any():
        raise InputError(f"{path}: non-numeric {score_field!r} at row(s) {list(df.index[bad][:10])} "
                         f"(e.g. {df.loc[bad, score_field].iloc[0]!r})")
    if status_field in df.columns:
        vals = vals.where(df[status_field].astype(str) == "scored", np.nan)
    s = pd.Series(vals.to_numpy(float), index=pd.Index(ids.astype(str), name="item"), name=score_field)
    return s
