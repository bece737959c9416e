"""Reading predictions and references from files, with errors that name
the file and line (or row), and nothing silently skipped."""
from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any, Iterator

from .errors import InputError

FORMATS = (".txt", ".jsonl", ".csv")


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(1-based line number, text without its line terminator), UTF-8 strict."""
    with open(path, "rb") as f:
        for no, raw in enumerate(f, 1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(f"{path}:{no}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
            if no == 1 and text.startswith("\ufeff"):
                text = text[1:]
            if text.endswith("\n"):
                text = text[:-1]
                if text.endswith("\r"):
                    text = text[:-1]
            yield no, text


def _check_exists(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file")
    if p.stat().st_size == 0:
        raise InputError(f"{p}: the file is empty")
    return p


def _kind(p: Path) -> str:
    suffix = p.suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"{p}: unknown file type {suffix!r}; use .txt (one segment per line), .jsonl or .csv")
    return suffix


def iter_records(path: str | os.PathLike[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(location, record) for each row of a .jsonl or .csv file."""
    p = _check_exists(path)
    kind = _kind(p)
    if kind == ".jsonl":
        for no, line in _lines(p):
            if not line.strip():
                raise InputError(f"{p}:{no}: blank line; every line must hold one JSON object")
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{p}:{no}: invalid JSON ({exc.msg} at column {exc.colno})") from None
            if not isinstance(rec, dict):
                raise InputError(f"{p}:{no}: expected a JSON object, got {type(rec).__name__}")
            yield f"{p}:{no}", rec
    elif kind == ".csv":
        text = "\n".join(t for _, t in _lines(p))
        reader = csv.DictReader(io.StringIO(text))
        for row_no, row in enumerate(reader, 2):
            yield f"{p}: row {row_no}", row
    else:
        raise InputError(f"{p}: a .txt file has no fields; give .jsonl or .csv for --pred-field/--ref-field")


def _field(rec: dict, name: str, where: str, allow_list: bool) -> Any:
    if name not in rec:
        raise InputError(f"{where}: no field {name!r} (fields: {', '.join(map(str, rec))})")
    v = rec[name]
    if isinstance(v, str):
        return v
    if allow_list and isinstance(v, list) and v and all(isinstance(x, str) for x in v):
        return v
    if v is None:
        raise InputError(f"{where}: field {name!r} is null; expected a string")
    raise InputError(f"{where}: field {name!r} is {type(v).__name__}; expected a string"
                     + (" or a list of strings" if allow_list else ""))


def read_pairs(path: str | os.PathLike[str], pred_field: str = "pred", ref_field: str = "ref") -> tuple[list[str], list]:
    """Predictions and references from one .jsonl/.csv file."""
    preds, refs = [], []
    for where, rec in iter_records(path):
        preds.append(_field(rec, pred_field, where, False))
        refs.append(_field(rec, ref_field, where, True))
    if not preds:
        raise InputError(f"{path}: no rows")
    return preds, refs


def read_segments(path: str | os.PathLike[str], field: str | None = None, allow_list: bool = False) -> list:
    """One segment per line (.txt) or per row (.jsonl/.csv with ``field``)."""
    p = _check_exists(path)
    if _kind(p) == ".txt":
        return [t for _, t in _lines(p)]
    if field is None:
        raise InputError(f"{p}: give the field that holds the text (--pred-field / --ref-field)")
    out = [_field(rec, field, where, allow_list) for where, rec in iter_records(p)]
    if not out:
        raise InputError(f"{p}: no rows")
    return out
