"""judgekit.io: one reader for every command; errors name the file and line."""
from __future__ import annotations

import csv
import gzip
import io
import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from judgekit.errors import InputError
from judgekit.io import file_format, iter_pairs, read_frame, read_records, read_texts, text_field

LONG_ID = 20241031145103738386  # 20 digits: more than int64, rounded by float64


def write(path, text: str, *, gz: bool = False):
    data = text.encode("utf-8")
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def recs(path, **kw):
    return [rec for _, rec in read_records(path, **kw)]


# -- each format, plain and gzipped -------------------------------------------
@pytest.mark.parametrize("gz", [False, True])
def test_each_format(tmp_path, gz):
    sfx = ".gz" if gz else ""
    j = write(tmp_path / f"a.jsonl{sfx}", '{"id": 1, "pred": "你好"}\n{"id": "b", "pred": "x"}\n', gz=gz)
    c = write(tmp_path / f"a.csv{sfx}", 'id,pred\n1,你好\nb,"x, y"\n', gz=gz)
    t = write(tmp_path / f"a.tsv{sfx}", "id\tpred\n1\t你好\nb\tx, y\n", gz=gz)
    js = write(tmp_path / f"a.json{sfx}", '[{"id": 1, "pred": "你好"}, {"id": "b", "pred": "x"}]', gz=gz)
    x = write(tmp_path / f"a.txt{sfx}", "你好\n\nx\n", gz=gz)
    assert recs(j, id_fields=["id"]) == [{"id": "1", "pred": "你好"}, {"id": "b", "pred": "x"}]
    assert recs(c, id_fields=["id"]) == [{"id": "1", "pred": "你好"}, {"id": "b", "pred": "x, y"}]
    assert recs(t, id_fields=["id"]) == recs(c, id_fields=["id"])
    assert recs(js, id_fields=["id"]) == recs(j, id_fields=["id"])
    assert list(read_texts(x)) == ["你好", "", "x"]  # an empty line is an empty segment
    assert [file_format(p) for p in (j, c, t, js, x)] == ["jsonl", "csv", "tsv", "json", "txt"]


def test_locations_name_file_and_line(tmp_path):
    c = write(tmp_path / "a.csv", 'id,pred\n1,"two\nlines"\n2,b\n')
    assert [w for w, _ in read_records(c)] == [f"{c}:2", f"{c}:4"]  # the line a row starts on
    js = write(tmp_path / "a.json", '{"per_item": [{"id": 1}, {"id": 2}]}')
    assert [w for w, _ in read_records(js)] == [f"{js}[0]", f"{js}[1]"]


def test_bom_crlf_and_missing_final_newline(tmp_path):
    c = write(tmp_path / "a.csv", "\ufeffid,pred\r\n1,a\r\n2,b")
    assert recs(c) == [{"id": "1", "pred": "a"}, {"id": "2", "pred": "b"}]
    t = write(tmp_path / "a.txt", "\ufeffa\r\nb")
    assert list(read_texts(t)) == ["a", "b"]


def test_read_frame_keeps_columns_and_ids(tmp_path):
    c = write(tmp_path / "a.csv", f"id,score,note\n{LONG_ID},3,\n007,,x\n")
    df = read_frame(c, id_fields=["id"])
    assert list(df.columns) == ["id", "score", "note"]
    assert df["id"].tolist() == [str(LONG_ID), "007"]
    assert df["note"].isna().tolist() == [True, False]  # an empty cell is missing in a frame
    assert recs(c)[0]["note"] == ""                       # and "" in a record
    empty = read_frame(write(tmp_path / "h.csv", "id,score\n"), id_fields=["id"])
    assert list(empty.columns) == ["id", "score"] and len(empty) == 0


# -- ids ------------------------------------------------------------------------
def test_ids_always_strings(tmp_path):
    j = write(tmp_path / "a.jsonl", f'{{"id": {LONG_ID}}}\n{{"id": "{LONG_ID}"}}\n{{"other": 1}}\n')
    assert [r.get("id") for r in recs(j, id_fields=["id"])] == [str(LONG_ID), str(LONG_ID), None]
    df = read_frame(j, id_fields=["id"])
    assert df["id"].iloc[0] == str(LONG_ID)
    pairs = write(tmp_path / "p.jsonl", f'{{"id": {LONG_ID}, "pred": "a", "ref": "b"}}\n')
    assert list(iter_pairs(pairs, id_field="id")) == [(str(LONG_ID), "a", "b")]


@pytest.mark.parametrize("value,match", [
    ("2.0241031145103738e+19", r"a\.jsonl:2: id field 'id' is the number .* float id may already be rounded"),
    ("null", r"a\.jsonl:2: id field 'id' is null"),
    ('""', r"a\.jsonl:2: id field 'id' is empty"),
    ("[1]", r"a\.jsonl:2: id field 'id' is list"),
    ("true", r"a\.jsonl:2: id field 'id' is bool"),
])
def test_bad_ids_are_named(tmp_path, value, match):
    j = write(tmp_path / "a.jsonl", f'{{"id": 1}}\n{{"id": {value}}}\n')
    with pytest.raises(InputError, match=match):
        recs(j, id_fields=["id"])


def test_empty_csv_id_is_named(tmp_path):
    c = write(tmp_path / "a.csv", "id,pred\n1,a\n,b\n")
    with pytest.raises(InputError, match=r"a\.csv:3: id field 'id' is empty"):
        recs(c, id_fields=["id"])


# -- errors name the file and line ------------------------------------------------
@pytest.mark.parametrize("name,text,match", [
    # blank lines inside a record file
    ("a.jsonl", '{"a": 1}\n\n{"a": 2}\n', r"a\.jsonl:2: blank line"),
    ("a.jsonl", '{"a": 1}\n   \n\n{"a": 2}\n', r"a\.jsonl:2: blank line"),
    ("a.csv", "a,b\n1,2\n\n3,4\n", r"a\.csv:3: blank line"),
    ("a.csv", "\na,b\n1,2\n", r"a\.csv:1: blank line; the first line must be the header"),
    ("a.tsv", "a\tb\n \n1\t2\n", r"a\.tsv:2: blank line"),
    # CSV shape
    ("a.csv", "id,pred\n1,hello, world\n", r"a\.csv:2: the row has 3 fields but the header has 2 columns \(an unquoted ','"),
    ("a.csv", "id,pred,ref\n1,a,b\n2,a\n", r"a\.csv:3: the row has 2 fields but the header has 3 columns"),
    ("a.csv", "id,pred,id\n1,a,b\n", r"a\.csv:1: column 'id' appears twice in the header \(columns 1 and 3\)"),
    ("a.csv", 'id,pred\n1,"a"b\n', r"a\.csv:2: malformed CSV"),
    ("a.csv", 'id,pred\n1,a\n2,"never closed\n3,c\n', r"a\.csv:3: malformed CSV"),
    ("a.tsv", "id\tpred\n1\ta\tb\n", r"a\.tsv:2: the row has 3 fields .* \(an unquoted tab"),
    # JSON
    ("a.jsonl", '{"a": 1}\n{"a": 2\n', r"a\.jsonl:2: invalid JSON"),
    ("a.jsonl", '{"a": 1}\n[1, 2]\n', r"a\.jsonl:2: expected a JSON object, got list"),
    ("a.jsonl", '{"a": 1}\n{"a": 1, "a": 2}\n', r"a\.jsonl:2: key 'a' appears twice"),
    ("a.json", '[{"a": 1},\n {"a": }]', r"a\.json:2: invalid JSON"),
    ("a.json", '[{"a": 1}, 3]', r"a\.json\[1\]: expected a JSON object, got int"),
    ("a.json", '{"a": 1}', r"a\.json: expected a JSON list of objects"),
    # files
    ("a.xlsx", "x", r"a\.xlsx: unknown file type '.xlsx'"),
    ("a.jsonl", "", r"a\.jsonl: the file is empty"),
])
def test_errors_name_file_and_line(tmp_path, name, text, match):
    p = write(tmp_path / name, text)
    with pytest.raises(InputError, match=match):
        recs(p)


def test_trailing_blank_lines_are_ignored(tmp_path):
    assert recs(write(tmp_path / "a.jsonl", '{"a": 1}\n\n  \n')) == [{"a": 1}]
    assert recs(write(tmp_path / "a.csv", "a,b\n1,2\n\n")) == [{"a": "1", "b": "2"}]
    # ... but not in .txt, where every line is a segment
    assert list(read_texts(write(tmp_path / "a.txt", "a\n\n"))) == ["a", ""]


def test_one_column_csv_keeps_whitespace_values(tmp_path):
    assert recs(write(tmp_path / "a.csv", 'pred\n  \n""\nx\n')) == [{"pred": "  "}, {"pred": ""}, {"pred": "x"}]


@pytest.mark.parametrize("name", ["a.txt", "a.jsonl", "a.csv"])
def test_invalid_utf8_names_the_line(tmp_path, name):
    p = tmp_path / name
    first = {"a.txt": b"ok\n", "a.jsonl": b'{"a": "ok"}\n', "a.csv": b"a\nok\n"}[name]
    p.write_bytes(first + b'{"a": "\xff"}\n')
    line = 3 if name == "a.csv" else 2
    with pytest.raises(InputError, match=rf"{name}:{line}: not valid UTF-8"):
        list(read_texts(p)) if name.endswith(".txt") else recs(p)


def test_invalid_utf8_in_json_names_the_line(tmp_path):
    p = tmp_path / "a.json"
    p.write_bytes(b'[\n{"a": 1},\n{"a": "\xff"}\n]')
    with pytest.raises(InputError, match=r"a\.json:3: not valid UTF-8"):
        recs(p)


def test_bad_gzip_is_named(tmp_path):
    p = tmp_path / "a.jsonl.gz"
    p.write_bytes(b'{"a": 1}\n')
    with pytest.raises(InputError, match=r"a\.jsonl\.gz:1: cannot read the file"):
        recs(p)
    p.write_bytes(gzip.compress(b'{"a": 1}\n{"a": 2}\n' * 1000)[:-30])
    with pytest.raises(InputError, match=r"a\.jsonl\.gz:\d+: cannot read the file"):
        recs(p)


def test_missing_file_and_txt_without_fields(tmp_path):
    with pytest.raises(InputError, match=r"nope\.jsonl: no such file"):
        read_records(tmp_path / "nope.jsonl")
    t = write(tmp_path / "a.txt", "a\n")
    with pytest.raises(InputError, match=r"a\.txt: a \.txt file has no fields"):
        read_records(t)
    with pytest.raises(InputError, match=r"read_texts reads \.txt files"):
        read_texts(write(tmp_path / "a.jsonl", '{"a": 1}\n'))


def test_stdin_needs_a_format(monkeypatch):
    with pytest.raises(InputError, match="standard input needs a format"):
        read_records("-")

    class FakeStdin:
        buffer = io.BytesIO(b'{"id": 5, "x": "y"}\n')

    monkeypatch.setattr("sys.stdin", FakeStdin)
    assert list(read_records("-", id_fields=["id"], format="jsonl")) == [("<stdin>:1", {"id": "5", "x": "y"})]


def test_text_field():
    rec = {"pred": "a", "refs": ["x", "y"], "n": None, "k": 3}
    assert text_field(rec, "pred", "f:1") == "a"
    assert text_field(rec, "refs", "f:1", allow_list=True) == ["x", "y"]
    with pytest.raises(InputError, match=r"f:1: field 'refs' is a list; expected a string$"):
        text_field(rec, "refs", "f:1")
    with pytest.raises(InputError, match=r"f:1: field 'n' is null"):
        text_field(rec, "n", "f:1")
    with pytest.raises(InputError, match=r"f:1: no field 'zz' \(fields: pred, refs, n, k\)"):
        text_field(rec, "zz", "f:1")


def test_pairs_from_two_files_must_match(tmp_path):
    p = write(tmp_path / "p.txt", "a\nb\n")
    r = write(tmp_path / "r.csv", 'ref\nA\n')
    with pytest.raises(InputError, match=r"p\.txt has 2 segments but .*r\.csv has 1"):
        list(iter_pairs(preds=p, refs=r))
    r2 = write(tmp_path / "r.jsonl", '{"ref": ["A", "A2"]}\n{"ref": "B"}\n')
    assert list(iter_pairs(preds=p, refs=r2)) == [(0, "a", ["A", "A2"]), (1, "b", "B")]


# -- round trips ----------------------------------------------------------------
ids = st.one_of(
    st.text(min_size=1),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.text(alphabet=string.digits, min_size=1, max_size=25),
)
texts = st.text()
rows = st.lists(st.tuples(ids, texts), max_size=8)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(rows=rows, gz=st.booleans())
def test_jsonl_round_trip(tmp_path, rows, gz):
    body = "".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in rows)
    p = write(tmp_path / ("r.jsonl.gz" if gz else "r.jsonl"), body or "\n", gz=gz)
    got = [(r["id"], r["text"]) for r in recs(p, id_fields=["id"])]
    assert got == [(str(i), t) for i, t in rows]


@SETTINGS
@given(rows=rows, tsv=st.booleans())
def test_csv_round_trip(tmp_path, rows, tsv):
    buf = io.StringIO()
    # the csv module's default "\r\n" terminator: fields holding "\r" or "\n" get quoted
    # (with lineterminator="\n" a lone "\r" goes out unquoted, and "x,\r\n" cannot be read back)
    w = csv.writer(buf, delimiter="\t" if tsv else ",")
    w.writerow(["id", "text"])
    w.writerows(rows)
    p = write(tmp_path / ("r.tsv" if tsv else "r.csv"), buf.getvalue())
    got = [(r["id"], r["text"]) for r in recs(p, id_fields=["id"])]
    assert got == [(str(i), t) for i, t in rows]
    df = read_frame(p, id_fields=["id"])
    assert df["id"].tolist() == [str(i) for i, _ in rows]


@SETTINGS
@given(lines=st.lists(st.text().filter(lambda s: "\n" not in s and "\r" not in s), min_size=1, max_size=8))
def test_txt_round_trip(tmp_path, lines):
    if lines[0].startswith("\ufeff"):
        lines[0] = "x" + lines[0]  # a leading byte-order mark is dropped by design
    p = write(tmp_path / "r.txt", "\n".join(lines) + "\n")
    assert list(read_texts(p)) == lines
