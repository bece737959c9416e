"""Reading rating tables and judge outputs from CSV / JSONL, ids always as strings."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ._table import COLUMNS, validate_table


def read_records(path: str | os.PathLike[str], id_fields: tuple[str, ...] = ()) -> pd.DataFrame:
    """A CSV / TSV / JSONL / JSON file as a DataFrame; id fields stay strings (20-digit ids survive)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"file {str(p)!r} not found")
    suffix = p.suffix.lower()
    if suffix in (".csv", ".tsv"):
        sep = "\t" if suffix == ".tsv" else ","
        head = pd.read_csv(p, sep=sep, nrows=0).columns
        return pd.read_csv(p, sep=sep, dtype={c: str for c in head if c in id_fields})
    if suffix == ".jsonl":
        from .._io import iter_records   # the package's line-numbered JSONL reader

        rows = [_ids_as_str(rec, id_fields) for _, rec in iter_records(p)]
        df = pd.DataFrame(rows)
    elif suffix == ".json":
        try:
            obj = json.loads(p.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(f"{p}: invalid JSON ({exc.msg} at line {exc.lineno})") from None
        if isinstance(obj, dict) and "per_item" in obj:
            obj = obj["per_item"]  # a saved JudgeResult
        if not isinstance(obj, list) or not all(isinstance(r, dict) for r in obj):
            raise InputError(f"{p}: expected a JSON list of records (or a judge result with per_item)")
        df = pd.DataFrame([_ids_as_str(r, id_fields) for r in obj])
    else:
        raise InputError(f"{p}: unsupported file type {suffix!r} (use .csv, .tsv, .jsonl or .json)")
    return df


def _ids_as_str(rec: dict, id_fields: tuple[str, ...]) -> dict:
    """Ids become strings before pandas sees them (a float column would round 20-digit ids)."""
    for c in id_fields:
        v = rec.get(c)
        if v is not None and not isinstance(v, str):
            rec[c] = str(v)
    return rec


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A tidy rating table (columns in judgekit.human._table.COLUMNS) from a file, validated."""
    df = read_records(path, id_fields=("item",))
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise InputError(f"{path}: a rating table needs columns {COLUMNS}; missing {missing}")
    return validate_table(df, where=str(path))


def read_scores(path: str | os.PathLike[str], *, id_field: str = "id", score_field: str,
                status_field: str = "status") -> pd.Series:
    """Judge scores by item id.  Rows whose status is not 'scored' become missing (never a score)."""
    df = read_records(path, id_fields=(id_field,))
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
