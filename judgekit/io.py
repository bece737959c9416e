"""Reading data files: the one reader behind every judgekit command.

Formats, chosen by the file name (each may also be gzipped, ``.jsonl.gz``):

- ``.txt``: one segment per line (no fields), unless its first line is a
  JSON object: then JSON lines (ChatGLM's ``generated_predictions.txt``);
- ``.jsonl``: one JSON object per line;
- ``.csv`` / ``.tsv``: a header line naming the columns, then one row per
  record (fields separated by ``,`` / a tab; quote a field with ``"`` when it
  holds the separator, a quote or a line break);
- ``.json``: a list of objects (or a saved judge result with ``per_item``).

Rules, the same for every command:

- Text is strict UTF-8 (a leading byte-order mark is dropped); a bad byte is
  an error naming ``file:line``.
- Every error is a :class:`judgekit.errors.InputError` naming the file and
  the line (``file:line``; for a CSV row, the line the row starts on; for a
  ``.json`` list, ``file[index]``).  Nothing is skipped or repaired silently.
- Blank lines: in ``.txt`` every line is a segment, an empty line is an
  empty segment (data, not padding).  In ``.jsonl``, ``.csv`` and ``.tsv`` a
  blank line (empty or only whitespace) is an error naming it, *unless*
  only blank lines follow it: blank lines at the end of a file are ignored.
  The line break ending the last line never starts another line.
- ``.csv`` / ``.tsv``: a row with more fields than the header (say an
  unquoted comma) or fewer is an error naming the row's line; so is a column
  name given twice in the header, and a quote out of place.  Values are
  strings; :func:`read_records` gives an empty cell as ``""``,
  :func:`read_frame` as missing (``None``), as pandas does.
- ``.jsonl`` / ``.json``: a key given twice in one object is an error.
- Ids (the ``id_fields``) always come back as strings: a JSON integer keeps
  every digit (``20241031145103738386``); a JSON float, ``null``, an empty
  id or any other type is an error, since a float id may already be rounded.
- Prediction / reference pairs (:func:`iter_pairs`): the fields are found by
  name when none is given (:data:`FIELD_NAMES`: judgekit's ``pred`` / ``ref``,
  else LLaMA-Factory's ``predict`` / ``label``, ChatGLM's ``labels`` and other
  pipelines' names, when exactly one is there); a file without ids is keyed
  by record number from 0, as a ``.txt`` file is by line.

Public API: :func:`read_records`, :func:`read_frame`, :func:`read_texts`,
:func:`iter_pairs`, :func:`text_field`, :func:`find_field`, :func:`record_id`,
:func:`plain_text`, :func:`file_format`, ``FORMATS``, ``FIELD_NAMES``.
"""
from __future__ import annotations

import csv
import gzip
import json
import os
import sys
import zlib
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

from .errors import InputError

__all__ = ["FORMATS", "FIELD_NAMES", "file_format", "read_records", "read_frame", "read_texts", "iter_pairs",
           "text_field", "find_field", "record_id", "plain_text", "write_jsonl"]

#: The formats judgekit reads (each may also end in ``.gz``).
FORMATS = ("txt", "jsonl", "csv", "tsv", "json")

#: Field names recognised when none is given: judgekit's own first (taken
#: whenever present), then other pipelines' (LLaMA-Factory's
#: ``generated_predictions.jsonl``: ``prompt`` / ``predict`` / ``label``;
#: ChatGLM's ptuning: ``predict`` / ``labels``), taken when exactly one is
#: present.  Names that mean the reference in one pipeline and the system's
#: reply in another (``output``, ``response``) are not guessed.
FIELD_NAMES = {
    "pred": ("pred", "predict", "prediction", "hypothesis", "hyp"),
    "ref": ("ref", "label", "labels", "reference", "target", "gold"),
}
# the option as the Python API spells it; the CLI shows its own --pred-field (judgekit.cli.in_cli_words)
_ROLE = {"pred": ("prediction", "pred_field="), "ref": ("reference", "ref_field=")}

try:  # long dialogue fields: the csv module's default limit is 128 KiB per field
    csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))
except OverflowError:  # pragma: no cover
    pass


# -- files and lines ----------------------------------------------------------
def file_format(path: str | os.PathLike[str]) -> str:
    """``"txt"``, ``"jsonl"``, ``"csv"``, ``"tsv"`` or ``"json"`` from the file
    name (``.gz`` looked through), or an InputError listing the formats."""
    p = Path(path)
    suffixes = [x.lower() for x in p.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    kind = suffixes[-1][1:] if suffixes else ""
    if kind not in FORMATS:
        raise InputError(f"{p}: unknown file type {''.join(p.suffixes) or '(none)'!r}; use .txt (one segment per "
                         "line), .jsonl, .csv, .tsv or .json, optionally gzipped (.gz)")
    return kind


def _check_file(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such file" if not p.exists() else f"{p}: not a file")
    if p.stat().st_size == 0:
        raise InputError(f"{p}: the file is empty")
    return p


def _source(path: str | os.PathLike[str], format: str | None) -> tuple[str, str, Any]:
    """(name used in messages, format, opener of a binary stream)."""
    if isinstance(path, str) and path == "-":
        kind = (format or "").lower().lstrip(".")
        if kind not in FORMATS:
            raise InputError(f"reading standard input needs a format: one of {', '.join(FORMATS)}")
        return "<stdin>", kind, lambda: _NoClose(sys.stdin.buffer)
    p = _check_file(path)
    kind = format.lower().lstrip(".") if format else file_format(p)
    if kind not in FORMATS:
        raise InputError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")
    gz = p.name.lower().endswith(".gz")
    return str(p), kind, (lambda: gzip.open(p, "rb")) if gz else (lambda: open(p, "rb"))


class _NoClose:
    def __init__(self, fh: IO[bytes]) -> None:
        self.fh = fh

    def __enter__(self) -> IO[bytes]:
        return self.fh

    def __exit__(self, *exc: Any) -> None:
        return None


def _raw_lines(name: str, opener: Any) -> Iterator[tuple[int, str]]:
    """(1-based line number, decoded line *with* its line break), strict UTF-8,
    the byte-order mark dropped."""
    no = 0
    try:
        with opener() as fh:
            for no, raw in enumerate(fh, 1):
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise InputError(f"{name}:{no}: not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
                if no == 1 and text.startswith("\ufeff"):
                    text = text[1:]
                yield no, text
    except (OSError, EOFError, zlib.error) as exc:  # gzip: not gzipped, truncated, corrupt
        raise InputError(f"{name}:{no + 1}: cannot read the file ({exc})") from None


def _strip_eol(text: str) -> str:
    if text.endswith("\n"):
        text = text[:-1]
        if text.endswith("\r"):
            text = text[:-1]
    return text


def _lines(name: str, opener: Any) -> Iterator[tuple[int, str]]:
    for no, text in _raw_lines(name, opener):
        yield no, _strip_eol(text)


# -- values -------------------------------------------------------------------
def _as_id(value: Any, field: str, where: str) -> str:
    if isinstance(value, str):
        if value == "":
            raise InputError(f"{where}: id field {field!r} is empty")
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if value is None:
        raise InputError(f"{where}: id field {field!r} is null")
    if isinstance(value, float):
        raise InputError(f"{where}: id field {field!r} is the number {value!r}; write ids as strings or integers "
                         "(a float id may already be rounded)")
    raise InputError(f"{where}: id field {field!r} is {type(value).__name__}; expected a string or an integer")


def _ids(rec: dict[str, Any], id_fields: Iterable[str], where: str) -> dict[str, Any]:
    for f in id_fields:
        if f in rec:
            rec[f] = _as_id(rec[f], f, where)
    return rec


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise _DuplicateKey(dup)
    return d


class _DuplicateKey(ValueError):
    pass


def _loads(text: str, where: str, *, whole_file: bool = False) -> Any:
    """One JSON value; every failure an InputError at ``where`` (a whole
    file's decoding error also names its line)."""
    try:
        obj = json.loads(text, object_pairs_hook=_object)
    except _DuplicateKey as exc:
        raise InputError(f"{where}: key {exc.args[0]!r} appears twice in one object") from None
    except json.JSONDecodeError as exc:
        at = f"{where}:{exc.lineno}" if whole_file else where
        raise InputError(f"{at}: invalid JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise InputError(f"{where}: the JSON is nested too deeply to read") from None
    except ValueError as exc:  # an integer past Python's int-str conversion limit
        raise InputError(f"{where}: unreadable JSON value ({exc})") from None
    _no_surrogates(obj, text, where)
    return obj


def _no_surrogates(obj: Any, text: str, where: str) -> None:
    """A lone surrogate (only a ``\\uD800``-style escape can make one: the bytes
    were strict UTF-8) is not text; refused here, not when it is sent or written."""
    if "\\u" not in text:
        return
    try:
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputError(f"{where}: a lone surrogate {exc.object[exc.start:exc.end]!a} (a \\u escape that is "
                         "half of a pair) is not text") from None
    except (RecursionError, ValueError):  # pragma: no cover - read above
        pass


def text_field(record: dict[str, Any], name: str, where: str, *, allow_list: bool = False) -> Any:
    """``record[name]`` when it is a string (or, with ``allow_list``, a
    non-empty list of strings); else an InputError naming ``where``."""
    if name not in record:
        raise InputError(f"{where}: no field {name!r} (fields: {', '.join(map(str, record))})")
    v = record[name]
    if isinstance(v, str):
        return v
    if allow_list and isinstance(v, list) and v and all(isinstance(x, str) for x in v):
        return v
    if v is None:
        raise InputError(f"{where}: field {name!r} is null; expected a string")
    if isinstance(v, list):
        if not v:
            raise InputError(f"{where}: field {name!r} is an empty list; expected "
                             + ("a string or at least one reference string" if allow_list else "a string"))
        if not allow_list:
            raise InputError(f"{where}: field {name!r} is a list; expected a string")
        bad = next(x for x in v if not isinstance(x, str))
        raise InputError(f"{where}: field {name!r} is a list holding {type(bad).__name__} {bad!r}; expected a "
                         "string or a list of strings")
    raise InputError(f"{where}: field {name!r} is {type(v).__name__}; expected a string"
                     + (" or a list of strings" if allow_list else ""))


def find_field(record: dict[str, Any], role: str, where: str) -> str:
    """The name of ``record``'s ``role`` field (``"pred"`` or ``"ref"``) by
    :data:`FIELD_NAMES`; none, or several other pipelines' names, is an
    InputError naming the candidates."""
    names = FIELD_NAMES[role]
    if names[0] in record:
        return names[0]
    found = [n for n in names[1:] if n in record]
    if len(found) == 1:
        return found[0]
    what, flag = _ROLE[role]
    if found:
        raise InputError(f"{where}: {len(found)} fields could hold the {what}: {', '.join(map(repr, found))}; "
                         f"name one with {flag}")
    raise InputError(f"{where}: no {what} field: none of {', '.join(map(repr, names))} "
                     f"(fields: {', '.join(map(str, record))}); name it with {flag}")


# -- the readers ----------------------------------------------------------------
def _jsonl(name: str, opener: Any, id_fields: tuple[str, ...]) -> Iterator[tuple[str, dict[str, Any]]]:
    blank = None  # first blank line since the last record
    for no, line in _lines(name, opener):
        if not line.strip():
            blank = blank or no
            continue
        if blank is not None:
            raise InputError(f"{name}:{blank}: blank line; every line must hold one JSON object "
                             "(only blank lines at the end of the file are ignored)")
        where = f"{name}:{no}"
        rec = _loads(line, where)
        if not isinstance(rec, dict):
            raise InputError(f"{where}: expected a JSON object, got {type(rec).__name__}")
        yield where, _ids(rec, id_fields, where)


def _delimited(name: str, opener: Any, sep: str, id_fields: tuple[str, ...], empty: Any,
               header_out: list[str] | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    lines = _raw_lines(name, opener)
    reader = csv.reader((text for _, text in lines), delimiter=sep, strict=True)
    header: list[str] | None = None
    blank = None
    what = "tab" if sep == "\t" else "','"
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise InputError(f"{name}:{start}: malformed {'TSV' if sep == chr(9) else 'CSV'} ({exc}); "
                             'quote fields holding the separator, quotes or line breaks with "') from None
        wide = header is None or len(header) > 1
        if not row or (wide and len(row) == 1 and not row[0].strip()):
            blank = blank or start
            continue
        if blank is not None:
            raise InputError(f"{name}:{blank}: blank line" + ("; the first line must be the header" if header is None
                             else " (only blank lines at the end of the file are ignored)"))
        if header is None:
            header = row
            first: dict[str, int] = {}
            for i, col in enumerate(header, 1):
                if col in first:
                    raise InputError(f"{name}:{start}: column {col!r} appears twice in the header "
                                     f"(columns {first[col]} and {i})")
                first[col] = i
            if header_out is not None:
                header_out.extend(header)
            continue
        where = f"{name}:{start}"
        if len(row) != len(header):
            more = len(row) > len(header)
            raise InputError(f"{where}: the row has {len(row)} fields but the header has {len(header)} columns"
                             + (f" (an unquoted {what} in a field? quote it with \")" if more else ""))
        rec: dict[str, Any] = dict(zip(header, row))
        for f in id_fields:
            if f in rec and rec[f] == "":
                raise InputError(f"{where}: id field {f!r} is empty")
        if empty != "":
            rec = {k: (empty if v == "" else v) for k, v in rec.items()}
        yield where, rec
    if header is None:
        raise InputError(f"{name}: no header line (the file holds only blank lines)")


def _json(name: str, opener: Any, id_fields: tuple[str, ...]) -> Iterator[tuple[str, dict[str, Any]]]:
    try:
        with opener() as fh:
            data = fh.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"{name}: cannot read the file ({exc})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(f"{name}:{line}: not valid UTF-8 ({exc.reason})") from None
    text = text.removeprefix("\ufeff")
    obj = _loads(text, name, whole_file=True)
    if isinstance(obj, dict) and "per_item" in obj:
        obj = obj["per_item"]  # a saved judge result
    if not isinstance(obj, list):
        raise InputError(f"{name}: expected a JSON list of objects (or a judge result with per_item)")
    for i, rec in enumerate(obj):
        where = f"{name}[{i}]"
        if not isinstance(rec, dict):
            raise InputError(f"{where}: expected a JSON object, got {type(rec).__name__}")
        yield where, _ids(rec, id_fields, where)


def _records(path: Any, id_fields: Iterable[str], format: str | None, empty: Any,
             header_out: list[str] | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    name, kind, opener = _source(path, format)
    ids = tuple(id_fields) if not isinstance(id_fields, str) else (id_fields,)
    if kind == "jsonl":
        return _jsonl(name, opener, ids)
    if kind in ("csv", "tsv"):
        return _delimited(name, opener, "\t" if kind == "tsv" else ",", ids, empty, header_out)
    if kind == "json":
        return _json(name, opener, ids)
    if name != "<stdin>" and _json_lines(name, opener):  # ChatGLM's generated_predictions.txt
        return _jsonl(name, opener, ids)
    raise InputError(f"{name}: a .txt file has no fields; give .jsonl, .csv, .tsv or .json")


def _json_lines(name: str, opener: Any) -> bool:
    """Whether a .txt file's first line is a JSON object: JSON lines under a
    .txt name (ChatGLM's ptuning writes ``generated_predictions.txt`` so),
    which read as one segment per line would score the JSON text itself."""
    for _, line in _lines(name, opener):
        line = line.strip()
        if not (line.startswith("{") and line.endswith("}")):
            return False
        try:
            return isinstance(json.loads(line), dict)
        except ValueError:
            return False
    return False


def plain_text(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is read as one segment per line: a .txt file (or
    .txt.gz) whose first line is not a JSON object.  A .txt file of JSON
    lines (ChatGLM's ``generated_predictions.txt``) is read as .jsonl."""
    if file_format(path) != "txt":
        return False
    name, _, opener = _source(path, None)
    return not _json_lines(name, opener)


def read_records(path: str | os.PathLike[str], *, id_fields: Iterable[str] = (), format: str | None = None
                 ) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(location, record)`` for each record of a .jsonl, .csv, .tsv or .json
    file (optionally .gz), lazily.  ``location`` is ``"file:line"`` (``"file[i]"``
    in a .json list), for messages.  ``id_fields`` come back as strings.
    ``path="-"`` reads standard input, in ``format`` (``"jsonl"``, ``"csv"``...),
    which otherwise overrides the file name."""
    return _records(path, id_fields, format, "")


def read_frame(path: str | os.PathLike[str], *, id_fields: Iterable[str] = (), format: str | None = None) -> Any:
    """The records of :func:`read_records` as a pandas DataFrame, columns in
    file order; ``id_fields`` are strings and CSV/TSV empty cells are missing."""
    import pandas as pd

    header: list[str] = []
    rows = [rec for _, rec in _records(path, id_fields, format, None, header)]
    if header:
        return pd.DataFrame(rows, columns=header) if rows else pd.DataFrame({c: pd.Series([], dtype=object) for c in header})
    return pd.DataFrame(rows)


def read_texts(path: str | os.PathLike[str]) -> Iterator[str]:
    """The lines of a .txt file (optionally .gz), one segment each, lazily,
    without their line breaks; an empty line is an empty segment."""
    name, kind, opener = _source(path, None)
    if kind != "txt":
        raise InputError(f"{name}: read_texts reads .txt files (one segment per line), not .{kind}")
    return (text for _, text in _lines(name, opener))


# -- prediction / reference pairs ---------------------------------------------
def iter_pairs(pairs: str | os.PathLike[str] | None = None, *, preds: str | os.PathLike[str] | None = None,
               refs: str | os.PathLike[str] | None = None, pred_field: str | None = None, ref_field: str | None = None,
               id_field: str | None = None) -> Iterator[tuple[Any, str, Any]]:
    """``(id, prediction, reference)`` lazily, from one ``pairs`` file
    (.jsonl/.csv/.tsv/.json) or from ``preds`` and ``refs`` files (.txt one
    segment per line, or a record format) read in step; the two must hold
    as many segments.  The reference may be a list of strings.  A field not
    given is found on the first record (:func:`find_field`).  ``id`` is the
    ``id_field`` value (a string) when the first record has it (then every
    record must), else the 0-based record number."""
    if pairs is not None:
        if preds is not None or refs is not None:
            raise InputError("give either a PAIRS file or --preds and --refs, not both")
        ids = (id_field,) if id_field else ()
        keyed = None
        for n, (where, rec) in enumerate(read_records(pairs, id_fields=ids)):
            if keyed is None:
                keyed = bool(id_field) and id_field in rec
                pred_field = pred_field or find_field(rec, "pred", where)
                ref_field = ref_field or find_field(rec, "ref", where)
            pid = record_id(rec, id_field, keyed, n, where) if id_field else n
            yield pid, text_field(rec, pred_field, where), text_field(rec, ref_field, where, allow_list=True)
        return
    if preds is None or refs is None:
        raise InputError("give a PAIRS file, or both --preds and --refs")
    left = _segments(preds, pred_field, False)
    right = _segments(refs, ref_field, True)
    for n, (a, b) in enumerate(_zip_strict(left, right, preds, refs)):
        yield n, a, b


def record_id(rec: dict[str, Any], id_field: str, keyed: bool, n: int, where: str) -> Any:
    """``rec[id_field]`` when the file is ``keyed`` (its first record has
    the id), else the record number ``n``; a file that has ids on some
    records only is an InputError naming the record."""
    if keyed:
        if id_field not in rec:
            raise InputError(f"{where}: no id field {id_field!r}, which the first record has")
        return rec[id_field]
    if id_field in rec:
        raise InputError(f"{where}: an id field {id_field!r}, which the first record lacks (records without ids "
                         "are numbered from 0); give every record an id, or none")
    return n


def _segments(path: Any, field: str | None, allow_list: bool) -> Iterator[Any]:
    if plain_text(path):
        yield from read_texts(path)
        return
    for where, rec in read_records(path):
        field = field or find_field(rec, "ref" if allow_list else "pred", where)
        yield text_field(rec, field, where, allow_list=allow_list)


def _zip_strict(a: Iterator[Any], b: Iterator[Any], pa: Any, pb: Any) -> Iterator[tuple[Any, Any]]:
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


def write_jsonl(path: str | os.PathLike[str], rows: Iterable[dict[str, Any]]) -> None:
    """JSON lines to ``path`` (``"-"``: stdout), atomically: a killed run
    leaves the old file or the new one, never half of one."""
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    if os.fspath(path) == "-":
        sys.stdout.write(text)
        return
    tmp = f"{os.fspath(path)}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
