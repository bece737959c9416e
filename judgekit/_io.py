"""Reading predictions and references from files, with errors that name
the file and line (or row), and nothing silently skipped."""
from __future__ import annotations

import csv
import gzip
import io
import json
import os
from pathlib import Path
from typing import Any, Iterator

from .errors import InputError

FORMATS = (".txt", ".jsonl", ".csv")


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(1-based line number, text without its line terminator), UTF-8 strict."""
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rb") as f:
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
    """.txt, .jsonl or .csv (each also gzipped, e.g. pairs.jsonl.gz)."""
    suffixes = [x.lower() for x in p.suffixes]
    suffix = suffixes[-2] if len(suffixes) >= 2 and suffixes[-1] == ".gz" else (suffixes[-1] if suffixes else "")
    if suffix not in FORMATS:
        raise InputError(f"{p}: unknown file type {''.join(p.suffixes) or '(none)'!r}; use .txt (one segment per "
                         "line), .jsonl or .csv, optionally gzipped (.gz)")
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


def iter_pairs(pairs: str | os.PathLike[str] | None = None, *, preds: str | os.PathLike[str] | None = None,
               refs: str | os.PathLike[str] | None = None, pred_field: str = "pred", ref_field: str = "ref",
               id_field: str | None = None) -> Iterator[tuple[Any, str, Any]]:
    """(id, prediction, reference) lazily, from one PAIRS file (.jsonl/.csv)
    or from --preds and --refs files (.txt/.jsonl/.csv) read in step.
    ``id`` is the ``id_field`` value when given and present, else the row
    number (0-based)."""
    if pairs is not None:
        if preds is not None or refs is not None:
            raise InputError("give either a PAIRS file or --preds and --refs, not both")
        n = 0
        for n, (where, rec) in enumerate(iter_records(pairs)):
            pid = rec.get(id_field, n) if id_field else n
            yield pid, _field(rec, pred_field, where, False), _field(rec, ref_field, where, True)
        return
    if preds is None or refs is None:
        raise InputError("give a PAIRS file, or both --preds and --refs")
    left = _iter_segments(preds, pred_field, False)
    right = _iter_segments(refs, ref_field, True)
    n = 0
    for n, (a, b) in enumerate(_zip_strict(left, right, preds, refs)):
        yield n, a, b


def _iter_segments(path, field, allow_list) -> Iterator[Any]:
    p = _check_exists(path)
    if _kind(p) == ".txt":
        for _, t in _lines(p):
            yield t
        return
    for where, rec in iter_records(p):
        yield _field(rec, field, where, allow_list)


def _zip_strict(a, b, pa, pb) -> Iterator[tuple[Any, Any]]:
    n = 0
    sentinel = object()
    while True:
        x, y = next(a, sentinel), next(b, sentinel)
        if x is sentinel and y is sentinel:
            return
        if x is sentinel or y is sentinel:
            rest_a = n + (x is not sentinel) + sum(1 for _ in a)
            rest_b = n + (y is not sentinel) + sum(1 for _ in b)
            raise InputError(f"{pa} has {rest_a} segments but {pb} has {rest_b}")
        n += 1
        yield x, y
